package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// exitNoResult is vmexec's exit status when the test produced no result
// (guest did not boot, QEMU died, deadline): distinct from test failures.
const exitNoResult = 125

const (
	defaultMemMiB      = 1024
	defaultTimeout     = 20 * time.Minute
	defaultBootTimeout = 60 * time.Second
	pollInterval       = 50 * time.Millisecond
	consoleTailLines   = 40
	kernelCmdline      = "console=ttyS0 panic=-1" // not quiet: the console tail is the diagnosis when a boot fails
)

// hostConfig is everything the host role reads from the environment.
type hostConfig struct {
	cache       string // LVSCTL_VM_CACHE
	kver        string // from $cache/READY
	qemu        string
	memMiB      int
	timeout     time.Duration // overall, LVSCTL_VM_TIMEOUT
	bootTimeout time.Duration // boot watchdog, LVSCTL_VM_BOOT_TIMEOUT
	extraAppend string        // LVSCTL_VM_APPEND
	debug       bool          // LVSCTL_VM_DEBUG: timings on stderr
	keep        bool          // LVSCTL_VM_KEEP: keep the temp dir (initramfs, logs)
	stdout      io.Writer     // test output
	stderr      io.Writer     // vmexec's own messages
}

func (c *hostConfig) kernel() string { return filepath.Join(c.cache, "vmlinuz") }
func (c *hostConfig) rootfs() string { return filepath.Join(c.cache, "rootfs") }

func (c *hostConfig) logf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "vmexec: "+format+"\n", args...)
}

func (c *hostConfig) debugf(format string, args ...any) {
	if c.debug {
		c.logf(format, args...)
	}
}

// loadConfig reads the environment and checks that the assets exist.
func loadConfig(getenv func(string) string) (*hostConfig, error) {
	c := &hostConfig{
		cache:       getenv("LVSCTL_VM_CACHE"),
		qemu:        "qemu-system-x86_64",
		memMiB:      defaultMemMiB,
		timeout:     defaultTimeout,
		bootTimeout: defaultBootTimeout,
		extraAppend: getenv("LVSCTL_VM_APPEND"),
		debug:       getenv("LVSCTL_VM_DEBUG") != "",
		keep:        getenv("LVSCTL_VM_KEEP") != "",
		stdout:      os.Stdout,
		stderr:      os.Stderr,
	}
	if c.cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("locate assets: %w (set LVSCTL_VM_CACHE)", err)
		}
		c.cache = filepath.Join(home, ".cache", "lvsctl-vm")
	}
	if v := getenv("LVSCTL_VM_MEM"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 128 {
			return nil, fmt.Errorf("LVSCTL_VM_MEM=%q: want MiB >= 128", v)
		}
		c.memMiB = n
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"LVSCTL_VM_TIMEOUT", &c.timeout}, {"LVSCTL_VM_BOOT_TIMEOUT", &c.bootTimeout}} {
		if v := getenv(d.env); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return nil, fmt.Errorf("%s=%q: want a positive duration like 20m", d.env, v)
			}
			*d.dst = t
		}
	}
	ready, err := os.ReadFile(filepath.Join(c.cache, "READY"))
	if err == nil {
		_, err = os.Stat(c.kernel())
	}
	if err == nil {
		_, err = os.Stat(c.rootfs())
	}
	if err != nil {
		return nil, fmt.Errorf("VM assets missing in %s (%w): run .ci/vm-assets (make vm-assets)", c.cache, err)
	}
	c.kver = strings.TrimSpace(string(ready))
	return c, nil
}

// signalError is the cancellation cause when vmexec is interrupted.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string { return "interrupted by " + e.sig.String() }

var errDeadline = errors.New("overall deadline (LVSCTL_VM_TIMEOUT) exceeded")

