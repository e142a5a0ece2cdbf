package main

import (
	"bufio"
	"fmt"
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

// syncRunConf is one director of TestVMSyncFailover: a DR service on the
// VIP, VRRP on the LAN (eth0), and the IPVS sync daemon on a direct link
// between the directors (sync0), following the VRRP instance.
const syncRunConf = `
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

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  version           = 3
  priority          = %d
  advert_interval   = 0.1
  garp_master_delay = 0
  virtual_ipaddress = ["10.0.5.100/24"]
}

sync {
  interface      = "sync0"
  vrrp_instance  = "VI_1"
  syncid         = 9
  sync_threshold = [1, 5]
}
`

// syncLab is a flat LAN (a bridge in host "sw"): client 10.0.5.2,
// directors d1 10.0.5.3 and d2 10.0.5.4, backend be1 10.0.5.21 with the
// VIP 10.0.5.100 on lo (DR); d1 and d2 also share sync0 (10.0.9.0/24).
func syncLab(t *testing.T) *lab.Lab {
	l := lab.New("vmsync-")
	t.Cleanup(func() { l.Close() })
	for _, h := range []string{"sw", "client", "d1", "d2", "be1"} {
		require.NoError(t, l.AddHost(h))
	}
	require.NoError(t, l.AddBridge("sw", "br0", ""))
	for i, h := range []struct{ name, addr string }{{"client", "10.0.5.2/24"}, {"d1", "10.0.5.3/24"}, {"d2", "10.0.5.4/24"}, {"be1", "10.0.5.21/24"}} {
		port := fmt.Sprintf("p%d", i)
		require.NoError(t, l.Link("sw", port, "", h.name, "eth0", h.addr))
		require.NoError(t, l.Enslave("sw", port, "br0"))
	}
	require.NoError(t, l.Link("d1", "sync0", "10.0.9.1/24", "d2", "sync0", "10.0.9.2/24"))
	for _, k := range []string{"net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.eth0.arp_ignore"} {
		require.NoError(t, l.Sysctl("be1", k, "1"))
	}
	for _, k := range []string{"net.ipv4.conf.all.arp_announce", "net.ipv4.conf.eth0.arp_announce"} {
		require.NoError(t, l.Sysctl("be1", k, "2"))
	}
	require.NoError(t, l.AddAddr("be1", "lo", "10.0.5.100/32"))
	return l
}

// startEcho serves a line echo on :7000 in host.
func startEcho(t *testing.T, l *lab.Lab, host string) {
	var ln net.Listener
	require.NoError(t, l.Do(host, func() (err error) { ln, err = net.Listen("tcp4", ":7000"); return err }))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
}

func TestVMSyncFailover(t *testing.T) {
	requireVM(t)
	l := syncLab(t)
	startEcho(t, l, "be1")
	dir := t.TempDir()
	start := func(host string, prio int) *daemonProc {
		cfg := filepath.Join(dir, host+".hcl")
		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(syncRunConf, prio)), 0o644))
		return startDaemon(t, "-f", cfg, "--netns", l.NSPath(host), "--state", filepath.Join(dir, host+".json"))
	}
	d1 := start("d1", 150)
	d2 := start("d2", 100)

	waitLog := func(d *daemonProc, what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(d.logText(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitLog(d1, `msg="sync daemon started" state=master`)
	waitLog(d2, `msg="sync daemon started" state=backup`)
	// The sysctl, with the kernel's previous value in the log.
	assert.Contains(t, d1.logText(), `msg="sysctl set" sysctl=net.ipv4.vs.sync_threshold value="1\t5" previous="3\t50"`)

	// Both may start as master for a moment: wait until d1 (priority 150)
	// won and each side runs the daemon of its state.
	settled := time.Now().Add(20 * time.Second)
	for !strings.Contains(string(lvsctlList(l.NSPath("d1"), "-L", "--daemon").stdout), "master sync daemon") ||
		!strings.Contains(string(lvsctlList(l.NSPath("d2"), "-L", "--daemon").stdout), "backup sync daemon") {
		require.True(t, time.Now().Before(settled), "the directors never settled as master (d1) and backup (d2)")
		time.Sleep(100 * time.Millisecond)
	}
	// lvsctl list --daemon prints what ipvsadm prints, on both sides.
	out1 := compareListing(t, l, "d1", "-L", "--daemon")
	assert.Contains(t, string(out1), "master sync daemon (mcast=sync0, syncid=9")
	out2 := compareListing(t, l, "d2", "-L", "--daemon")
	assert.Contains(t, string(out2), "backup sync daemon (mcast=sync0, syncid=9")
	compareListing(t, l, "d1", "--list", "--daemon")

	// A long-lived connection through the master (d1 holds the VIP).
	s := dialEcho(t, l)
	for i := 0; i < 10; i++ {
		require.NoError(t, s.echo(i, 3*time.Second))
	}

	// The backup knows the connection before the failover.
	t.Logf("d2 -Lnc:\n%s", s.awaitSynced(l, "d2", 10*time.Second))
	compareListing(t, l, "d2", "-Lnc")

	// The master loses its link; the backup takes the VIP and the
	// connection keeps working.
	require.NoError(t, l.Down("d1", "eth0"))
	waitLog(d2, `msg="sync daemon started" state=master`)
	for i := 200; i < 205; i++ {
		require.NoError(t, s.echo(i, 15*time.Second), "after failover")
	}
	// d1 is in FAULT: its master daemon stopped, nothing else runs.
	waitLog(d1, `msg="sync daemon stopped" state=master`)
	res := lvsctlList(l.NSPath("d1"), "-L", "--daemon")
	assert.Empty(t, string(res.stdout))
	compareListing(t, l, "d2", "-L", "--daemon")
}

// echoSession is a long-lived TCP connection from the lab's client to the
// echo service on the VIP 10.0.5.100:7000, which the sync tests keep open
// across a failover.
type echoSession struct {
	t     *testing.T
	c     net.Conn
	r     *bufio.Reader
	local string // the client's address:port, as -Lnc shows it
}

// dialEcho connects, retrying for 15 s while the VIP comes up; the
// connection closes when t ends.
func dialEcho(t *testing.T, l *lab.Lab) *echoSession {
	t.Helper()
	var c net.Conn
	wait := time.Now().Add(15 * time.Second)
	for {
		err := l.Do("client", func() (err error) {
			c, err = net.DialTimeout("tcp4", "10.0.5.100:7000", 2*time.Second)
			return err
		})
		if err == nil {
			break
		}
		require.True(t, time.Now().Before(wait), "cannot connect to the VIP: %v", err)
		time.Sleep(200 * time.Millisecond)
	}
	t.Cleanup(func() { c.Close() })
	return &echoSession{t: t, c: c, r: bufio.NewReader(c), local: c.LocalAddr().String()}
}

// echo sends line i and reads it back within timeout.
func (s *echoSession) echo(i int, timeout time.Duration) error {
	require.NoError(s.t, s.c.SetDeadline(time.Now().Add(timeout)))
	msg := fmt.Sprintf("ping %d\n", i)
	if _, err := s.c.Write([]byte(msg)); err != nil {
		return err
	}
	got, err := s.r.ReadString('\n')
	if err == nil && got != msg {
		err = fmt.Errorf("echo %q, want %q", got, msg)
	}
	return err
}

// awaitSynced echoes until host's connection table (lvsctl list -Lnc)
// shows the session, within wait, and returns that listing.
func (s *echoSession) awaitSynced(l *lab.Lab, host string, wait time.Duration) []byte {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		res := lvsctlList(l.NSPath(host), "-Lnc")
		if strings.Contains(string(res.stdout), s.local) {
			return res.stdout
		}
		require.True(s.t, time.Now().Before(deadline), "%s never showed %s:\n%s", host, s.local, res.stdout)
		require.NoError(s.t, s.echo(100, 3*time.Second))
		time.Sleep(200 * time.Millisecond)
	}
}
