package vrrp

import (
	"fmt"
	"net/netip"
	"time"
)

// State is the state of an instance: the three of RFC 5798 section 6.4 plus
// keepalived's FAULT and STOP.
type State uint8

const (
	// StateInit: not started yet (RFC 5798 Initialize).
	StateInit State = iota
	// StateBackup: listening to the master, ready to take over.
	StateBackup
	// StateMaster: holding the VIPs and advertising.
	StateMaster
	// StateFault: the interface is down or a tracked object with weight 0
	// failed; no VIPs, no adverts, adverts ignored.
	StateFault
	// StateStop: Run returned (after a priority-0 advert if it was master).
	StateStop
)

func (s State) String() string {
	switch s {
	case StateInit:
		return "INIT"
	case StateBackup:
		return "BACKUP"
	case StateMaster:
		return "MASTER"
	case StateFault:
		return "FAULT"
	case StateStop:
		return "STOP"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// A Transition is a change of state, as passed to Config.OnTransition.
type Transition struct {
	Instance string
	From, To State
	Priority uint8     // effective priority at the time
	Reason   string    // e.g. "master down timer expired", "higher priority 200 advert from 10.99.0.2"
	Time     time.Time // from the instance's clock
}

// params are what the state machine needs of the configuration.
type params struct {
	version      uint8
	interval     time.Duration // Advertisement_Interval
	preempt      bool
	preemptDelay time.Duration
	primary      netip.Addr    // our source address: ties are broken on it
	garpDelay    time.Duration // second announcement burst after becoming master; 0 = none
	// startBackup is keepalived's "state BACKUP" given explicitly: even
	// the address owner starts as backup and waits Master_Down_Interval.
	startBackup bool
	// garpRefresh is garp_master_refresh: while master, a refresh burst
	// (refreshAnnounce) every garpRefresh; 0 = none.
	garpRefresh time.Duration
}

// effects are what the state machine asks of the instance. transition is
// called before anything else of a change: the instance adds the VIPs when
// entering MASTER and removes them when leaving it.
type effects interface {
	transition(t Transition)
	advertise(priority uint8)
	announce() // gratuitous ARPs / unsolicited NAs for the VIPs
	// refreshAnnounce is the garp_master_refresh burst.
	refreshAnnounce()
}

// machine is the RFC 5798 section 6.4 state machine (with keepalived's
// additions: FAULT, preempt_delay, forcing an election when a master hears a
// lower priority). It does no I/O and reads no clock: every event carries
// the time, and next says when it wants tick to be called, so tests drive it
// on a virtual time line.
type machine struct {
	p    params
	out  effects
	name string

	state State
	prio  uint8 // effective priority
	fault string

	masterInterval time.Duration // Master_Adver_Interval
	master         netip.Addr    // the current master, as far as we know
	masterPrio     uint8

	// Timers, as absolute deadlines; zero is stopped.
	adverAt   time.Time // Adver_Timer (MASTER)
	downAt    time.Time // Master_Down_Timer (BACKUP)
	downWhy   string    // why Master_Down_Timer was last set, for the transition's reason
	garpAt    time.Time // delayed second announcement (MASTER)
	refreshAt time.Time // next garp_master_refresh burst (MASTER)
	preemptAt time.Time // preempt_delay: lower adverts accepted until then (BACKUP)
}

func newMachine(name string, p params, prio uint8, out effects) *machine {
	return &machine{p: p, out: out, name: name, prio: prio, masterInterval: p.interval}
}

// skew is Skew_Time: (256 - Priority) * Master_Adver_Interval / 256. RFC
// 3768 (v2) leaves out the interval factor; keepalived applies it in both
// versions, and so do we, so that mixed backups rank by priority the same
// way (identical at the usual 1 s).
func (m *machine) skew() time.Duration {
	return time.Duration(256-int(m.prio)) * m.masterInterval / 256
}

// masterDown is Master_Down_Interval: 3 * Master_Adver_Interval + Skew_Time.
func (m *machine) masterDown() time.Duration { return 3*m.masterInterval + m.skew() }

func (m *machine) to(now time.Time, s State, why string) {
	from := m.state
	m.state = s
	m.adverAt, m.downAt, m.garpAt, m.preemptAt, m.refreshAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	m.out.transition(Transition{Instance: m.name, From: from, To: s, Priority: m.prio, Reason: why, Time: now})
}

func (m *machine) becomeMaster(now time.Time, why string) {
	m.to(now, StateMaster, why)
	m.master, m.masterPrio = m.p.primary, m.prio
	m.masterInterval = m.p.interval
	m.out.advertise(m.prio)
	m.out.announce()
	m.adverAt = now.Add(m.p.interval)
	if m.p.garpDelay > 0 {
		m.garpAt = now.Add(m.p.garpDelay)
	}
	if m.p.garpRefresh > 0 {
		m.refreshAt = now.Add(m.p.garpRefresh)
	}
}

func (m *machine) becomeBackup(now time.Time, why string) {
	m.to(now, StateBackup, why)
	m.resetDown(now)
}

// resetDown (re)starts Master_Down_Timer with Master_Down_Interval.
func (m *machine) resetDown(now time.Time) {
	d := m.masterDown()
	m.downAt = now.Add(d)
	m.downWhy = fmt.Sprintf("no advert from the master for %v", d)
}

// start leaves INIT (RFC 5798 6.4.1): the address owner becomes master at
// once, anyone else backup.
func (m *machine) start(now time.Time) {
	switch {
	case m.fault != "":
		m.to(now, StateFault, m.fault)
	case m.prio == 255 && !m.p.startBackup:
		m.becomeMaster(now, "address owner (priority 255)")
	default:
		m.masterInterval = m.p.interval
		m.becomeBackup(now, "start")
	}
}

// stop is a graceful shutdown: a master sends a priority-0 advert so that
// a backup takes over after its skew time rather than Master_Down_Interval.
func (m *machine) stop(now time.Time) {
	if m.state == StateMaster {
		m.out.advertise(0)
	}
	if m.state != StateStop {
		m.to(now, StateStop, "stop")
	}
}

// next is when tick wants to be called (zero: no timer running).
func (m *machine) next() time.Time {
	var t time.Time
	for _, d := range []time.Time{m.adverAt, m.downAt, m.garpAt, m.refreshAt} {
		if !d.IsZero() && (t.IsZero() || d.Before(t)) {
			t = d
		}
	}
	return t
}

func due(deadline, now time.Time) bool { return !deadline.IsZero() && !now.Before(deadline) }

// force moves a BACKUP to MASTER, or a MASTER to BACKUP, at once: a
// vrrp_sync_group following one of its members. Other states stay.
func (m *machine) force(now time.Time, to State, why string) {
	switch {
	case to == StateMaster && m.state == StateBackup:
		m.becomeMaster(now, why)
	case to == StateBackup && m.state == StateMaster:
		m.becomeBackup(now, why)
	}
}

// tick fires the timers that are due at now.
func (m *machine) tick(now time.Time) {
	switch m.state {
	case StateBackup:
		if due(m.downAt, now) {
			m.becomeMaster(now, m.downWhy)
		}
	case StateMaster:
		if due(m.refreshAt, now) {
			m.refreshAt = now.Add(m.p.garpRefresh)
			m.out.refreshAnnounce()
		}
		if due(m.garpAt, now) {
			m.garpAt = time.Time{}
			m.out.announce()
		}
		if due(m.adverAt, now) {
			m.out.advertise(m.prio)
			m.adverAt = now.Add(m.p.interval)
		}
	}
}

// receive handles a valid advertisement for our VRID from src (the checks
// of RFC 5798 7.1 are done: see check).
func (m *machine) receive(now time.Time, a *Advertisement, src netip.Addr) {
	switch m.state {
	case StateBackup:
		m.receiveBackup(now, a, src)
	case StateMaster:
		m.receiveMaster(now, a, src)
	}
}

func (m *machine) receiveBackup(now time.Time, a *Advertisement, src netip.Addr) {
	if a.Priority == 0 {
		// The master is leaving: take over after Skew_Time.
		m.downAt = now.Add(m.skew())
		m.downWhy = fmt.Sprintf("priority 0 advert from %v, skew time %v", src, m.skew())
		return
	}
	lower := a.Priority < m.prio
	if m.p.preempt && lower && !m.delayPreemption(now) {
		// Preempt: ignore it and let Master_Down_Timer run out.
		return
	}
	if !lower {
		m.preemptAt = time.Time{}
	}
	if m.p.version == 3 && a.Interval > 0 {
		m.masterInterval = a.Interval
	}
	m.master, m.masterPrio = src, a.Priority
	m.resetDown(now)
}

// delayPreemption reports whether a lower-priority master is still accepted
// because of preempt_delay, which starts with the first such advert (as in
// keepalived).
func (m *machine) delayPreemption(now time.Time) bool {
	if m.p.preemptDelay <= 0 {
		return false
	}
	if m.preemptAt.IsZero() {
		m.preemptAt = now.Add(m.p.preemptDelay)
	}
	return now.Before(m.preemptAt)
}

func (m *machine) receiveMaster(now time.Time, a *Advertisement, src netip.Addr) {
	switch {
	case a.Priority == 0:
		// Another master leaving: make sure the backups hear us.
		m.advertiseNow(now)
	case a.Priority > m.prio || (a.Priority == m.prio && src.Compare(m.p.primary) > 0):
		if m.p.version == 3 && a.Interval > 0 {
			m.masterInterval = a.Interval
		}
		m.master, m.masterPrio = src, a.Priority
		m.becomeBackup(now, fmt.Sprintf("higher priority %d advert from %v", a.Priority, src))
	case src == m.p.primary:
		// Our own address (a looped packet or a duplicate address): ignore.
	default:
		// Two masters, and we win: tell the other one now, and refresh the
		// segment's ARP caches it may have taken over (keepalived does both).
		m.advertiseNow(now)
		m.out.announce()
	}
}

func (m *machine) advertiseNow(now time.Time) {
	m.out.advertise(m.prio)
	m.adverAt = now.Add(m.p.interval)
}

// setPriority changes the effective priority (tracking). A master
// advertises the new priority at once, so that a backup that now outranks
// it can start its takeover.
func (m *machine) setPriority(now time.Time, prio uint8) {
	if prio == m.prio {
		return
	}
	m.prio = prio
	if m.state == StateMaster {
		m.advertiseNow(now)
	}
}

// relinquish is keepalived's answer to a VIP, virtual route or rule of a
// master deleted by someone else (set_vrrp_backup): a priority-0 advert,
// BACKUP (which removes the rest), and Master_Down_Timer at Skew_Time, so
// that the instance is master again, everything re-added, after its skew
// time unless a higher-priority router advertises first.
func (m *machine) relinquish(now time.Time, why string) {
	if m.state != StateMaster {
		return
	}
	m.out.advertise(0)
	m.to(now, StateBackup, why)
	m.downAt = now.Add(m.skew())
	m.downWhy = fmt.Sprintf("skew time %v after giving up MASTER (%s)", m.skew(), why)
}

// setFault enters FAULT (reason non-empty) or leaves it. A master leaving
// for FAULT sends a priority-0 advert first, as keepalived does.
func (m *machine) setFault(now time.Time, reason string) {
	was := m.fault
	m.fault = reason
	switch {
	case reason != "" && was == "" && (m.state == StateBackup || m.state == StateMaster):
		if m.state == StateMaster {
			m.out.advertise(0)
		}
		m.to(now, StateFault, reason)
	case reason == "" && m.state == StateFault:
		m.masterInterval = m.p.interval
		if m.prio == 255 {
			m.becomeMaster(now, "fault cleared, address owner")
		} else {
			m.becomeBackup(now, "fault cleared")
		}
	}
}
