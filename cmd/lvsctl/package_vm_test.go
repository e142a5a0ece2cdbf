package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// The packaged files as installed; make test-vm puts them into the guest
// (LVSCTL_VM_FILES).
const (
	guestDirectorUnit   = "/lib/systemd/system/lvsctl.service"
	guestRealServerUnit = "/lib/systemd/system/lvsctl-realserver.service"
	guestDefaults       = "/etc/default/lvsctl"
)

// unitRunner runs a unit's Exec lines as systemd would: the argv expanded
// with the EnvironmentFile, the working directory /, the unit's
// CapabilityBoundingSet and NoNewPrivileges (except for "+" lines), its
// StateDirectory and RuntimeDirectory made first, NOTIFY_SOCKET and
// WATCHDOG_USEC for Type=notify. The mount and system-call sandbox is
// systemd's alone; .ci/package-check verifies it with systemd-analyze.
// The process starts in the network namespace ns, so the guest's own is
// left alone. /usr/sbin/lvsctl is this test binary acting as lvsctl
// (LVSCTL_TEST_AS_CLI=1, the one variable added to the unit's
// environment).
type unitRunner struct {
	t      *testing.T
	unit   unitFile
	env    map[string]string
	ns     string // network namespace path
	caps   []uintptr
	notify string // NOTIFY_SOCKET path, "" for none
}

func newUnitRunner(t *testing.T, path, ns string) *unitRunner {
	t.Helper()
	u, err := readUnit(path)
	require.NoError(t, err, "the packaged unit (make test-vm puts it in the guest with LVSCTL_VM_FILES)")
	f, err := os.Open(guestDefaults)
	require.NoError(t, err, "the packaged /etc/default/lvsctl")
	defer f.Close()
	env, err := parseEnvFile(f)
	require.NoError(t, err)
	r := &unitRunner{t: t, unit: u, env: env, ns: ns}
	for _, set := range u["CapabilityBoundingSet"] {
		for _, name := range strings.Fields(set) {
			c, ok := capByName[name]
			require.True(t, ok, "capability %s: add it to capByName", name)
			r.caps = append(r.caps, c)
		}
	}
	require.NotEmpty(t, r.caps, "the unit bounds its capabilities")
	require.Equal(t, []string{"yes"}, u["NoNewPrivileges"])
	for _, key := range []string{"StateDirectory", "RuntimeDirectory"} {
		base := map[string]string{"StateDirectory": "/var/lib", "RuntimeDirectory": "/run"}[key]
		for _, d := range u[key] {
			mode := os.FileMode(0o755)
			if m := u[key+"Mode"]; len(m) == 1 {
				v, err := strconv.ParseUint(m[0], 8, 32)
				require.NoError(t, err)
				mode = os.FileMode(v)
			}
			dir := filepath.Join(base, d)
			require.NoError(t, os.MkdirAll(dir, mode))
			require.NoError(t, os.Chmod(dir, mode))
			t.Cleanup(func() { os.RemoveAll(dir) })
		}
	}
	return r
}

var capByName = map[string]uintptr{
	"CAP_NET_ADMIN":        unix.CAP_NET_ADMIN,
	"CAP_NET_RAW":          unix.CAP_NET_RAW,
	"CAP_NET_BIND_SERVICE": unix.CAP_NET_BIND_SERVICE,
	"CAP_SYS_MODULE":       unix.CAP_SYS_MODULE,
	"CAP_SYS_ADMIN":        unix.CAP_SYS_ADMIN,
}

// command returns the process of one Exec line, not started.
func (r *unitRunner) command(e execLine, extra map[string]string) *exec.Cmd {
	cmd := exec.Command(e.argv[0], e.argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LVSCTL_TEST_AS_CLI=1"}
	for k, v := range mergeEnv(r.env, extra) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if r.notify != "" {
		cmd.Env = append(cmd.Env, "NOTIFY_SOCKET="+r.notify)
		if w := r.unit["WatchdogSec"]; len(w) == 1 {
			d, err := time.ParseDuration(w[0])
			require.NoError(r.t, err)
			cmd.Env = append(cmd.Env, fmt.Sprintf("WATCHDOG_USEC=%d", d.Microseconds()))
		}
	}
	return cmd
}

// start starts cmd in the runner's namespace, from a thread whose bounding
// set is the unit's (unless privileged) and that has no_new_privs, so the
// process gets exactly those capabilities. The thread is never unlocked:
// it dies with its goroutine.
func (r *unitRunner) start(cmd *exec.Cmd, privileged bool) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- func() error {
			f, err := os.Open(r.ns)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("setns %s: %w", r.ns, err)
			}
			if !privileged {
				if err := dropBoundingSet(r.caps); err != nil {
					return err
				}
				if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
					return fmt.Errorf("no_new_privs: %w", err)
				}
			}
			return cmd.Start()
		}()
	}()
	return <-errc
}

