package daemon

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/alert"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// smtpNS is a network namespace the test creates, joined to the test's by a
// veth pair, in which Debian's aiosmtpd receives mail into a Maildir.
type smtpNS struct {
	name    string
	local   netip.Addr // this side
	peer    netip.Addr // the namespace's side, where aiosmtpd listens
	maildir string
}

// skipOrFail skips the test, or fails it under CI=true.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set and "+format, args...)
	}
	t.Skipf(format, args...)
}

// aiosmtpdPython is a python3 with aiosmtpd: Debian's python3-aiosmtpd is
// for /usr/bin/python3, which may not be the first in PATH.
func aiosmtpdPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import aiosmtpd").Run() == nil {
			return py
		}
	}
	skipOrFail(t, "aiosmtpd is missing (install python3-aiosmtpd; make host-deps does)")
	return ""
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newSMTPNS creates the namespace and starts aiosmtpd in it, on port 2525,
// with tls (its certificate and key files) for STARTTLS when set.
func newSMTPNS(t *testing.T, tls ...func(peer netip.Addr) (cert, key string)) *smtpNS {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "the test needs root to create a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "ip is missing (install iproute2)")
	}
	py := aiosmtpdPython(t)
	var r [3]byte
	_, _ = rand.Read(r[:])
	id := fmt.Sprintf("%02x%02x%02x", r[0], r[1], r[2])
	// 198.18.0.0/15 is for tests (RFC 2544): a random /30.
	base := netip.AddrFrom4([4]byte{198, 18 + r[0]&1, r[1], r[2] &^ 3})
	n := &smtpNS{name: "lvsctl-al-" + id, local: base.Next(), peer: base.Next().Next(), maildir: t.TempDir()}
	hostIf, peerIf := "al"+id+"h", "al"+id+"p"
	run(t, "ip", "netns", "add", n.name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.name).Run() })
	run(t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", peerIf, "netns", n.name)
	run(t, "ip", "addr", "add", n.local.String()+"/30", "dev", hostIf)
	run(t, "ip", "link", "set", hostIf, "up")
	run(t, "ip", "-n", n.name, "link", "set", "lo", "up")
	run(t, "ip", "-n", n.name, "addr", "add", n.peer.String()+"/30", "dev", peerIf)
	run(t, "ip", "-n", n.name, "link", "set", peerIf, "up")

	box := filepath.Join(n.maildir, "box")
	args := []string{"netns", "exec", n.name, py, "-m", "aiosmtpd", "-n", "-l", n.peer.String() + ":2525"}
	for _, f := range tls {
		cert, key := f(n.peer)
		args = append(args, "--tlscert", cert, "--tlskey", key) // and STARTTLS required
	}
	cmd := exec.Command("ip", append(args, "-c", "aiosmtpd.handlers.Mailbox", box)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("aiosmtpd: %s", out.String())
		}
	})
	n.maildir = box
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", n.addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("aiosmtpd does not listen on %s: %v", n.addr(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *smtpNS) addr() string { return net.JoinHostPort(n.peer.String(), "2525") }

// received is one mail as aiosmtpd stored it.
type received struct {
	Subject, From, To, RcptTo, Body string
}

// mails reads the Maildir's new mails.
func (n *smtpNS) mails(t *testing.T) []received {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(n.maildir, "new", "*"))
	var out []received
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		require.NoError(t, err, "%s", raw)
		body, err := io.ReadAll(m.Body)
		require.NoError(t, err)
		out = append(out, received{
			Subject: m.Header.Get("Subject"), From: m.Header.Get("From"), To: m.Header.Get("To"),
			RcptTo: m.Header.Get("X-RcptTo"), Body: strings.ReplaceAll(string(body), "\r\n", "\n"),
		})
	}
	slices.SortFunc(out, func(a, b received) int { return strings.Compare(a.Subject, b.Subject) })
	return out
}

