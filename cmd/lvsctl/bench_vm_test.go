package main

// The kernel benchmark of issue 11: lvsctl against ipvsadm on the same
// tables, in one guest boot, one table printed at the end. It runs only
// with LVSCTL_BENCH=1 (make bench); TestVMBenchSmoke runs the same code on
// a 50-service table in every VM test run so that the harness does not rot,
// and asserts correctness (same tables, write counts) but never timings.
//
// Knobs (passed into the guest by vmexec, like every LVSCTL_ variable):
// LVSCTL_BENCH_SIZES (services, comma separated; default 200,10000,20000:
// 1k, 50k and 100k kernel objects at 4 real servers each),
// LVSCTL_BENCH_RUNS (default 3), LVSCTL_BENCH_HOST_CPU (the host's CPU
// model, for the header), LVSCTL_BENCH_PROFILE=1 with LVSCTL_VM_OUTDIR
// (a CPU profile of every lvsctl command, copied back to the host).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

const benchRealsPer = 4

// benchRow is one line of the table: lvsctl's and the anchor's samples,
// and lvsctl's kernel writes (-1: not counted).
type benchRow struct {
	what, anchor string
	services     int
	lv, an       []time.Duration
	writes       int
	rss          int64 // lvsctl's peak RSS in KiB, the largest of the runs; 0: not measured
}

