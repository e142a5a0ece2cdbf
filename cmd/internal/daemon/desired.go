package daemon

import (
	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/ipvs"
)

// desired is the table entry of s given the current health: configured real
// servers that are up (with their dynamic weight, if any), failed ones at
// weight 0 when the pool inhibits or left out otherwise, and the sorry
// server when none is up. It also returns the sum of the weights of the up
// real servers, the measure of the pool's quorum.
func (d *Daemon) desired(s service) (vs ipvs.VirtualService, upWeight int) {
	return desiredIn(s, d.health)
}

// desiredIn is desired with the health of hm.
func desiredIn(s service, hm map[checker.Target]health) (vs ipvs.VirtualService, upWeight int) {
	out := s.vs
	out.RealServers = make([]ipvs.RealServer, 0, len(s.vs.RealServers)+1)
	up := 0
	for _, r := range s.vs.RealServers {
		h, checked := memberHealth(s, r.Key(), hm)
		switch {
		case !checked || h.up:
			if checked && h.weight != checker.NoWeight {
				r.Weight = uint32(h.weight)
			}
			up++
			upWeight += int(r.Weight)
		case s.pool.InhibitOnFailure:
			r.Weight = 0
		default:
			continue
		}
		out.RealServers = append(out.RealServers, r)
	}
	if up == 0 && s.pool.SorryServer != nil {
		out.RealServers = append(out.RealServers, *s.pool.SorryServer)
	}
	return out, upWeight
}

// memberHealth returns the health of real server k of s, and whether it is
// checked at all.
func memberHealth(s service, k ipvs.RealKey, hm map[checker.Target]health) (health, bool) {
	for _, m := range s.pool.Members {
		if m.Real != k || m.Check == nil {
			continue
		}
		h, ok := hm[m.Check.Target]
		if !ok {
			return health{up: true, weight: checker.NoWeight}, true
		}
		return h, true
	}
	return health{}, false
}

// checkQuorum runs the quorum hooks when s crosses its quorum (with
// hysteresis: down below Quorum-Hysteresis, up again at Quorum+Hysteresis);
// w is its up weight, from desired.
func (d *Daemon) checkQuorum(s service, w int) {
	q := s.pool.Quorum
	if q <= 0 {
		q = 1
	}
	was := d.quorumUp[s.vs.Key]
	switch {
	case was && w < q-s.pool.Hysteresis:
		d.quorumUp[s.vs.Key] = false
		d.log.Warn("quorum lost", "service", s.vs.Key.String(), "up_weight", w, "quorum", q)
		d.hookQuorum(s.pool.QuorumDown, "quorum_down", s, w)
		d.tellQuorum(s, false)
	case !was && w >= q+s.pool.Hysteresis:
		d.quorumUp[s.vs.Key] = true
		d.log.Info("quorum regained", "service", s.vs.Key.String(), "up_weight", w, "quorum", q)
		d.hookQuorum(s.pool.QuorumUp, "quorum_up", s, w)
		d.tellQuorum(s, true)
	}
}

// tellQuorum passes a quorum change to Options.OnQuorum.
func (d *Daemon) tellQuorum(s service, up bool) {
	if d.o.OnQuorum != nil {
		d.o.OnQuorum(s.pool.Name, up)
	}
}
