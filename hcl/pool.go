package hcl

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/ipvs"
)

// pool builds the health policy of virtual service vs, built from s: its
// real servers (reals, parallel to vs.RealServers) with their checks and
// hooks, the sorry server, the quorum and its hooks.
func (b *builder) pool(s *serviceSyntax, vs ipvs.VirtualService, reals []realDef, sorry *ipvs.RealServer) Pool {
	p := Pool{
		Service:          vs.Key,
		Name:             s.Name,
		InhibitOnFailure: s.InhibitOnFailure.ok() && s.InhibitOnFailure.Val,
		SorryServer:      sorry,
		SMTPAlert:        s.Timing.SMTPAlert,
		SorryInhibit:     s.SorryInhibit.ok() && s.SorryInhibit.Val,
		Quorum:           1,
		QuorumUp:         b.hook(s.QuorumUp),
		QuorumDown:       b.hook(s.QuorumDown),
	}

	if s.SorryInhibit != nil && s.Sorry == nil {
		b.errorAt(s.SorryInhibit.Value, nil, "sorry_server_inhibit without sorry_server",
			"sorry_server_inhibit keeps the sorry server in the table with weight 0 while it is not used; this virtual_server has no sorry_server block.")
	}

	quorumOK := s.Quorum == nil
	if s.Quorum != nil {
		var q int64
		q, quorumOK = b.whole(s.Quorum, 1, math.MaxInt32, "Invalid quorum", "quorum")
		if quorumOK {
			p.Quorum = int(q)
		}
	}
	if s.Hysteresis != nil {
		h, ok := b.whole(s.Hysteresis, 0, math.MaxInt32, "Invalid hysteresis", "hysteresis")
		switch {
		case ok && quorumOK && int(h) >= p.Quorum:
			var ctx *hcl.Range
			quorum := "quorum (1, the default)"
			if s.Quorum != nil {
				ctx, quorum = s.Quorum.Value.Ptr(), fmt.Sprintf("quorum (%d, at %s)", p.Quorum, posString(s.Quorum.Value))
			}
			b.errorAt(s.Hysteresis.Value, ctx, "Invalid hysteresis",
				"hysteresis (%d) must be less than %s: the service loses its quorum when the weight of its up real servers falls below quorum - hysteresis, which could never happen. Lower hysteresis or raise quorum.",
				h, quorum)
		case ok:
			p.Hysteresis = int(h)
		}
	}

	// Checks: each block is built once; the service's serve every real
	// server without its own, and are validated even if none uses them.
	// A real server with several checks is up when every one is.
	vsTiming := b.timingValues(s.Timing)
	var svcChecks []*builtCheck
	for _, c := range allChecks(s.Check, s.ExtraChecks) {
		svcChecks = append(svcChecks, b.check(c, vsTiming))
	}
	p.Members = make([]Member, 0, len(reals))
	for i, r := range reals {
		rs := vs.RealServers[i]
		m := Member{
			Real:       rs.Key(),
			NotifyUp:   b.hook(r.syn.NotifyUp),
			NotifyDown: b.hook(r.syn.NotifyDown),
		}
		if r.syn.InhibitOnFailure.ok() {
			v := r.syn.InhibitOnFailure.Val
			m.InhibitOnFailure = &v
		}
		bcs := svcChecks
		if r.syn.Check != nil {
			bcs = nil
			for _, c := range allChecks(r.syn.Check, r.syn.ExtraChecks) {
				bcs = append(bcs, b.check(c, vsTiming))
			}
		}
		hasCheck := len(bcs) > 0
		m.Check = b.specs(bcs, checker.Target{Service: s.Name, Key: vs.Key.String(), Addr: netip.AddrPortFrom(rs.Addr, rs.Port)}, rs, r)
		m.SMTPAlert = checkAlerts(bcs, r.syn.SMTPAlert)
		if !hasCheck {
			for _, h := range []*attr[[]*attr[string]]{r.syn.NotifyUp, r.syn.NotifyDown} {
				if h != nil {
					b.diags = append(b.diags, &hcl.Diagnostic{
						Severity: hcl.DiagWarning,
						Summary:  h.Name + " never runs",
						Detail:   "This real server has no health check (no check block of its own, none in its virtual_server), so it is always up and " + h.Name + " never runs. Add a check block.",
						Subject:  h.Range.Ptr(),
					})
				}
			}
		}
		p.Members = append(p.Members, m)
	}
	return p
}