// hostMain is the host role: vmexec TESTBINARY ARGS... It returns the exit status.
func hostMain(args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(os.Stderr, "usage: vmexec TESTBINARY [ARGS...]   (go test -exec vmexec ...)")
		return 2
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmexec: %v\n", err)
		return exitNoResult
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	go func() {
		select {
		case s := <-sigs:
			cancel(signalError{s.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, cfg.timeout, errDeadline)
	defer cancelTimeout()

	code, err := runHost(ctx, cfg, args[0], args[1:])
	if err != nil {
		cfg.logf("%v", err)
	}
	return code
}

// hostRun is the state of one vmexec invocation.
type hostRun struct {
	dir      string   // temp dir: initramfs and logs
	initrd   string   // the packed initramfs
	nonce    string   // record marker nonce
	hostOuts []string // host paths of spec.Outputs
}

func (r *hostRun) consoleLog(attempt int) string {
	return filepath.Join(r.dir, fmt.Sprintf("console-%d.log", attempt))
}

// runHost packs the initramfs, boots the guest (retrying once if it does not
// boot) and returns the exit status to use.
func runHost(ctx context.Context, cfg *hostConfig, testBin string, testArgs []string) (int, error) {
	start := time.Now()
	self, err := os.Executable()
	if err != nil {
		return exitNoResult, fmt.Errorf("locate own executable: %w", err)
	}
	// The guest runs this very binary as /init, before any library exists.
	if dyn, err := isDynamic(self); err != nil {
		return exitNoResult, fmt.Errorf("inspect own executable: %w", err)
	} else if dyn {
		return exitNoResult, fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0 (make vmexec)", self)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return exitNoResult, err
	}
	dir, err := os.MkdirTemp("", "vmexec-")
	if err != nil {
		return exitNoResult, fmt.Errorf("temp dir: %w", err)
	}
	if cfg.keep {
		cfg.logf("keeping %s (LVSCTL_VM_KEEP)", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	nonce := make([]byte, 8)
	if _, err := rand.Read(nonce); err != nil {
		return exitNoResult, err
	}
	run := &hostRun{dir: dir, initrd: filepath.Join(dir, "initrd.cpio"), nonce: hex.EncodeToString(nonce)}
	var sp spec
	sp, run.hostOuts = makeSpec(run.nonce, cwd, testArgs, os.Environ())
	libs, err := dynamicLibs(testBin)
	if err != nil {
		return exitNoResult, fmt.Errorf("inspect test binary: %w", err)
	}
	trees, err := guestTrees(cwd, &sp)
	if err != nil {
		return exitNoResult, err
	}
	extra, err := extraFiles(os.Getenv("LVSCTL_VM_FILES"))
	if err != nil {
		return exitNoResult, err
	}
	if err := buildInitramfs(run.initrd, cfg.rootfs(), self, testBin, libs, trees, extra, &sp); err != nil {
		return exitNoResult, fmt.Errorf("build initramfs: %w", err)
	}
	if st, err := os.Stat(run.initrd); err == nil {
		cfg.debugf("initramfs %.1f MiB (kernel %s, %d extra libs) built in %v",
			float64(st.Size())/(1<<20), cfg.kver, len(libs), time.Since(start).Round(time.Millisecond))
	}

	for attempt := 1; attempt <= 2; attempt++ {
		res, err := bootOnce(ctx, cfg, run, attempt)
		if err != nil {
			var se signalError
			if errors.As(err, &se) {
				return 128 + int(se.sig), fmt.Errorf("%w: killed QEMU", err)
			}
			cfg.logf("no result: %v (console log tail follows)", err)
			printTail(cfg.stderr, run.consoleLog(attempt), res.qemuStderr)
			return exitNoResult, nil
		}
		switch {
		case res.exited:
			return res.code, nil
		case !res.booted && attempt == 1:
			cfg.logf("guest did not boot (%s); retrying once", res.why())
		case !res.booted:
			cfg.logf("no result: guest did not boot: %s (console log tail follows)", res.why())
			printTail(cfg.stderr, run.consoleLog(attempt), res.qemuStderr)
			return exitNoResult, nil
		default:
			cfg.logf("no result: %s before the guest reported an exit status (console log tail follows)", res.why())
			printTail(cfg.stderr, run.consoleLog(attempt), res.qemuStderr)
			return exitNoResult, nil
		}
	}
	return exitNoResult, errors.New("unreachable")
}

// makeSpec builds the guest's spec: argv with output-file flags rewritten to
// guest paths (returning the host paths they map to) and the environment.
func makeSpec(nonce, cwd string, args, environ []string) (spec, []string) {
	sp := spec{Nonce: nonce}
	outDir := cwd // testing resolves relative profile paths against -test.outputdir
	for _, a := range args {
		if name, v, ok := testFlag(a); ok && name == "outputdir" && v != "" {
			outDir = absJoin(cwd, v)
		}
	}
	var hostOuts []string
	for _, a := range args {
		name, v, ok := testFlag(a)
		isOut, isDir := outputFlag(name)
		if !ok || !isOut || v == "" {
			sp.Args = append(sp.Args, a)
			continue
		}
		guest := path.Join(guestOutDir, strconv.Itoa(len(sp.Outputs)))
		sp.Outputs = append(sp.Outputs, output{Path: guest, Dir: isDir})
		hostOuts = append(hostOuts, absJoin(outDir, v))
		sp.Args = append(sp.Args, "-test."+name+"="+guest)
	}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if k == "LVSCTL_VM_OUTDIR" {
			// A directory of files the test (or programs it runs) leaves
			// for the host, such as profiles: the guest sees its own
			// directory under the same variable.
			if v != "" {
				guest := path.Join(guestOutDir, strconv.Itoa(len(sp.Outputs)))
				sp.Outputs = append(sp.Outputs, output{Path: guest, Dir: true})
				hostOuts = append(hostOuts, absJoin(cwd, v))
				sp.Env = append(sp.Env, k+"="+guest)
			}
			continue
		}
		if strings.HasPrefix(k, "LVSCTL_") || k == "CI" || k == "GOTRACEBACK" || k == "GODEBUG" {
			sp.Env = append(sp.Env, kv)
		}
	}
	sp.Env = append(sp.Env, "LVSCTL_IN_VM=1") // last one wins
	return sp, hostOuts
}

// testFlag splits "-test.NAME=VALUE" (or "--test.NAME=VALUE").
func testFlag(arg string) (name, value string, ok bool) {
	rest, ok := strings.CutPrefix(arg, "--test.")
	if !ok {
		rest, ok = strings.CutPrefix(arg, "-test.")
	}
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "=")
}

// outputFlag reports whether a testing flag names a file (or, dir=true, a
// directory) that the test binary writes and cmd/go reads afterwards.
func outputFlag(name string) (isOutput, dir bool) {
	switch name {
	case "coverprofile", "cpuprofile", "memprofile", "blockprofile", "mutexprofile", "trace":
		return true, false
	case "gocoverdir":
		return true, true
	}
	return false, false
}

func absJoin(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// isDynamic reports whether an ELF executable needs a dynamic loader.
func isDynamic(bin string) (bool, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true, nil
		}
	}
	return false, nil
}

// dynamicLibs lists the host libraries (and loader) a dynamically linked test
// binary needs, via ldd; nil for a static one. They are packed at the same
// paths, so a cgo test binary runs in the guest too.
func dynamicLibs(bin string) ([]string, error) {
	dyn, err := isDynamic(bin)
	if err != nil || !dyn {
		return nil, err
	}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			libs = append(libs, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			libs = append(libs, f[0])
		}
	}
	return libs, nil
}

// buildInitramfs writes the guest's initramfs: the asset rootfs, device nodes
// the kernel needs before /dev is mounted, vmexec as /init, the test binary
// (plus its libraries), testdata and the spec.
func buildInitramfs(dst, rootfs, self, testBin string, libs []string, trees, extra map[string]string, sp *spec) error {
	specJSON, err := json.Marshal(sp)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := newCPIOWriter(bw)
	if err := cw.AddTree(rootfs, ""); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	// The kernel opens /dev/console for init's stdio, and the Go runtime wants
	// /dev/null if any of fds 0-2 is closed; devtmpfs is mounted over them later.
	if err := cw.CharDev("dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	if err := cw.CharDev("dev/null", 0o666, 1, 3); err != nil {
		return err
	}
	if err := cw.AddHostFile(self, "init", 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	for _, lib := range libs {
		if name := strings.TrimPrefix(path.Clean(lib), "/"); !cw.Has(name) {
			if err := cw.AddHostFile(lib, name, 0o755); err != nil {
				return fmt.Errorf("library: %w", err)
			}
		}
	}
	if err := cw.AddHostFile(testBin, strings.TrimPrefix(guestTest, "/"), 0o755); err != nil {
		return fmt.Errorf("test binary: %w", err)
	}
	for _, host := range slices.Sorted(maps.Keys(trees)) {
		if err := cw.AddTree(host, trees[host]); err != nil {
			return fmt.Errorf("testdata: %w", err)
		}
	}
	for _, host := range slices.Sorted(maps.Keys(extra)) {
		if err := cw.AddHostFile(host, extra[host], 0o755); err != nil {
			return fmt.Errorf("LVSCTL_VM_FILES: %w", err)
		}
	}
	if err := cw.File(strings.TrimPrefix(guestSpec, "/"), 0o644, time.Now().Unix(), specJSON); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// guestTrees maps host testdata directories to their guest paths. The guest
// mirrors the module: the package's testdata at /test/REL/testdata (REL is
// the package's path in its module, and the test runs there) and the
// module's top-level testdata at /test/testdata. Outside a module only the
// package's testdata is packed, at /test/testdata.
func guestTrees(cwd string, sp *spec) (map[string]string, error) {
	trees := map[string]string{}
	add := func(hostDir, guestDir string) {
		if st, err := os.Stat(hostDir); err == nil && st.IsDir() {
			trees[hostDir] = guestDir
		}
	}
	root := cwd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			add(filepath.Join(cwd, "testdata"), "test/testdata")
			return trees, nil
		}
		root = parent
	}
	rel, err := filepath.Rel(root, cwd)
	if err != nil {
		return nil, err
	}
	rel = filepath.ToSlash(rel)
	sp.Dir = path.Join(guestDir, rel)
	add(filepath.Join(cwd, "testdata"), path.Join("test", rel, "testdata"))
	add(filepath.Join(root, "testdata"), "test/testdata")
	return trees, nil
}

// extraFiles parses LVSCTL_VM_FILES, "HOST:GUEST[,HOST:GUEST...]": more
// files (such as a built lvsctl binary) to put into the guest.
func extraFiles(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		host, guest, ok := strings.Cut(pair, ":")
		if !ok || host == "" || !path.IsAbs(guest) {
			return nil, fmt.Errorf("LVSCTL_VM_FILES: %q is not HOST:/GUEST/PATH", pair)
		}
		if _, err := os.Stat(host); err != nil {
			return nil, fmt.Errorf("LVSCTL_VM_FILES: %w", err)
		}
		out[host] = strings.TrimPrefix(path.Clean(guest), "/")
	}
	return out, nil
}

