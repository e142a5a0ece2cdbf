package hcl

import (
	"math"
	"net/mail"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// The alert_email block: keepalived's e-mail alerts (global_defs'
// notification_email and smtp_* keywords), sent by `lvsctl run` on a real
// server down or up, a quorum lost or regained and a VRRP state change.
//
//	alert_email {
//	  smtp_server     = "mail.example.com"    # required (smtp_server)
//	  smtp_port       = 25                    # default 25 (smtp_server's port)
//	  smtp_helo       = "lb1.example.com"     # default the host name (smtp_helo_name)
//	  from            = "lb1@example.com"     # default lvsctl@host name (notification_email_from)
//	  to              = ["ops@example.com"]   # required (notification_email)
//	  connect_timeout = 30                    # default 30 s (smtp_connect_timeout)
//	  router_id       = "lb1"                 # subjects' prefix, default the host name (router_id)
//	  username        = "lb1"                 # AUTH PLAIN, optional
//	  password        = "..."
//	  tls_verify      = true                  # STARTTLS certificate check, default true
//	  smtp_alert         = true               # default of every smtp_alert (smtp_alert)
//	  smtp_alert_checker = true               # virtual servers' and checks' (smtp_alert_checker)
//	  smtp_alert_vrrp    = true               # vrrp_instances' (smtp_alert_vrrp)
//	}
//
// smtp_alert = true|false is also an attribute of virtual_server,
// real_server, check and vrrp_instance, with keepalived 2.2's defaults
// (check/check_data.c, vrrp/vrrp.c): a real server's transitions are
// mailed by its check's smtp_alert (lvsctl's: a real server may have
// several checks), else its real_server's, else smtp_alert_checker, else
// smtp_alert, else TRUE (keepalived keeps real server mails on by default,
// for backward compatibility); a virtual_server's quorum changes by its
// smtp_alert (which is for the quorum only, as in keepalived), else
// smtp_alert_checker, else smtp_alert, else false; a vrrp_instance's state
// changes by its smtp_alert, else smtp_alert_vrrp, else smtp_alert, else
// false.

const (
	blockAlertEmail = "alert_email"
	attrSMTPAlert   = "smtp_alert"
)

// AlertEmail is the alert_email block.
type AlertEmail struct {
	Server         string
	Port           uint16 // default 25
	Helo           string // empty: the host name
	From           string // empty: lvsctl@host name
	To             []string
	ConnectTimeout time.Duration // default 30 s
	RouterID       string        // empty: the host name
	Username       string
	Password       string
	TLSVerify      bool
	// The top-level defaults of smtp_alert; nil when not set.
	SMTPAlert, SMTPAlertChecker, SMTPAlertVRRP *bool
}

// silentAlert warns when a's configuration mails nothing: no smtp_alert
// anywhere says true, and keepalived's default is false. def is where
// alert_email is written.
func silentAlert(a *AlertEmail, def hcl.Range, pools []Pool, vr VRRP) hcl.Diagnostics {
	if a == nil {
		return nil
	}
	for _, p := range pools {
		if a.ForService(p) {
			return nil
		}
		for _, m := range p.Members {
			if m.Check == nil {
				continue // never changes state
			}
			names := []string{m.Check.Name}
			for _, c := range m.Check.Also {
				names = append(names, c.Name)
			}
			for _, n := range names {
				if a.ForReal(p, m, n) {
					return nil
				}
			}
		}
	}
	for _, in := range vr.Instances {
		if a.ForVRRP(in) {
			return nil
		}
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagWarning,
		Summary:  "alert_email sends nothing",
		Detail:   "No event of this configuration is mailed: real servers with checks are mailed unless smtp_alert, smtp_alert_checker or their own smtp_alert says false, quorum and VRRP changes only where smtp_alert says true (keepalived's defaults). Set smtp_alert = true in alert_email to mail every event, or in the virtual_server, real_server, check or vrrp_instance blocks to mail.",
		Subject:  def.Ptr(),
	}}
}

// DefaultAlertConnectTimeout is keepalived's smtp_connect_timeout.
const DefaultAlertConnectTimeout = 30 * time.Second

var alertSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "smtp_server", Required: true},
		{Name: "smtp_port"},
		{Name: "smtp_helo"},
		{Name: "from"},
		{Name: "to", Required: true},
		{Name: "connect_timeout"},
		{Name: "router_id"},
		{Name: "username"},
		{Name: "password"},
		{Name: "tls_verify"},
		{Name: attrSMTPAlert},
		{Name: "smtp_alert_checker"},
		{Name: "smtp_alert_vrrp"},
	},
}

// checkerDefault is the smtp_alert of a virtual_server (def false) or a
// real_server (def true) that sets none.
func (a *AlertEmail) checkerDefault(def bool) bool {
	switch {
	case a == nil:
		return false
	case a.SMTPAlertChecker != nil:
		return *a.SMTPAlertChecker
	case a.SMTPAlert != nil:
		return *a.SMTPAlert
	}
	return def
}

// vrrpDefault is the smtp_alert of a vrrp_instance that sets none.
func (a *AlertEmail) vrrpDefault() bool {
	switch {
	case a == nil:
		return false
	case a.SMTPAlertVRRP != nil:
		return *a.SMTPAlertVRRP
	case a.SMTPAlert != nil:
		return *a.SMTPAlert
	}
	return false
}

// ForService says whether a virtual_server's quorum changes send mail:
// its smtp_alert, else smtp_alert_checker, else smtp_alert, else false.
// False without alert_email.
func (a *AlertEmail) ForService(p Pool) bool {
	if a == nil {
		return false
	}
	if p.SMTPAlert != nil {
		return *p.SMTPAlert
	}
	return a.checkerDefault(false)
}