// TestAlertMailsThroughRealSMTP: a real server fails and recovers; a real
// SMTP server (aiosmtpd, in a namespace the test creates) receives the two
// mails keepalived would send, to every recipient.
func TestAlertMailsThroughRealSMTP(t *testing.T) {
	ns := newSMTPNS(t)
	on := true
	f := newFixture(t)
	cfg := f.config(2, nil)
	cfg.Alert = &lvshcl.AlertEmail{
		Server: ns.peer.String(), Port: 2525, Helo: "lb1.example.com", From: "lb1@example.com",
		To: []string{"ops@example.com", "oncall@example.com"}, ConnectTimeout: 10 * time.Second,
		RouterID: "lb1", TLSVerify: true, SMTPAlert: &on,
	}
	sender := alert.New(alert.Options{Hostname: "lb1"})
	sender.Load(cfg.Alert)
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan struct{})
	go func() { sender.Run(ctx); close(sent) }()
	t.Cleanup(func() { cancel(); <-sent })

	f.start(cfg, Options{Alerts: sender})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	f.probes.set("10.0.1.2:80", false)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 1 })
	f.probes.set("10.0.1.2:80", true)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })

	// aiosmtpd stores a mail before its QUIT, the sender counts it after.
	require.Eventually(t, func() bool { return len(ns.mails(t)) >= 2 && sender.Stats().Sent >= 2 }, 20*time.Second, 50*time.Millisecond,
		"two mails; sender: %+v", sender.Stats())
	got := ns.mails(t)
	require.Len(t, got, 2, "no mail for the quorum, which stayed")
	down, up := got[0], got[1]
	assert.Equal(t, "[lb1] Realserver 10.0.1.2:80 of virtual server web (TCP 10.0.0.1:80) - DOWN", down.Subject)
	assert.Equal(t, "[lb1] Realserver 10.0.1.2:80 of virtual server web (TCP 10.0.0.1:80) - UP", up.Subject)
	for _, m := range got {
		assert.Equal(t, "ops@example.com, oncall@example.com", m.RcptTo, "the envelope's recipients")
		assert.Equal(t, "ops@example.com, oncall@example.com", m.To)
		assert.Equal(t, "lb1@example.com", m.From)
		assert.Contains(t, m.Body, "virtual_server: web (TCP 10.0.0.1:80)\nreal_server: 10.0.1.2:80\n")
	}
	assert.Contains(t, down.Body, "=> CHECK failed on service : connect: connection refused <=\n")
	assert.Contains(t, up.Body, "=> CHECK succeed on service : connected <=\n")
	assert.Equal(t, alert.Stats{Queued: 2, Sent: 2}, sender.Stats())
}

// selfSigned writes a self-signed certificate for addr and its key.
func selfSigned(t *testing.T, addr netip.Addr) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: addr.String()},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{addr.AsSlice()}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	kd, err := x509.MarshalECPrivateKey(k)
	require.NoError(t, err)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600))
	return cert, key
}

// TestAlertSTARTTLS: a relay that requires STARTTLS gets the mail over TLS
// (aiosmtpd refuses MAIL FROM before it); with tls_verify, its
// self-signed certificate fails the attempt, logged and counted.
func TestAlertSTARTTLS(t *testing.T) {
	ns := newSMTPNS(t, func(peer netip.Addr) (string, string) { return selfSigned(t, peer) })
	for _, verify := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls_verify=%v", verify), func(t *testing.T) {
			var log syncBuffer
			sender := alert.New(alert.Options{Hostname: "lb1", Attempts: 1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			sender.Load(&lvshcl.AlertEmail{Server: ns.peer.String(), Port: 2525, To: []string{"ops@example.com"},
				ConnectTimeout: 10 * time.Second, TLSVerify: verify})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { sender.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			before := len(ns.mails(t))
			sender.Send(alert.Quorum("web", "TCP 10.0.0.1:80", false, 1, 0, 0))
			require.Eventually(t, func() bool { st := sender.Stats(); return st.Sent+st.Failed == 1 }, 20*time.Second, 20*time.Millisecond)
			if !verify {
				assert.Equal(t, uint64(1), sender.Stats().Sent, "%s", log.String())
				assert.Len(t, ns.mails(t), before+1)
				return
			}
			assert.Equal(t, uint64(1), sender.Stats().Failed)
			assert.Contains(t, log.String(), "STARTTLS: tls: failed to verify certificate")
		})
	}
}
