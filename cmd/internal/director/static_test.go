package director

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// fakeStatic records what the runner asks, and what the instances were
// doing at that moment.
type fakeStatic struct {
	mu     sync.Mutex
	events []string
	sets   []vrrp.Static
	fail   error
	probe  func() string // the instances' state, logged with each call
}

func (f *fakeStatic) Apply(s vrrp.Static) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, "apply "+f.probe())
	f.sets = append(f.sets, s)
	return f.fail
}

func (f *fakeStatic) Clear() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, "clear "+f.probe())
	return nil
}

func (f *fakeStatic) get() ([]string, []vrrp.Static) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.events...), append([]vrrp.Static(nil), f.sets...)
}

func instRunning(g *rig, name string) bool {
	f := g.fakes.last(name)
	if f == nil {
		return false
	}
	_, _, _, r := f.get()
	return r
}

// startStatic is rig.start with fs as the runner's StaticNet.
func (g *rig) startStatic(cfg lvshcl.VRRP, fs *fakeStatic) {
	o := g.options()
	o.Static = fs
	g.r = NewRunner(o)
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.done = make(chan error, 1)
	go func() { g.done <- g.r.Run(ctx, cfg, g.reload) }()
	g.t.Cleanup(func() {
		g.stop()
		if g.t.Failed() {
			g.t.Logf("log:\n%s", g.log.String())
		}
	})
}

// static_ipaddress, static_routes and static_rules as keepalived's VRRP
// process has them: in before the instances start, changed by difference
// on a reload that changes them (not on one that does not), out after the
// instances left.
func TestStaticAroundInstances(t *testing.T) {
	g := newRig(t)
	fs := &fakeStatic{}
	fs.probe = func() string {
		f := g.fakes.last("VI_1")
		if f == nil {
			return "before any instance"
		}
		if _, _, _, running := f.get(); running {
			return "while running"
		}
		return "after the instance"
	}
	one := vrrp.Static{
		Addresses: []vrrp.VIP{{Prefix: netip.MustParsePrefix("192.168.200.1/24"), Dev: "eth1"}},
		Routes:    []vrrp.Route{{Dst: netip.MustParsePrefix("10.20.0.0/16"), Gateway: netip.MustParseAddr("192.168.200.254")}},
	}
	two := one
	two.Rules = []vrrp.Rule{{From: netip.MustParsePrefix("192.168.200.0/24"), Table: 200}}
	two.Routes = nil
	cfg := lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{inst("VI_1", "eth0")}, Static: one}
	g.startStatic(cfg, fs)
	eventually(t, "running", func() bool { return instRunning(g, "VI_1") })

	g.reload <- cfg // unchanged: nothing asked
	cfg.Static = two
	g.reload <- cfg
	eventually(t, "reloaded", func() bool { _, sets := fs.get(); return len(sets) == 2 })
	g.stop()

	events, sets := fs.get()
	assert.Equal(t, []string{"apply before any instance", "apply while running", "clear after the instance"}, events)
	assert.Equal(t, []vrrp.Static{one, two}, sets)
	log := g.log.String()
	assert.Contains(t, log, `msg="static addresses, routes and rules installed" static_ipaddress=1 static_routes=1 static_rules=0 removed=[]`)
	assert.Contains(t, log, `msg="static addresses, routes and rules installed" static_ipaddress=1 static_routes=0 static_rules=1 removed="[route 10.20.0.0/16]"`)
	assert.Contains(t, log, `msg="static addresses, routes and rules removed" removed="[address 192.168.200.1/24 dev eth1 rule from 192.168.200.0/24 table 200]"`)
}

// A failure is logged and changes nothing else: the instances run.
func TestStaticFailureLogged(t *testing.T) {
	g := newRig(t)
	fs := &fakeStatic{fail: errors.New("static_routes: add 10.20.0.0/16: network is unreachable"), probe: func() string { return "" }}
	st := vrrp.Static{Routes: []vrrp.Route{{Dst: netip.MustParsePrefix("10.20.0.0/16"), Gateway: netip.MustParseAddr("192.0.2.1")}}}
	g.startStatic(lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{inst("VI_1", "eth0")}, Static: st}, fs)
	eventually(t, "running", func() bool { return instRunning(g, "VI_1") })
	assert.Contains(t, g.log.String(), `level=ERROR msg="static addresses, routes and rules: not all installed" err="static_routes: add 10.20.0.0/16: network is unreachable"`)
	g.stop()
	events, _ := fs.get()
	require.Len(t, events, 2)
	assert.Equal(t, "clear ", events[1], "what failed is still cleared")
}

// Without static blocks nothing is asked at all.
func TestStaticNone(t *testing.T) {
	g := newRig(t)
	fs := &fakeStatic{probe: func() string { return "" }}
	g.startStatic(lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{inst("VI_1", "eth0")}}, fs)
	eventually(t, "running", func() bool { return instRunning(g, "VI_1") })
	time.Sleep(10 * time.Millisecond)
	g.stop()
	events, _ := fs.get()
	assert.Empty(t, events)
}