func dropBoundingSet(keep []uintptr) error {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return err
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
next:
	for c := uintptr(0); c <= uintptr(last); c++ {
		for _, k := range keep {
			if c == k {
				continue next
			}
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	return nil
}

// runAll runs the Exec lines of key to completion, in order, honouring "-".
func (r *unitRunner) runAll(key string, extra map[string]string) {
	r.t.Helper()
	for _, e := range r.unit.execLines(r.t, key, mergeEnv(r.env, extra)) {
		cmd := r.command(e, extra)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		err := r.start(cmd, e.privileged)
		if err == nil {
			err = cmd.Wait()
		}
		r.t.Logf("%s=%s: %v\n%s", key, strings.Join(e.argv, " "), err, out.String())
		if !e.ignoreFailure {
			require.NoError(r.t, err, "%s=%s", key, strings.Join(e.argv, " "))
		}
	}
}

// notifications listens on a NOTIFY_SOCKET and sends each datagram's
// assignments.
func (r *unitRunner) notifications() <-chan string {
	r.notify = filepath.Join(shortDir(r.t), "notify") // sun_path is short
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: r.notify, Net: "unixgram"})
	require.NoError(r.t, err)
	r.t.Cleanup(func() { c.Close() })
	ch := make(chan string, 64)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := c.ReadFromUnix(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return ch
}

func awaitNotify(t *testing.T, ch <-chan string, want string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case m, ok := <-ch:
			require.True(t, ok, "notify socket closed before %s", want)
			if strings.Contains("\n"+m+"\n", "\n"+want+"\n") {
				return
			}
		case <-deadline:
			t.Fatalf("no %s on NOTIFY_SOCKET within %v", want, limit)
		}
	}
}

// installBinary makes /usr/sbin/lvsctl this test binary.
func installBinary(t *testing.T) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll("/usr/sbin", 0o755))
	os.Remove("/usr/sbin/lvsctl")
	require.NoError(t, os.Symlink(self, "/usr/sbin/lvsctl"))
	t.Cleanup(func() { os.Remove("/usr/sbin/lvsctl") })
}

func writeEtcFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	t.Cleanup(func() { os.Remove(path) })
}

// unitDirectorConfig exercises everything the director unit's sandbox must
// allow: IPVS (NAT with TCP checks), VRRP (raw sockets, the VIP, gratuitous
// ARP) and the sync block, which writes net.ipv4.vs.* sysctls.
const unitDirectorConfig = `
virtual_server "web" {
  address    = "10.0.1.100"
  port       = 80
  scheduler  = "rr"
  forwarding = "nat"
  delay_loop = 1
  warmup     = 0
  check "tcp" {}
  real_server { address = "10.0.2.11" }
  real_server { address = "10.0.2.12" }
}

vrrp_instance "VI_UNIT" {
  interface         = "eth0"
  virtual_router_id = 61
  priority          = 255
  advert_interval   = 1
  virtual_ipaddress = ["10.0.1.200/24"]
}

sync {
  interface     = "eth0"
  vrrp_instance = "VI_UNIT"
  sync_version  = 0
}
`

