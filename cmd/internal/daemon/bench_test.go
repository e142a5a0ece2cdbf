package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// BenchmarkMassFailure is issue 11's item 8: 10,000 checked real servers
// (2,500 services x 4, delay_loop 1 s, fall 1) on the fake kernel and the
// system clock; 5,000 of them (two per service) go down at once. It reports
// the reconciles and kernel writes the failure caused and the wall time
// until the table reflects all of it. "aligned": every check starts at once
// (no warmup), so the failures are seen in one round; "spread": warmups
// spread the checks over the delay_loop, as in production, so the failures
// arrive over up to one second. Each sub-benchmark runs once, whatever b.N.
func BenchmarkMassFailure(b *testing.B) {
	for _, spread := range []bool{false, true} {
		name := "aligned"
		if spread {
			name = "spread"
		}
		b.Run(name, func(b *testing.B) { benchMassFailure(b, 2500, 4, spread) })
	}
}

func benchMassFailure(b *testing.B, services, realsPer int, spread bool) {
	pr := &probes{}
	tm := checker.Timing{DelayLoop: time.Second, DelayBeforeRetry: time.Second, Rise: 1, Fall: 1}
	if spread {
		tm.Warmup = checker.WarmupDelayLoop
	}
	cfg := &lvshcl.Config{}
	var failing []string
	for i := 0; i < services; i++ {
		key := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Port: 80}
		name := fmt.Sprintf("s%d", i)
		vs := ipvs.VirtualService{Name: name, Key: key, Scheduler: "wlc"}
		pool := lvshcl.Pool{Service: key, Name: name}
		for j := 0; j < realsPer; j++ {
			r := ipvs.RealServer{Addr: netip.AddrFrom4([4]byte{172, byte(16 + j), byte(i >> 8), byte(i)}), Port: 8080, Weight: 1, Forwarding: ipvs.NAT}
			vs.RealServers = append(vs.RealServers, r)
			target := netip.AddrPortFrom(r.Addr, r.Port)
			pool.Members = append(pool.Members, lvshcl.Member{Real: r.Key(), Check: &checker.Spec{
				Target: checker.Target{Service: name, Addr: target}, Prober: pr, Timing: tm,
			}})
			if j < realsPer/2 {
				failing = append(failing, target.String())
			}
		}
		cfg.Services = append(cfg.Services, vs)
		cfg.Pools = append(cfg.Pools, pool)
	}
	objects := services * (1 + realsPer)
	k := &kernel{f: ipvs.NewFake()}
	o := Options{Kernel: k, Owned: &ipvs.MemOwnership{}, Hooks: &hooks{}}
	if !spread {
		o.Rand = func(time.Duration) time.Duration { return 0 }
	}
	d := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, cfg, nil) }()
	waitFor := func(limit time.Duration, what string, cond func() bool) time.Duration {
		start := time.Now()
		for time.Since(start) < limit {
			if cond() {
				return time.Since(start)
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
		<-done
		b.Fatalf("%s: not within %v", what, limit)
		return 0
	}
	waitFor(30*time.Second, "initial apply", func() bool { return k.writes() == objects })
	time.Sleep(2500 * time.Millisecond) // every check has run at least twice

	before := k.writes()
	for _, a := range failing {
		pr.set(a, false)
	}
	took := waitFor(30*time.Second, "mass failure reflected", func() bool { return k.writes()-before >= len(failing) })
	time.Sleep(1500 * time.Millisecond) // anything more would show up now
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	st := d.Stats()
	writes := k.writes() - before
	if writes != len(failing) {
		b.Errorf("writes %d, want %d (one per real server down)", writes, len(failing))
	}
	b.ReportMetric(float64(len(failing)), "down")
	b.ReportMetric(float64(writes), "writes")
	b.ReportMetric(float64(st.Reconciles), "reconciles")
	b.ReportMetric(float64(took.Milliseconds()), "ms-to-table")
}

// BenchmarkReload is issue 20's SIGHUP row on the fake kernel: a table of
// 10,000 services x 4 real servers (50k objects, unchecked), reloaded with
// one weight of the middle service changed, timed from the configuration
// handed to Run to OnLoad (the parse is not in it). "memory" is the
// reload as written from memory; "dump" has the ownership record always
// hold an intended key, which makes every reload dump first, as every
// reload did before. The fake's dump is a copy of a slice, far cheaper
// than the kernel's (a request per service): the VM benchmark
// (cmd/lvsctl/bench_vm_test.go) has the real one. It reports the
// dumps and writes per reload.
func BenchmarkReload(b *testing.B) {
	for _, mode := range []string{"memory", "dump"} {
		b.Run(mode, func(b *testing.B) { benchReload(b, 10000, 4, mode == "dump") })
	}
}

// doubtfulOwnership is a record that always intends one more key, so
// that no reload is written from memory.
type doubtfulOwnership struct{ ipvs.MemOwnership }

func (o *doubtfulOwnership) Load() (ipvs.Record, error) {
	r, err := o.MemOwnership.Load()
	r.Intended = append(r.Intended, svc(255).Key)
	return r, err
}

func benchReload(b *testing.B, services, realsPer int, dump bool) {
	table := make([]ipvs.VirtualService, 0, services)
	for i := 0; i < services; i++ {
		vs := ipvs.VirtualService{Name: fmt.Sprintf("s%d", i), Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), Port: 80}, Scheduler: "wlc"}
		for j := 0; j < realsPer; j++ {
			vs.RealServers = append(vs.RealServers, ipvs.RealServer{Addr: netip.AddrFrom4([4]byte{172, byte(16 + j), byte(i >> 8), byte(i)}), Port: 8080, Weight: 1, Forwarding: ipvs.NAT})
		}
		table = append(table, vs)
	}
	k := &dumpKernel{kernel: &kernel{f: ipvs.NewFake()}}
	var own ipvs.Ownership = &ipvs.MemOwnership{}
	if dump {
		own = &doubtfulOwnership{}
	}
	loads := make(chan error, 1)
	d := New(Options{Kernel: k, Owned: own, Hooks: &hooks{}, Resync: time.Hour,
		OnLoad: func(_ *lvshcl.Config, _ []ipvs.Op, err error) { loads <- err }})
	reload := make(chan *lvshcl.Config)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, tableConfig(table...), reload) }()
	if err := <-loads; err != nil {
		b.Fatal(err)
	}
	dumps, writes := k.count(), k.writes()
	// Two configurations, built before the timer (the parse's work):
	// the middle service's first weight at 2, then 3, and so on.
	var edited [2]*lvshcl.Config
	for i := range edited {
		next := slices.Clone(table)
		s := next[services/2]
		s.RealServers = slices.Clone(s.RealServers)
		s.RealServers[0].Weight = uint32(2 + i)
		next[services/2] = s
		edited[i] = tableConfig(next...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		reload <- edited[i%2]
		if err := <-loads; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(k.count()-dumps)/float64(b.N), "dumps/op")
	b.ReportMetric(float64(k.writes()-writes)/float64(b.N), "writes/op")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
