package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// `lvsctl run` as a VRRP-only node (no virtual_server: the host has no
// IPVS, and it is never opened) in one namespace, against keepalived 2.2.7
// in another, on a bridge: 10.99.0.1 is keepalived (r1), 10.99.0.2 lvsctl
// (r2), VIP 10.99.0.100. VRRPv3 at 0.1 s keeps each failover under a
// second.

// requireKeepalived fails in CI when the test cannot run (not root, or no
// keepalived) and skips elsewhere.
func requireKeepalived(t *testing.T) {
	t.Helper()
	requireRoot(t)
	for _, tool := range []string{"keepalived", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (make host-deps); CI must run the VRRP interop tests", tool)
			}
			t.Skipf("%s is not installed (apt-get install keepalived iproute2)", tool)
		}
	}
}

const kaRunConf = `global_defs {
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 0.1
  virtual_ipaddress {
    10.99.0.100/24
  }
}
`

// The lvsctl side: priority 120, 70 while chk_app fails (the flag file is
// missing), FAULT while eth1 is down, every transition written down by the
// generic notify hook.
const vrrpRunConf = `
vrrp_script "chk_app" {
  command  = ["/usr/bin/test", "-e", %q]
  interval = 0.1
  timeout  = 1
  weight   = -50
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  version           = 3
  priority          = 120
  advert_interval   = 0.1
  virtual_ipaddress = ["10.99.0.100/24"]
  track_script      = ["chk_app"]
  track_interface   = ["eth1"]
  garp_master_delay = 0
  notify_master     = ["/bin/sh", "-c", "echo \"$LVSCTL_VRRP_NAME $LVSCTL_VRRP_REASON\" >> \"$0\"", %q]
  notify            = ["/bin/sh", "-c", "echo \"$*\" >> \"$0\"", %q]
}
`

// kaProc is keepalived --vrrp in a namespace, a direct child of the test.
type kaProc struct {
	t    *testing.T
	dir  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startKeepalived(t *testing.T, l *lab.Lab, host string) *kaProc {
	t.Helper()
	k := &kaProc{t: t, dir: t.TempDir(), out: &syncBuffer{}, done: make(chan struct{})}
	conf := filepath.Join(k.dir, "keepalived.conf")
	require.NoError(t, os.WriteFile(conf, []byte(kaRunConf), 0o644))
	k.cmd = exec.Command("ip", "netns", "exec", l.NSName(host), "keepalived", "--vrrp", "--dont-fork", "--log-console",
		"-f", conf, "-p", filepath.Join(k.dir, "keepalived.pid"), "-r", filepath.Join(k.dir, "vrrp.pid"))
	k.cmd.Stdout, k.cmd.Stderr = k.out, k.out
	require.NoError(t, k.cmd.Start())
	go func() { k.cmd.Wait(); close(k.done) }()
	t.Cleanup(func() {
		k.kill()
		if t.Failed() {
			t.Logf("keepalived in %s:\n%s", host, k.out.String())
		}
	})
	return k
}

// kill is node loss: the parent is frozen so that it cannot respawn its
// VRRP child, the child is killed (no priority-0 advert), then the parent.
func (k *kaProc) kill() {
	select {
	case <-k.done:
		return
	default:
	}
	_ = k.cmd.Process.Signal(syscall.SIGSTOP)
	if b, err := os.ReadFile(filepath.Join(k.dir, "vrrp.pid")); err == nil {
		if child, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && child > 0 {
			_ = syscall.Kill(child, syscall.SIGKILL)
		}
	}
	_ = k.cmd.Process.Kill()
	select {
	case <-k.done:
	case <-time.After(5 * time.Second):
		k.t.Errorf("keepalived (pid %d) survived SIGKILL for 5 s", k.cmd.Process.Pid)
	}
}

// waitUntil polls cond every 10 ms for at most within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v", what, within)
	return 0
}

