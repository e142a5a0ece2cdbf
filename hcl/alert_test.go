package hcl_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

func TestAlertEmail(t *testing.T) {
	yes := true
	cfg, files, diags := lvshcl.Parse([]byte(`
alert_email {
  smtp_server     = "mail.example.com"
  smtp_port       = 587
  smtp_helo       = "lb1.example.com"
  from            = "lb1@example.com"
  to              = ["ops@example.com", "oncall@example.com"]
  connect_timeout = "10s"
  router_id       = "lb1"
  username        = "lb1"
  password        = "s3cret"
  tls_verify      = false
  smtp_alert      = true
}
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  real_server { address = "10.0.0.1" }
}`), "test.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	assert.Equal(t, &lvshcl.AlertEmail{
		Server: "mail.example.com", Port: 587, Helo: "lb1.example.com", From: "lb1@example.com",
		To: []string{"ops@example.com", "oncall@example.com"}, ConnectTimeout: 10 * time.Second,
		RouterID: "lb1", Username: "lb1", Password: "s3cret", TLSVerify: false, SMTPAlert: &yes,
	}, cfg.Alert)

	cfg, files, diags = lvshcl.Parse([]byte(`
alert_email {
  smtp_server = "192.0.2.25"
  to          = ["ops@example.com"]
}
allow_empty = true
`), "test.hcl")
	require.Len(t, diags, 1, "%s", render(t, files, diags))
	assert.Equal(t, "alert_email sends nothing", diags[0].Summary, "keepalived's default is no mail, worth a warning")
	assert.Equal(t, "test.hcl:2,1-12", diags[0].Subject.String())
	assert.Equal(t, &lvshcl.AlertEmail{Server: "192.0.2.25", Port: 25, To: []string{"ops@example.com"},
		ConnectTimeout: lvshcl.DefaultAlertConnectTimeout, TLSVerify: true}, cfg.Alert, "keepalived's defaults")
}

func TestAlertEmailRejects(t *testing.T) {
	runRejections(t, []rejection{
		{
			name: "no to", src: `alert_email {
  smtp_server = "mail"
}
allow_empty = true`,
			summary: "Missing required argument", detail: `"to"`, line: 1, col: 13,
		},
		{
			name: "bad recipient", src: `alert_email {
  smtp_server = "mail"
  to = ["ops@example.com", "not an address"]
}
allow_empty = true`,
			summary: "Invalid to address", detail: "one e-mail address", line: 3, col: 28,
		},
		{
			name: "port out of range", src: `alert_email {
  smtp_server = "mail"
  smtp_port = 70000
  to = ["ops@example.com"]
}
allow_empty = true`,
			summary: "Invalid smtp_port", detail: "from 1 to 65535", line: 3, col: 15,
		},
		{
			name: "password without username", src: `alert_email {
  smtp_server = "mail"
  to = ["ops@example.com"]
  password = "x"
}
allow_empty = true`,
			summary: "username and password go together", detail: "set both or neither", line: 4, col: 3,
		},
		{
			name: "two blocks", src: `alert_email {
  smtp_server = "mail"
  to = ["ops@example.com"]
}
alert_email {
  smtp_server = "mail2"
  to = ["ops@example.com"]
}
allow_empty = true`,
			summary: "Duplicate alert_email block", detail: "already an alert_email block at test.hcl:1", line: 5, col: 1, ctxLine: 1,
		},
		{
			name: "smtp_alert not a bool", src: `virtual_server "a" {
  address = "192.0.2.1"
  port = 80
  smtp_alert = "yes please"
}`,
			summary: "Incorrect attribute value type", detail: "bool", line: 4, col: 16,
		},
	})
}

