package daemon

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// quorumLog records OnQuorum calls.
type quorumLog struct {
	mu  sync.Mutex
	got []string
}

func (q *quorumLog) on(name string, up bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := name + " down"
	if up {
		s = name + " up"
	}
	q.got = append(q.got, s)
}

func (q *quorumLog) list() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.got)
}

// TestOnQuorum: the signal VRRP's track_virtual_server follows. The quorum
// is presumed at load, told on loss and on return, and told again at a
// reload.
func TestOnQuorum(t *testing.T) {
	f := newFixture(t)
	q := &quorumLog{}
	f.start(f.config(2, func(p *lvshcl.Pool) { p.Quorum = 3 }), Options{OnQuorum: q.on})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.Equal(t, []string{"web up"}, q.list(), "presumed held at start")

	f.probes.set("10.0.1.1:80", false) // weight 2 < 3
	f.until(3*time.Second, func() bool { return len(q.list()) == 2 })
	assert.Equal(t, []string{"web up", "web down"}, q.list())

	f.reload <- f.config(2, func(p *lvshcl.Pool) { p.Quorum = 3 })
	f.until(time.Second, func() bool { return len(q.list()) == 3 })
	assert.Equal(t, "web down", q.list()[2], "a reload tells the current state again")

	f.probes.set("10.0.1.1:80", true)
	f.until(3*time.Second, func() bool { return len(q.list()) == 4 })
	assert.Equal(t, "web up", q.list()[3])
}

// TestDesiredQuorum: the table of a service for each quorum state, as
// keepalived 2.2's check/ipwrapper.c leaves it (perform_quorum_state,
// update_quorum_state, ipvs_cmd's inhibit).
func TestDesiredQuorum(t *testing.T) {
	sorry := ipvs.RealServer{Addr: netip.MustParseAddr("10.0.9.9"), Port: 80, Weight: 5, Forwarding: ipvs.NAT}
	yes, no := true, false
	tests := []struct {
		name     string
		quorumUp bool
		edit     func(*lvshcl.Pool)
		down     []string // failed real servers
		want     []string
		weight   int
	}{
		{name: "held: live servers, no sorry server", quorumUp: true, edit: withSorry(sorry, false),
			down: []string{"10.0.1.2:80"}, want: []string{"10.0.1.1:80/2", "10.0.1.3:80/2"}, weight: 4},
		{name: "held, sorry_server_inhibit: the sorry server at weight 0", quorumUp: true, edit: withSorry(sorry, true),
			want: []string{"10.0.1.1:80/2", "10.0.1.2:80/2", "10.0.1.3:80/2", "10.0.9.9:80/0"}, weight: 6},
		{name: "lost with a sorry server: the sorry server alone", edit: withSorry(sorry, false),
			down: []string{"10.0.1.2:80", "10.0.1.3:80"}, want: []string{"10.0.9.9:80/5"}, weight: 2},
		{name: "lost with a sorry server, inhibit: every real server at weight 0", quorumUp: false,
			edit: func(p *lvshcl.Pool) { withSorry(sorry, true)(p); p.InhibitOnFailure = true },
			down: []string{"10.0.1.2:80"}, want: []string{"10.0.1.1:80/0", "10.0.1.2:80/0", "10.0.1.3:80/0", "10.0.9.9:80/5"}, weight: 4},
		{name: "lost without a sorry server: the live servers stay",
			down: []string{"10.0.1.2:80", "10.0.1.3:80"}, want: []string{"10.0.1.1:80/2"}, weight: 2},
		{name: "a real server's inhibit_on_failure over the service's", quorumUp: true,
			edit: func(p *lvshcl.Pool) { p.Members[0].InhibitOnFailure = &yes },
			down: []string{"10.0.1.1:80", "10.0.1.2:80"}, want: []string{"10.0.1.1:80/0", "10.0.1.3:80/2"}, weight: 2},
		{name: "a real server's inhibit_on_failure false", quorumUp: true,
			edit: func(p *lvshcl.Pool) { p.InhibitOnFailure = true; p.Members[1].InhibitOnFailure = &no },
			down: []string{"10.0.1.1:80", "10.0.1.2:80"}, want: []string{"10.0.1.1:80/0", "10.0.1.3:80/2"}, weight: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cfg := f.config(3, tt.edit)
			s := service{vs: cfg.Services[0].Normalize(), pool: cfg.Pools[0]}
			hm := map[checker.Target]health{}
			for _, m := range s.pool.Members {
				hm[m.Check.Target] = health{up: !slices.Contains(tt.down, m.Check.Target.Addr.String()), weight: checker.NoWeight}
			}
			vs, w := desiredIn(s, hm, tt.quorumUp)
			got := []string{}
			for _, r := range vs.RealServers {
				got = append(got, r.Key().String()+"/"+strconv.Itoa(int(r.Weight)))
			}
			slices.Sort(got)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.weight, w)
		})
	}
}

