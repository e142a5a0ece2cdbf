package vrrp

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A discrete-event simulation of routers running the state machine on one
// segment: virtual time, adverts delivered after a fixed latency, links that
// can be cut and segments that can be split. Deterministic, no goroutines, no
// sleeping: tests assert exact takeover times.

const latency = time.Millisecond

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type simNode struct {
	name      string
	addr      netip.Addr
	m         *machine
	s         *sim
	running   bool
	linkUp    bool
	segment   int
	log       []Transition
	sent      []uint8 // priorities advertised
	announces int
	refreshes int
}

func (n *simNode) transition(t Transition) { n.log = append(n.log, t) }
func (n *simNode) announce()               { n.announces++ }
func (n *simNode) refreshAnnounce()        { n.refreshes++ }
func (n *simNode) advertise(prio uint8) {
	n.sent = append(n.sent, prio)
	if !n.linkUp {
		return
	}
	a := &Advertisement{Version: n.m.p.version, VRID: 1, Priority: prio, Interval: n.m.p.interval}
	for _, o := range n.s.nodes {
		if o != n {
			n.s.queue = append(n.s.queue, delivery{at: n.s.now.Add(latency), to: o, a: a, src: n.addr})
		}
	}
}

type delivery struct {
	at  time.Time
	to  *simNode
	a   *Advertisement
	src netip.Addr
}

type sim struct {
	t     *testing.T
	now   time.Time
	nodes []*simNode
	queue []delivery
}

func newSim(t *testing.T) *sim { return &sim{t: t, now: t0} }

type nodeOpt func(*params)

func v3(interval time.Duration) nodeOpt {
	return func(p *params) { p.version, p.interval = 3, interval }
}
func nopreempt(p *params) { p.preempt = false }
func preemptDelay(d time.Duration) nodeOpt {
	return func(p *params) { p.preemptDelay = d }
}

// add makes a router 10.99.0.N with priority prio (not started).
func (s *sim) add(n int, prio uint8, opts ...nodeOpt) *simNode {
	addr := netip.AddrFrom4([4]byte{10, 99, 0, byte(n)})
	p := params{version: 2, interval: time.Second, preempt: true, primary: addr, garpDelay: 5 * time.Second}
	for _, o := range opts {
		o(&p)
	}
	node := &simNode{name: fmt.Sprintf("r%d", n), addr: addr, s: s, linkUp: true}
	node.m = newMachine(node.name, p, prio, node)
	s.nodes = append(s.nodes, node)
	return node
}

func (n *simNode) start() { n.running = true; n.m.start(n.s.now) }
func (n *simNode) stop()  { n.m.stop(n.s.now); n.running = false }
func (n *simNode) state() State {
	return n.m.state
}

// run advances virtual time by d, delivering adverts and firing timers in
// time order.
func (s *sim) run(d time.Duration) {
	s.t.Helper()
	until := s.now.Add(d)
	for i := 0; ; i++ {
		require.Less(s.t, i, 1_000_000, "simulation does not settle")
		next := until.Add(1)
		for _, q := range s.queue {
			if q.at.Before(next) {
				next = q.at
			}
		}
		for _, n := range s.nodes {
			if t := n.m.next(); n.running && !t.IsZero() && t.Before(next) {
				next = t
			}
		}
		if next.After(until) {
			s.now = until
			return
		}
		s.now = next
		// Deliveries first, in send order, then timers.
		var later []delivery
		var now []delivery
		for _, q := range s.queue {
			if q.at.Equal(next) {
				now = append(now, q)
			} else {
				later = append(later, q)
			}
		}
		s.queue = later
		for _, q := range now {
			if q.to.running && q.to.linkUp && q.to.segment == s.sender(q.src).segment {
				q.to.m.receive(s.now, q.a, q.src)
			}
		}
		for _, n := range s.nodes {
			if n.running && due(n.m.next(), s.now) {
				n.m.tick(s.now)
			}
		}
	}
}

func (s *sim) sender(addr netip.Addr) *simNode {
	for _, n := range s.nodes {
		if n.addr == addr {
			return n
		}
	}
	s.t.Fatalf("no node %v", addr)
	return nil
}

// masters lists the nodes in MASTER.
func (s *sim) masters() []string {
	var m []string
	for _, n := range s.nodes {
		if n.state() == StateMaster {
			m = append(m, n.name)
		}
	}
	return m
}

