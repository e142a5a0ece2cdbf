package bgp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// ErrRestartRequired is matched (errors.Is) by the error SetConfig returns
// when the new configuration changes the speaker's own identity (asn or
// router_id). GoBGP cannot change them on a running server: the caller stops
// the speaker (withdraw, drain, close) and starts a new one. SetConfig has
// then changed nothing.
var ErrRestartRequired = errors.New("bgp: the speaker must be restarted")

// RestartRequiredError names the global settings that changed.
type RestartRequiredError struct {
	Changes []string // e.g. "asn 65001 -> 65002"
}

func (e *RestartRequiredError) Error() string {
	return fmt.Sprintf("bgp: %s changed: the speaker must be restarted (stop, then start with the new configuration)", strings.Join(e.Changes, ", "))
}

// Is makes errors.Is(err, ErrRestartRequired) true.
func (e *RestartRequiredError) Is(target error) bool { return target == ErrRestartRequired }

// defaultIdleHold replaces GoBGP's 30 s wait before reconnecting.
const defaultIdleHold = time.Second

// peerSettings is everything the speaker hands GoBGP for one neighbor, with
// the global defaults resolved, so that two of them compare with ==.
type peerSettings struct {
	Address  netip.Addr
	ASN      uint32
	Password string
	Hold     time.Duration // 0: GoBGP's default (90 s)
	IdleHold time.Duration
	Port     uint16 // 0: 179
	Source   netip.Addr
	Multihop uint8
	HasBFD   bool
	BFD      BFD
}

// settings resolves n against c's defaults.
func (c Config) settings(n Neighbor) peerSettings {
	ps := peerSettings{
		Address: n.Address, ASN: n.ASN, Password: n.Password, Hold: n.HoldTime,
		IdleHold: c.IdleHoldTime, Port: c.Port, Source: n.SourceAddress, Multihop: n.Multihop,
	}
	if ps.Hold == 0 {
		ps.Hold = c.HoldTime
	}
	if ps.IdleHold == 0 {
		ps.IdleHold = defaultIdleHold
	}
	if n.BFD != nil {
		ps.HasBFD, ps.BFD = true, *n.BFD
	}
	return ps
}

// reopens reports whether changing a neighbor from a to b re-opens its
// session. GoBGP (v4.9.0, BgpServer.UpdatePeer) changes the timers in place;
// any setting carried in the OPEN or the transport (peer AS, TCP MD5
// password, source address, port, multihop TTL) makes it delete and re-add
// that one neighbor, which closes its session with a Cease. A changed bfd
// block is applied in place too, but GoBGP restarts the BFD session (a new
// discriminator, no poll sequence), which the router takes for a failure:
// bird2 resets the BGP session ("BFD session down", TestBirdSetConfigNoFlap).
func reopens(a, b peerSettings) bool {
	return a.ASN != b.ASN || a.Password != b.Password || a.Port != b.Port ||
		a.Source != b.Source || a.Multihop != b.Multihop ||
		a.HasBFD != b.HasBFD || a.BFD != b.BFD
}

// reloadPlan is how to go from the running neighbors to the wanted ones.
type reloadPlan struct {
	remove []netip.Addr
	update []peerSettings // existing neighbors whose settings changed
	add    []peerSettings
}

func (p reloadPlan) empty() bool { return len(p.remove)+len(p.update)+len(p.add) == 0 }

// planReload compares the running speaker (its global identity and the
// settings of the neighbors GoBGP runs) with next. A change of asn or
// router_id is a *RestartRequiredError and no plan.
func planReload(asn uint32, routerID netip.Addr, running map[netip.Addr]peerSettings, next Config) (reloadPlan, error) {
	var changes []string
	if asn != next.ASN {
		changes = append(changes, fmt.Sprintf("asn %d -> %d", asn, next.ASN))
	}
	if routerID != next.RouterID {
		changes = append(changes, fmt.Sprintf("router_id %v -> %v", routerID, next.RouterID))
	}
	if len(changes) > 0 {
		return reloadPlan{}, &RestartRequiredError{Changes: changes}
	}
	var p reloadPlan
	want := make(map[netip.Addr]peerSettings, len(next.Neighbors))
	for _, n := range next.Neighbors {
		ps := next.settings(n)
		want[n.Address] = ps
		old, ok := running[n.Address]
		switch {
		case !ok:
			p.add = append(p.add, ps)
		case old != ps:
			p.update = append(p.update, ps)
		}
	}
	for a := range running {
		if _, ok := want[a]; !ok {
			p.remove = append(p.remove, a)
		}
	}
	slices.SortFunc(p.remove, netip.Addr.Compare)
	return p, nil
}

// Warnings reports settings the embedded speaker accepts but cannot honour
// as an operator would expect. They are logged by Start and SetConfig.
func (c Config) Warnings() []string {
	var w []string
	for _, n := range c.Neighbors {
		if n.BFD != nil && n.Multihop > 0 {
			w = append(w, fmt.Sprintf("bgp: neighbor %q: bfd with multihop: GoBGP runs single-hop BFD only (RFC 5881, UDP port 3784, TTL 255), not multihop BFD (RFC 5883, port 4784); the router's multihop BFD session will not come up", n.Name))
		}
	}
	return w
}