// bootResult is how one boot attempt ended.
type bootResult struct {
	booted, exited bool
	code           int    // the test's exit status, if exited
	qemuErr        error  // QEMU's own exit, if it ended by itself
	qemuEnded      bool   // QEMU ended by itself
	qemuStderr     string // for diagnostics
	bootTimeout    time.Duration
}

func (r bootResult) why() string {
	if r.qemuEnded {
		if r.qemuErr != nil {
			return fmt.Sprintf("QEMU exited (%v)", r.qemuErr)
		}
		return "QEMU exited"
	}
	return fmt.Sprintf("no boot record within %v", r.bootTimeout)
}

// qemuArgs is the QEMU command line: TCG, no network device, kernel console
// on ttyS0 (console log), guest records and test output on ttyS1.
func qemuArgs(cfg *hostConfig, initrd, consoleLog, outLog string) []string {
	return []string{
		"-accel", "tcg", "-cpu", "max", "-m", strconv.Itoa(cfg.memMiB), "-smp", "1",
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", cfg.kernel(), "-initrd", initrd,
		"-append", strings.TrimSpace(kernelCmdline + " " + cfg.extraAppend),
		"-serial", "file:" + consoleLog, "-serial", "file:" + outLog,
		"-device", "virtio-rng-pci",
	}
}

