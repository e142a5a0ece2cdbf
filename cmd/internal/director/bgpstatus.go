package director

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/lvsctl/lvsctl/bgp"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// BGPStatus is the announcer's state, for `lvsctl status` and the metrics.
type BGPStatus struct {
	// Configured: the configuration has a bgp block.
	Configured bool
	// Running: the speaker is started.
	Running bool
	// Error is the last failure to start the speaker or to converge its
	// announcements (retried every second), empty when the last try worked.
	Error     string
	Neighbors []BGPNeighborStatus
	// Announced are the prefixes the speaker announces, sorted.
	Announced []netip.Prefix
	// Withheld are the announce blocks not announced, and why.
	Withheld []Withheld
	// Announces and Withdraws count the prefixes announced and withdrawn
	// since the daemon started, by reason (Announce*, Withdraw*).
	Announces, Withdraws map[string]uint64
	// VIPInterface is the link holding the VIPs; VIPAddrs the addresses
	// the daemon put there; VIPError why it could not (then nothing is
	// announced).
	VIPInterface string
	VIPAddrs     []netip.Prefix
	VIPError     string
	// SloppyTCP and SloppySCTP: the daemon set the sysctl to 1.
	SloppyTCP, SloppySCTP bool
}

// BGPNeighborStatus is one neighbor's session.
type BGPNeighborStatus struct {
	Name    string
	Address netip.Addr
	ASN     uint32
	State   bgp.SessionState
	// Since is when the session entered State (zero: not since start).
	Since time.Time
	// Reason is why the session last went down, empty if it never did.
	Reason string
	// Established counts the sessions established since the daemon started.
	Established uint64
	// BFD is the neighbor's BFD session state (bgp.BFDOff without a bfd
	// block); BFDSince when it entered it; BFDDowns counts its transitions
	// from up to another state.
	BFD      bgp.BFDState
	BFDSince time.Time
	BFDDowns uint64
}

// bgpState is what Status reports; under Announcer.mu.
type bgpState struct {
	configured, running bool
	err                 string
	peers               map[netip.Addr]*BGPNeighborStatus
	order               []netip.Addr // the neighbors in file order
	announced           map[netip.Prefix]bool
	seen                map[netip.Prefix]bool // announced since the speaker started
	withheld            []Withheld
	announces           map[string]uint64
	withdraws           map[string]uint64
	vipIf, vipErr       string
	vipAddrs            []netip.Prefix
	sloppyTCP, sloppySC bool
}

func newBGPState() bgpState {
	return bgpState{
		peers: map[netip.Addr]*BGPNeighborStatus{}, announced: map[netip.Prefix]bool{}, seen: map[netip.Prefix]bool{},
		announces: map[string]uint64{}, withdraws: map[string]uint64{},
	}
}

// Status returns a snapshot; safe from any goroutine.
func (a *Announcer) Status() BGPStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &a.st
	out := BGPStatus{
		Configured: st.configured, Running: st.running, Error: st.err,
		Announced: slices.SortedFunc(maps.Keys(st.announced), comparePrefix),
		Withheld:  slices.Clone(st.withheld),
		Announces: maps.Clone(st.announces), Withdraws: maps.Clone(st.withdraws),
		VIPInterface: st.vipIf, VIPAddrs: slices.Clone(st.vipAddrs), VIPError: st.vipErr,
		SloppyTCP: st.sloppyTCP, SloppySCTP: st.sloppySC,
	}
	for _, addr := range st.order {
		if p := st.peers[addr]; p != nil {
			out.Neighbors = append(out.Neighbors, *p)
		}
	}
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func (a *Announcer) setConfigured(on bool) {
	a.mu.Lock()
	a.st.configured = on
	a.mu.Unlock()
}

func (a *Announcer) setRunning(on bool, err string) {
	a.mu.Lock()
	a.st.running, a.st.err = on, err
	a.mu.Unlock()
}

// setNeighbors makes ns the neighbors reported, keeping the state of those
// that stay.
func (a *Announcer) setNeighbors(ns []bgp.Neighbor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	peers := make(map[netip.Addr]*BGPNeighborStatus, len(ns))
	a.st.order = a.st.order[:0]
	for _, n := range ns {
		p := a.st.peers[n.Address]
		if p == nil {
			p = &BGPNeighborStatus{Address: n.Address, State: bgp.StateIdle}
		}
		p.Name, p.ASN = n.Name, n.ASN
		switch {
		case n.BFD == nil:
			p.BFD, p.BFDSince = bgp.BFDOff, time.Time{}
		case p.BFD == bgp.BFDOff:
			p.BFD, p.BFDSince = bgp.BFDDown, time.Time{} // not up until the poller says so
		}
		peers[n.Address] = p
		a.st.order = append(a.st.order, n.Address)
	}
	a.st.peers = peers
}

