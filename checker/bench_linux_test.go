package checker_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/checker"
)

const listenersEnv = "LVSCTL_CHECKER_BENCH_LISTENERS"

func TestMain(m *testing.M) {
	if n := os.Getenv(listenersEnv); n != "" {
		serveListeners(n)
		return
	}
	os.Exit(m.Run())
}

// serveListeners is the benchmark's backend process: n loopback listeners
// that accept and close ("100"), or that serve HTTP ("http:100": 200 "ok"
// for any GET), their addresses printed on one line, until stdin closes. It
// runs in its own process so that its CPU time is not counted as the
// checker's.
func serveListeners(spec string) {
	n, isHTTP := strings.CutPrefix(spec, "http:")
	count, _ := strconv.Atoi(n)
	var addrs []string
	for range count {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		addrs = append(addrs, ln.Addr().String())
		if isHTTP {
			go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, "ok\n")
			}))
			continue
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	fmt.Println(strings.Join(addrs, " "))
	io.Copy(io.Discard, os.Stdin)
}

// cpuTime is this process's user and system CPU time.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// procCPU is another process's user+system CPU time, from /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// ctxSwitches is this process's voluntary and involuntary context
// switches.
func ctxSwitches() (vol, invol int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Nvcsw, ru.Nivcsw
}

// peakRSS is this process's peak resident set size in bytes (VmHWM).
func peakRSS() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkPoolTCP runs N TCP checks with delay_loop 1s against loopback
// listeners (100 of them, in a child process) for a few seconds and reports
// the checker process's CPU use as a percentage of one core, checks per
// second, heap allocations per check, and memory.
func BenchmarkPoolTCP(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			pid, addrs := backends(b, "100")
			benchPool(b, n, pid, addrs, &checker.TCP{Timeout: time.Second})
		})
	}
}

// BenchmarkPoolHTTP is BenchmarkPoolTCP for HTTP checks: a GET of one URL,
// status only, against loopback HTTP servers (100 listeners in a child
// process), a new connection per check.
func BenchmarkPoolHTTP(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			pid, addrs := backends(b, "http:100")
			benchPool(b, n, pid, addrs, &checker.HTTP{URLs: []checker.URL{{Path: "/health"}}, Timeout: time.Second})
		})
	}
}

// backends starts the listener process (see serveListeners for spec) and
// returns its pid and addresses.
func backends(b *testing.B, spec string) (int, []netip.AddrPort) {
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), listenersEnv+"="+spec)
	stdin, err := helper.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); helper.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	var addrs []netip.AddrPort
	for f := range strings.FieldsSeq(line) {
		addrs = append(addrs, netip.MustParseAddrPort(f))
	}
	return helper.Process.Pid, addrs
}

// BenchmarkTCPProbe is the floor under BenchmarkPoolTCP: one probe after
// another, no pool, reporting CPU time per probe (most of it the kernel's
// connect and close, both ends of the handshake on loopback).
func BenchmarkTCPProbe(b *testing.B) {
	_, addrs := backends(b, "100")
	tcp := &checker.TCP{Timeout: time.Second}
	ctx := context.Background()
	b.ReportAllocs()
	user0, sys0 := cpuTime()
	i := 0
	for b.Loop() {
		if r := tcp.Probe(ctx, checker.Target{Addr: addrs[i%len(addrs)]}); !r.Up {
			b.Fatal(r.Reason)
		}
		i++
	}
	user1, sys1 := cpuTime()
	b.ReportMetric(float64((user1-user0+sys1-sys0).Microseconds())/float64(i), "cpu-µs/probe")
	b.ReportMetric(float64((sys1-sys0).Microseconds())/float64(i), "sys-µs/probe")
}

