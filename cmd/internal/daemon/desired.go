package daemon

import (
	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/ipvs"
)

// desired is the table entry of s given the current health: configured real
// servers that are up (with their dynamic weight, if any), failed ones at
// weight 0 when the pool inhibits or left out otherwise, and the sorry
// server when none is up.
func (d *Daemon) desired(s service) ipvs.VirtualService {
	out := s.vs
	out.RealServers = make([]ipvs.RealServer, 0, len(s.vs.RealServers)+1)
	up := 0
	for _, r := range s.vs.RealServers {
		h, checked := d.memberHealth(s, r.Key())
		switch {
		case !checked || h.up:
			if checked && h.weight != checker.NoWeight {
				r.Weight = uint32(h.weight)
			}
			up++
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
	return out
}

// memberHealth returns the health of real server k of s, and whether it is
// checked at all.
func (d *Daemon) memberHealth(s service, k ipvs.RealKey) (health, bool) {
	for _, m := range s.pool.Members {
		if m.Real != k || m.Check == nil {
			continue
		}
		h, ok := d.health[m.Check.Target]
		if !ok {
			return health{up: true, weight: checker.NoWeight}, true
		}
		return h, true
	}
	return health{}, false
}

// upWeight is the sum of the weights of s's up real servers, the measure of
// its quorum.
func (d *Daemon) upWeight(s service) int {
	sum := 0
	for _, r := range d.desired(s).RealServers {
		if s.pool.SorryServer != nil && r.Key() == s.pool.SorryServer.Key() {
			continue
		}
		if h, checked := d.memberHealth(s, r.Key()); checked && !h.up {
			continue
		}
		sum += int(r.Weight)
	}
	return sum
}

// checkQuorum runs the quorum hooks when s crosses its quorum (with
// hysteresis: down below Quorum-Hysteresis, up again at Quorum+Hysteresis).
func (d *Daemon) checkQuorum(s service) {
	q := s.pool.Quorum
	if q <= 0 {
		q = 1
	}
	w := d.upWeight(s)
	was := d.quorumUp[s.vs.Key]
	switch {
	case was && w < q-s.pool.Hysteresis:
		d.quorumUp[s.vs.Key] = false
		d.log.Warn("quorum lost", "service", s.vs.Key.String(), "up_weight", w, "quorum", q)
		d.hookQuorum(s.pool.QuorumDown, "quorum_down", s)
		d.tellQuorum(s, false)
	case !was && w >= q+s.pool.Hysteresis:
		d.quorumUp[s.vs.Key] = true
		d.log.Info("quorum regained", "service", s.vs.Key.String(), "up_weight", w, "quorum", q)
		d.hookQuorum(s.pool.QuorumUp, "quorum_up", s)
		d.tellQuorum(s, true)
	}
}

// tellQuorum passes a quorum change to Options.OnQuorum.
func (d *Daemon) tellQuorum(s service, up bool) {
	if d.o.OnQuorum != nil {
		d.o.OnQuorum(s.pool.Name, up)
	}
}
