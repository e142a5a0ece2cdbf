package main

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// syncAAConf is one director of TestVMSyncActiveActive: the DR service of
// syncRunConf without VRRP, and the sync daemons in mode active-active on
// the directors' direct link (sync0).
const syncAAConf = `
virtual_server "echo" {
  address         = "10.0.5.100"
  port            = 7000
  scheduler       = "rr"
  forwarding      = "dr"
  delay_loop      = 1
  connect_timeout = 1
  warmup          = 0
  check "tcp" {}
  real_server { address = "10.0.5.21" }
}

sync {
  mode           = "active-active"
  interface      = "sync0"
  syncid         = 9
  sync_threshold = [1, 5]
}
`

// TestVMSyncActiveActive: two directors, both active (the VIP local on
// each, as behind ECMP; here each client routes the VIP through one
// director), both running the master and the backup sync daemon. A
// connection through d1 appears in d2's connection table and one through
// d2 in d1's.
func TestVMSyncActiveActive(t *testing.T) {
	requireVM(t)
	l := syncLab(t)
	require.NoError(t, l.AddHost("client2"))
	require.NoError(t, l.Link("sw", "p9", "", "client2", "eth0", "10.0.5.5/24"))
	require.NoError(t, l.Enslave("sw", "p9", "br0"))
	for _, d := range []string{"d1", "d2"} {
		require.NoError(t, l.AddAddr(d, "lo", "10.0.5.100/32"))
		require.NoError(t, l.Sysctl(d, "net.ipv4.conf.all.arp_ignore", "1"))
	}
	// client goes through d1, client2 through d2.
	require.NoError(t, l.Route("client", "10.0.5.100/32", "10.0.5.3"))
	require.NoError(t, l.Route("client2", "10.0.5.100/32", "10.0.5.4"))
	startEcho(t, l, "be1")

	dir := t.TempDir()
	var ds []*daemonProc
	for _, host := range []string{"d1", "d2"} {
		cfg := filepath.Join(dir, host+".hcl")
		require.NoError(t, os.WriteFile(cfg, []byte(syncAAConf), 0o644))
		ds = append(ds, startDaemon(t, "-f", cfg, "--netns", l.NSPath(host), "--state", filepath.Join(dir, host+".json")))
	}
	// Both daemons run on both directors, as ipvsadm shows them.
	for i, host := range []string{"d1", "d2"} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			out := string(lvsctlList(l.NSPath(host), "-L", "--daemon").stdout)
			if strings.Contains(out, "master sync daemon (mcast=sync0, syncid=9") && strings.Contains(out, "backup sync daemon (mcast=sync0, syncid=9") {
				break
			}
			require.True(t, time.Now().Before(deadline), "%s runs %q, want master and backup daemons\n%s", host, out, ds[i].logText())
			time.Sleep(100 * time.Millisecond)
		}
		compareListing(t, l, host, "-L", "--daemon")
		assert.Contains(t, ds[i].logText(), "mode=active-active")
	}

	s1 := dialEchoFrom(t, l, "client")
	s2 := dialEchoFrom(t, l, "client2")
	for i := 0; i < 3; i++ {
		require.NoError(t, s1.echo(i, 3*time.Second))
		require.NoError(t, s2.echo(i, 3*time.Second))
	}
	// Each director holds its own client's connection, and the other's
	// through the sync daemons.
	t.Logf("d2 -Lnc:\n%s", s1.awaitSynced(l, "d2", 10*time.Second))
	t.Logf("d1 -Lnc:\n%s", s2.awaitSynced(l, "d1", 10*time.Second))
	for _, c := range []struct {
		host string
		s    *echoSession
	}{{"d1", s1}, {"d2", s2}} {
		out := string(lvsctlList(l.NSPath(c.host), "-Lnc").stdout)
		assert.Contains(t, out, c.s.local, "%s lost its own connection", c.host)
	}
	compareListing(t, l, "d1", "-Lnc")
}

// dialEchoFrom connects host to the echo service on the VIP, retrying for
// 15 s while the service comes up; the connection closes when t ends.
func dialEchoFrom(t *testing.T, l *lab.Lab, host string) *echoSession {
	t.Helper()
	var c net.Conn
	wait := time.Now().Add(15 * time.Second)
	for {
		err := l.Do(host, func() (err error) {
			c, err = net.DialTimeout("tcp4", "10.0.5.100:7000", 2*time.Second)
			return err
		})
		if err == nil {
			break
		}
		require.True(t, time.Now().Before(wait), "%s cannot connect to the VIP: %v", host, err)
		time.Sleep(200 * time.Millisecond)
	}
	t.Cleanup(func() { c.Close() })
	return &echoSession{t: t, c: c, r: bufio.NewReader(c), local: c.LocalAddr().String()}
}
