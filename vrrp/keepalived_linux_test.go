package vrrp

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Interop with a real keepalived (Debian's keepalived 2.2.7), run VRRP-only
// in a router namespace as a direct child of the test.

func needKeepalived(t testing.TB) string {
	t.Helper()
	needRoot(t)
	path, err := exec.LookPath("keepalived")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("keepalived is not installed (apt-get install keepalived); CI must run the interop tests")
		}
		t.Skip("keepalived is not installed (apt-get install keepalived)")
	}
	return path
}

type keepalived struct {
	t    testing.TB
	host string
	dir  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
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

// kaConfig is a keepalived.conf with one instance on eth0 (VRID 51).
func kaConfig(version int, prio uint8, interval time.Duration, password string, vip netip.Prefix) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  vrrp_version %d\n}\n", version)
	fmt.Fprintf(&b, "vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n")
	fmt.Fprintf(&b, "  priority %d\n  advert_int %s\n", prio, strconv.FormatFloat(interval.Seconds(), 'f', -1, 64))
	if password != "" {
		fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", password)
	}
	fmt.Fprintf(&b, "  virtual_ipaddress {\n    %v\n  }\n}\n", vip)
	return b.String()
}

// keepalived starts keepalived --vrrp in host with conf. Cleanup stops it
// (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (tp *topo) keepalived(host, conf string) *keepalived {
	tp.t.Helper()
	needKeepalived(tp.t)
	k := &keepalived{t: tp.t, host: host, dir: tp.t.TempDir(), out: &syncBuffer{}, done: make(chan struct{})}
	confPath := filepath.Join(k.dir, "keepalived.conf")
	require.NoError(tp.t, os.WriteFile(confPath, []byte(conf), 0o644))
	k.cmd = tp.lab.command(host, "keepalived", "--vrrp", "--dont-fork", "--log-console", "--log-detail",
		"-f", confPath, "-p", filepath.Join(k.dir, "keepalived.pid"), "-r", filepath.Join(k.dir, "vrrp.pid"))
	k.cmd.Stdout, k.cmd.Stderr = k.out, k.out
	require.NoError(tp.t, k.cmd.Start())
	go func() { k.err = k.cmd.Wait(); close(k.done) }()
	tp.t.Cleanup(func() {
		k.stop(syscall.SIGTERM)
		if tp.t.Failed() {
			tp.t.Logf("keepalived in %s:\n%s", host, k.out.String())
		}
	})
	return k
}

