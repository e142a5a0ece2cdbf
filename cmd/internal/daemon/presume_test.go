package daemon

import (
	"context"
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

// roleProbes are probes whose check tests a role (a MySQL read_only
// check, say).
type roleProbes struct{ *probes }

func (roleProbes) TestsRole() bool { return true }

// TestRestartAdoptsTableHealth: a daemon started on a table it owns takes
// each real server's state from it, so a restart during an outage writes
// nothing while the probes agree, whatever alpha, the check or
// inhibit_on_failure say; the down server is restored when it recovers.
func TestRestartAdoptsTableHealth(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*lvshcl.Pool)
		role    bool
		inTable []string // 10.0.1.2 is down: absent, or at weight 0
	}{
		{name: "defaults", inTable: []string{"10.0.1.1:80/2", "10.0.1.3:80/2"}},
		{name: "alpha", edit: alpha, inTable: []string{"10.0.1.1:80/2", "10.0.1.3:80/2"}},
		{name: "role check", role: true, inTable: []string{"10.0.1.1:80/2", "10.0.1.3:80/2"}},
		{name: "inhibit_on_failure", edit: func(p *lvshcl.Pool) { p.InhibitOnFailure = true },
			inTable: []string{"10.0.1.1:80/2", "10.0.1.2:80/0", "10.0.1.3:80/2"}},
		{name: "inhibit_on_failure and alpha", edit: func(p *lvshcl.Pool) { p.InhibitOnFailure = true; alpha(p) },
			inTable: []string{"10.0.1.1:80/2", "10.0.1.2:80/0", "10.0.1.3:80/2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cfg := f.config(3, tc.edit)
			if tc.role {
				for i := range cfg.Pools[0].Members {
					cfg.Pools[0].Members[i].Check.Prober = roleProbes{f.probes}
				}
			}
			f.k = &kernel{f: ipvs.NewFake(table(cfg.Services[0], tc.inTable))}
			f.probes.set("10.0.1.2:80", false)
			f.start(cfg, Options{Adopt: true}) // the table is the previous daemon's

			waitStatus(t, f, 3)
			for _, st := range f.d.Status() {
				assert.False(t, st.Checked)
				assert.Equal(t, st.Target.Addr.Addr() != netip.MustParseAddr("10.0.1.2"), st.Up, "%s presumed", st.Target)
				assert.Equal(t, PresumedFromTable, st.Reason)
			}
			f.until(3*time.Second, func() bool { return f.clk.Now().Sub(t0Fixture) > 2500*time.Millisecond })
			assert.Zero(t, f.k.writes(), "the first probes agree with the table: nothing to write")
			assert.Equal(t, tc.inTable, f.k.reals(t, web))

			f.probes.set("10.0.1.2:80", true)
			f.until(3*time.Second, func() bool { return slices.Contains(f.k.reals(t, web), "10.0.1.2:80/2") })
			assert.Equal(t, 1, f.k.writes(), "the recovery is one write")
		})
	}
}

// TestRestartFirstProbeDisagrees: what the table says is confirmed by the
// first probe only; a server up in the table that fails its first probe
// leaves at once, and one absent that answers joins at once.
func TestRestartFirstProbeDisagrees(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(2, func(p *lvshcl.Pool) {
		for i := range p.Members {
			p.Members[i].Check.Timing.Fall = 3
			p.Members[i].Check.Timing.Rise = 3
		}
	})
	f.k = &kernel{f: ipvs.NewFake(table(cfg.Services[0], []string{"10.0.1.1:80/2"}))}
	f.probes.set("10.0.1.1:80", false)
	f.start(cfg, Options{Adopt: true}) // the table is the previous daemon's
	f.until(time.Second, func() bool { return slices.Equal(f.k.reals(t, web), []string{"10.0.1.2:80/2"}) })
	assert.Equal(t, 2, f.k.writes())
}

// TestColdStartRoleCheck: with no table to adopt, a server whose check
// tests a role enters only after a successful probe, alpha or not; plain
// checks keep keepalived's alpha.
func TestColdStartRoleCheck(t *testing.T) {
	tests := []struct {
		name        string
		role, alpha bool
		// before is the table after the start's apply, before any probe.
		before []string
	}{
		{name: "role check", role: true, before: []string{}},
		{name: "role check, alpha", role: true, alpha: true, before: []string{}},
		{name: "plain check: presumed up", before: []string{"10.0.1.1:80/2", "10.0.1.2:80/2"}},
		{name: "plain check, alpha", alpha: true, before: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cfg := f.config(2, func(p *lvshcl.Pool) {
				if tc.alpha {
					alpha(p)
				}
				for i := range p.Members {
					p.Members[i].Check.Timing.Warmup = time.Second
				}
			})
			if tc.role {
				for i := range cfg.Pools[0].Members {
					cfg.Pools[0].Members[i].Check.Prober = roleProbes{f.probes}
				}
			}
			f.probes.set("10.0.1.2:80", false) // the wrong role
			f.start(cfg, Options{Rand: func(n time.Duration) time.Duration { return n }})
			f.until(time.Second, func() bool { return f.k.writes() > 0 })
			assert.Equal(t, tc.before, f.k.reals(t, web), "before the first probes")
			f.until(3*time.Second, func() bool { return slices.Equal(f.k.reals(t, web), []string{"10.0.1.1:80/2"}) })
		})
	}
}