// became is when n last entered state st.
func (n *simNode) became(st State) time.Time {
	for _, t := range slices.Backward(n.log) {
		if t.To == st {
			return t.Time
		}
	}
	return time.Time{}
}

// downInterval is Master_Down_Interval for priority p at interval i.
func downInterval(i time.Duration, p int) time.Duration {
	return 3*i + time.Duration(256-p)*i/256
}

func TestElection(t *testing.T) {
	s := newSim(t)
	a, b, c := s.add(1, 100), s.add(2, 150), s.add(3, 200)
	for _, n := range s.nodes {
		n.start()
		assert.Equal(t, StateBackup, n.state())
	}
	s.run(60 * time.Second)
	assert.Equal(t, []string{"r3"}, s.masters())
	// The highest priority has the shortest Master_Down_Interval: 3 s + 56/256 s.
	assert.Equal(t, t0.Add(downInterval(time.Second, 200)), c.became(StateMaster))
	assert.Len(t, a.log, 1, "r1 never left BACKUP")
	assert.Len(t, b.log, 1, "r2 never left BACKUP")
	assert.Equal(t, c.addr, a.m.master)
	assert.Equal(t, uint8(200), b.m.masterPrio)
	// One advert on becoming master and one per second after.
	assert.Len(t, c.sent, 1+56)
	assert.Equal(t, 2, c.announces, "a burst on becoming master and one after garp_master_delay")
}

func TestEqualPriorityHigherAddressWins(t *testing.T) {
	s := newSim(t)
	a, b := s.add(1, 100), s.add(2, 100)
	a.start()
	b.start()
	s.run(10 * time.Second)
	// Both time out together, both become master, then r1 hears r2's
	// advert (same priority, higher address) and yields.
	assert.Equal(t, []string{"r2"}, s.masters())
	assert.Equal(t, []State{StateBackup, StateMaster, StateBackup}, states(a))
	assert.Equal(t, "higher priority 100 advert from 10.99.0.2", a.log[2].Reason)
	assert.Equal(t, t0.Add(downInterval(time.Second, 100)+latency), a.log[2].Time)
}

func states(n *simNode) []State {
	var s []State
	for _, t := range n.log {
		s = append(s, t.To)
	}
	return s
}

func TestAddressOwnerIsMasterAtOnce(t *testing.T) {
	s := newSim(t)
	a, b := s.add(1, 200), s.add(2, 255)
	a.start()
	s.run(10 * time.Second)
	b.start()
	assert.Equal(t, StateMaster, b.state(), "priority 255 skips BACKUP")
	s.run(latency)
	assert.Equal(t, []string{"r2"}, s.masters(), "r1 yields to the owner's first advert")
}

// keepalived 2.2.7 measured: priority 255 with an explicit "state BACKUP"
// starts as backup and takes over after Master_Down_Interval; without a
// state it is master at once.
func TestAddressOwnerWithStateBackupWaits(t *testing.T) {
	for _, tc := range []struct {
		name        string
		startBackup bool
		want        time.Duration
	}{
		{"default", false, 0},
		{"state BACKUP", true, downInterval(time.Second, 255)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t)
			a := s.add(1, 255, func(p *params) { p.startBackup = tc.startBackup })
			a.start()
			s.run(10 * time.Second)
			assert.Equal(t, StateMaster, a.state())
			assert.Equal(t, tc.want, a.became(StateMaster).Sub(t0))
		})
	}
}

// garp_master_refresh: a refresh burst every period while master, none as
// backup; the timer restarts on becoming master again.
func TestGARPRefresh(t *testing.T) {
	s := newSim(t)
	a := s.add(1, 255, func(p *params) { p.garpRefresh = 10 * time.Second })
	b := s.add(2, 100, func(p *params) { p.garpRefresh = 10 * time.Second })
	a.start()
	b.start()
	s.run(35 * time.Second)
	assert.Equal(t, 3, a.refreshes, "at 10, 20 and 30 s")
	assert.Zero(t, b.refreshes, "a backup refreshes nothing")
	a.stop()
	s.run(35 * time.Second)
	assert.Equal(t, StateMaster, b.state())
	took := b.became(StateMaster).Sub(t0.Add(35 * time.Second))
	assert.Equal(t, 3, b.refreshes, "every 10 s from becoming master at %v", took)
	assert.Equal(t, 3, a.refreshes, "a stopped node refreshes nothing")
}