// TestAlertEmailPasswordMasked: the password of alert_email never shows in
// a diagnostic.
func TestAlertEmailPasswordMasked(t *testing.T) {
	assertMasked(t, `alert_email {
  smtp_server = "mail"
  to          = ["ops@example.com"]
  username    = "lb1"
  password    = "`+secret+`" "trailing"
}
`)
	assertMasked(t, `alert_email {
  smtp_server = "mail"
  to          = ["ops@example.com"]
  username    = "lb1"
  password    = ["`+secret+`"]
}
allow_empty = true
`)
}

// TestSMTPAlertInheritance: keepalived 2.2's rules. A real server's
// transition: its check's smtp_alert, then its real_server's, then
// alert_email's smtp_alert_checker, then smtp_alert, then true. A quorum
// change: the virtual_server's, then smtp_alert_checker, then smtp_alert,
// then false. A vrrp_instance's: its own, then smtp_alert_vrrp, then
// smtp_alert, then false. Never without alert_email.
func TestSMTPAlertInheritance(t *testing.T) {
	tests := []struct {
		name      string
		global    string // alert_email attributes; "-" for no block
		service   string // virtual_server attribute line
		real      string // real_server attribute line
		check1    string // first check's attribute line
		vrrp      string // vrrp_instance attribute line
		wantReal1 bool   // a transition by the first check (tcp#1)
		wantReal2 bool   // by the second (http#2)
		wantQuorm bool
		wantVRRP  bool
	}{
		{name: "nothing set: keepalived mails real servers only", global: "", wantReal1: true, wantReal2: true},
		{name: "no alert_email: never", global: "-", service: "smtp_alert = true", check1: "smtp_alert = true", vrrp: "smtp_alert = true"},
		{name: "global smtp_alert", global: "smtp_alert = true",
			wantReal1: true, wantReal2: true, wantQuorm: true, wantVRRP: true},
		{name: "smtp_alert_checker over smtp_alert", global: "smtp_alert = true\nsmtp_alert_checker = false",
			wantVRRP: true},
		{name: "smtp_alert_vrrp over smtp_alert", global: "smtp_alert = false\nsmtp_alert_vrrp = true",
			wantVRRP: true},
		{name: "service's is for its quorum only", global: "smtp_alert = false", service: "smtp_alert = true",
			wantQuorm: true},
		{name: "service's false leaves its real servers mailed", service: "smtp_alert = false",
			wantReal1: true, wantReal2: true},
		{name: "check over its service", global: "", service: "smtp_alert = true", check1: "smtp_alert = false",
			wantReal2: true, wantQuorm: true},
		{name: "real_server over its service, check over its real_server", service: "smtp_alert = false",
			real: "smtp_alert = true", check1: "smtp_alert = false", wantReal2: true},
		{name: "instance over the defaults", global: "smtp_alert = true", vrrp: "smtp_alert = false",
			wantReal1: true, wantReal2: true, wantQuorm: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := ""
			if tt.global != "-" {
				src += "alert_email {\n  smtp_server = \"mail\"\n  to = [\"ops@example.com\"]\n" + tt.global + "\n}\n"
			}
			src += `virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  ` + tt.service + `
  real_server {
    address = "10.0.0.1"
    ` + tt.real + `
    check "tcp" {
      ` + tt.check1 + `
    }
    check "http" {}
  }
}
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.10/24"]
  ` + tt.vrrp + `
}
`
			cfg, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
			require.Empty(t, diags.Errs(), "%s", render(t, files, diags))
			p, m := cfg.Pools[0], cfg.Pools[0].Members[0]
			assert.Equal(t, tt.wantReal1, cfg.Alert.ForReal(p, m, "tcp#1"), "tcp#1")
			assert.Equal(t, tt.wantReal2, cfg.Alert.ForReal(p, m, "http#2"), "http#2")
			assert.Equal(t, tt.wantQuorm, cfg.Alert.ForService(p), "quorum")
			assert.Equal(t, tt.wantVRRP, cfg.Alert.ForVRRP(cfg.VRRP.Instances[0]), "vrrp")
		})
	}
}
