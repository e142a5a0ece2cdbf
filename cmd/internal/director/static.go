package director

import (
	"fmt"

	"github.com/lvsctl/lvsctl/vrrp"
)

// StaticNet installs keepalived's static_ipaddress, static_routes and
// static_rules (*vrrp.Statics, which also puts back what someone else
// deletes); tests fake it.
type StaticNet interface {
	// Apply makes the set installed, by difference with the last one.
	Apply(vrrp.Static) error
	// Clear removes everything installed.
	Clear() error
}

// staticNet is the runner's: the option's, or a *vrrp.Statics made when
// the first non-empty set comes.
type staticNet struct {
	o   StaticNet
	cur vrrp.Static
}

// applyStatic installs next (Run's goroutine only): at start before the
// instances, as keepalived's VRRP process does, and at each reload that
// changes it. Failures are logged; the rest goes on.
func (r *Runner) applyStatic(next vrrp.Static) {
	s := &r.static
	if s.o == nil {
		if next.Empty() {
			return
		}
		st, err := vrrp.NewStatics()
		if err != nil {
			r.log.Error("cannot install static_ipaddress, static_routes and static_rules", "err", err)
			return
		}
		// Put back what someone else deletes, as keepalived does.
		if err := st.Watch(r.log); err != nil {
			r.log.Warn("static entries deleted by someone else will not be put back", "err", err)
		}
		s.o = st
	}
	if s.cur.Equal(next) {
		return
	}
	if err := s.o.Apply(next); err != nil {
		r.log.Error("static addresses, routes and rules: not all installed", "err", err)
	}
	r.log.Info("static addresses, routes and rules installed", "static_ipaddress", len(next.Addresses),
		"static_routes", len(next.Routes), "static_rules", len(next.Rules), "removed", describeStatic(s.cur.Without(next)))
	s.cur = next
}

// clearStatic removes them, after the instances left (keepalived's
// stop_vrrp).
func (r *Runner) clearStatic() {
	s := &r.static
	if st, ok := s.o.(*vrrp.Statics); ok && r.o.Static == nil {
		defer st.Close() // ours
	}
	if s.o == nil || s.cur.Empty() {
		return
	}
	if err := s.o.Clear(); err != nil {
		r.log.Error("static addresses, routes and rules: not all removed", "err", err)
	} else {
		r.log.Info("static addresses, routes and rules removed", "removed", describeStatic(s.cur))
	}
	s.cur = vrrp.Static{}
}

func describeStatic(s vrrp.Static) []string {
	var out []string
	for _, a := range s.Addresses {
		out = append(out, fmt.Sprintf("address %v dev %s", a.Prefix, a.Dev))
	}
	for _, r := range s.Routes {
		out = append(out, fmt.Sprintf("route %v", r.Dst))
	}
	for _, r := range s.Rules {
		out = append(out, fmt.Sprintf("rule %s", describeRule(r)))
	}
	return out
}

func describeRule(r vrrp.Rule) string {
	s := ""
	if r.From.IsValid() {
		s += "from " + r.From.String() + " "
	}
	if r.To.IsValid() {
		s += "to " + r.To.String() + " "
	}
	return s + fmt.Sprintf("table %d", r.Table)
}