// peersClosed marks every session idle: the speaker stopped.
func (a *Announcer) peersClosed() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.st.peers {
		if p.State != bgp.StateIdle {
			p.State, p.Since = bgp.StateIdle, time.Now()
		}
		if p.BFD != bgp.BFDOff && p.BFD != bgp.BFDDown {
			if p.BFD == bgp.BFDUp {
				p.BFDDowns++
			}
			p.BFD, p.BFDSince = bgp.BFDDown, time.Now()
		}
	}
}

// onPeer is the speakers' bgp.Config.OnPeer.
func (a *Announcer) onPeer(ev bgp.PeerEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.st.peers[ev.Address]
	if p == nil {
		return // a neighbor deleted by a reload
	}
	if p.State != ev.State {
		p.Since = ev.Time
	}
	if ev.State == bgp.StateEstablished && p.State != bgp.StateEstablished {
		p.Established++
	}
	p.State = ev.State
	if ev.Reason != "" {
		p.Reason = ev.Reason
	}
	a.log.Info("bgp: neighbor session", "neighbor", p.Name, "address", p.Address, "state", ev.State.String(), "reason", ev.Reason)
}

// onBFD is the speakers' bgp.Config.OnBFD.
func (a *Announcer) onBFD(ev bgp.BFDEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.st.peers[ev.Address]
	if p == nil || p.BFD == ev.State {
		return
	}
	if p.BFD == bgp.BFDUp {
		p.BFDDowns++
	}
	p.BFD, p.BFDSince = ev.State, ev.Time
	a.log.Info("bgp: neighbor BFD session", "neighbor", p.Name, "address", p.Address, "bfd", ev.State.String())
}

// announced records a successful convergence of cfg to want, with the
// announce blocks held back, and counts the changes by reason.
func (a *Announcer) announced(cfg *lvshcl.BGP, want []bgp.Announcement, held []Withheld) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := make(map[netip.Prefix]bool, len(want))
	for _, w := range want {
		now[w.Prefix] = true
	}
	heldKind := map[string]string{}
	for _, h := range held {
		heldKind[h.Announce] = h.Kind
	}
	for p := range a.st.announced {
		if now[p] {
			continue
		}
		reason := WithdrawConfig
		for _, an := range cfg.Announces {
			if slices.Contains(an.VIPs, p.Addr()) && heldKind[an.Name] != "" {
				reason = heldKind[an.Name]
			}
		}
		a.st.withdraws[reason]++
		a.log.Info("bgp: withdrawn", "prefix", p, "reason", reason)
	}
	for p := range now {
		if a.st.announced[p] {
			continue
		}
		reason := AnnounceLoad
		if a.st.seen[p] {
			reason = AnnounceRecovered
		}
		a.st.seen[p] = true
		a.st.announces[reason]++
		a.log.Info("bgp: announced", "prefix", p, "reason", reason)
	}
	was := map[string]string{}
	for _, h := range a.st.withheld {
		was[h.Announce] = h.Reason
	}
	for _, h := range held {
		if was[h.Announce] != h.Reason {
			a.log.Info("bgp: announce withheld", "announce", h.Announce, "reason", h.Reason)
		}
	}
	a.st.announced = now
	a.st.withheld = held
}

// withdrawAll counts the withdrawal of everything announced, as the
// speaker stops.
func (a *Announcer) withdrawAll(reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := len(a.st.announced); n > 0 {
		a.st.withdraws[reason] += uint64(n)
		a.log.Info("bgp: withdrawing everything", "prefixes", n, "reason", reason)
	}
	a.st.announced = map[netip.Prefix]bool{}
	a.st.seen = map[netip.Prefix]bool{}
	a.st.withheld = nil
}

func (a *Announcer) setVIPs(v *vipSet) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.st.vipIf, a.st.vipErr = v.name, v.err
	if v.name == "" {
		a.st.vipIf = v.want
	}
	a.st.vipAddrs = slices.SortedFunc(maps.Keys(v.addrs), comparePrefix)
}

func (a *Announcer) setSloppy(s *sloppyMode) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, a.st.sloppyTCP = s.saved[sysctlSloppyTCP]
	_, a.st.sloppySC = s.saved[sysctlSloppySCTP]
}
