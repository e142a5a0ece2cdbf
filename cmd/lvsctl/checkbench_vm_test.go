package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// Issue 22's side-by-side row: keepalived 2.2.7's checker and lvsctl run on
// the `lvsctl import keepalived` form of the same keepalived.conf, in one
// boot of the guest, at the same check rate. n real servers are n/4 NAT
// services of 4 real servers each, delay_loop 1 and connect_timeout 1;
// every real server of a service is one of 4 backends that always answer
// (HTTP servers in namespaces of their own, in the test process: their CPU
// is not counted). Each tool runs alone: warm-up, then a window over which
// its CPU time (utime+stime of its processes, from /proc), context
// switches and the backends' new connections (checks) are counted; peak
// RSS is the sum of its processes' VmHWM; false down transitions are the
// real servers it took down over the whole run (keepalived's "Removing
// service", lvsctl's "real server down"): the backends never fail, so every
// one is false. The table is sampled during the window: "min reals" is the
// fewest real servers it held. "anon" and "file" split the RSS at the end
// of the window: anonymous memory (heap, stacks: the process's own) and
// the mapped binary and libraries (RssFile, plus RssShmem: in the guest
// they are files of the initramfs, which is shmem). lvsctl is the test binary acting as the CLI unless
// LVSCTL_CHECKBENCH_BIN names a built lvsctl in the guest (make bench puts
// bin/lvsctl there with LVSCTL_VM_FILES).

// checkBenchRow is one tool's run at one size and check type.
type checkBenchRow struct {
	servers     int
	check, tool string
	cpu         time.Duration // utime+stime over the window
	user        time.Duration
	window      time.Duration
	rssKiB      int64
	anonKiB     int64 // RssAnon at the end of the window
	fileKiB     int64 // RssFile+RssShmem at the end of the window
	checks      int64 // the backends' new connections over the window
	ctxsw       int64 // voluntary and involuntary, over the window
	falseDown   int
	minReals    int
}

func (r checkBenchRow) pct(d time.Duration) float64 { return 100 * d.Seconds() / r.window.Seconds() }

