package daemon

import (
	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/cmd/internal/alert"
)

// alertReal mails a real server's transition when its smtp_alert (the
// check's, else the virtual_server's, else alert_email's defaults) says so.
// Sending only queues: it never delays the checks.
func (d *Daemon) alertReal(ref memberRef, ev checker.Event) {
	if d.o.Alerts == nil || d.cfg == nil || ev.Up == ev.WasUp {
		return
	}
	s, ok := d.services[ref.svc]
	if !ok || !d.cfg.Alert.ForReal(s.pool, ref.member, ev.Check) {
		return
	}
	d.o.Alerts.Send(alert.RealServer(s.pool.Name, ref.svc.String(), ev.Target.Addr.String(), ev.Up, ev.Check, ev.Reason))
}

// alertQuorum mails a virtual service's quorum change when its smtp_alert
// says so.
func (d *Daemon) alertQuorum(s service, up bool, upWeight int) {
	if d.o.Alerts == nil || d.cfg == nil || !d.cfg.Alert.ForService(s.pool) {
		return
	}
	q := s.pool.Quorum
	if q <= 0 {
		q = 1
	}
	d.o.Alerts.Send(alert.Quorum(s.pool.Name, s.vs.Key.String(), up, q, s.pool.Hysteresis, upWeight))
}
