package daemon

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/checker/checkertest"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// kernel is a Fake behind a mutex: the daemon's goroutine writes it while
// the test reads it.
type kernel struct {
	mu sync.Mutex
	f  *ipvs.Fake
}

func (k *kernel) Services(ctx context.Context) ([]ipvs.VirtualService, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.Services(ctx)
}

func (k *kernel) Apply(ctx context.Context, ops []ipvs.Op) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.Apply(ctx, ops)
}

func (k *kernel) Close() error { return nil }

func (k *kernel) writes() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.Writes
}

// reals returns "addr:port/weight" of every real server of svc.
func (k *kernel) reals(t *testing.T, svc ipvs.ServiceKey) []string {
	svcs, err := k.Services(context.Background())
	require.NoError(t, err)
	for _, s := range svcs {
		if s.Key == svc {
			out := []string{}
			for _, r := range s.RealServers {
				out = append(out, r.Key().String()+"/"+strconv.Itoa(int(r.Weight)))
			}
			return out
		}
	}
	return nil
}

// probes is a scripted health for every target.
type probes struct {
	mu   sync.Mutex
	down map[netip.AddrPort]bool
}

func (p *probes) set(addr string, up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down == nil {
		p.down = map[netip.AddrPort]bool{}
	}
	p.down[netip.MustParseAddrPort(addr)] = !up
}

func (p *probes) Probe(_ context.Context, t checker.Target) checker.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down[t.Addr] {
		return checker.Result{Up: false, Weight: checker.NoWeight, Reason: "connect: connection refused"}
	}
	return checker.Result{Up: true, Weight: checker.NoWeight, Reason: "connected"}
}

// hooks records hook runs.
type hooks struct {
	mu  sync.Mutex
	ran []string
	env [][]string
}

func (h *hooks) Run(hk lvshcl.Hook, env []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ran = append(h.ran, hk.Argv[0]+" "+env[0])
	h.env = append(h.env, slices.Clone(env))
}

// envs returns each run's environment.
func (h *hooks) envs() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.env)
}

func (h *hooks) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ran)
}

type fixture struct {
	t      *testing.T
	clk    *checkertest.Clock
	k      *kernel
	probes *probes
	hooks  *hooks
	d      *Daemon
	reload chan *lvshcl.Config
	done   chan error
	cancel context.CancelFunc
}

var web = ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}

// config builds one service with n checked real servers 10.0.1.1..n:80
// (weight 2 each), delay_loop 1 s, no retries.
func (f *fixture) config(n int, edit func(*lvshcl.Pool)) *lvshcl.Config {
	vs := ipvs.VirtualService{Name: "web", Key: web, Scheduler: "wrr"}
	pool := lvshcl.Pool{Service: web, Name: "web"}
	for i := 1; i <= n; i++ {
		r := ipvs.RealServer{Addr: netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}), Port: 80, Weight: 2, Forwarding: ipvs.NAT}
		vs.RealServers = append(vs.RealServers, r)
		spec := &checker.Spec{
			Target: checker.Target{Service: "web", Addr: netip.AddrPortFrom(r.Addr, r.Port)},
			Prober: f.probes,
			Timing: checker.Timing{DelayLoop: time.Second, Retry: 0, DelayBeforeRetry: time.Second, Rise: 1, Fall: 1},
		}
		pool.Members = append(pool.Members, lvshcl.Member{Real: r.Key(), Check: spec,
			NotifyDown: &lvshcl.Hook{Argv: []string{"notify-down"}}, NotifyUp: &lvshcl.Hook{Argv: []string{"notify-up"}}})
	}
	if edit != nil {
		edit(&pool)
	}
	return &lvshcl.Config{Services: []ipvs.VirtualService{vs}, Pools: []lvshcl.Pool{pool}}
}

func newFixture(t *testing.T, existing ...ipvs.VirtualService) *fixture {
	f := &fixture{
		t:      t,
		clk:    checkertest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		k:      &kernel{f: ipvs.NewFake(existing...)},
		probes: &probes{},
		hooks:  &hooks{},
		reload: make(chan *lvshcl.Config),
	}
	return f
}

func (f *fixture) start(cfg *lvshcl.Config, o Options) {
	if o.Kernel == nil {
		o.Kernel = f.k
	}
	if o.Owned == nil {
		o.Owned = &ipvs.MemOwnership{}
	}
	o.Clock = f.clk
	o.Hooks = f.hooks
	if o.Rand == nil {
		o.Rand = func(time.Duration) time.Duration { return 0 }
	}
	f.d = New(o)
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.done = make(chan error, 1)
	go func() { f.done <- f.d.Run(ctx, cfg, f.reload) }()
	f.t.Cleanup(func() { f.stop() })
}