func benchMedian(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchRules is the table of n TCP services x 4 NAT real servers, as
// ipvsadm -R rules and as lvsctl HCL: the same kernel objects.
func benchRules(n int) (rules, hcl []byte) {
	var r, h bytes.Buffer
	for i := 0; i < n; i++ {
		vip := fmt.Sprintf("10.%d.%d.%d", i>>12, i>>4&0xff, 1+i&0xf)
		fmt.Fprintf(&r, "-A -t %s:80 -s wlc\n", vip)
		fmt.Fprintf(&h, "virtual_server \"s%d\" {\n  address    = %q\n  port       = 80\n  scheduler  = \"wlc\"\n  forwarding = \"nat\"\n", i, vip)
		for j := 0; j < benchRealsPer; j++ {
			rip := fmt.Sprintf("172.%d.%d.%d", 16+j, i>>8, i&0xff)
			fmt.Fprintf(&r, "-a -t %s:80 -r %s:8080 -m -w %d\n", vip, rip, j+1)
			fmt.Fprintf(&h, "  real_server {\n    address = %q\n    port    = 8080\n    weight  = %d\n  }\n", rip, j+1)
		}
		h.WriteString("}\n")
	}
	return r.Bytes(), h.Bytes()
}

// benchKeepalived is the same table as a keepalived.conf with a comment
// before every block, for `lvsctl import keepalived`: the imported file's
// shape (a comment naming the keepalived line before each block, blank
// lines between blocks) is what an operator coming from keepalived applies.
func benchKeepalived(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		vip := fmt.Sprintf("10.%d.%d.%d", i>>12, i>>4&0xff, 1+i&0xf)
		fmt.Fprintf(&b, "# service %d\nvirtual_server %s 80 {\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n", i, vip)
		for j := 0; j < benchRealsPer; j++ {
			fmt.Fprintf(&b, "    # real server %d\n    real_server 172.%d.%d.%d 8080 {\n        weight %d\n    }\n", j, 16+j, i>>8, i&0xff, j+1)
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// benchSelf runs this test binary as the lvsctl command and times it.
func benchSelf(t *testing.T, args ...string) (time.Duration, string) {
	t.Helper()
	d, out, _ := benchSelfRSS(t, args...)
	return d, out
}

// benchSelfRSS is benchSelf that also returns the process's peak RSS in
// KiB.
func benchSelfRSS(t *testing.T, args ...string) (time.Duration, string, int64) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	require.NoError(t, err, "lvsctl %s: %s", strings.Join(args, " "), stderr.String())
	return d, stdout.String(), peakRSS(cmd)
}

// peakRSS is a finished command's peak RSS in KiB (0 if unknown).
func peakRSS(cmd *exec.Cmd) int64 {
	if cmd.ProcessState == nil {
		return 0
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// benchIpvsadm times one ipvsadm process in host's namespace.
func benchIpvsadm(t *testing.T, l *lab.Lab, host string, stdin []byte, args ...string) (time.Duration, []byte) {
	t.Helper()
	start := time.Now()
	r := ipvsadmIn(t, l, host, stdin, args...)
	d := time.Since(start)
	require.Zero(t, r.code, "ipvsadm %s: %s", strings.Join(args, " "), r.stderr)
	return d, r.stdout
}

var appliedRe = regexp.MustCompile(`Applied (\d+) changes?\.`)

// appliedWrites is the number of writes lvsctl apply reported.
func appliedWrites(t *testing.T, out string) int {
	if strings.Contains(out, "No changes") {
		return 0
	}
	m := appliedRe.FindStringSubmatch(out)
	require.NotNil(t, m, "lvsctl apply output: %.300s", out)
	n, _ := strconv.Atoi(m[1])
	return n
}

// benchDaemon is a running `lvsctl run` and its log, read line by line.
type benchDaemon struct {
	cmd   *exec.Cmd
	lines chan string
	log   strings.Builder
}

// benchStartDaemon starts `lvsctl run` inside host's namespace, forked
// from a thread in it as ipvsadm is (benchIpvsadm) and as an operator's
// systemd starts it: without --netns, whose re-execution in the namespace
// would add a second process start that neither has. Wait for its lines
// with until.
func benchStartDaemon(t *testing.T, l *lab.Lab, host, cfg, state string) *benchDaemon {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, "run", "-f", cfg, "--state", state, "--socket", state+".sock")
	cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, l.Do(host, cmd.Start))
	d := &benchDaemon{cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		defer close(d.lines)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
	}()
	return d
}

// until reads log lines until one contains msg, counting the kernel
// writes logged on the way; false if the daemon stopped first or took
// more than 10 minutes.
func (d *benchDaemon) until(msg string) (writes int, ok bool) {
	timeout := time.After(10 * time.Minute)
	for {
		select {
		case line, open := <-d.lines:
			if !open {
				return writes, false
			}
			d.log.WriteString(line + "\n")
			if strings.Contains(line, "msg=applied ") || strings.Contains(line, "msg=\"drift repaired\"") {
				writes++
			}
			if strings.Contains(line, msg) {
				return writes, true
			}
		case <-timeout:
			return writes, false
		}
	}
}

// stop ends the daemon (SIGTERM) and returns its peak RSS in KiB.
func (d *benchDaemon) stop() int64 {
	d.cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for range d.lines {
		}
	}()
	d.cmd.Wait()
	return peakRSS(d.cmd)
}

// benchRun starts `lvsctl run` on a converged table and returns the time
// until it logs "running", the number of ops it applied at start and its
// peak RSS (KiB).
func benchRun(t *testing.T, l *lab.Lab, host, cfg, state string) (time.Duration, int, int64) {
	t.Helper()
	start := time.Now()
	d := benchStartDaemon(t, l, host, cfg, state)
	writes, ok := d.until("msg=running")
	took := time.Since(start)
	rss := d.stop()
	require.True(t, ok, "lvsctl run never logged running:\n%s", d.log.String())
	return took, writes, rss
}

// benchReload starts `lvsctl run` on a converged table, then runs times
// edits the file at cfg (edit(i) is its new content: one line changed)
// and sends SIGHUP, timing each from the signal to the daemon's
// "reloaded" line. It returns the times and the most writes of a reload.
func benchReload(t *testing.T, l *lab.Lab, host, cfg, state string, runs int, edit func(i int) []byte) ([]time.Duration, int) {
	t.Helper()
	d := benchStartDaemon(t, l, host, cfg, state)
	defer d.stop()
	_, ok := d.until("msg=running")
	require.True(t, ok, "lvsctl run never logged running:\n%s", d.log.String())
	var took []time.Duration
	most := 0
	for i := 0; i < runs; i++ {
		require.NoError(t, os.WriteFile(cfg, edit(i), 0o644))
		start := time.Now()
		require.NoError(t, d.cmd.Process.Signal(syscall.SIGHUP))
		w, ok := d.until("msg=reloaded")
		took = append(took, time.Since(start))
		require.True(t, ok, "lvsctl run never logged reloaded:\n%s", d.log.String())
		most = max(most, w)
	}
	return took, most
}

// countWrites counts the ops a kernel accepts.
type countWrites struct {
	ipvs.Kernel
	n int
}

func (k *countWrites) Apply(ctx context.Context, ops []ipvs.Op) (int, error) {
	n, err := k.Kernel.Apply(ctx, ops)
	k.n += n
	return n, err
}

// benchSize measures every row for one table size.
func benchSize(t *testing.T, n, runs int) []benchRow {
	l := lab.New(fmt.Sprintf("vmb%d-", n))
	defer func() {
		// The next size starts without these tables: IPVS keeps one
		// service hash table for every namespace.
		l.Close()
		benchSettle(2 * n * (1 + benchRealsPer))
	}()
	require.NoError(t, l.AddHost("lv"))
	require.NoError(t, l.AddHost("adm"))
	ns := l.NSPath("lv")
	dir := t.TempDir()
	rules, hcl := benchRules(n)
	cfg := filepath.Join(dir, "bench.hcl")
	require.NoError(t, os.WriteFile(cfg, hcl, 0o644))
	state := filepath.Join(dir, "state.json")
	objects := n * (1 + benchRealsPer)

	// (1) Cold apply from an empty table vs ipvsadm -R of the same rules.
	cold := benchRow{what: "cold apply", anchor: "ipvsadm -R", services: n}
	for i := 0; i < runs; i++ {
		if i > 0 {
			benchIpvsadm(t, l, "lv", nil, "-C")
			benchIpvsadm(t, l, "adm", nil, "-C")
			require.NoError(t, os.Remove(state))
			// A cold apply is the first of its file: no decoded table.
			require.NoError(t, os.Remove(state+".config-cache"))
			benchSettle(objects)
		}
		// Alternate who goes first, so that neither always meets what
		// the kernel still has to do after the other (or the flush).
		var da, dl time.Duration
		var out string
		lv := func() {
			var rss int64
			dl, out, rss = benchSelfRSS(t, "apply", "-f", cfg, "--netns", ns, "--state", state)
			cold.rss = max(cold.rss, rss)
		}
		adm := func() { da, _ = benchIpvsadm(t, l, "adm", rules, "-R") }
		if i%2 == 0 {
			adm()
			benchSettle(objects)
			lv()
		} else {
			lv()
			benchSettle(objects)
			adm()
		}
		cold.an, cold.lv = append(cold.an, da), append(cold.lv, dl)
		cold.writes = appliedWrites(t, out)
		require.Equal(t, objects, cold.writes, "a cold apply is one write per object")
	}
	_, want := benchIpvsadm(t, l, "adm", nil, "-S", "-n")
	_, got := benchIpvsadm(t, l, "lv", nil, "-S", "-n")
	require.Equal(t, bytes.Count(want, []byte("\n")), objects)
	if !bytes.Equal(want, got) {
		t.Fatalf("lvsctl apply and ipvsadm -R built different tables: %s", firstDiff(want, got))
	}

	// (2) Converged re-apply vs one ipvsadm -S -n. (5) shares the anchor.
	// "unchanged": the same file again, as config management re-runs it
	// (the decoded table comes from the cache the cold apply left);
	// "edited": a comment added each time, so the file is parsed again.
	re := benchRow{what: "re-apply, converged, file unchanged", anchor: "ipvsadm -S -n", services: n}
	reEdit := benchRow{what: "re-apply, converged, file edited", anchor: "ipvsadm -S -n", services: n}
	require.FileExists(t, state+".config-cache", "the cold apply remembers the decoded table")
	edited := filepath.Join(dir, "edited.hcl")
	// All unchanged runs first: an edited file replaces the cache entry.
	for i := 0; i < runs; i++ {
		da, _ := benchIpvsadm(t, l, "lv", nil, "-S", "-n")
		dl, out := benchSelf(t, "apply", "-f", cfg, "--netns", ns, "--state", state)
		re.an, re.lv = append(re.an, da), append(re.lv, dl)
		re.writes = max(re.writes, appliedWrites(t, out))
	}
	for i := 0; i < runs; i++ {
		da, _ := benchIpvsadm(t, l, "lv", nil, "-S", "-n")
		require.NoError(t, os.WriteFile(edited, append(fmt.Appendf(nil, "# edit %d\n", i), hcl...), 0o644))
		dl, out := benchSelf(t, "apply", "-f", edited, "--netns", ns, "--state", state)
		reEdit.an, reEdit.lv = append(reEdit.an, da), append(reEdit.lv, dl)
		reEdit.writes = max(reEdit.writes, appliedWrites(t, out))
	}
	require.Zero(t, re.writes, "a converged re-apply writes nothing")
	require.Zero(t, reEdit.writes, "a converged re-apply writes nothing")

	// (3) One weight change, from the decoded config to the kernel's ack:
	// (a) as lvsctl apply does it (Reconciler: one full dump, a full diff,
	// one write), (b) as the daemon's health path does it (Diff of the one
	// service from memory, one write). Anchor: one ipvsadm -e.
	decoded, _, diags := lvshcl.Load(cfg)
	require.False(t, diags.HasErrors(), diags.Error())
	ctx := context.Background()
	kk, err := ipvs.Open(ctx, ns)
	require.NoError(t, err)
	defer kk.Close()
	k := &countWrites{Kernel: kk}
	mid := n / 2
	wa := benchRow{what: "weight change (apply: dump+diff)", anchor: "ipvsadm -e", services: n}
	wb := benchRow{what: "weight change (daemon: no dump)", anchor: "ipvsadm -e", services: n}
	svc := decoded.Services[mid]
	edit := func(w uint32) []ipvs.VirtualService {
		desired := slices.Clone(decoded.Services)
		s := desired[mid]
		s.RealServers = slices.Clone(s.RealServers)
		s.RealServers[0].Weight = w
		desired[mid] = s
		return desired
	}
	for i := 0; i < runs; i++ {
		desired := edit(uint32(100 + i))
		k.n = 0
		start := time.Now()
		r := &ipvs.Reconciler{Kernel: k, Owned: ipvs.StateFile{Path: state}}
		p, err := r.Plan(ctx, desired, false)
		require.NoError(t, err)
		_, err = r.Apply(ctx, p)
		require.NoError(t, err)
		wa.lv = append(wa.lv, time.Since(start))
		wa.writes = max(wa.writes, k.n)
		require.Equal(t, 1, k.n, "one weight change is one write")

		// Sub-millisecond: 33 samples a run, so that the median is not
		// one timer tick or one garbage collection.
		cur := desired[mid].Normalize()
		for j := 0; j < 33; j++ {
			next := cur
			next.RealServers = slices.Clone(cur.RealServers)
			next.RealServers[0].Weight = uint32(200 + 40*i + j)
			k.n = 0
			start = time.Now()
			_, err = k.Apply(ctx, ipvs.Diff([]ipvs.VirtualService{cur}, []ipvs.VirtualService{next}))
			require.NoError(t, err)
			wb.lv = append(wb.lv, time.Since(start))
			wb.writes = max(wb.writes, k.n)
			require.Equal(t, 1, k.n)
			cur = next
		}

		da, _ := benchIpvsadm(t, l, "lv", nil, "-e", "-t", svc.Key.Addr.String()+":80",
			"-r", svc.RealServers[0].Addr.String()+":8080", "-m", "-w", strconv.Itoa(300+i))
		wa.an, wb.an = append(wa.an, da), append(wb.an, da)
	}
	// Back to the configured weight so that (5) starts converged.
	_, out := benchSelf(t, "apply", "-f", cfg, "--netns", ns, "--state", state)
	require.Equal(t, 1, appliedWrites(t, out))

	// (4) lvsctl list -Ln vs ipvsadm -Ln.
	ls := benchRow{what: "list -Ln", anchor: "ipvsadm -Ln", services: n, writes: -1}
	for i := 0; i < runs; i++ {
		da, outA := benchIpvsadm(t, l, "lv", nil, "-Ln")
		dl, outL := benchSelf(t, "list", "-Ln", "--netns", ns)
		ls.an, ls.lv = append(ls.an, da), append(ls.lv, dl)
		if i == 0 && outA != nil && string(outA) != outL {
			t.Errorf("ipvsadm -Ln and lvsctl list -Ln differ: %s", firstDiff(outA, []byte(outL)))
		}
	}

	// (5) lvsctl run start-up on the converged table, until "running".
	st := benchRow{what: "run start-up (converged)", anchor: "ipvsadm -S -n", services: n, an: re.an}
	for i := 0; i < runs; i++ {
		d, w, rss := benchRun(t, l, "lv", cfg, state)
		st.lv = append(st.lv, d)
		st.writes = max(st.writes, w)
		st.rss = max(st.rss, rss)
	}
	require.Zero(t, st.writes, "a daemon start on a converged table writes nothing")

	// (6) SIGHUP after a one-line edit (the middle service's first weight),
	// from the signal to the daemon's "reloaded" line.
	hup := benchRow{what: "SIGHUP reload, one line edited", anchor: "ipvsadm -S -n", services: n, an: re.an}
	at := bytes.Index(hcl, fmt.Appendf(nil, "virtual_server \"s%d\"", n/2))
	at += bytes.Index(hcl[at:], []byte("weight  = 1\n")) + len("weight  = ")
	hup.lv, hup.writes = benchReload(t, l, "lv", cfg, state, runs, func(i int) []byte {
		return slices.Concat(hcl[:at], fmt.Appendf(nil, "%d", 11+i), hcl[at+1:])
	})
	require.Equal(t, 1, hup.writes, "a reload after one weight edit is one write")
	require.NoError(t, os.WriteFile(cfg, hcl, 0o644))

	// (7) The same table from `lvsctl import keepalived` (a comment before
	// every block): cold apply vs ipvsadm -R, then re-apply with a comment
	// added at the top.
	ka := filepath.Join(dir, "keepalived.conf")
	require.NoError(t, os.WriteFile(ka, benchKeepalived(n), 0o644))
	imported := filepath.Join(dir, "imported.hcl")
	benchSelf(t, "import", "keepalived", ka, "-o", imported)
	impSrc, err := os.ReadFile(imported)
	require.NoError(t, err)
	coldImp := benchRow{what: "cold apply, imported file", anchor: "ipvsadm -R", services: n}
	for i := 0; i < runs; i++ {
		benchIpvsadm(t, l, "lv", nil, "-C")
		benchIpvsadm(t, l, "adm", nil, "-C")
		require.NoError(t, os.Remove(state))
		require.NoError(t, os.Remove(state+".config-cache"))
		benchSettle(objects)
		var da, dl time.Duration
		var out string
		lv := func() {
			var rss int64
			dl, out, rss = benchSelfRSS(t, "apply", "-f", imported, "--netns", ns, "--state", state)
			coldImp.rss = max(coldImp.rss, rss)
		}
		adm := func() { da, _ = benchIpvsadm(t, l, "adm", rules, "-R") }
		if i%2 == 0 {
			lv()
			benchSettle(objects)
			adm()
		} else {
			adm()
			benchSettle(objects)
			lv()
		}
		coldImp.an, coldImp.lv = append(coldImp.an, da), append(coldImp.lv, dl)
		coldImp.writes = appliedWrites(t, out)
		require.Equal(t, objects, coldImp.writes, "a cold apply is one write per object")
	}
	_, want = benchIpvsadm(t, l, "adm", nil, "-S", "-n")
	_, got = benchIpvsadm(t, l, "lv", nil, "-S", "-n")
	if !bytes.Equal(want, got) {
		t.Fatalf("lvsctl apply of the imported file and ipvsadm -R built different tables: %s", firstDiff(want, got))
	}
	reImp := benchRow{what: "re-apply, imported, comment at top", anchor: "ipvsadm -S -n", services: n}
	for i := 0; i < runs; i++ {
		da, _ := benchIpvsadm(t, l, "lv", nil, "-S", "-n")
		require.NoError(t, os.WriteFile(imported, append(fmt.Appendf(nil, "# edit %d\n", i), impSrc...), 0o644))
		dl, out := benchSelf(t, "apply", "-f", imported, "--netns", ns, "--state", state)
		reImp.an, reImp.lv = append(reImp.an, da), append(reImp.lv, dl)
		reImp.writes = max(reImp.writes, appliedWrites(t, out))
	}
	require.Zero(t, reImp.writes, "a converged re-apply writes nothing")
	return []benchRow{cold, re, reEdit, wa, wb, ls, st, hup, coldImp, reImp}
}

// benchMachine describes the guest (and the host, when told).
func benchMachine() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	s := fmt.Sprintf("guest: QEMU/TCG (no KVM), vCPU %q x%d, kernel %s", model, numCPU(), strings.TrimSpace(string(rel)))
	if h := os.Getenv("LVSCTL_BENCH_HOST_CPU"); h != "" {
		s += "; host: " + h
	}
	return s
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return bytes.Count(b, []byte("\nprocessor")) + 1
}