// BenchmarkHTTPProbe is the floor under BenchmarkPoolHTTP, as
// BenchmarkTCPProbe is under BenchmarkPoolTCP.
func BenchmarkHTTPProbe(b *testing.B) {
	_, addrs := backends(b, "http:100")
	h := &checker.HTTP{URLs: []checker.URL{{Path: "/health"}}, Timeout: time.Second}
	ctx := context.Background()
	b.ReportAllocs()
	user0, sys0 := cpuTime()
	i := 0
	for b.Loop() {
		if r := h.Probe(ctx, checker.Target{Addr: addrs[i%len(addrs)]}); !r.Up {
			b.Fatal(r.Reason)
		}
		i++
	}
	user1, sys1 := cpuTime()
	b.ReportMetric(float64((user1-user0+sys1-sys0).Microseconds())/float64(i), "cpu-µs/probe")
	b.ReportMetric(float64((sys1-sys0).Microseconds())/float64(i), "sys-µs/probe")
}

// benchPool runs n checks of prober with delay_loop 1s, spread over addrs,
// and reports the checker process's use of CPU and memory.
func benchPool(b *testing.B, n, pid int, addrs []netip.AddrPort, prober checker.Prober) {
	var probes, failures atomic.Int64
	var mu sync.Mutex
	reasons := map[string]int{}
	tm := checker.DefaultTiming()
	tm.DelayLoop, tm.Warmup = time.Second, time.Second
	specs := make([]checker.Spec, n)
	for i := range specs {
		specs[i] = checker.Spec{
			Target: checker.Target{Service: "s" + strconv.Itoa(i), Addr: addrs[i%len(addrs)]},
			Prober: prober, Timing: tm,
		}
	}
	pool := checker.NewPool(checker.Options{})
	// Counted with OnProbe, not by wrapping prober: the Pool runs TCP
	// and HTTP probes on its event loop, other Probers on workers.
	pool.OnProbe(func(_ checker.Target, r checker.Result) {
		probes.Add(1)
		if !r.Up && r.Reason != "canceled" {
			failures.Add(1)
			mu.Lock()
			reasons[r.Reason]++
			mu.Unlock()
		}
	})
	if err := pool.Set(specs); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { pool.Run(ctx); close(done) }()
	go func() {
		for range pool.Events() {
		}
	}()

	time.Sleep(2 * time.Second) // warmup spreads the first checks over 1s
	const window = 3 * time.Second
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	user0, sys0 := cpuTime()
	vol0, invol0 := ctxSwitches()
	child0, probes0, wall0 := procCPU(pid), probes.Load(), time.Now()
	time.Sleep(window)
	user1, sys1 := cpuTime()
	vol1, invol1 := ctxSwitches()
	child1, probes1, wall1 := procCPU(pid), probes.Load(), time.Now()
	runtime.ReadMemStats(&ms1)
	goroutines := runtime.NumGoroutine()
	cancel()
	<-done
	if len(reasons) > 0 {
		b.Logf("failures by reason: %v", reasons)
	}

	wall := wall1.Sub(wall0).Seconds()
	checks := float64(probes1 - probes0)
	b.ReportMetric(100*(user1-user0+sys1-sys0).Seconds()/wall, "%cpu")
	b.ReportMetric(100*(sys1-sys0).Seconds()/wall, "%cpu-sys")
	b.ReportMetric(100*(child1-child0).Seconds()/wall, "%cpu-backends")
	b.ReportMetric(checks/wall, "checks/s")
	b.ReportMetric(float64(vol1-vol0)/wall, "vcsw/s")
	b.ReportMetric(float64(invol1-invol0)/wall, "ivcsw/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/checks, "allocs/check")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/checks, "B/check")
	b.ReportMetric(float64(failures.Load()), "failed")
	b.ReportMetric(float64(goroutines), "goroutines")
	b.ReportMetric(float64(ms1.StackInuse+ms1.HeapInuse)/(1<<20), "MiB-heap+stacks")
	b.ReportMetric(peakRSS()/(1<<20), "MiB-peak-rss")
}
