package alert

import (
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// Load makes a configuration's alert_email the Sender's: where mail goes
// and, for VRRP, which instances send it. A nil a (no alert_email) stops
// the alerts. A nil Sender ignores it.
func (s *Sender) Load(a *lvshcl.AlertEmail) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.hcl = a
	s.mu.Unlock()
	if a == nil {
		s.Configure(nil)
		return
	}
	s.Configure(&Config{
		Server: a.Server, Port: a.Port, Helo: a.Helo, From: a.From, To: a.To,
		ConnectTimeout: a.ConnectTimeout, RouterID: a.RouterID,
		Username: a.Username, Password: a.Password, TLSVerify: a.TLSVerify,
	})
}

// VRRPTransition mails an instance's state change when its smtp_alert
// (else alert_email's smtp_alert_vrrp, else smtp_alert) says so. It only
// queues: VRRP's state machine calls it.
func (s *Sender) VRRPTransition(in lvshcl.VRRPInstance, t vrrp.Transition) {
	if s == nil || t.From == t.To {
		return
	}
	s.mu.Lock()
	a := s.hcl
	s.mu.Unlock()
	if !a.ForVRRP(in) {
		return
	}
	s.Send(VRRP(in.Config.Name, t.From.String(), t.To.String(), t.Reason))
}