// benchTable formats the rows.
func benchTable(rows []benchRow, runs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nmedians of %d runs (the daemon weight row: of 33 changes a run); objects = services x 5; tools timed as processes except the weight rows (in-process, from decoded config to ack) and the SIGHUP row (from the signal to the log line \"reloaded\"); peak RSS: the largest of the runs\n", benchMachine(), runs)
	fmt.Fprintf(&b, "| %-36s | %7s | %6s | %10s | %-13s | %10s | %6s | %9s |\n", "measure", "objects", "writes", "lvsctl", "anchor", "anchor t", "ratio", "peak RSS")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 38), strings.Repeat("-", 9), strings.Repeat("-", 8),
		strings.Repeat("-", 12), strings.Repeat("-", 15), strings.Repeat("-", 12), strings.Repeat("-", 8), strings.Repeat("-", 11))
	for _, r := range rows {
		w := "-"
		if r.writes >= 0 {
			w = strconv.Itoa(r.writes)
		}
		lv, an := benchMedian(r.lv), benchMedian(r.an)
		rss := "-"
		if r.rss > 0 {
			rss = fmt.Sprintf("%.0f MiB", float64(r.rss)/1024)
		}
		fmt.Fprintf(&b, "| %-36s | %7d | %6s | %10s | %-13s | %10s | %6.2f | %9s |\n", r.what, r.services*(1+benchRealsPer), w,
			benchRound(lv), r.anchor, benchRound(an), float64(lv)/float64(an), rss)
	}
	return b.String()
}