// bootOnce runs QEMU once, streaming the test's output until the guest reports
// an exit status, QEMU ends, the boot watchdog fires or ctx is done (error).
func bootOnce(ctx context.Context, cfg *hostConfig, run *hostRun, attempt int) (res bootResult, err error) {
	res.bootTimeout = cfg.bootTimeout
	outLog := filepath.Join(run.dir, fmt.Sprintf("out-%d.log", attempt))
	if err := os.WriteFile(outLog, nil, 0o600); err != nil {
		return res, err
	}
	out, err := os.Open(outLog)
	if err != nil {
		return res, err
	}
	defer out.Close()

	var qstderr bytes.Buffer
	cmd := exec.Command(cfg.qemu, qemuArgs(cfg, run.initrd, run.consoleLog(attempt), outLog)...)
	cmd.Stderr = &qstderr
	// If vmexec dies without cleaning up, QEMU dies with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", cfg.qemu, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waited := false
	defer func() {
		if !waited {
			_ = cmd.Process.Kill()
			<-done
		}
		res.qemuStderr = qstderr.String()
	}()

	d := newDemux(run.nonce)
	text := writerFunc(func(p []byte) (int, error) {
		if res.booted && !res.exited {
			return cfg.stdout.Write(p)
		}
		return len(p), nil // before the boot record: nothing of the test's
	})
	onRecord := func(r record) error {
		switch {
		case res.exited:
		case len(r.fields) == 1 && r.fields[0] == recBooted:
			res.booted = true
			cfg.debugf("guest booted after %v", time.Since(start).Round(time.Millisecond))
		case len(r.fields) == 2 && r.fields[0] == recExit:
			code, err := strconv.Atoi(r.fields[1])
			if err != nil {
				return fmt.Errorf("bad exit record %q", r.fields)
			}
			res.exited, res.code = true, code
			cfg.debugf("test exited with %d after %v", code, time.Since(start).Round(time.Millisecond))
		case len(r.fields) == 4 && r.fields[0] == recFile:
			return run.saveOutput(r)
		default:
			return fmt.Errorf("unknown record %q", r.fields)
		}
		return nil
	}
	buf := make([]byte, 64<<10)
	// pump feeds everything QEMU has written so far to the demux. When
	// nothing new arrived since the last poll, a held-back line end goes out.
	pump := func() error {
		total := 0
		for {
			n, err := out.Read(buf)
			total += n
			if n > 0 {
				if err := d.feed(buf[:n], text, onRecord); err != nil {
					return fmt.Errorf("guest stream: %w", err)
				}
			}
			if err == io.EOF || (err == nil && n == 0) {
				break
			}
			if err != nil {
				return fmt.Errorf("read guest stream: %w", err)
			}
		}
		if total == 0 {
			return d.flushNewline(text)
		}
		return nil
	}
	// Whatever way this attempt ends, output already received is shown.
	defer func() {
		if ferr := d.flush(text); err == nil {
			err = ferr
		}
	}()

	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	watchdog := time.NewTimer(cfg.bootTimeout)
	defer watchdog.Stop()
	for !res.exited {
		select {
		case <-ctx.Done():
			return res, context.Cause(ctx)
		case err := <-done:
			waited, res.qemuEnded, res.qemuErr = true, true, err
			return res, pump() // QEMU has flushed everything
		case <-watchdog.C:
			if !res.booted {
				return res, nil // the deferred kill stops QEMU
			}
		case <-tick.C:
			if err := pump(); err != nil {
				return res, err
			}
		}
	}
	return res, nil // exited: nothing more to wait for; QEMU is killed
}