func TestPreemption(t *testing.T) {
	s := newSim(t)
	low, high := s.add(1, 100), s.add(2, 200)
	low.start()
	s.run(5 * time.Second)
	require.Equal(t, []string{"r1"}, s.masters())

	joined := s.now
	high.start()
	s.run(10 * time.Second)
	assert.Equal(t, []string{"r2"}, s.masters())
	// r2 ignores the lower adverts and takes over when its own
	// Master_Down_Timer runs out; r1 yields on r2's first advert.
	assert.Equal(t, joined.Add(downInterval(time.Second, 200)), high.became(StateMaster))
	assert.Equal(t, high.became(StateMaster).Add(latency), low.became(StateBackup))
}

func TestNoPreempt(t *testing.T) {
	s := newSim(t)
	low, high := s.add(1, 100), s.add(2, 200, nopreempt)
	low.start()
	s.run(5 * time.Second)
	high.start()
	s.run(60 * time.Second)
	assert.Equal(t, []string{"r1"}, s.masters(), "nopreempt: the lower master keeps the VIP")
	assert.Equal(t, low.addr, high.m.master)

	// It still takes over when the master goes away.
	low.stop()
	s.run(5 * time.Second)
	assert.Equal(t, []string{"r2"}, s.masters())
}

func TestPreemptDelay(t *testing.T) {
	s := newSim(t)
	low, high := s.add(1, 100), s.add(2, 200, preemptDelay(10*time.Second))
	low.start()
	s.run(4 * time.Second)
	require.Equal(t, []string{"r1"}, s.masters())
	lastLowAdvert := func() time.Time { return low.became(StateMaster).Add(time.Duration(len(low.sent)-1) * time.Second) }
	high.start()
	s.run(time.Second)
	firstSeen := lastLowAdvert().Add(latency) // preempt delay starts with the first lower advert
	s.run(10 * time.Second)
	assert.Equal(t, []string{"r1"}, s.masters(), "still within preempt_delay")
	s.run(5 * time.Second)
	assert.Equal(t, []string{"r2"}, s.masters())
	// Lower adverts are accepted until the delay ends; the last accepted
	// one restarts Master_Down_Timer.
	lastAccepted := firstSeen
	for lastAccepted.Add(time.Second).Before(firstSeen.Add(10 * time.Second)) {
		lastAccepted = lastAccepted.Add(time.Second)
	}
	assert.Equal(t, lastAccepted.Add(downInterval(time.Second, 200)), high.became(StateMaster))
}

// A graceful stop hands over after Skew_Time; a node loss after
// Master_Down_Interval.
func TestPriorityZeroHandover(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		opts     []nodeOpt
	}{
		{"v2 1s", time.Second, nil},
		{"v3 100ms", 100 * time.Millisecond, []nodeOpt{v3(100 * time.Millisecond)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t)
			a, b, c := s.add(1, 200, tc.opts...), s.add(2, 150, tc.opts...), s.add(3, 100, tc.opts...)
			a.start()
			b.start()
			c.start()
			s.run(20 * tc.interval)
			require.Equal(t, []string{"r1"}, s.masters())

			stopped := s.now
			a.stop()
			assert.Equal(t, uint8(0), a.sent[len(a.sent)-1], "priority-0 advert on stop")
			assert.Equal(t, StateStop, a.state())
			s.run(10 * tc.interval)
			assert.Equal(t, []string{"r2"}, s.masters())
			skew := time.Duration(256-150) * tc.interval / 256
			assert.Equal(t, stopped.Add(latency+skew), b.became(StateMaster), "backup takes over after its skew time")
			assert.Len(t, c.log, 1, "the lower backup hears r2 before its own skew time ends")
		})
	}
}

func TestNodeLoss(t *testing.T) {
	s := newSim(t)
	a, b := s.add(1, 200, v3(100*time.Millisecond)), s.add(2, 100, v3(100*time.Millisecond))
	a.start()
	b.start()
	s.run(2 * time.Second)
	require.Equal(t, []string{"r1"}, s.masters())
	lastAdvert := s.now.Add(-s.now.Sub(a.became(StateMaster)) % (100 * time.Millisecond))
	a.linkUp = false
	s.run(2 * time.Second)
	assert.Equal(t, []string{"r1", "r2"}, s.masters(), "r1 cannot tell its link is gone (no FAULT in this test)")
	assert.Equal(t, lastAdvert.Add(latency+downInterval(100*time.Millisecond, 100)), b.became(StateMaster))
}