// benchSettle gives the guest's single CPU time to finish deferred work
// (RCU callbacks freeing a flushed table, workqueues) before the next timed
// command: about a second per 20,000 objects just written or flushed.
func benchSettle(objects int) {
	time.Sleep(time.Duration(max(objects/20, 100)) * time.Millisecond)
}

// benchRound keeps three or so significant digits.
func benchRound(d time.Duration) time.Duration {
	if d < 10*time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}

func benchAll(t *testing.T, sizes []int, runs int) {
	var rows []benchRow
	for _, n := range sizes {
		start := time.Now()
		rows = append(rows, benchSize(t, n, runs)...)
		t.Logf("%d services measured in %v", n, time.Since(start).Round(time.Second))
	}
	table := benchTable(rows, runs)
	t.Logf("benchmark table:\n%s", table)
	if os.Getenv("LVSCTL_BENCH") == "1" {
		fmt.Printf("\n=== lvsctl VM benchmark\n%s\n", table)
	}
}

// TestVMBenchSmoke is the benchmark on a 50-service table: correctness of
// the harness only, no timing is asserted.
func TestVMBenchSmoke(t *testing.T) {
	requireVM(t)
	benchAll(t, []int{50}, 1)
}

// TestVMBench is the benchmark (make bench; LVSCTL_BENCH=1).
func TestVMBench(t *testing.T) {
	requireVM(t)
	if os.Getenv("LVSCTL_BENCH") != "1" {
		t.Skip("benchmark: set LVSCTL_BENCH=1 (make bench)")
	}
	sizes := []int{200, 10000, 20000}
	if s := os.Getenv("LVSCTL_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(t, err, "LVSCTL_BENCH_SIZES")
			sizes = append(sizes, n)
		}
	}
	runs := 3
	if s := os.Getenv("LVSCTL_BENCH_RUNS"); s != "" {
		var err error
		runs, err = strconv.Atoi(s)
		require.NoError(t, err, "LVSCTL_BENCH_RUNS")
	}
	benchAll(t, sizes, runs)
}