func withSorry(sorry ipvs.RealServer, inhibit bool) func(*lvshcl.Pool) {
	return func(p *lvshcl.Pool) {
		p.SorryServer = &sorry
		p.SorryInhibit = inhibit
	}
}

// TestQuorumSorryServer: issue 18's case. Three servers of weight 2,
// quorum 4, hysteresis 1: the quorum is lost below 3 and regained at 5.
// On loss the sorry server goes in and the live servers out; on return
// the reverse; in between, a server coming back changes nothing.
func TestQuorumSorryServer(t *testing.T) {
	f := newFixture(t)
	sorry := ipvs.RealServer{Addr: netip.MustParseAddr("10.0.9.9"), Port: 80, Weight: 1, Forwarding: ipvs.NAT}
	cfg := f.config(3, func(p *lvshcl.Pool) {
		p.SorryServer = &sorry
		p.Quorum, p.Hysteresis = 4, 1
		p.QuorumDown = &lvshcl.Hook{Argv: []string{"quorum-down"}}
		p.QuorumUp = &lvshcl.Hook{Argv: []string{"quorum-up"}}
	})
	f.start(cfg, Options{})
	all := []string{"10.0.1.1:80/2", "10.0.1.2:80/2", "10.0.1.3:80/2"}
	f.until(time.Second, func() bool { return slices.Equal(f.k.reals(t, web), all) })

	f.probes.set("10.0.1.3:80", false) // 4: held (lost below 3)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.Equal(t, []string{"10.0.1.1:80/2", "10.0.1.2:80/2"}, f.k.reals(t, web))

	f.probes.set("10.0.1.2:80", false) // 2: lost
	f.until(3*time.Second, func() bool { return slices.Contains(f.hooks.list(), "quorum-down LVSCTL_EVENT=quorum_down") })
	assert.Equal(t, []string{"10.0.9.9:80/1"}, f.k.reals(t, web), "the sorry server alone: the live 10.0.1.1 is out")

	f.probes.set("10.0.1.2:80", true) // 4: still lost (regained at 5)
	f.until(3*time.Second, func() bool {
		return slices.ContainsFunc(f.hooks.list(), func(h string) bool { return strings.HasPrefix(h, "notify-up") })
	})
	for range 50 { // past the coalescing window: the reconcile has run
		f.clk.Advance(10 * time.Millisecond)
		time.Sleep(200 * time.Microsecond)
	}
	assert.Equal(t, []string{"10.0.9.9:80/1"}, f.k.reals(t, web), "below quorum + hysteresis")

	f.probes.set("10.0.1.3:80", true) // 6: regained
	f.until(3*time.Second, func() bool { return slices.Contains(f.hooks.list(), "quorum-up LVSCTL_EVENT=quorum_up") })
	f.until(time.Second, func() bool { return slices.Equal(f.k.reals(t, web), all) })
}