// A v3 backup uses the master's advertisement interval, not its own.
func TestV3LearnsMasterInterval(t *testing.T) {
	s := newSim(t)
	a, b := s.add(1, 200, v3(100*time.Millisecond)), s.add(2, 100, v3(time.Second))
	a.start()
	s.run(time.Second)
	b.start()
	s.run(time.Second)
	assert.Equal(t, 100*time.Millisecond, b.m.masterInterval)
	a.linkUp = false
	cut := s.now
	s.run(5 * time.Second)
	assert.WithinDuration(t, cut.Add(downInterval(100*time.Millisecond, 100)), b.became(StateMaster), 100*time.Millisecond)
}

func TestSplitAndHeal(t *testing.T) {
	s := newSim(t)
	a, b := s.add(1, 200), s.add(2, 100)
	a.start()
	b.start()
	s.run(5 * time.Second)
	require.Equal(t, []string{"r1"}, s.masters())

	b.segment = 1 // split
	s.run(5600 * time.Millisecond)
	assert.Equal(t, []string{"r1", "r2"}, s.masters(), "each side has a master")

	// Heal when r2's next advert comes before r1's (r1 advertises at
	// x.219 s, r2 at x.828 s), so r1 hears the other master.
	b.segment = 0
	announces := a.announces
	s.run(3 * time.Second)
	assert.Equal(t, []string{"r1"}, s.masters())
	assert.Greater(t, a.announces, announces, "the winner re-announces the VIPs on hearing the other master")
	assert.Equal(t, StateBackup, b.state())
}

func TestFault(t *testing.T) {
	s := newSim(t)
	a, b := s.add(1, 200), s.add(2, 100)
	a.start()
	b.start()
	s.run(5 * time.Second)
	require.Equal(t, []string{"r1"}, s.masters())

	faulted := s.now
	a.m.setFault(s.now, "tracked chk_haproxy down")
	assert.Equal(t, StateFault, a.state())
	assert.Equal(t, uint8(0), a.sent[len(a.sent)-1], "a master entering FAULT sends priority 0")
	s.run(5 * time.Second)
	assert.Equal(t, []string{"r2"}, s.masters())
	assert.Equal(t, faulted.Add(latency+time.Duration(156)*time.Second/256), b.became(StateMaster))
	n := len(a.sent)
	s.run(5 * time.Second)
	assert.Len(t, a.sent, n, "no adverts in FAULT")

	a.m.setFault(s.now, "")
	assert.Equal(t, StateBackup, a.state())
	s.run(5 * time.Second)
	assert.Equal(t, []string{"r1"}, s.masters(), "recovered and preempted")

	// A fault while backup, and a fault before start.
	b.m.setFault(s.now, "link down")
	assert.Equal(t, StateFault, b.state())
	c := s.add(3, 100)
	c.m.setFault(s.now, "link down")
	c.start()
	assert.Equal(t, StateFault, c.state())
	c.m.setFault(s.now, "")
	assert.Equal(t, StateBackup, c.state())
}

// Tracking weights change the effective priority: a master whose priority
// drops below a backup's loses the VIP to it, and takes it back when its
// priority returns.
func TestTrackingPriority(t *testing.T) {
	s := newSim(t)
	a, b := s.add(1, 150), s.add(2, 100)
	a.start()
	b.start()
	s.run(5 * time.Second)
	require.Equal(t, []string{"r1"}, s.masters())

	dropped := s.now
	a.m.setPriority(s.now, 90) // weight -60
	assert.Equal(t, uint8(90), a.sent[len(a.sent)-1], "the new priority is advertised at once")
	s.run(5 * time.Second)
	assert.Equal(t, []string{"r2"}, s.masters())
	// r2 ignores the lower adverts (preempt) from the moment the priority
	// dropped; its timer was last reset by the advert before.
	assert.True(t, b.became(StateMaster).Before(dropped.Add(downInterval(time.Second, 100)+time.Millisecond)))
	assert.Equal(t, StateBackup, a.state())

	a.m.setPriority(s.now, 150)
	s.run(5 * time.Second)
	assert.Equal(t, []string{"r1"}, s.masters())
}

func TestMasterIgnoresItsOwnAddress(t *testing.T) {
	s := newSim(t)
	a := s.add(1, 100)
	a.start()
	s.run(5 * time.Second)
	a.m.receive(s.now, &Advertisement{Version: 2, VRID: 1, Priority: 100, Interval: time.Second}, a.addr)
	assert.Equal(t, StateMaster, a.state())
}