// TestVMBenchReload is the SIGHUP row alone, for profiling it at one size
// (LVSCTL_BENCH=1, the first of LVSCTL_BENCH_SIZES, LVSCTL_BENCH_RUNS;
// with LVSCTL_BENCH_PROFILE=1 the daemon's CPU and heap profiles): the
// table applied once by lvsctl, the daemon started on it, then the edits.
// It prints each reload's time and the daemon's log lines about reloads.
func TestVMBenchReload(t *testing.T) {
	requireVM(t)
	if os.Getenv("LVSCTL_BENCH") != "1" {
		t.Skip("benchmark: set LVSCTL_BENCH=1")
	}
	n, runs := benchOneSize(t, 3)
	l := lab.New("vmbr-")
	defer l.Close()
	require.NoError(t, l.AddHost("lv"))
	ns := l.NSPath("lv")
	dir := t.TempDir()
	_, hcl := benchRules(n)
	cfg := filepath.Join(dir, "bench.hcl")
	require.NoError(t, os.WriteFile(cfg, hcl, 0o644))
	state := filepath.Join(dir, "state.json")
	d, _ := benchSelf(t, "apply", "-f", cfg, "--netns", ns, "--state", state)
	t.Logf("cold apply: %v", d)
	at := bytes.Index(hcl, fmt.Appendf(nil, "virtual_server \"s%d\"", n/2))
	at += bytes.Index(hcl[at:], []byte("weight  = 1\n")) + len("weight  = ")
	dm := benchStartDaemon(t, l, "lv", cfg, state)
	_, ok := dm.until("msg=running")
	require.True(t, ok, "lvsctl run never logged running:\n%s", dm.log.String())
	for i := 0; i < runs; i++ {
		require.NoError(t, os.WriteFile(cfg, slices.Concat(hcl[:at], fmt.Appendf(nil, "%d", 11+i), hcl[at+1:]), 0o644))
		start := time.Now()
		require.NoError(t, dm.cmd.Process.Signal(syscall.SIGHUP))
		_, ok := dm.until("msg=reloaded")
		require.True(t, ok, "lvsctl run never logged reloaded:\n%s", dm.log.String())
		fmt.Printf("reload %d: %v\n", i, time.Since(start))
	}
	dm.stop()
	for line := range strings.Lines(dm.log.String()) {
		if strings.Contains(line, "reload") || strings.Contains(line, "resync") || strings.Contains(line, "running") {
			fmt.Print(line)
		}
	}
}

