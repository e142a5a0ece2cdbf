package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/ipvs"
)

// TestMain lets a test run this binary as the lvsctl command itself (for
// tests that need another process, e.g. with other credentials).
func TestMain(m *testing.M) {
	if os.Getenv("LVSCTL_TEST_AS_CLI") == "1" {
		os.Exit(profiledCLI())
	}
	if os.Getenv("LVSCTL_IN_VM") == "1" {
		if err := preloadSchedulers(); err != nil {
			fmt.Fprintln(os.Stderr, "preload IPVS schedulers:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// preloadSchedulers loads ip_vs and every scheduler module before the VM
// tests run. Linux 6.1 deadlocks when a scheduler module is autoloaded while
// a network namespace is being torn down: the IPVS netlink handler holds
// the IPVS mutex while request_module waits for modprobe, whose
// register_pernet_subsys waits for pernet_ops_rwsem, which the netns cleanup
// worker holds while it waits for the IPVS mutex (ip_vs_dst_event). Tests
// delete namespaces all the time, so they load every scheduler up front;
// autoloading itself is covered by cmd/vmexec's smoke test.
func preloadSchedulers() error {
	mods := []string{"ip_vs"}
	for _, s := range ipvs.Schedulers() {
		if s != "twos" { // Linux 6.2+
			mods = append(mods, "ip_vs_"+string(s))
		}
	}
	out, err := exec.Command("/sbin/modprobe", append([]string{"-a"}, mods...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("modprobe: %v: %s", err, out)
	}
	return nil
}

// harness runs lvsctl commands against one fake kernel.
type harness struct {
	t      *testing.T
	kernel *ipvs.Fake
	env    *env
	out    *bytes.Buffer
	errOut *bytes.Buffer
	netns  []string // namespaces the commands asked for
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, kernel: ipvs.NewFake(), out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	h.env = &env{
		stdout: h.out,
		stderr: h.errOut,
		openKernel: func(_ context.Context, ns string) (ipvs.Kernel, error) {
			h.netns = append(h.netns, ns)
			return h.kernel, nil
		},
		stateDir: t.TempDir(),
	}
	return h
}

func (h *harness) run(args ...string) int {
	h.out.Reset()
	h.errOut.Reset()
	return run(context.Background(), args, h.env)
}

func writeConfig(t *testing.T, src string) string {
	p := filepath.Join(t.TempDir(), "lvsctl.hcl")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	return p
}

const webConfig = `
virtual_server "web" {
  address   = "10.0.0.1"
  port      = 80
  scheduler = "rr"
  real_server {
    address = "10.0.1.1"
    weight  = %d
  }
  real_server {
    address = "10.0.1.2"
  }
}
`

func TestPlanApplyReapply(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, fmt.Sprintf(webConfig, 1))

	require.Equal(t, 2, h.run("plan", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "Plan: 3 to add, 0 to change, 0 to delete.")
	assert.Contains(t, h.out.String(), "+ service TCP 10.0.0.1:80 (web) scheduler=rr")
	assert.Zero(t, h.kernel.Writes, "plan must not write")

	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "Applied 3 changes.")
	assert.Equal(t, 3, h.kernel.Writes)

	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "No changes")
	require.Equal(t, 0, h.run("plan", "-f", cfg))
	assert.Equal(t, 3, h.kernel.Writes)

	cfg2 := writeConfig(t, fmt.Sprintf(webConfig, 4))
	require.Equal(t, 2, h.run("plan", "-f", cfg2))
	assert.Contains(t, h.out.String(), "~ real TCP 10.0.0.1:80 (web) -> 10.0.1.1:80 weight 1 -> 4")
	require.Equal(t, 0, h.run("apply", "-f", cfg2))
	assert.Equal(t, 4, h.kernel.Writes, "one weight change is one write")
}

func TestValidateReportsEveryError(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, `
virtual_server "a" {
  address   = "10.0.0.1"
  port      = 0
  scheduler = "roundrobin"
}
`)
	require.Equal(t, 1, h.run("validate", "-f", cfg))
	stderr := h.errOut.String()
	assert.Contains(t, stderr, "lvsctl.hcl:4:15: Error: ")
	assert.Contains(t, stderr, "lvsctl.hcl:5:15: Error: Unknown scheduler")
	assert.Contains(t, stderr, `scheduler = "roundrobin"`, "the source snippet is shown")
	assert.Contains(t, stderr, "2 error(s), nothing applied")
	assert.Empty(t, h.out.String())

	require.Equal(t, 1, h.run("apply", "-f", cfg))
	assert.Zero(t, h.kernel.Writes)
	assert.Empty(t, h.netns, "an invalid config never opens the kernel")
}

func TestValidateOK(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, 0, h.run("validate", "-f", "../../testdata/mycat-dr.hcl"), h.errOut.String())
	assert.Contains(t, h.out.String(), "valid (1 virtual service, 2 real servers)")
}

func TestNoIPVSIsOneLine(t *testing.T) {
	h := newHarness(t)
	h.env.openKernel = func(context.Context, string) (ipvs.Kernel, error) {
		return nil, fmt.Errorf("open IPVS: resolve family: %w", ipvs.ErrNoIPVS)
	}
	cfg := writeConfig(t, fmt.Sprintf(webConfig, 1))
	for _, cmd := range []string{"plan", "apply"} {
		assert.Equal(t, 1, h.run(cmd, "-f", cfg))
		assert.Equal(t, "lvsctl: the kernel has no IPVS support (try: modprobe ip_vs)\n", h.errOut.String())
		assert.Empty(t, h.out.String())
	}
	h.env.openKernel = func(context.Context, string) (ipvs.Kernel, error) {
		return nil, fmt.Errorf("open IPVS: %w", ipvs.ErrPermission)
	}
	assert.Equal(t, 1, h.run("plan", "-f", cfg))
	assert.Equal(t, "lvsctl: permission denied: programming IPVS needs root or CAP_NET_ADMIN\n", h.errOut.String())
}

func TestForeignAndConflict(t *testing.T) {
	h := newHarness(t)
	foreign, err := ipvs.ParseServiceKey("UDP 10.9.9.9:53")
	require.NoError(t, err)
	web, err := ipvs.ParseServiceKey("TCP 10.0.0.1:80")
	require.NoError(t, err)
	h.kernel = ipvs.NewFake(ipvs.VirtualService{Key: foreign, Scheduler: "rr"}, ipvs.VirtualService{Key: web, Scheduler: "wlc"})
	cfg := writeConfig(t, fmt.Sprintf(webConfig, 1))

	require.Equal(t, 2, h.run("plan", "-f", cfg))
	assert.Contains(t, h.out.String(), "Conflicts (in the file, but created by someone else; use --adopt to take them over):\n    TCP 10.0.0.1:80\n")
	assert.Contains(t, h.out.String(), "Foreign services (not created by lvsctl, left alone):\n    UDP 10.9.9.9:53\n")

	require.Equal(t, 1, h.run("apply", "-f", cfg))
	assert.Contains(t, h.errOut.String(), "--adopt")
	assert.Zero(t, h.kernel.Writes)

	require.Equal(t, 0, h.run("apply", "-f", cfg, "--adopt"), h.errOut.String())
	assert.Contains(t, h.out.String(), "~ service TCP 10.0.0.1:80 (web) scheduler wlc -> rr")
	require.Equal(t, 0, h.run("apply", "-f", cfg))
	assert.Contains(t, h.out.String(), "No changes")
	assert.Contains(t, h.out.String(), "UDP 10.9.9.9:53")
}

func TestNetnsFlag(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, fmt.Sprintf(webConfig, 1))
	require.Equal(t, 0, h.run("apply", "-f", cfg, "--netns", "director"))
	require.Equal(t, 2, h.run("plan", "-f", cfg, "--netns", "/proc/1/ns/net"), "another namespace has its own record: the services there are not ours")
	assert.Equal(t, []string{"/run/netns/director", "/proc/1/ns/net"}, h.netns)
	_, err := os.Stat(filepath.Join(h.env.stateDir, "netns", "director.json"))
	assert.NoError(t, err, "each namespace has its own ownership record")
}