// TestVMPackagedUnits runs the packaged units' Exec lines as systemd would
// (same flags, same environment file, the unit's capability bounding set
// and no_new_privs) and checks that they work: the director starts, reports
// READY, programs IPVS, serves traffic, holds the VRRP VIP, writes the sync
// sysctls, answers lvsctl status and serves metrics on the address of
// /etc/default/lvsctl, reloads on ExecReload and stops on SIGTERM leaving
// the table; the backend unit's start puts the VIP on lo with the ARP
// sysctls, and its stop undoes that.
func TestVMPackagedUnits(t *testing.T) {
	requireVM(t)
	installBinary(t)
	l := lab.New("vmunit-")
	t.Cleanup(func() { l.Close() })
	_, err := l.NATTopology(2)
	require.NoError(t, err)
	require.NoError(t, l.ServeHTTP("be1", "10.0.2.11:80", "be1"))
	require.NoError(t, l.ServeHTTP("be2", "10.0.2.12:80", "be2"))
	require.NoError(t, l.AddHost("rs"))

	t.Run("director", func(t *testing.T) {
		writeEtcFile(t, "/etc/lvsctl/lvsctl.hcl", unitDirectorConfig)
		r := newUnitRunner(t, guestDirectorUnit, l.NSPath("director"))
		assert.Equal(t, []string{"notify"}, r.unit["Type"])
		r.runAll("ExecStartPre", nil)

		notes := r.notifications()
		starts := r.unit.execLines(t, "ExecStart", r.env)
		require.Len(t, starts, 1)
		cmd := r.command(starts[0], nil)
		var log lockedBuffer
		cmd.Stdout, cmd.Stderr = &log, &log
		require.NoError(t, r.start(cmd, starts[0].privileged))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				<-done
			}
			t.Logf("lvsctl run (as the unit runs it):\n%s", log.String())
		})
		awaitNotify(t, notes, "READY=1", 30*time.Second)

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		body, err := l.Get(ctx, "client", "http://10.0.1.100/")
		require.NoError(t, err, "traffic through the VIP")
		assert.Contains(t, []string{"be1", "be2"}, strings.TrimSpace(body))

		// VRRP: priority 255 owns the address at once.
		require.Eventually(t, func() bool { return hasAddr(t, l, "director", "eth0", "10.0.1.200/24") },
			10*time.Second, 100*time.Millisecond, "the VRRP VIP on eth0")
		// sync {}: the sysctl ProtectKernelTunables=yes would forbid.
		require.Eventually(t, func() bool {
			var v []byte
			_ = l.Do("director", func() error {
				var err error
				v, err = os.ReadFile("/proc/sys/net/ipv4/vs/sync_version")
				return err
			})
			return strings.TrimSpace(string(v)) == "0"
		}, 10*time.Second, 100*time.Millisecond, "net.ipv4.vs.sync_version written")

		// lvsctl status over the socket in the unit's RuntimeDirectory.
		status := exec.Command("/usr/sbin/lvsctl", "status")
		status.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
		st, err := status.CombinedOutput()
		require.NoError(t, err, "%s", st)
		assert.Contains(t, string(st), `virtual_server "web"`)
		// Metrics on the address /etc/default/lvsctl gives.
		require.Contains(t, r.env["LVSCTL_RUN_OPTS"], "--metrics-listen 127.0.0.1:9610")
		m, err := l.Get(ctx, "director", "http://127.0.0.1:9610/metrics")
		require.NoError(t, err)
		assert.Contains(t, m, "lvsctl_build_info")

		// ExecReload with $MAINPID.
		pid := strconv.Itoa(cmd.Process.Pid)
		r.runAll("ExecReload", map[string]string{"MAINPID": pid})
		awaitNotify(t, notes, "RELOADING=1", 10*time.Second)
		awaitNotify(t, notes, "READY=1", 10*time.Second)

		// systemctl stop: SIGTERM, within TimeoutStopSec; the table stays.
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		awaitNotify(t, notes, "STOPPING=1", 10*time.Second)
		select {
		case err := <-done:
			require.NoError(t, err, "lvsctl run exits cleanly on SIGTERM")
		case <-time.After(30 * time.Second):
			t.Fatal("lvsctl run did not stop within TimeoutStopSec")
		}
		body, err = l.Get(ctx, "client", "http://10.0.1.100/")
		require.NoError(t, err, "traffic flows after the daemon stopped")
		assert.Contains(t, []string{"be1", "be2"}, strings.TrimSpace(body))
	})

	t.Run("realserver", func(t *testing.T) {
		writeEtcFile(t, "/etc/lvsctl/realserver.hcl", "realserver {\n  mode = \"dr\"\n  vips = [\"10.0.1.150\"]\n}\n")
		r := newUnitRunner(t, guestRealServerUnit, l.NSPath("rs"))
		assert.Equal(t, []string{"oneshot"}, r.unit["Type"])
		assert.Equal(t, []string{"yes"}, r.unit["RemainAfterExit"])
		sysctl := func(key string) string {
			var v []byte
			require.NoError(t, l.Do("rs", func() error {
				var err error
				v, err = os.ReadFile("/proc/sys/net/ipv4/conf/all/" + key)
				return err
			}))
			return strings.TrimSpace(string(v))
		}
		onLo := func() bool { return hasAddr(t, l, "rs", "lo", "10.0.1.150/32") }
		require.False(t, onLo())
		ignore, announce := sysctl("arp_ignore"), sysctl("arp_announce")
		require.NotEqual(t, "1", ignore, "the test needs a namespace where start has work to do")

		r.runAll("ExecStart", nil)
		assert.True(t, onLo(), "start puts the VIP on lo")
		assert.Equal(t, "1", sysctl("arp_ignore"))
		assert.Equal(t, "2", sysctl("arp_announce"))

		r.runAll("ExecStop", nil)
		assert.False(t, onLo(), "stop removes the VIP")
		assert.Equal(t, ignore, sysctl("arp_ignore"), "stop restores arp_ignore")
		assert.Equal(t, announce, sysctl("arp_announce"), "stop restores arp_announce")
	})
}

// hasAddr reports whether dev in host's namespace has the address prefix
// (such as "10.0.1.150/32").
func hasAddr(t *testing.T, l *lab.Lab, host, dev, prefix string) bool {
	t.Helper()
	found := false
	require.NoError(t, l.Do(host, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		addrs, err := ifi.Addrs()
		for _, a := range addrs {
			found = found || a.String() == prefix
		}
		return err
	}))
	return found
}
