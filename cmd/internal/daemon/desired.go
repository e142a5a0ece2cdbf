package daemon

import (
	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/ipvs"
)

// The table a service should have, given its real servers' health and its
// quorum, as keepalived 2.2 builds it (check/ipwrapper.c):
//
//   - while the quorum is held, or the service has no sorry server: the
//     real servers that are up (with their dynamic weight, if any); a
//     failed one at weight 0 if it inhibits on failure, else left out;
//     the sorry server left out, or at weight 0 with sorry_server_inhibit;
//   - while the quorum is lost and the service has a sorry server: the
//     sorry server at its weight, and no real server taking traffic: the
//     live ones are taken out too (perform_quorum_state), at weight 0 if
//     they inhibit on failure, as the failed ones.
//
// The quorum is the sum of the weights of the up real servers: lost when it
// falls below quorum - hysteresis, regained at quorum + hysteresis
// (update_quorum_state), and at start held when the weight is at least
// quorum + hysteresis (set_quorum_states, then init_service_vs).

// desired is the table entry of s given the current health and quorum
// state. It also returns the sum of the weights of the up real servers,
// the measure of the pool's quorum.
func (d *Daemon) desired(s service) (vs ipvs.VirtualService, upWeight int) {
	up, ok := d.quorumUp[s.vs.Key]
	if !ok {
		up = initialQuorum(s, d.health)
	}
	return desiredIn(s, d.health, up)
}

// desiredIn is desired with the health of hm and quorum state quorumUp.
func desiredIn(s service, hm map[checker.Target]health, quorumUp bool) (vs ipvs.VirtualService, upWeight int) {
	out := s.vs
	out.RealServers = make([]ipvs.RealServer, 0, len(s.vs.RealServers)+1)
	sorry := !quorumUp && s.pool.SorryServer != nil
	for i, r := range s.vs.RealServers {
		h, checked := memberHealth(s, r.Key(), hm)
		inhibit := s.pool.InhibitOnFailure
		if i < len(s.pool.Members) && s.pool.Members[i].Real == r.Key() {
			inhibit = s.pool.Members[i].Inhibits(s.pool.InhibitOnFailure)
		}
		switch {
		case !checked || h.up:
			if checked && h.weight != checker.NoWeight {
				r.Weight = uint32(h.weight)
			}
			upWeight += int(r.Weight)
			if sorry {
				// Out of the pool while the sorry server serves.
				if !inhibit {
					continue
				}
				r.Weight = 0
			}
		case inhibit:
			r.Weight = 0
		default:
			continue
		}
		out.RealServers = append(out.RealServers, r)
	}
	switch {
	case sorry:
		out.RealServers = append(out.RealServers, *s.pool.SorryServer)
	case s.pool.SorryServer != nil && s.pool.SorryInhibit:
		r := *s.pool.SorryServer
		r.Weight = 0
		out.RealServers = append(out.RealServers, r)
	}
	return out, upWeight
}

// startQuorum sets the quorum state of s, a service just loaded, as
// keepalived's init_service_vs does: held if the weight of its up real
// servers reaches quorum + hysteresis, silently; otherwise lost, and
// quorum_down runs (keepalived runs it when the service has a sorry server;
// lvsctl always, so that a restart below the quorum says so again).
func (d *Daemon) startQuorum(s service) {
	w := upWeightIn(s, d.health)
	up := w >= quorumOf(s)+s.pool.Hysteresis
	d.quorumUp[s.vs.Key] = up
	if up {
		return
	}
	d.log.Warn("starting with quorum lost", append(svcAttrs(s.vs.Name, s.vs.Key), "up_weight", w, "quorum", quorumOf(s))...)
	d.hookQuorum(s.pool.QuorumDown, "quorum_down", s, w)
}

// upWeightIn is the sum of the weights of the up real servers of s.
func upWeightIn(s service, hm map[checker.Target]health) int {
	_, w := desiredIn(s, hm, true)
	return w
}

// initialQuorum is the quorum state of s when it is loaded: held if the
// weight of its up real servers reaches quorum + hysteresis.
func initialQuorum(s service, hm map[checker.Target]health) bool {
	return upWeightIn(s, hm) >= quorumOf(s)+s.pool.Hysteresis
}

func quorumOf(s service) int {
	if s.pool.Quorum <= 0 {
		return 1
	}
	return s.pool.Quorum
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

// checkQuorum updates the quorum state of s from w, the weight of its up
// real servers (upWeightIn), and runs the quorum hooks when s crosses its
// quorum: lost below quorum - hysteresis, regained at quorum + hysteresis.
// Call it before desired, whose table depends on the state.
func (d *Daemon) checkQuorum(s service, w int) {
	q := quorumOf(s)
	was, known := d.quorumUp[s.vs.Key]
	if !known {
		was = initialQuorum(s, d.health)
		d.quorumUp[s.vs.Key] = was
	}
	switch {
	case was && w < q-s.pool.Hysteresis:
		d.quorumUp[s.vs.Key] = false
		d.log.Warn("quorum lost", append(svcAttrs(s.vs.Name, s.vs.Key), "up_weight", w, "quorum", q)...)
		if s.pool.SorryServer != nil {
			d.log.Info("sorry server in, real servers out", append(svcAttrs(s.vs.Name, s.vs.Key), "real", s.pool.SorryServer.Addr.String())...)
		}
		d.hookQuorum(s.pool.QuorumDown, "quorum_down", s, w)
		d.tellQuorum(s, false)
	case !was && w >= q+s.pool.Hysteresis:
		d.quorumUp[s.vs.Key] = true
		d.log.Info("quorum regained", append(svcAttrs(s.vs.Name, s.vs.Key), "up_weight", w, "quorum", q)...)
		if s.pool.SorryServer != nil {
			d.log.Info("sorry server out, real servers back", append(svcAttrs(s.vs.Name, s.vs.Key), "real", s.pool.SorryServer.Addr.String())...)
		}
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