func TestRunVRRPAgainstKeepalived(t *testing.T) {
	requireKeepalived(t)
	l := lab.New(fmt.Sprintf("lvv%d-", os.Getpid()%100000))
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	require.NoError(t, l.AddHost("sw"))
	require.NoError(t, l.AddBridge("sw", "br0", ""))
	for _, h := range []struct{ name, addr string }{{"r1", "10.99.0.1/24"}, {"r2", "10.99.0.2/24"}} {
		require.NoError(t, l.AddHost(h.name))
		require.NoError(t, l.Link("sw", h.name, "", h.name, "eth0", h.addr))
		require.NoError(t, l.Enslave("sw", h.name, "br0"))
	}
	// r2's second interface, which lvsctl tracks: its switch end going
	// down takes its carrier away.
	require.NoError(t, l.Link("sw", "r2b", "", "r2", "eth1", "10.99.1.2/24"))

	dir := t.TempDir()
	flag, master, notify := filepath.Join(dir, "app-ok"), filepath.Join(dir, "master"), filepath.Join(dir, "notify")
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	// Hooks run in the background after the transition: wait for them.
	notified := func(t *testing.T, what string) {
		t.Helper()
		waitUntil(t, 3*time.Second, "notify: "+what, func() bool { return strings.Contains(read(notify), what) })
	}
	hasVIP := func(host string) bool {
		return strings.Contains(strings.Join(addrsIn(t, l, host, "eth0"), " "), "10.99.0.100/24")
	}
	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(vrrpRunConf, flag, master, notify)), 0o644))

	start := time.Now()
	ka := startKeepalived(t, l, "r1")
	took := waitUntil(t, 10*time.Second, "keepalived holds the VIP", func() bool { return hasVIP("r1") })
	t.Logf("keepalived master after %v", took.Round(time.Millisecond))

	// lvsctl starts with chk_app failing: priority 70 < 100, backup. Its
	// instance waited for the script's first result, so it never claimed
	// the VIP with priority 120.
	d := startDaemon(t, "-f", cfg, "--netns", l.NSPath("r2"), "--state", filepath.Join(dir, "state.json"))
	notified(t, "INSTANCE VI_1 BACKUP 70\n")
	assert.Contains(t, d.logText(), "running VRRP only, without IPVS")
	time.Sleep(500 * time.Millisecond) // > Master_Down_Interval (0.32 s)
	assert.False(t, hasVIP("r2"), "keepalived (100) stays master over lvsctl (70)")
	assert.Equal(t, "INSTANCE VI_1 BACKUP 70\n", read(notify))

	t.Run("keepalived dies, lvsctl takes over", func(t *testing.T) {
		killed := time.Now()
		ka.kill()
		waitUntil(t, 3*time.Second, "lvsctl holds the VIP", func() bool { return hasVIP("r2") })
		t.Logf("lvsctl took over %v after keepalived died (Master_Down_Interval 0.3 s + skew)", time.Since(killed).Round(time.Millisecond))
		waitUntil(t, 3*time.Second, "notify_master ran", func() bool { return strings.Contains(read(master), "VI_1 no advert from the master") })
		notified(t, "INSTANCE VI_1 MASTER 70\n")
		// keepalived's node reboots: a SIGKILLed keepalived leaves its VIP
		// behind, a fresh boot does not.
		require.NoError(t, l.Do("r1", func() error { return deleteAddr("eth0", "10.99.0.100/24") }))
	})

	parent := t // keepalived outlives the subtest that starts it
	t.Run("keepalived returns and preempts", func(t *testing.T) {
		ka = startKeepalived(parent, l, "r1")
		waitUntil(t, 10*time.Second, "lvsctl gives the VIP up", func() bool { return !hasVIP("r2") })
		notified(t, "INSTANCE VI_1 MASTER 70\nINSTANCE VI_1 BACKUP 70\n")
	})

	t.Run("track_script up: lvsctl preempts; failing: keepalived preempts", func(t *testing.T) {
		require.NoError(t, os.WriteFile(flag, nil, 0o644))
		took := waitUntil(t, 3*time.Second, "lvsctl (120) preempts keepalived (100)", func() bool { return hasVIP("r2") })
		t.Logf("lvsctl preempted %v after the script recovered", took.Round(time.Millisecond))
		waitUntil(t, 3*time.Second, "keepalived backs off", func() bool { return !hasVIP("r1") })
		notified(t, "INSTANCE VI_1 MASTER 120\n")

		require.NoError(t, os.Remove(flag)) // exit 1: priority 70
		took = waitUntil(t, 3*time.Second, "keepalived preempts lvsctl (70)", func() bool { return hasVIP("r1") && !hasVIP("r2") })
		t.Logf("keepalived preempted %v after the script failed", took.Round(time.Millisecond))
		assert.Contains(t, d.logText(), `msg="vrrp_script down" vrrp_script=chk_app detail="exit status 1"`)
	})

	t.Run("track_interface down: FAULT", func(t *testing.T) {
		require.NoError(t, os.WriteFile(flag, nil, 0o644))
		waitUntil(t, 3*time.Second, "lvsctl master again", func() bool { return hasVIP("r2") })
		require.NoError(t, l.Down("sw", "r2b"))
		notified(t, "INSTANCE VI_1 FAULT 120\n")
		waitUntil(t, 3*time.Second, "VIP moves to keepalived", func() bool { return !hasVIP("r2") && hasVIP("r1") })
		assert.Contains(t, d.logText(), "interface:eth1 down")

		require.NoError(t, l.Up("sw", "r2b", ""))
		waitUntil(t, 3*time.Second, "lvsctl master once eth1 is back", func() bool { return hasVIP("r2") })
	})

	// A reload that only changes a hook keeps the instance running (no
	// STOP, no new election); the new hook runs from the next transition.
	notify2 := filepath.Join(dir, "notify2")
	t.Run("SIGHUP: an unchanged instance keeps running", func(t *testing.T) {
		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(vrrpRunConf, flag, master, notify2)), 0o644))
		d.signal(t, syscall.SIGHUP)
		waitUntil(t, 3*time.Second, "reloaded", func() bool { return strings.Contains(d.logText(), "kept=[VI_1]") })
		assert.True(t, hasVIP("r2"), "still master")
		assert.NotContains(t, read(notify), "STOP")
		require.NoError(t, os.Remove(flag))
		waitUntil(t, 3*time.Second, "new hook", func() bool { return strings.Contains(read(notify2), "INSTANCE VI_1 BACKUP 70\n") })
	})

	t.Run("SIGTERM: lvsctl leaves gracefully", func(t *testing.T) {
		require.NoError(t, os.WriteFile(flag, nil, 0o644))
		waitUntil(t, 3*time.Second, "lvsctl master again", func() bool { return hasVIP("r2") })
		d.signal(t, syscall.SIGTERM)
		require.NoError(t, d.wait(t))
		assert.False(t, hasVIP("r2"), "VIP removed on the way out")
		waitUntil(t, 3*time.Second, "keepalived takes over", func() bool { return hasVIP("r1") })
		assert.True(t, strings.HasSuffix(read(notify2), "INSTANCE VI_1 STOP 120\n"), "notify ran for STOP before exit:\n%s", read(notify2))
	})
	t.Logf("whole scenario: %v", time.Since(start).Round(time.Millisecond))
}