// ForReal says whether a real server's transition caused by check (its
// name, "" for a server with one check) sends mail: the check's
// smtp_alert, else its real_server's (both in m.SMTPAlert), else
// smtp_alert_checker, else smtp_alert, else true, keepalived's default.
// The virtual_server's smtp_alert is for its quorum only, as in keepalived.
// False without alert_email.
func (a *AlertEmail) ForReal(_ Pool, m Member, check string) bool {
	if a == nil {
		return false
	}
	if v, ok := m.SMTPAlert[check]; ok {
		return v
	}
	return a.checkerDefault(true)
}

// ForVRRP says whether an instance's state changes send mail.
func (a *AlertEmail) ForVRRP(in VRRPInstance) bool {
	if a == nil {
		return false
	}
	if in.SMTPAlert != nil {
		return *in.SMTPAlert
	}
	return a.vrrpDefault()
}

// buildAlert decodes and checks the alert_email block, if any, and
// returns where it is written.
func buildAlert(body hcl.Body) (*AlertEmail, hcl.Range, hcl.Diagnostics) {
	content, _, diags := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: blockAlertEmail}}})
	if diags.HasErrors() || len(content.Blocks) == 0 {
		return nil, hcl.Range{}, diags
	}
	blocks := content.Blocks
	b := &builder{}
	for _, extra := range blocks[1:] {
		b.errorAt(extra.DefRange, blocks[0].DefRange.Ptr(), "Duplicate alert_email block",
			"Alerts go to one SMTP relay; there is already an alert_email block at %s.", posString(blocks[0].DefRange))
	}
	d := &decoder{}
	c, more := blocks[0].Body.Content(alertSchema)
	d.diags = append(d.diags, more...)
	at := c.Attributes
	server := decodeString(d, at["smtp_server"])
	port := decodeNumber(d, at["smtp_port"])
	helo := decodeString(d, at["smtp_helo"])
	from := decodeString(d, at["from"])
	to := d.stringList(at["to"])
	timeout := d.raw(at["connect_timeout"])
	routerID := decodeString(d, at["router_id"])
	user := decodeString(d, at["username"])
	pass := decodeString(d, at["password"])
	verify := decodeBool(d, at["tls_verify"])
	flags := map[string]*attr[bool]{}
	for _, n := range []string{attrSMTPAlert, "smtp_alert_checker", "smtp_alert_vrrp"} {
		flags[n] = decodeBool(d, at[n])
	}
	b.diags = append(b.diags, d.diags...)

	a := &AlertEmail{Port: 25, ConnectTimeout: DefaultAlertConnectTimeout, TLSVerify: true}
	if server.ok() {
		a.Server = server.Val
		if strings.TrimSpace(server.Val) == "" || strings.ContainsAny(server.Val, " \t\r\n/") {
			b.errorAt(server.Value, nil, "Invalid smtp_server", "smtp_server is a host name or an address, such as \"mail.example.com\" or \"192.0.2.25\"; got %q.", server.Val)
		}
	}
	if port != nil {
		if n, ok := b.whole(port, 1, math.MaxUint16, "Invalid smtp_port", "smtp_port"); ok {
			a.Port = uint16(n)
		}
	}
	if helo.ok() {
		a.Helo = helo.Val
	}
	if from.ok() {
		a.From = from.Val
		if !mailbox(from.Val) {
			b.errorAt(from.Value, nil, "Invalid from", "from is one e-mail address, such as \"lb1@example.com\", or a mailbox of the relay (\"root\"); got %q.", from.Val)
		}
	}
	if to.ok() {
		if len(to.Val) == 0 {
			b.errorAt(to.Value, nil, "Empty to", "to lists the addresses the alerts go to; give at least one, such as [\"ops@example.com\"].")
		}
		for _, t := range to.Val {
			if !t.ok() {
				continue
			}
			if !mailbox(t.Val) {
				b.errorAt(t.Value, nil, "Invalid to address", "Each element of to is one e-mail address, such as \"ops@example.com\", or a mailbox of the relay (\"root\", as keepalived allows); got %q.", t.Val)
			}
			a.To = append(a.To, t.Val)
		}
	}
	if timeout != nil {
		if dur, ok := b.duration(timeout, false); ok {
			a.ConnectTimeout = dur
		}
	}
	if routerID.ok() {
		a.RouterID = routerID.Val
	}
	if user.ok() {
		a.Username = user.Val
	}
	if pass.ok() {
		a.Password = pass.Val
	}
	if pass.ok() != user.ok() {
		r := at["username"]
		if r == nil {
			r = at["password"]
		}
		b.errorAt(r.Range, nil, "username and password go together", "AUTH needs both username and password; set both or neither.")
	}
	if verify.ok() {
		a.TLSVerify = verify.Val
	}
	set := func(f *attr[bool]) *bool {
		if !f.ok() {
			return nil
		}
		v := f.Val
		return &v
	}
	a.SMTPAlert, a.SMTPAlertChecker, a.SMTPAlertVRRP = set(flags[attrSMTPAlert]), set(flags["smtp_alert_checker"]), set(flags["smtp_alert_vrrp"])
	return a, blocks[0].DefRange, b.diags
}

// mailbox says whether s is an e-mail address, or a bare local part
// ("root") that the relay delivers locally, as keepalived sends it.
func mailbox(s string) bool {
	if _, err := mail.ParseAddress(s); err == nil {
		return true
	}
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-") == ""
}

// smtpAlert decodes an smtp_alert attribute of a virtual_server, check or
// vrrp_instance: nil when absent.
func smtpAlert(d *decoder, a *hcl.Attribute) *bool {
	v := decode(d, a, cty.Bool, func(v cty.Value) bool { return v.True() })
	if !v.ok() {
		return nil
	}
	b := v.Val
	return &b
}
