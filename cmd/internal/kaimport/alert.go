package kaimport

import (
	"net/mail"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// keepalived's e-mail alerts: global_defs' notification_email,
// notification_email_from, smtp_server, smtp_helo_name,
// smtp_connect_timeout, router_id and smtp_alert(_vrrp, _checker) become
// an alert_email block; smtp_alert in a virtual_server, real_server or
// vrrp_instance becomes its smtp_alert attribute.

// alertDefs is what global_defs says about e-mail alerts.
type alertDefs struct {
	top      *Stmt // the global_defs
	to       []string
	from     string
	server   string
	port     int
	helo     string
	timeout  float64
	routerID *Stmt
	flags    []*hattr // smtp_alert, smtp_alert_vrrp, smtp_alert_checker
	stmts    []*Stmt  // the keywords read, dropped if no block comes of them
}

// alertKeyword translates the alert keywords of block where (b's), and
// says whether s was one. unsupported asks it first.
func (t *translator) alertKeyword(b *hblock, s *Stmt, where string) bool {
	kw := s.Keyword()
	switch where {
	case "virtual_server", "real_server", "vrrp_instance":
		if kw != "smtp_alert" {
			return false
		}
		if v, ok := t.flag(b, s); ok {
			b.set("smtp_alert", cty.BoolVal(v))
		}
		return true
	case "global_defs":
	default:
		return false
	}
	if t.alert == nil {
		t.alert = &alertDefs{}
	}
	a := t.alert
	a.stmts = append(a.stmts, s)
	switch kw {
	case "notification_email":
		for _, c := range s.Block {
			for _, w := range c.Words {
				if !mailbox(w) {
					t.drop(b, c, Warning, "%q is not an e-mail address", w)
					continue
				}
				a.to = append(a.to, w)
			}
		}
	case "notification_email_from":
		from := strings.Join(s.Args(), " ")
		if !mailbox(from) {
			t.drop(b, s, Warning, "%q is not an e-mail address", from)
			return true
		}
		a.from = from
	case "smtp_server":
		a.server = s.Arg(0)
		if p := s.Arg(1); p != "" {
			n, ok := t.number(b, s, 1, 1, 65535, true)
			if !ok {
				return true
			}
			a.port = int(n)
		}
	case "smtp_helo_name":
		a.helo = s.Arg(0)
	case "smtp_connect_timeout":
		if f, ok := t.duration(b, s, false); ok {
			a.timeout = f
		}
	case "router_id", "lvs_id":
		a.routerID = s
	case "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker":
		if v, ok := t.flag(b, s); ok {
			a.flags = append(a.flags, &hattr{kw, cty.BoolVal(v)})
		}
	default:
		a.stmts = a.stmts[:len(a.stmts)-1]
		return false
	}
	return true
}

// mailbox says whether keepalived would send to (or from) s, and lvsctl
// too: an address, or a bare local part ("root", "acassen") that the
// relay delivers locally.
func mailbox(s string) bool {
	if _, err := mail.ParseAddress(s); err == nil {
		return true
	}
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-") == ""
}

// emitAlert emits the alert_email block of global_defs s (g is its
// output), once its keywords are read.
func (t *translator) emitAlert(g *hblock, s *Stmt) {
	a := t.alert
	if a == nil || a.top != nil {
		return
	}
	a.top = s
	if a.server == "" || len(a.to) == 0 {
		for _, st := range a.stmts {
			if st.Keyword() == "router_id" || st.Keyword() == "lvs_id" {
				t.drop(g, st, Note, "router_id names this host in e-mail alerts; without smtp_server and notification_email there are none")
				continue
			}
			t.drop(g, st, Note, "without both smtp_server and notification_email keepalived sends no e-mail alerts; neither does the translation")
		}
		return
	}
	ab := newBlock("alert_email")
	ab.set("smtp_server", str(a.server))
	if a.port != 0 {
		ab.set("smtp_port", cty.NumberIntVal(int64(a.port)))
	}
	if a.helo != "" {
		ab.set("smtp_helo", str(a.helo))
	}
	if a.from != "" {
		ab.set("from", str(a.from))
	}
	to := make([]cty.Value, 0, len(a.to))
	for _, x := range a.to {
		to = append(to, str(x))
	}
	ab.set("to", cty.ListVal(to))
	if a.timeout != 0 {
		ab.set("connect_timeout", cty.NumberFloatVal(a.timeout))
	}
	if a.routerID != nil && a.routerID.Arg(0) != "" {
		ab.set("router_id", str(a.routerID.Arg(0)))
	}
	for _, f := range a.flags {
		ab.set(f.name, f.val)
	}
	ab.src = s
	ab.lead = hcomment{s.Pos.String() + ": global_defs"}
	t.emitBlock(ab)
}
