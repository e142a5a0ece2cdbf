package director

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/vrrp"
)

// fakeDaemon stands for the IPVS daemon: it records the configurations it
// gets and tells the quorum of "web" as the test says.
type fakeDaemon struct {
	onQuorum func(string, bool)
	mu       sync.Mutex
	got      []*lvshcl.Config
	quorum   chan bool
	fail     error // returned by Run at once
	closed   bool
}

func (f *fakeDaemon) Run(ctx context.Context, cfg *lvshcl.Config, reload <-chan *lvshcl.Config) error {
	if f.fail != nil {
		return f.fail
	}
	f.add(cfg)
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-reload:
			f.add(c)
		case up := <-f.quorum:
			f.onQuorum("web", up)
		}
	}
}

func (f *fakeDaemon) add(c *lvshcl.Config) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, c)
}

func (f *fakeDaemon) configs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

type ipvsRig struct {
	mu      sync.Mutex
	opened  int
	daemons []*fakeDaemon
	err     error
	fail    error
}

func (r *ipvsRig) start(_ context.Context, onQuorum func(string, bool)) (Daemon, func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opened++
	if r.err != nil {
		return nil, nil, r.err
	}
	d := &fakeDaemon{onQuorum: onQuorum, quorum: make(chan bool), fail: r.fail}
	r.daemons = append(r.daemons, d)
	return d, func() { r.mu.Lock(); d.closed = true; r.mu.Unlock() }, nil
}

func (r *ipvsRig) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opened
}

var webService = ipvs.VirtualService{Name: "web", Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Port: 80}}

func vrrpOnly() *lvshcl.Config {
	return &lvshcl.Config{VRRP: lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{
		inst("VI_1", "eth0", vrrp.Track{Name: "virtual_server:web", Weight: -50}),
	}}}
}

// A VRRP-only configuration never opens IPVS; a reload that brings virtual
// services opens it, and the daemon's quorum reaches the instances.
func TestDirectorVRRPOnly(t *testing.T) {
	g := newRig(t)
	ir := &ipvsRig{err: errors.New("the kernel has no IPVS support")}
	d := New(Options{Logger: g.options().Logger, StartIPVS: ir.start, VRRP: g.options()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan *lvshcl.Config)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, vrrpOnly(), reload) }()
	eventually(t, "VRRP runs", func() bool { return g.state("VI_1") == vrrp.StateBackup })
	assert.Zero(t, ir.count(), "IPVS is not opened")
	assert.Contains(t, g.log.String(), "running VRRP only, without IPVS")

	// Services arrive, but IPVS cannot be opened: VRRP keeps running.
	withWeb := vrrpOnly()
	withWeb.Services = []ipvs.VirtualService{webService}
	reload <- withWeb
	eventually(t, "tried", func() bool { return ir.count() == 1 })
	eventually(t, "logged", func() bool { return strings.Contains(g.log.String(), "IPVS cannot be opened") })
	assert.Equal(t, vrrp.StateBackup, g.state("VI_1"))

	// Next reload: IPVS is there now.
	ir.mu.Lock()
	ir.err = nil
	ir.mu.Unlock()
	reload <- withWeb
	eventually(t, "opened", func() bool { return ir.count() == 2 })
	dm := ir.daemons[0]
	eventually(t, "daemon got the config", func() bool { return dm.configs() == 1 })
	dm.quorum <- false
	eventually(t, "quorum lost lowers the priority", func() bool { return g.fakes.last("VI_1").Status().Priority == 50 })
	reload <- withWeb
	eventually(t, "both sides get reloads", func() bool { return dm.configs() == 2 })
	assert.Equal(t, 1, g.fakes.count("VI_1"), "an unchanged instance keeps running through reloads")
	assert.Equal(t, uint8(50), d.Status().VRRP.Instances[0].Priority)

	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, vrrp.StateStop, g.state("VI_1"))
	ir.mu.Lock()
	assert.True(t, dm.closed, "the kernel handle is closed after the daemon stopped")
	ir.mu.Unlock()
}

func TestDirectorIPVSErrors(t *testing.T) {
	g := newRig(t)
	cfg := vrrpOnly()
	cfg.Services = []ipvs.VirtualService{webService}

	// IPVS needed at start and missing: Run fails at once.
	ir := &ipvsRig{err: errors.New("the kernel has no IPVS support")}
	d := New(Options{StartIPVS: ir.start, VRRP: g.options()})
	err := d.Run(context.Background(), cfg, nil)
	assert.EqualError(t, err, "the kernel has no IPVS support")

	// The daemon's first apply fails: VRRP stops too, and the error is
	// returned.
	ir = &ipvsRig{fail: errors.New("apply: file exists")}
	d = New(Options{StartIPVS: ir.start, VRRP: g.options()})
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background(), cfg, nil) }()
	select {
	case err := <-done:
		assert.EqualError(t, err, "ipvs: apply: file exists")
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}

	// A file with neither: IPVS as before VRRP existed.
	ir = &ipvsRig{}
	d = New(Options{StartIPVS: ir.start, VRRP: g.options()})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- d.Run(ctx, &lvshcl.Config{}, nil) }()
	eventually(t, "opened", func() bool { return ir.count() == 1 })
	cancel()
	require.NoError(t, <-done)
}

// TestNewReals: which services a reload sends back to waiting for their
// new servers' first probes.
func TestNewReals(t *testing.T) {
	rs := func(ws ...uint32) []ipvs.RealServer {
		var out []ipvs.RealServer
		for i, w := range ws {
			out = append(out, ipvs.RealServer{Addr: netip.AddrFrom4([4]byte{10, 1, 0, byte(i + 1)}), Port: 80, Weight: w})
		}
		return out
	}
	cfg := func(quorum int, reals []ipvs.RealServer) *lvshcl.Config {
		return &lvshcl.Config{
			Services: []ipvs.VirtualService{{Name: "web", RealServers: reals}},
			Pools:    []lvshcl.Pool{{Name: "web", Quorum: quorum}},
		}
	}
	for _, tc := range []struct {
		name      string
		cur, next *lvshcl.Config
		want      []string
	}{
		{"unchanged", cfg(1, rs(1, 1)), cfg(1, rs(1, 1)), nil},
		{"a server added", cfg(1, rs(1, 1)), cfg(1, rs(1, 1, 1)), nil},
		{"added, another heavier", cfg(1, rs(1, 1)), cfg(1, rs(1, 5, 1)), nil},
		{"added, another lighter", cfg(1, rs(1, 5)), cfg(1, rs(1, 1, 1)), []string{"web"}},
		{"added, one removed", cfg(1, rs(1, 1)), cfg(1, append(rs(1), rs(1, 1, 1)[2])), []string{"web"}},
		{"added, quorum raised", cfg(1, rs(1, 1)), cfg(2, rs(1, 1, 1)), []string{"web"}},
		{"removed only", cfg(1, rs(1, 1)), cfg(1, rs(1)), nil},
		{"a new service", &lvshcl.Config{}, cfg(1, rs(1)), []string{"web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, newReals(tc.cur, tc.next))
		})
	}
}