// vrrpChild is the pid of keepalived's VRRP child process (0 if unknown).
func (k *keepalived) vrrpChild() int {
	b, err := os.ReadFile(filepath.Join(k.dir, "vrrp.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// stop signals keepalived and waits for it (5 s, then SIGKILL).
func (k *keepalived) stop(sig syscall.Signal) {
	select {
	case <-k.done:
		return
	default:
	}
	_ = k.cmd.Process.Signal(sig)
	select {
	case <-k.done:
	case <-time.After(5 * time.Second):
		k.t.Errorf("keepalived in %s ignored %v for 5 s; killing it", k.host, sig)
		k.crash()
	}
}

// crash is node loss in software: keepalived's processes die without a
// word (no priority-0 advert) and leave the VIP configured. The parent is
// frozen first so that it cannot respawn the VRRP child. It returns when the
// VRRP child was killed.
func (k *keepalived) crash() time.Time {
	_ = k.cmd.Process.Signal(syscall.SIGSTOP)
	killed := time.Now()
	if child := k.vrrpChild(); child > 0 {
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
	_ = k.cmd.Process.Kill()
	select {
	case <-k.done:
	case <-time.After(5 * time.Second):
		k.t.Errorf("keepalived in %s survived SIGKILL for 5 s", k.host)
	}
	// The child was ours too (through keepalived); make sure it is gone.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if child := k.vrrpChild(); child == 0 || !alive(child) {
			return killed
		}
	}
	k.t.Errorf("keepalived's VRRP child in %s survived SIGKILL for 2 s", k.host)
	return killed
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, ok := bytes.Cut(b, []byte(") "))
	return ok && len(rest) > 0 && rest[0] != 'Z'
}

// complaints are keepalived's log lines about packets it rejected.
var complaintRE = regexp.MustCompile(`(?i).*(invalid|mismatch|not present|wrong).*`)

func (k *keepalived) complaints() []string {
	return complaintRE.FindAllString(k.out.String(), -1)
}

func (k *keepalived) waitLog(t testing.TB, substr string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(k.out.String(), substr) {
			return
		}
	}
	t.Fatalf("keepalived in %s did not log %q within %v", k.host, substr, within)
}

var interopCases = []struct {
	name     string
	version  int
	interval time.Duration
	password string
	vip      netip.Prefix
}{
	{"v2-pass-1s", 2, time.Second, "s3cret", vip4},
	{"v3-100ms", 3, 100 * time.Millisecond, "", vip4},
	{"v3-ipv6-100ms", 3, 100 * time.Millisecond, "", vip6},
}

// keepalived is master, lvsctl the backup: we follow its adverts without
// dropping any; its node dies and we take over (gratuitous ARP, the client
// reaches us); it comes back with a higher priority and preempts us; our
// priority rises above its and we preempt it; we stop gracefully and it
// takes over after its skew time.
func TestKeepalivedMasterLvsctlBackup(t *testing.T) {
	t.Parallel() // its own namespaces; waits on VRRP timers, not the CPU
	needKeepalived(t)
	for _, tc := range interopCases {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTopo(t)
			snif := tp.sniff()
			vipAddr := tc.vip.Addr()
			conf := kaConfig(tc.version, 200, tc.interval, tc.password, tc.vip)

			ka := tp.keepalived("r1", conf)
			tp.waitVIP("r1", vipAddr, true, downInterval(tc.interval, 200)+3*time.Second)
			tp.whoHasVIP(vipAddr, "r1")

			cfg := Config{VRID: 51, Version: tc.version, Priority: 100, AdvertInterval: tc.interval,
				Password: tc.password, VIPs: []VIP{{Prefix: tc.vip}}, Track: []Track{{Name: "boost", Weight: 150}}}
			n := tp.start("r2", cfg)
			require.NoError(t, n.in.SetTracked("boost", false))
			n.waitState(StateBackup, time.Second)
			time.Sleep(downInterval(tc.interval, 100) + tc.interval)
			st := n.in.Status()
			require.Equal(t, StateBackup, st.State, "we follow keepalived's adverts")
			assert.Equal(t, uint8(200), st.MasterPriority)
			assert.Greater(t, st.Counters.AdvertsReceived, uint64(2))
			assert.Empty(t, st.Counters.Dropped, "none of keepalived's adverts dropped")
			assert.Zero(t, st.Counters.AddressMismatch)
			if tc.vip.Addr().Is4() {
				assert.Equal(t, netip.MustParseAddr("10.99.0.1"), st.Master)
			} else {
				assert.True(t, st.Master.IsLinkLocalUnicast(), "IPv6 adverts come from the link-local address: %v", st.Master)
			}

			// keepalived's node dies: we take over after Master_Down_Interval.
			before := snif.announced(vipAddr, tp.mac("r2"))
			killed := ka.crash()
			n.waitState(StateMaster, downInterval(tc.interval, 100)+time.Second)
			t.Logf("lvsctl took over %v after keepalived died (Master_Down_Interval %v)",
				n.in.Status().Since.Sub(killed), downInterval(tc.interval, 100))
			tp.waitVIP("r2", vipAddr, true, time.Second)
			snif.waitAnnounced(t, vipAddr, tp.mac("r2"), before+5, time.Second)
			assert.True(t, tp.hasVIP("r1", vipAddr), "a SIGKILLed keepalived leaves its VIP behind")
			tp.whoHasVIP(vipAddr, "r2")

			// keepalived returns with priority 200 > 100 and preempts us.
			ka = tp.keepalived("r1", conf)
			n.waitState(StateBackup, downInterval(tc.interval, 200)+5*time.Second)
			tp.waitVIP("r2", vipAddr, false, time.Second)
			tp.waitVIP("r1", vipAddr, true, time.Second)
			tp.whoHasVIP(vipAddr, "r1")

			// Our priority rises to 250 > 200: we preempt keepalived.
			require.NoError(t, n.in.SetTracked("boost", true))
			n.waitState(StateMaster, downInterval(tc.interval, 250)+time.Second)
			assert.Equal(t, uint8(250), n.in.Status().Priority)
			tp.waitVIP("r1", vipAddr, false, 2*time.Second)
			tp.whoHasVIP(vipAddr, "r2")
			ka.waitLog(t, "Entering BACKUP STATE", time.Second)

			// Graceful stop: keepalived takes over after its skew time.
			start := time.Now()
			n.stop()
			tp.waitVIP("r1", vipAddr, true, downInterval(tc.interval, 200))
			t.Logf("keepalived took over %v after our priority-0 advert (its skew time %v)",
				time.Since(start), time.Duration(56)*tc.interval/256)
			tp.whoHasVIP(vipAddr, "r1")
			assert.Empty(t, ka.complaints(), "keepalived rejected none of our adverts")
		})
	}
}