// checkBenchConf is a keepalived.conf of n real servers (n/4 services x 4
// backends) with the check kind ("TCP_CHECK" or "HTTP_GET").
func checkBenchConf(n int, kind string, backends []string) string {
	var b strings.Builder
	for s := range n / 4 {
		fmt.Fprintf(&b, "virtual_server 10.0.1.100 %d {\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n", 10000+s)
		for _, be := range backends {
			fmt.Fprintf(&b, "    real_server %s 80 {\n        weight 1\n", be)
			if kind == "HTTP_GET" {
				b.WriteString("        HTTP_GET {\n            url {\n                path /health\n                status_code 200\n            }\n            connect_timeout 1\n        }\n")
			} else {
				b.WriteString("        TCP_CHECK {\n            connect_timeout 1\n        }\n")
			}
			b.WriteString("    }\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// procStat is the CPU time, context switches and peak RSS of the
// processes of process group pgid (keepalived and its checker child), or
// of pid alone when pgid is 0.
func procStat(pid, pgid int) (cpu, user time.Duration, ctxsw, hwmKiB, anonKiB, fileKiB int64) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		if pg, _ := strconv.Atoi(f[2]); (pgid == 0 && p != pid) || (pgid != 0 && pg != pgid) {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		cpu += time.Duration(ut+st) * (time.Second / 100) // USER_HZ
		user += time.Duration(ut) * (time.Second / 100)
		hwmKiB += statusField("/proc/"+e.Name()+"/status", "VmHWM")
		anonKiB += statusField("/proc/"+e.Name()+"/status", "RssAnon")
		fileKiB += statusField("/proc/"+e.Name()+"/status", "RssFile") + statusField("/proc/"+e.Name()+"/status", "RssShmem")
		tasks, _ := os.ReadDir("/proc/" + e.Name() + "/task") // a Go program's threads
		for _, task := range tasks {
			st := "/proc/" + e.Name() + "/task/" + task.Name() + "/status"
			ctxsw += statusField(st, "voluntary_ctxt_switches") + statusField(st, "nonvoluntary_ctxt_switches")
		}
	}
	return cpu, user, ctxsw, hwmKiB, anonKiB, fileKiB
}

// statusField is the number of field key of a /proc status file (in kB
// for sizes).
func statusField(file, key string) int64 {
	b, _ := os.ReadFile(file)
	for line := range strings.Lines(string(b)) {
		if k, v, _ := strings.Cut(line, ":"); k == key {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// checkBenchBackends starts an HTTP server on port 80 of each backend
// that answers 200 to anything, and counts its new connections.
func checkBenchBackends(t *testing.T, l *lab.Lab, addrs []string) *atomic.Int64 {
	var conns atomic.Int64
	for i, a := range addrs {
		var ln net.Listener
		require.NoError(t, l.Do(fmt.Sprintf("be%d", i+1), func() error {
			var err error
			ln, err = net.Listen("tcp", a+":80")
			return err
		}))
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") }),
			ConnState: func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			},
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          nil,
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	return &conns
}

// checkBenchVariants are the ways lvsctl runs beside keepalived: as is
// (the kernel read every 10 s: the default resync at delay_loop 1), and
// with LVSCTL_CHECKBENCH_RESYNC60=1 also with it read every 60 s, which
// leaves the checker's own cost (keepalived has no resync).
func checkBenchVariants() []checkBenchVariant {
	vs := []checkBenchVariant{{name: "lvsctl"}}
	if os.Getenv("LVSCTL_CHECKBENCH_RESYNC60") == "1" {
		vs = append(vs, checkBenchVariant{name: "lvsctl --resync 60s", args: []string{"--resync", "60s"}})
	}
	return vs
}

type checkBenchVariant struct {
	name string
	args []string
}

// checkBench runs keepalived, then lvsctl's variants, at each size and
// check type, and returns the rows, keepalived's first in each group.
func checkBench(t *testing.T, sizes []int, warmup, window time.Duration) []checkBenchRow {
	l := lab.New("vmckb-")
	t.Cleanup(func() { l.Close() })
	backendIPs, err := l.NATTopology(4)
	require.NoError(t, err)
	var backends []string
	for _, a := range backendIPs {
		backends = append(backends, a.String())
	}
	conns := checkBenchBackends(t, l, backends)
	ns := l.NSPath("director")
	dir := t.TempDir()
	reals := func() int {
		n := 0
		for _, line := range savedTable(t, l, "director") {
			if strings.HasPrefix(line, "-a ") {
				n++
			}
		}
		return n
	}
	// measure samples a running tool: warm-up, then the window.
	measure := func(row *checkBenchRow, pid, pgid int) {
		time.Sleep(warmup)
		cpu0, user0, sw0, _, _, _ := procStat(pid, pgid)
		c0, t0 := conns.Load(), time.Now()
		row.minReals = -1
		for end := t0.Add(window); time.Now().Before(end); {
			time.Sleep(min(5*time.Second, time.Until(end)))
			if n := reals(); row.minReals < 0 || n < row.minReals {
				row.minReals = n
			}
		}
		cpu1, user1, sw1, hwm, anon, file := procStat(pid, pgid)
		row.window, row.checks = time.Since(t0), conns.Load()-c0
		row.cpu, row.user, row.ctxsw, row.rssKiB = cpu1-cpu0, user1-user0, sw1-sw0, hwm
		row.anonKiB, row.fileKiB = anon, file
	}
	var rows []checkBenchRow
	for _, n := range sizes {
		for _, kind := range checkBenchKinds() {
			conf := filepath.Join(dir, fmt.Sprintf("keepalived-%d-%s.conf", n, kind))
			require.NoError(t, os.WriteFile(conf, []byte(checkBenchConf(n, kind, backends)), 0o644))

			ka := checkBenchRow{servers: n, check: kind, tool: "keepalived"}
			k := startKaChecker(t, l, "director", conf)
			measure(&ka, 0, k.cmd.Process.Pid)
			k.kill()
			ka.falseDown = strings.Count(k.log.String(), "Removing service")
			r := ipvsadmIn(t, l, "director", nil, "-C")
			require.Zero(t, r.code, "%s", r.stderr)
			rows = append(rows, ka)

			for _, v := range checkBenchVariants() {
				lv := checkBenchRow{servers: n, check: kind, tool: v.name}
				cli := newVMCLI(t, ns)
				hclFile := filepath.Join(dir, fmt.Sprintf("lvsctl-%d-%s.hcl", n, kind))
				require.Equal(t, 0, cli.run("import", "keepalived", conf, "-o", hclFile), cli.errOut.String())
				args := append([]string{"-f", hclFile, "--netns", ns, "--state", filepath.Join(t.TempDir(), "state.json")}, v.args...)
				d := startDaemonBin(t, checkBenchBin(), args...)
				measure(&lv, d.cmd.Process.Pid, 0)
				d.signal(t, syscall.SIGTERM)
				d.wait(t)
				lv.falseDown = strings.Count(d.logText(), "real server down")
				r = ipvsadmIn(t, l, "director", nil, "-C")
				require.Zero(t, r.code, "%s", r.stderr)
				rows = append(rows, lv)
			}
		}
	}
	return rows
}

// checkBenchBin is the lvsctl that runs: LVSCTL_CHECKBENCH_BIN, or this
// test binary acting as the CLI.
func checkBenchBin() string {
	if b := os.Getenv("LVSCTL_CHECKBENCH_BIN"); b != "" {
		return b
	}
	return os.Args[0]
}

// checkBenchKinds are the check types to run: TCP_CHECK and HTTP_GET, or
// LVSCTL_CHECKBENCH_CHECKS.
func checkBenchKinds() []string {
	if s := os.Getenv("LVSCTL_CHECKBENCH_CHECKS"); s != "" {
		return strings.Split(s, ",")
	}
	return []string{"TCP_CHECK", "HTTP_GET"}
}

// checkBenchTable renders rows, with lvsctl's ratio to keepalived.
func checkBenchTable(rows []checkBenchRow, warmup, window time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "warm-up %v, window %v; CPU as %% of one core (utime+stime of the tool's processes); lvsctl: %s\n", warmup, window, checkBenchBin())
	b.WriteString("peak RSS: summed VmHWM; anon, file: RssAnon, RssFile+RssShmem (the mapped binary and libraries) at the end of the window, MiB\n")
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "servers\tcheck\ttool\tCPU %\tuser %\tpeak RSS MiB\tanon\tfile\tchecks/s\tctx switches/s\tfalse down\tmin reals\t")
	var ka checkBenchRow
	for _, r := range rows {
		fmt.Fprintf(w, "%d\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%d\t%d\t\n", r.servers, r.check, r.tool,
			r.pct(r.cpu), r.pct(r.user), float64(r.rssKiB)/1024, float64(r.anonKiB)/1024, float64(r.fileKiB)/1024, float64(r.checks)/r.window.Seconds(),
			float64(r.ctxsw)/r.window.Seconds(), r.falseDown, r.minReals)
		if r.tool == "keepalived" {
			ka = r
			continue
		}
		ratio := func(a, b float64) string {
			if b == 0 {
				return "-"
			}
			return fmt.Sprintf("x%.2f", a/b)
		}
		perCheck := func(r checkBenchRow) float64 { return r.cpu.Seconds() / float64(max(r.checks, 1)) }
		fmt.Fprintf(w, "\t\t/ keepalived\t%s\t\t%s\t%s\t%s\t%s\t\t\t\tCPU per check %s\n",
			ratio(r.pct(r.cpu), ka.pct(ka.cpu)), ratio(float64(r.rssKiB), float64(ka.rssKiB)),
			ratio(float64(r.anonKiB), float64(ka.anonKiB)), ratio(float64(r.fileKiB), float64(ka.fileKiB)),
			ratio(float64(r.checks)/r.window.Seconds(), float64(ka.checks)/ka.window.Seconds()),
			ratio(perCheck(r), perCheck(ka)))
	}
	w.Flush()
	return b.String()
}

// TestVMCheckBenchSmoke is the harness at 8 real servers and a 3 s
// window: both tools check every real server and hold them all, and
// lvsctl takes none down. No timing is asserted.
func TestVMCheckBenchSmoke(t *testing.T) {
	requireVM(t)
	warmup, window := 2*time.Second, 3*time.Second
	rows := checkBench(t, []int{8}, warmup, window)
	t.Logf("checker benchmark (smoke):\n%s", checkBenchTable(rows, warmup, window))
	for _, r := range rows {
		assert.Positive(t, r.checks, "%s %s: checks", r.tool, r.check)
		assert.Equal(t, r.servers, r.minReals, "%s %s: real servers in the table", r.tool, r.check)
		if r.tool != "keepalived" {
			assert.Zero(t, r.falseDown, "%s %s: false down transitions", r.tool, r.check)
		}
	}
}

// TestVMCheckBench is issue 22's benchmark (make bench; LVSCTL_BENCH=1):
// 500 and 1,000 real servers (LVSCTL_CHECKBENCH_SIZES), a 10 s warm-up and
// a 30 s window (LVSCTL_CHECKBENCH_WINDOW).
func TestVMCheckBench(t *testing.T) {
	requireVM(t)
	if os.Getenv("LVSCTL_BENCH") != "1" {
		t.Skip("benchmark: set LVSCTL_BENCH=1 (make bench)")
	}
	sizes := []int{500, 1000}
	if s := os.Getenv("LVSCTL_CHECKBENCH_SIZES"); s != "" {
		sizes = nil
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(t, err, "LVSCTL_CHECKBENCH_SIZES")
			require.True(t, n > 0 && n%4 == 0, "LVSCTL_CHECKBENCH_SIZES: %d is not a positive multiple of 4", n)
			sizes = append(sizes, n)
		}
	}
	warmup, window := 10*time.Second, 30*time.Second
	if s := os.Getenv("LVSCTL_CHECKBENCH_WINDOW"); s != "" {
		var err error
		window, err = time.ParseDuration(s)
		require.NoError(t, err, "LVSCTL_CHECKBENCH_WINDOW")
	}
	rows := checkBench(t, sizes, warmup, window)
	table := checkBenchTable(rows, warmup, window)
	t.Logf("checker benchmark:\n%s", table)
	fmt.Printf("\n=== lvsctl checker VM benchmark (keepalived 2.2.7 vs lvsctl run)\n%s\n", table)
}
