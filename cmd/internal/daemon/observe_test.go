package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// recorder is an Observer that remembers what it heard.
type recorder struct {
	mu     sync.Mutex
	passes []PassKind
	probes map[netip.AddrPort]int
}

func (r *recorder) observer() Observer {
	return Observer{
		Probe: func(t checker.Target, _ checker.Result) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.probes == nil {
				r.probes = map[netip.AddrPort]int{}
			}
			r.probes[t.Addr]++
		},
		Pass: func(p Pass) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.passes = append(r.passes, p.Kind)
		},
	}
}

func (r *recorder) kinds() []PassKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.passes)
}

func (r *recorder) probed(addr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.probes[netip.MustParseAddrPort(addr)]
}

// startObserved is fixture.start with an Observer registered before Run.
func (f *fixture) startObserved(cfg *lvshcl.Config, o Options, obs Observer) {
	o.Kernel, o.Owned, o.Clock, o.Hooks = f.k, &ipvs.MemOwnership{}, f.clk, f.hooks
	o.Rand = func(time.Duration) time.Duration { return 0 }
	f.d = New(o)
	f.d.Observe(obs)
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.done = make(chan error, 1)
	go func() { f.done <- f.d.Run(ctx, cfg, f.reload) }()
	f.t.Cleanup(func() { f.stop() })
}

func (f *fixture) snapshot() Snapshot {
	f.t.Helper()
	s, ok := f.d.Snapshot()
	require.True(f.t, ok)
	return s
}

func TestSnapshotFollowsTheDaemon(t *testing.T) {
	f := newFixture(t)
	sorry := ipvs.RealServer{Addr: netip.MustParseAddr("10.0.9.9"), Port: 80, Weight: 1, Forwarding: ipvs.NAT}
	cfg := f.config(2, func(p *lvshcl.Pool) { p.SorryServer = &sorry })
	rec := &recorder{}
	f.startObserved(cfg, Options{Resync: 5 * time.Second}, rec.observer())
	f.until(time.Second, func() bool { _, ok := f.d.Snapshot(); return ok })

	s := f.snapshot()
	assert.Equal(t, 1, s.Loads)
	assert.Equal(t, 5*time.Second, s.Resync)
	require.Len(t, s.Services, 1)
	svc := s.Services[0]
	assert.Equal(t, "web", svc.Name)
	assert.Equal(t, web, svc.Config.Key)
	assert.True(t, svc.Known)
	assert.True(t, svc.QuorumUp)
	require.Len(t, svc.Reals, 3)
	for i, addr := range []string{"10.0.1.1:80", "10.0.1.2:80"} {
		r := svc.Reals[i]
		assert.Equal(t, addr, r.Real.Key().String())
		assert.True(t, r.InTable)
		assert.EqualValues(t, 2, r.Weight)
		require.NotNil(t, r.Check, addr)
		assert.True(t, r.Check.Up)
	}
	assert.True(t, svc.Reals[2].Sorry)
	assert.False(t, svc.Reals[2].InTable)
	assert.Nil(t, svc.Reals[2].Check)
	assert.Equal(t, map[ipvs.OpKind]uint64{ipvs.AddService: 1, ipvs.AddRealServer: 2}, s.Ops)
	assert.Equal(t, []PassKind{PassLoad}, rec.kinds())

	// A failure: the health pass publishes the eviction.
	published := f.d.Published()
	f.probes.set("10.0.1.1:80", false)
	f.until(3*time.Second, func() bool { return !f.snapshot().Services[0].Reals[0].InTable })
	select {
	case <-published:
	default:
		t.Fatal("Published was not closed by the new snapshot")
	}
	s = f.snapshot()
	r := s.Services[0].Reals[0]
	assert.False(t, r.Check.Up)
	assert.EqualValues(t, 1, r.Check.Transitions)
	assert.Equal(t, "connect: connection refused", r.Check.Reason)
	assert.EqualValues(t, 1, s.Ops[ipvs.DeleteRealServer])
	assert.Contains(t, rec.kinds(), PassHealth)
	assert.Positive(t, rec.probed("10.0.1.1:80"))

	// Drift: the periodic resync repairs it and counts the repair.
	f.k.mu.Lock()
	_, err := f.k.f.Apply(context.Background(), []ipvs.Op{{Kind: ipvs.DeleteRealServer, Service: cfg.Services[0], Real: cfg.Services[0].RealServers[1]}})
	f.k.mu.Unlock()
	require.NoError(t, err)
	f.until(6*time.Second, func() bool { return f.snapshot().Stats.Repairs == 1 })
	assert.Contains(t, rec.kinds(), PassResync)

	// A reload is a new load.
	f.reload <- f.config(1, nil)
	f.until(time.Second, func() bool { return f.snapshot().Loads == 2 })
	assert.Len(t, f.snapshot().Services[0].Reals, 1)
}

func TestSnapshotBeforeRun(t *testing.T) {
	d := New(Options{Kernel: ipvs.NewFake()})
	_, ok := d.Snapshot()
	assert.False(t, ok)
}