func TestHelpShowsExamples(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range []string{"validate", "plan", "apply"} {
		require.Equal(t, 0, h.run(cmd, "--help"))
		assert.Contains(t, h.out.String(), "Examples:")
		assert.Contains(t, h.out.String(), "lvsctl "+cmd)
	}
}

// TestNoIPVSOnThisHost runs the real kernel path where IPVS is absent (our
// development and CI hosts): the user sees exactly one actionable line.
func TestNoIPVSOnThisHost(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS loaded; the no-IPVS path cannot be exercised here")
	}
	cfg := writeConfig(t, fmt.Sprintf(webConfig, 1))
	var out, errOut bytes.Buffer
	e := defaultEnv()
	e.stdout, e.stderr, e.stateDir = &out, &errOut, t.TempDir()
	code := run(context.Background(), []string{"plan", "-f", cfg}, e)
	if code == 1 && strings.Contains(errOut.String(), "permission denied") {
		t.Skip("not root: the kernel refuses before it can say whether IPVS exists")
	}
	assert.Equal(t, 1, code)
	assert.Equal(t, "lvsctl: the kernel has no IPVS support (try: modprobe ip_vs)\n", errOut.String())
	assert.Empty(t, out.String())
}

// profiledCLI runs the CLI; with LVSCTL_BENCH_PROFILE=1 it writes a CPU
// profile of the whole command into LVSCTL_VM_OUTDIR (which vmexec copies
// back to the host), named after the subcommand and the process.
func profiledCLI() int {
	dir := os.Getenv("LVSCTL_VM_OUTDIR")
	if os.Getenv("LVSCTL_BENCH_PROFILE") != "1" || dir == "" || len(os.Args) < 2 ||
		// run --netns re-executes itself, and the profiling timer would
		// survive execve and kill the new image: profile that one.
		os.Args[1] == "run" && slices.Contains(os.Args, "--netns") && os.Getenv(enteredEnv) == "" {
		return cli()
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.cpu.pprof", os.Args[1], os.Getpid())))
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return 1
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return 1
	}
	defer pprof.StopCPUProfile()
	if r, err := strconv.Atoi(os.Getenv("LVSCTL_BENCH_MEMPROFILERATE")); err == nil {
		runtime.MemProfileRate = r
	}
	code := cli()
	// And the memory the command held at its end: the heap profile (in
	// use as of the last GC, and every allocation since start) and the
	// runtime's own accounting of the process's anonymous memory.
	if h, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.heap.pprof", os.Args[1], os.Getpid()))); err == nil {
		pprof.WriteHeapProfile(h)
		h.Close()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.memstats.txt", os.Args[1], os.Getpid())), fmt.Appendf(nil,
		"Sys %d\nHeapSys %d\nHeapInuse %d\nHeapIdle %d\nHeapReleased %d\nStackSys %d\nMSpanSys %d\nMCacheSys %d\nBuckHashSys %d\nGCSys %d\nOtherSys %d\nNumGC %d\nTotalAlloc %d\n",
		m.Sys, m.HeapSys, m.HeapInuse, m.HeapIdle, m.HeapReleased, m.StackSys, m.MSpanSys, m.MCacheSys, m.BuckHashSys, m.GCSys, m.OtherSys, m.NumGC, m.TotalAlloc), 0o644)
	return code
}