// TestVMBenchColdImported is the "cold apply, imported file" row alone,
// for profiling it at one size (LVSCTL_BENCH=1, the first of
// LVSCTL_BENCH_SIZES; LVSCTL_BENCH_PROFILE=1 for the CPU and heap
// profiles): the keepalived.conf imported in the guest, then applied to
// an empty table, LVSCTL_BENCH_RUNS times with a flush between.
func TestVMBenchColdImported(t *testing.T) {
	requireVM(t)
	if os.Getenv("LVSCTL_BENCH") != "1" {
		t.Skip("benchmark: set LVSCTL_BENCH=1")
	}
	n, runs := benchOneSize(t, 1)
	l := lab.New("vmbi-")
	defer l.Close()
	require.NoError(t, l.AddHost("lv"))
	ns := l.NSPath("lv")
	dir := t.TempDir()
	ka := filepath.Join(dir, "keepalived.conf")
	require.NoError(t, os.WriteFile(ka, benchKeepalived(n), 0o644))
	imported := filepath.Join(dir, "imported.hcl")
	benchSelf(t, "import", "keepalived", ka, "-o", imported)
	state := filepath.Join(dir, "state.json")
	for i := 0; i < runs; i++ {
		if i > 0 {
			benchIpvsadm(t, l, "lv", nil, "-C")
			require.NoError(t, os.Remove(state))
			require.NoError(t, os.Remove(state+".config-cache"))
			benchSettle(n * (1 + benchRealsPer))
		}
		d, out, rss := benchSelfRSS(t, "apply", "-f", imported, "--netns", ns, "--state", state)
		fmt.Printf("cold apply, imported, %d objects: %v, peak RSS %d MiB, %d writes\n", n*(1+benchRealsPer), d, rss/1024, appliedWrites(t, out))
	}
}

// benchOneSize is the size (services: the first of LVSCTL_BENCH_SIZES,
// default 20,000) and the runs (LVSCTL_BENCH_RUNS, default runs) of a
// benchmark of one row.
func benchOneSize(t *testing.T, runs int) (int, int) {
	t.Helper()
	n := 20000
	if s := os.Getenv("LVSCTL_BENCH_SIZES"); s != "" {
		var err error
		n, err = strconv.Atoi(strings.Split(s, ",")[0])
		require.NoError(t, err, "LVSCTL_BENCH_SIZES")
	}
	if s := os.Getenv("LVSCTL_BENCH_RUNS"); s != "" {
		var err error
		runs, err = strconv.Atoi(s)
		require.NoError(t, err, "LVSCTL_BENCH_RUNS")
	}
	return n, runs
}