// TestLogAttrs: log lines name a service by its name ("service") and its
// key ("service_key"), and a real server as "real", as the metrics and the
// hooks' environment do (docs/names.md).
func TestLogAttrs(t *testing.T) {
	svc := ipvs.VirtualService{Name: "web", Key: web}
	real := ipvs.RealServer{Addr: netip.MustParseAddr("10.0.1.1"), Port: 8080}
	assert.Equal(t, []any{"op", "- real TCP 10.0.0.1:80 (web) -> 10.0.1.1:8080", "service", "web", "service_key", "TCP 10.0.0.1:80", "real", "10.0.1.1:8080"},
		opAttrs(ipvs.Op{Kind: ipvs.DeleteRealServer, Service: svc, Real: real}))
	assert.Equal(t, []any{"op", "- service TCP 10.0.0.1:80 (web)", "service", "web", "service_key", "TCP 10.0.0.1:80"},
		opAttrs(ipvs.Op{Kind: ipvs.DeleteService, Service: svc}))
	assert.Equal(t, []any{"op", "- service TCP 10.0.0.1:80", "service_key", "TCP 10.0.0.1:80"},
		opAttrs(ipvs.Op{Kind: ipvs.DeleteService, Service: ipvs.VirtualService{Key: web}}), "a service without a name: only its key")

	oe := &ipvs.OpError{Op: ipvs.Op{Kind: ipvs.AddRealServer, Service: svc, Real: real}, Err: errors.New("no")}
	attrs := errAttrs(oe)
	assert.Equal(t, []any{"service", "web", "service_key", "TCP 10.0.0.1:80", "real", "10.0.1.1:8080", "err", oe}, attrs)
	assert.Equal(t, []any{"err", errors.ErrUnsupported}, errAttrs(errors.ErrUnsupported))

	v6 := ipvs.ServiceKey{Family: ipvs.IPv6, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 80}
	assert.Equal(t, []any{"argv", "/bin/notify a", "event", "down", "service", "web6", "service_key", "TCP [2001:db8::1]:80", "real", "[2001:db8::2]:80"},
		hookAttrs([]string{"/bin/notify", "a"}, realHookEnv("down", "web6", v6, netip.MustParseAddrPort("[2001:db8::2]:80"), "x")))
	assert.Equal(t, []any{"argv", "q", "event", "quorum_up", "service", "web", "service_key", "TCP 10.0.0.1:80"},
		hookAttrs([]string{"q"}, []string{"LVSCTL_EVENT=quorum_up", "LVSCTL_SERVICE=web", "LVSCTL_SERVICE_KEY=TCP 10.0.0.1:80", "LVSCTL_UP_WEIGHT=3"}))
	_ = slog.Default
}

// TestHookEnv pins the variables a notify hook gets (docs/config.md).
func TestHookEnv(t *testing.T) {
	v6 := ipvs.ServiceKey{Family: ipvs.IPv6, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 80}
	assert.Equal(t, []string{
		"LVSCTL_EVENT=down", "LVSCTL_SERVICE=web6", "LVSCTL_SERVICE_KEY=TCP [2001:db8::1]:80",
		"LVSCTL_REAL=[2001:db8::2]:80", "LVSCTL_REAL_ADDR=2001:db8::2", "LVSCTL_REAL_PORT=80", "LVSCTL_REASON=status 503",
	}, realHookEnv("down", "web6", v6, netip.MustParseAddrPort("[2001:db8::2]:80"), "status 503"))
}

// BenchmarkPublish is the cost a snapshot adds to each pass: 10,000
// services of 4 real servers.
func BenchmarkPublish(b *testing.B) {
	d := New(Options{Kernel: ipvs.NewFake()})
	d.services = map[ipvs.ServiceKey]service{}
	d.applied = map[ipvs.ServiceKey]ipvs.VirtualService{}
	d.quorumUp = map[ipvs.ServiceKey]bool{}
	for i := range 10000 {
		k := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), Port: 80}
		vs := ipvs.VirtualService{Key: k, Scheduler: "wrr"}
		p := lvshcl.Pool{Service: k, Name: "s"}
		for j := range 4 {
			r := ipvs.RealServer{Addr: netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), Port: uint16(8000 + j), Weight: 1}
			vs.RealServers = append(vs.RealServers, r)
			p.Members = append(p.Members, lvshcl.Member{Real: r.Key(), Check: &checker.Spec{Target: checker.Target{Service: "s", Addr: netip.AddrPortFrom(r.Addr, r.Port)}}})
		}
		vs = vs.Normalize()
		d.services[k] = service{vs: vs, pool: p}
		d.applied[k] = vs
	}
	b.ResetTimer()
	for b.Loop() {
		d.passed(PassHealth, time.Now())
	}
}

// TestDefaultResync: without Options.Resync the kernel is read every
// shortest delay_loop, but no more often than MinDefaultResync (a dump per
// second was 6 to 15 % of the daemon's CPU) and no less than
// MaxDefaultResync; an explicit Resync is used as given.
func TestDefaultResync(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delayLoop time.Duration
		resync    time.Duration
		want      time.Duration
	}{
		{"delay_loop 1s", time.Second, 0, MinDefaultResync},
		{"delay_loop 30s", 30 * time.Second, 0, 30 * time.Second},
		{"delay_loop 5m", 5 * time.Minute, 0, MaxDefaultResync},
		{"--resync 1s", time.Second, time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cfg := f.config(2, func(p *lvshcl.Pool) {
				for i := range p.Members {
					if c := p.Members[i].Check; c != nil {
						c.Timing.DelayLoop = tc.delayLoop
					}
				}
			})
			f.startObserved(cfg, Options{Resync: tc.resync}, (&recorder{}).observer())
			f.until(time.Second, func() bool { _, ok := f.d.Snapshot(); return ok })
			assert.Equal(t, tc.want, f.snapshot().Resync)
		})
	}
}