// saveOutput writes a file record to the host path of its output.
func (r *hostRun) saveOutput(rec record) error {
	idx, err := strconv.Atoi(rec.fields[1])
	if err != nil || idx < 0 || idx >= len(r.hostOuts) {
		return fmt.Errorf("bad file record %q", rec.fields)
	}
	data, err := base64.StdEncoding.DecodeString(string(rec.payload))
	if err != nil {
		return fmt.Errorf("file record %d: %w", idx, err)
	}
	dst := r.hostOuts[idx]
	if rec.fields[2] != "-" {
		name, err := hex.DecodeString(rec.fields[2])
		if err != nil || filepath.Base(string(name)) != string(name) || string(name) == ".." {
			return fmt.Errorf("bad file name in record %q", rec.fields)
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		dst = filepath.Join(dst, string(name))
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return fmt.Errorf("save test output: %w", err)
	}
	return nil
}

// printTail prints the last lines of the guest console log and QEMU's stderr.
func printTail(w io.Writer, consoleLog, qemuStderr string) {
	data, err := os.ReadFile(consoleLog)
	if err != nil {
		fmt.Fprintf(w, "  (no console log: %v)\n", err)
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(data), "\r", ""), "\n"), "\n")
	if len(lines) > consoleTailLines {
		lines = lines[len(lines)-consoleTailLines:]
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  console| %s\n", l)
	}
	for _, l := range strings.Split(strings.TrimSpace(qemuStderr), "\n") {
		if l != "" {
			fmt.Fprintf(w, "  qemu| %s\n", l)
		}
	}
}

// writerFunc adapts a function to io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
