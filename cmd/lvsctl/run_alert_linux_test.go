package main

import (
	"bytes"
	"fmt"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// `lvsctl run` mails a VRRP instance's state changes (smtp_alert) through
// the alert_email of its file, to aiosmtpd in another namespace: the
// wiring of run (sender, director, reload) end to end.
const alertRunConf = `
alert_email {
  smtp_server     = "10.98.0.1"
  smtp_port       = 2525
  from            = "lb2@example.com"
  to              = ["ops@example.com", "root"]
  router_id       = "lb2"
  smtp_alert_vrrp = false
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 52
  version           = 3
  priority          = 120
  advert_interval   = 0.1
  virtual_ipaddress = ["10.98.0.100/24"]
  smtp_alert        = true
}
`

func TestRunAlertMailsVRRP(t *testing.T) {
	requireRoot(t)
	py := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import aiosmtpd").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and aiosmtpd is missing (install python3-aiosmtpd; make host-deps does)")
		}
		t.Skip("aiosmtpd is missing (install python3-aiosmtpd; make host-deps does)")
	}
	l := lab.New(fmt.Sprintf("lva%d-", os.Getpid()%100000))
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	require.NoError(t, l.AddHost("mx"))
	require.NoError(t, l.AddHost("r2"))
	require.NoError(t, l.Link("mx", "eth0", "10.98.0.1/24", "r2", "eth0", "10.98.0.2/24"))

	dir := t.TempDir()
	box := filepath.Join(dir, "box")
	smtp := exec.Command("ip", "netns", "exec", l.NSName("mx"), py, "-m", "aiosmtpd", "-n", "-l", "10.98.0.1:2525",
		"-c", "aiosmtpd.handlers.Mailbox", box)
	var out bytes.Buffer
	smtp.Stdout, smtp.Stderr = &out, &out
	require.NoError(t, smtp.Start())
	smtpDone := make(chan struct{})
	go func() { _ = smtp.Wait(); close(smtpDone) }()
	t.Cleanup(func() {
		_ = smtp.Process.Kill()
		<-smtpDone
		if t.Failed() {
			t.Logf("aiosmtpd: %s", out.String())
		}
	})
	waitUntil(t, 10*time.Second, "aiosmtpd listens", func() bool {
		return l.Do("r2", func() error {
			c, err := net.DialTimeout("tcp", "10.98.0.1:2525", 200*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err
		}) == nil
	})

	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(alertRunConf), 0o644))
	d := startDaemon(t, "-f", cfg, "--netns", l.NSPath("r2"), "--state", filepath.Join(dir, "state.json"))

	type got struct{ subject, rcpt, body string }
	mails := func() []got {
		files, _ := filepath.Glob(filepath.Join(box, "new", "*"))
		var out []got
		for _, f := range files {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			m, err := mail.ReadMessage(bytes.NewReader(raw))
			require.NoError(t, err)
			var body bytes.Buffer
			_, _ = body.ReadFrom(m.Body)
			out = append(out, got{m.Header.Get("Subject"), m.Header.Get("X-RcptTo"), body.String()})
		}
		return out
	}
	has := func(subject string) *got {
		for _, m := range mails() {
			if m.subject == subject {
				return &m
			}
		}
		return nil
	}
	waitUntil(t, 15*time.Second, "the MASTER mail", func() bool { return has("[lb2] VRRP Instance VI_1 - Entering MASTER state") != nil })
	m := has("[lb2] VRRP Instance VI_1 - Entering MASTER state")
	assert.Equal(t, "ops@example.com, root", m.rcpt)
	assert.True(t, strings.HasPrefix(m.body, "=> VRRP Instance is now owning VRRP VIPs <="), "%q", m.body)
	assert.NotNil(t, has("[lb2] VRRP Instance VI_1 - Entering BACKUP state"), "the start, INIT to BACKUP, is mailed too")

	// A reload takes the new alert_email at once: the instance, restarted
	// by its new priority, mails under the new router_id.
	conf := strings.Replace(strings.Replace(alertRunConf, `"lb2"`, `"lb2b"`, 1), "= 120", "= 110", 1)
	require.NoError(t, os.WriteFile(cfg, []byte(conf), 0o644))
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGHUP))
	waitUntil(t, 15*time.Second, "the MASTER mail after the reload", func() bool {
		return has("[lb2b] VRRP Instance VI_1 - Entering MASTER state") != nil
	})
}