func (f *fixture) stop() error {
	if f.cancel == nil {
		return nil
	}
	f.cancel()
	f.cancel = nil
	select {
	case err := <-f.done:
		return err
	case <-time.After(10 * time.Second):
		f.t.Fatal("daemon did not stop")
		return nil
	}
}

// until advances fake time in 10 ms steps until cond holds, giving the
// daemon's goroutines real time to react between steps. It fails the test
// after limit of fake time.
func (f *fixture) until(limit time.Duration, cond func() bool) time.Duration {
	f.t.Helper()
	start := f.clk.Now()
	for f.clk.Now().Sub(start) <= limit {
		if cond() {
			return f.clk.Now().Sub(start)
		}
		f.clk.Advance(10 * time.Millisecond)
		time.Sleep(200 * time.Microsecond)
	}
	f.t.Fatalf("condition not met within %v of fake time", limit)
	return 0
}

func TestEvictAndRestore(t *testing.T) {
	f := newFixture(t)
	f.start(f.config(3, nil), Options{})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 3 })
	require.Equal(t, 4, f.k.writes(), "service + 3 real servers")

	f.probes.set("10.0.1.2:80", false)
	took := f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.LessOrEqual(t, took, time.Second+100*time.Millisecond, "evicted within delay_loop + coalesce")
	assert.Equal(t, []string{"10.0.1.1:80/2", "10.0.1.3:80/2"}, f.k.reals(t, web))
	assert.Equal(t, 5, f.k.writes(), "an eviction is one write")

	f.probes.set("10.0.1.2:80", true)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 3 })
	assert.Equal(t, 6, f.k.writes())
	assert.Equal(t, []string{"notify-down LVSCTL_EVENT=down", "notify-up LVSCTL_EVENT=up"}, f.hooks.list())
}

func TestConvergedStartWritesNothing(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(2, nil)
	own := &ipvs.MemOwnership{Keys: []ipvs.ServiceKey{web}}
	f.k = &kernel{f: ipvs.NewFake(cfg.Services[0])}
	f.start(cfg, Options{Owned: own})
	f.until(3*time.Second, func() bool { return f.clk.Now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) > 2*time.Second })
	assert.Zero(t, f.k.writes(), "a daemon restart on a converged table writes nothing")
}

func TestInhibitKeepsWeightZero(t *testing.T) {
	f := newFixture(t)
	f.start(f.config(2, func(p *lvshcl.Pool) { p.InhibitOnFailure = true }), Options{})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	f.probes.set("10.0.1.1:80", false)
	f.until(3*time.Second, func() bool { return slices.Contains(f.k.reals(t, web), "10.0.1.1:80/0") })
	assert.Equal(t, []string{"10.0.1.1:80/0", "10.0.1.2:80/2"}, f.k.reals(t, web))
	f.probes.set("10.0.1.1:80", true)
	f.until(3*time.Second, func() bool { return slices.Contains(f.k.reals(t, web), "10.0.1.1:80/2") })
}

func TestSorryServerAndQuorum(t *testing.T) {
	f := newFixture(t)
	sorry := ipvs.RealServer{Addr: netip.MustParseAddr("10.0.9.9"), Port: 80, Weight: 1, Forwarding: ipvs.NAT}
	f.start(f.config(2, func(p *lvshcl.Pool) {
		p.SorryServer = &sorry
		p.Quorum = 3
		p.QuorumDown = &lvshcl.Hook{Argv: []string{"quorum-down"}}
		p.QuorumUp = &lvshcl.Hook{Argv: []string{"quorum-up"}}
	}), Options{})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })

	f.probes.set("10.0.1.1:80", false)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 1 })
	assert.Contains(t, f.hooks.list(), "quorum-down LVSCTL_EVENT=quorum_down", "weight 2 < quorum 3")

	f.probes.set("10.0.1.2:80", false)
	f.until(3*time.Second, func() bool { return slices.Equal(f.k.reals(t, web), []string{"10.0.9.9:80/1"}) })

	f.probes.set("10.0.1.1:80", true)
	f.probes.set("10.0.1.2:80", true)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.Equal(t, []string{"10.0.1.1:80/2", "10.0.1.2:80/2"}, f.k.reals(t, web), "the sorry server leaves")
	assert.Contains(t, f.hooks.list(), "quorum-up LVSCTL_EVENT=quorum_up")
}

