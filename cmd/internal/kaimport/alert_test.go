package kaimport

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// TestAlertEmail: global_defs' e-mail keywords become alert_email, and
// smtp_alert at each level keeps keepalived's meaning.
func TestAlertEmail(t *testing.T) {
	res, cfg := importSrc(t, `
global_defs {
    notification_email {
        ops@example.com
        root
    }
    notification_email_from lb1@example.com
    smtp_server mail.example.com 587
    smtp_helo_name lb1.example.com
    smtp_connect_timeout 20
    router_id LB1
    smtp_alert_checker
    smtp_alert_vrrp off
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1/24
    }
    smtp_alert
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    smtp_alert off
    real_server 10.0.1.1 80 {
        smtp_alert
        TCP_CHECK {
        }
    }
    real_server 10.0.1.2 80 {
        TCP_CHECK {
        }
    }
}
`)
	assert.True(t, res.Complete(), "%s", diagLines(res))
	yes, no := true, false
	assert.Equal(t, &lvshcl.AlertEmail{
		Server: "mail.example.com", Port: 587, Helo: "lb1.example.com", From: "lb1@example.com",
		To: []string{"ops@example.com", "root"}, ConnectTimeout: 20 * time.Second, RouterID: "LB1",
		TLSVerify: true, SMTPAlertChecker: &yes, SMTPAlertVRRP: &no,
	}, cfg.Alert)
	require.Len(t, cfg.Pools, 1)
	p := cfg.Pools[0]
	assert.False(t, cfg.Alert.ForService(p), "the virtual_server's smtp_alert off")
	assert.True(t, cfg.Alert.ForReal(p, p.Members[0], ""), "the real_server's smtp_alert")
	assert.True(t, cfg.Alert.ForReal(p, p.Members[1], ""), "smtp_alert_checker: the virtual_server's smtp_alert is for its quorum only")
	assert.True(t, cfg.Alert.ForVRRP(cfg.VRRP.Instances[0]), "the instance's over smtp_alert_vrrp off")
}

// TestAlertEmailIncomplete: without smtp_server (or recipients) keepalived
// sends nothing; the keywords are noted, not warned about.
func TestAlertEmailIncomplete(t *testing.T) {
	res, cfg := importSrc(t, `
global_defs {
    notification_email {
        ops@example.com
    }
    router_id LB1
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server 10.0.1.1 80 {
    }
}
`)
	assert.True(t, res.Complete(), "%s", diagLines(res))
	assert.Nil(t, cfg.Alert)
	assert.Equal(t, `k.conf:3: note: notification_email: without both smtp_server and notification_email keepalived sends no e-mail alerts; neither does the translation
k.conf:6: note: router_id: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
`, diagLines(res))
}