// lvsctl is master, keepalived the backup: keepalived follows our adverts;
// our cable is pulled and keepalived takes over; the cable comes back and
// we preempt it; we stop gracefully and it takes over after its skew time.
func TestLvsctlMasterKeepalivedBackup(t *testing.T) {
	t.Parallel() // its own namespaces; waits on VRRP timers, not the CPU
	needKeepalived(t)
	for _, tc := range interopCases {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTopo(t)
			snif := tp.sniff()
			vipAddr := tc.vip.Addr()
			cfg := Config{VRID: 51, Version: tc.version, Priority: 200, AdvertInterval: tc.interval,
				Password: tc.password, VIPs: []VIP{{Prefix: tc.vip}}}
			n := tp.start("r1", cfg)
			n.waitState(StateMaster, downInterval(tc.interval, 200)+time.Second)

			ka := tp.keepalived("r2", kaConfig(tc.version, 100, tc.interval, tc.password, tc.vip))
			ka.waitLog(t, "Entering BACKUP STATE", 3*time.Second)
			time.Sleep(downInterval(tc.interval, 100) + 2*tc.interval)
			assert.False(t, tp.hasVIP("r2", vipAddr), "keepalived accepts our adverts and stays backup")
			assert.NotContains(t, ka.out.String(), "Entering MASTER STATE")
			tp.whoHasVIP(vipAddr, "r1")

			// Cable pull: we go FAULT, keepalived takes over.
			tp.cable("r1", false)
			n.waitState(StateFault, time.Second)
			tp.waitVIP("r2", vipAddr, true, downInterval(tc.interval, 100)+time.Second)
			tp.whoHasVIP(vipAddr, "r2")

			// Cable back: we leave FAULT and preempt keepalived (200 > 100).
			before := snif.announced(vipAddr, tp.mac("r1"))
			tp.cable("r1", true)
			n.waitState(StateMaster, downInterval(tc.interval, 200)+2*time.Second)
			tp.waitVIP("r2", vipAddr, false, 2*time.Second)
			snif.waitAnnounced(t, vipAddr, tp.mac("r1"), before+5, time.Second)
			tp.whoHasVIP(vipAddr, "r1")

			// Graceful stop: keepalived takes over after its skew time.
			start := time.Now()
			n.stop()
			tp.waitVIP("r2", vipAddr, true, downInterval(tc.interval, 100))
			t.Logf("keepalived took over %v after our priority-0 advert (its skew time %v)",
				time.Since(start), time.Duration(156)*tc.interval/256)
			tp.whoHasVIP(vipAddr, "r2")
			assert.Empty(t, ka.complaints(), "keepalived rejected none of our adverts")
		})
	}
}