// checkAlerts is the smtp_alert of each check of bcs, by the name specs
// gives it: the check's, else real (the real_server's), if either is set;
// nil if none is.
func checkAlerts(bcs []*builtCheck, real *bool) map[string]bool {
	var out map[string]bool
	for i, bc := range bcs {
		if bc == nil {
			continue
		}
		v := bc.syn.Timing.SMTPAlert
		if v == nil {
			v = real
		}
		if v == nil {
			continue
		}
		if out == nil {
			out = map[string]bool{}
		}
		name := ""
		if len(bcs) > 1 {
			name = fmt.Sprintf("%s#%d", bc.syn.Kind, i+1)
		}
		out[name] = *v
	}
	return out
}

// allChecks is first and rest, the check blocks of a body in order.
func allChecks(first *checkSyntax, rest []*checkSyntax) []*checkSyntax {
	if first == nil {
		return nil
	}
	return append([]*checkSyntax{first}, rest...)
}

// specs is the checks bcs applied to real server rs: nil without checks
// or when one is invalid (already reported). With several, each is named
// by its type and position ("http#1", "tcp#2") and the first carries the
// others in Spec.Also.
func (b *builder) specs(bcs []*builtCheck, target checker.Target, rs ipvs.RealServer, r realDef) *checker.Spec {
	var out *checker.Spec
	ok := true
	for i, bc := range bcs {
		var sp *checker.Spec
		if bc != nil {
			sp = b.spec(bc, target, rs, r)
		}
		if sp == nil {
			ok = false
			continue
		}
		if out == nil {
			out = sp
		}
		if len(bcs) == 1 {
			break
		}
		checkName := fmt.Sprintf("%s#%d", bc.syn.Kind, i+1)
		if sp == out {
			out.Name = checkName
			continue
		}
		out.Also = append(out.Also, checker.Check{Name: checkName, Prober: sp.Prober, Timing: sp.Timing})
	}
	if !ok {
		return nil
	}
	return out
}

// spec is check bc applied to real server rs (built from r), checking
// target. It reports what bc cannot do for this server and returns nil if bc
// or the server is invalid (already reported).
func (b *builder) spec(bc *builtCheck, target checker.Target, rs ipvs.RealServer, r realDef) *checker.Spec {
	if !bc.ok || !r.addrOK || !r.portOK {
		return nil
	}
	ok := true
	if bc.needPort && rs.Port == 0 {
		ok = false
		if !bc.portReported {
			bc.portReported = true
			b.errorAt(bc.syn.DefRange, nil, "Missing connect_port",
				"Real server %s (at %s) has port 0: a fwmark service forwards every port, so a %q check has no port to connect to. Set connect_port.",
				rs.Addr, posString(r.syn.Address.Value), bc.syn.Kind)
		}
	}
	if bc.bindTo.IsValid() && !bc.connectIP.IsValid() && bc.bindTo.Is4() != rs.Addr.Is4() {
		ok = false
		if !bc.familyReported {
			bc.familyReported = true
			b.errorAt(bc.syn.BindTo.Value, nil, "bind_to address family mismatch",
				"bind_to %s is the source address of the check's connections, and real server %s (at %s) is of the other family. Use a bind_to of the real server's family, or set connect_ip.",
				bc.bindTo, rs.Addr, posString(r.syn.Address.Value))
		}
	}
	if !ok {
		return nil
	}
	return &checker.Spec{
		Target: target,
		Prober: bc.prober,
		Timing: bc.timing,
	}
}