func TestMassFailureIsOneReconcile(t *testing.T) {
	f := newFixture(t)
	f.start(f.config(50, nil), Options{})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 50 })
	before := f.k.writes()
	for i := 1; i <= 25; i++ {
		f.probes.set(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}), 80).String(), false)
	}
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 25 })
	require.NoError(t, f.stop())
	assert.Equal(t, 25, f.k.writes()-before)
	assert.LessOrEqual(t, f.d.Stats().Reconciles, 2, "25 transitions in one round coalesce into one reconcile (two at most if a window splits them)")
}

func TestDriftIsRepaired(t *testing.T) {
	f := newFixture(t)
	f.start(f.config(2, nil), Options{Resync: 5 * time.Second})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	// Someone runs ipvsadm -d behind our back.
	_, err := f.k.Apply(context.Background(), []ipvs.Op{{Kind: ipvs.DeleteRealServer, Service: ipvs.VirtualService{Key: web}, Real: ipvs.RealServer{Addr: netip.MustParseAddr("10.0.1.2"), Port: 80}}})
	require.NoError(t, err)
	require.Len(t, f.k.reals(t, web), 1)
	took := f.until(6*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.LessOrEqual(t, took, 5*time.Second+100*time.Millisecond)
	require.NoError(t, f.stop())
	assert.Equal(t, 1, f.d.Stats().Repairs)
}

func TestReloadKeepsState(t *testing.T) {
	f := newFixture(t)
	f.start(f.config(2, nil), Options{})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	f.probes.set("10.0.1.2:80", false)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 1 })

	// Reload with a third server: the failed one stays out, the new one joins.
	f.reload <- f.config(3, nil)
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.Equal(t, []string{"10.0.1.1:80/2", "10.0.1.3:80/2"}, f.k.reals(t, web))
}

func TestFlushOnExit(t *testing.T) {
	f := newFixture(t)
	f.start(f.config(1, nil), Options{FlushOnExit: true})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 1 })
	require.NoError(t, f.stop())
	svcs, _ := f.k.Services(context.Background())
	assert.Empty(t, svcs)

	g := newFixture(t)
	g.start(g.config(1, nil), Options{})
	g.until(time.Second, func() bool { return len(g.k.reals(t, web)) == 1 })
	require.NoError(t, g.stop())
	svcs, _ = g.k.Services(context.Background())
	assert.Len(t, svcs, 1, "by default the table stays")
}

// TestPendingChangeIsNotDrift: a resync that fires while a health change
// waits to be coalesced applies the change as a reconcile, not a repair.
func TestPendingChangeIsNotDrift(t *testing.T) {
	f := newFixture(t)
	f.start(f.config(2, nil), Options{Resync: 1500 * time.Millisecond, Coalesce: 10 * time.Second})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	f.probes.set("10.0.1.2:80", false)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 1 })
	require.NoError(t, f.stop())
	assert.Zero(t, f.d.Stats().Repairs, "the eviction was not drift")
	assert.Equal(t, 1, f.d.Stats().Reconciles)
}

// TestQuorumHysteresis: with quorum 4 and hysteresis 1 over three weight-2
// servers, the pool is lost below 3 and regained only at 5.
func TestQuorumHysteresis(t *testing.T) {
	f := newFixture(t)
	f.start(f.config(3, func(p *lvshcl.Pool) {
		p.Quorum = 4
		p.Hysteresis = 1
		p.QuorumDown = &lvshcl.Hook{Argv: []string{"down"}}
		p.QuorumUp = &lvshcl.Hook{Argv: []string{"up"}}
	}), Options{})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 3 })

	f.probes.set("10.0.1.1:80", false) // weight 4: not below 3
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.Empty(t, quorumHooks(f.hooks.list()))

	f.probes.set("10.0.1.2:80", false) // weight 2 < 3: lost
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 1 })
	assert.Equal(t, []string{"down LVSCTL_EVENT=quorum_down"}, quorumHooks(f.hooks.list()))

	f.probes.set("10.0.1.2:80", true) // weight 4 < 5: still lost
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.Equal(t, []string{"down LVSCTL_EVENT=quorum_down"}, quorumHooks(f.hooks.list()))

	f.probes.set("10.0.1.1:80", true) // weight 6 >= 5: regained
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 3 })
	assert.Equal(t, []string{"down LVSCTL_EVENT=quorum_down", "up LVSCTL_EVENT=quorum_up"}, quorumHooks(f.hooks.list()))
}

func quorumHooks(all []string) []string {
	return slices.DeleteFunc(all, func(h string) bool { return strings.HasPrefix(h, "notify-") })
}