var t0Fixture = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func alpha(p *lvshcl.Pool) {
	for i := range p.Members {
		p.Members[i].Check.Timing.Alpha = true
	}
}

// table is vs holding the real servers "addr:port/weight" of reals.
func table(vs ipvs.VirtualService, reals []string) ipvs.VirtualService {
	var rs []ipvs.RealServer
	for _, s := range reals {
		for _, r := range vs.RealServers {
			if k := r.Key().String(); len(s) > len(k) && s[:len(k)] == k && s[len(k)] == '/' {
				if s[len(k)+1:] == "0" {
					r.Weight = 0
				}
				rs = append(rs, r)
			}
		}
	}
	vs.RealServers = rs
	return vs
}

// waitStatus waits until the daemon's pool has n servers.
func waitStatus(t *testing.T, f *fixture, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(f.d.Status()) == n }, 5*time.Second, time.Millisecond)
}

var _ checker.Prober = roleProbes{}

// TestRestartBelowQuorum: a restart while every real server is down (the
// sorry server in the table) loses the quorum at once, as the previous
// daemon had: the first probes agree with the table and make no
// transition that would tell.
func TestRestartBelowQuorum(t *testing.T) {
	f := newFixture(t)
	sorry := ipvs.RealServer{Addr: netip.MustParseAddr("10.0.9.9"), Port: 80, Weight: 1, Forwarding: ipvs.NAT}
	cfg := f.config(2, func(p *lvshcl.Pool) {
		p.SorryServer = &sorry
		p.QuorumDown = &lvshcl.Hook{Argv: []string{"quorum-down"}}
		p.QuorumUp = &lvshcl.Hook{Argv: []string{"quorum-up"}}
	})
	inTable := cfg.Services[0]
	inTable.RealServers = []ipvs.RealServer{sorry}
	f.k = &kernel{f: ipvs.NewFake(inTable)}
	f.probes.set("10.0.1.1:80", false)
	f.probes.set("10.0.1.2:80", false)
	var mu sync.Mutex
	var told []bool
	f.start(cfg, Options{Adopt: true, OnQuorum: func(_ string, up bool) { mu.Lock(); told = append(told, up); mu.Unlock() }})
	f.until(2*time.Second, func() bool { return slices.Contains(f.hooks.list(), "quorum-down LVSCTL_EVENT=quorum_down") })
	mu.Lock()
	assert.Equal(t, []bool{false}, told, "lost at load: the table's states are below the quorum")
	mu.Unlock()
	assert.Zero(t, f.k.writes())

	f.probes.set("10.0.1.1:80", true)
	f.until(3*time.Second, func() bool { return slices.Contains(f.hooks.list(), "quorum-up LVSCTL_EVENT=quorum_up") })
	assert.Equal(t, []string{"10.0.1.1:80/2"}, f.k.reals(t, web), "the sorry server leaves")
}

// dumpCounter counts the dumps of its kernel.
type dumpCounter struct {
	*kernel
	mu    sync.Mutex
	dumps int
}

func (k *dumpCounter) Services(ctx context.Context) ([]ipvs.VirtualService, error) {
	k.mu.Lock()
	k.dumps++
	k.mu.Unlock()
	return k.kernel.Services(ctx)
}

// TestStartDumpsOnce: the dump that presumes health from the table is the
// one the start's apply plans from.
func TestStartDumpsOnce(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(2, nil)
	f.k = &kernel{f: ipvs.NewFake(cfg.Services[0])}
	k := &dumpCounter{kernel: f.k}
	f.start(cfg, Options{Adopt: true, Resync: time.Hour, Kernel: k})
	f.until(time.Second, func() bool { return len(f.d.Status()) == 2 && f.clk.Now().Sub(t0Fixture) > 500*time.Millisecond })
	require.NoError(t, f.stop())
	assert.Equal(t, 1, k.dumps)
	assert.Zero(t, f.k.writes())
}
