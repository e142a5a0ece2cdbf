package main

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// serveDNS runs a DNS server in host's namespace on addr:53 that answers
// web.test A with 10.1.2.3 (a real server for the dns check: the same
// library's server, in the test only). stop closes it: the port is then
// unreachable.
func serveDNS(t *testing.T, l *lab.Lab, host, addr string) (stop func()) {
	t.Helper()
	var pc net.PacketConn
	require.NoError(t, l.Do(host, func() error {
		var err error
		pc, err = net.ListenPacket("udp4", addr+":53")
		return err
	}))
	mux := dns.NewServeMux()
	mux.HandleFunc("web.test.", func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		rr, _ := dns.NewRR("web.test. 60 IN A 10.1.2.3")
		m.Answer = append(m.Answer, rr)
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: mux}
	go func() { _ = srv.ActivateAndServe() }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = srv.Shutdown()
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestVMPingAndDNSChecks: issue 17's Done-when in the real kernel. lvsctl
// run evicts a real server whose ping check fails (the backend's namespace
// stops answering echo requests: icmp_echo_ignore_all) and one whose DNS
// server stops (port unreachable), and restores each when it answers again.
func TestVMPingAndDNSChecks(t *testing.T) {
	requireVM(t)
	l := lab.New("vmchk-")
	t.Cleanup(func() { l.Close() })
	backends, err := l.NATTopology(2)
	require.NoError(t, err)
	be1, be2 := backends[0].String(), backends[1].String()
	stopDNS := serveDNS(t, l, "be2", be2)
	serveDNS(t, l, "be1", be1)

	dir := t.TempDir()
	conf := writeHCL(t, "lvs.hcl", fmt.Sprintf(`
virtual_server "web" {
  address    = "10.0.1.100"
  port       = 80
  forwarding = "nat"
  delay_loop = 1
  check "ping" {
    connect_timeout = 0.5
    retry           = 0
  }
  real_server { address = %[1]q }
  real_server { address = %[2]q }
}

virtual_server "dns" {
  address    = "10.0.1.100"
  port       = 53
  protocol   = "udp"
  forwarding = "nat"
  delay_loop = 1
  check "dns" {
    type            = "A"
    name            = "web.test"
    connect_timeout = 0.5
    retry           = 0
  }
  real_server { address = %[1]q }
  real_server { address = %[2]q }
}
`, be1, be2))
	ns := l.NSPath("director")
	startDaemon(t, "-f", conf, "--netns", ns, "--state", filepath.Join(dir, "state.json"))
	w := tableWatch{t: t, ns: ns}
	both := func(port uint16) func() bool {
		return func() bool { r := w.reals(port); _, a := r[be1]; _, b := r[be2]; return a && b }
	}
	without := func(port uint16, addr string) func() bool {
		return func() bool { r := w.reals(port); _, in := r[addr]; return !in && len(r) == 1 }
	}
	w.until(15*time.Second, "both up", func() bool { return both(80)() && both(53)() })

	// ping: be1 stops answering echo requests, then answers again.
	require.NoError(t, l.Sysctl("be1", "net.ipv4.icmp_echo_ignore_all", "1"))
	took := w.until(10*time.Second, "be1 evicted by its ping check", without(80, be1))
	t.Logf("ping: evicted in %v", took)
	require.True(t, both(53)(), "the dns service keeps be1")
	require.NoError(t, l.Sysctl("be1", "net.ipv4.icmp_echo_ignore_all", "0"))
	took = w.until(10*time.Second, "be1 restored by its ping check", both(80))
	t.Logf("ping: restored in %v", took)

	// dns: be2's server stops (port unreachable), then starts again.
	stopDNS()
	took = w.until(10*time.Second, "be2 evicted by its dns check", without(53, be2))
	t.Logf("dns: evicted in %v", took)
	require.True(t, both(80)(), "the web service keeps be2")
	serveDNS(t, l, "be2", be2)
	took = w.until(10*time.Second, "be2 restored by its dns check", both(53))
	t.Logf("dns: restored in %v", took)
}
