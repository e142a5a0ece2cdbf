package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
	"github.com/lvsctl/lvsctl/ipvs"
)

// fourServices is a table of four services; web has a real server whose
// check fails (port down, a closed port) and one without a check, of the
// given weight. keep lists the services to write (all when empty).
func fourServices(down, weight int, keep ...string) string {
	all := map[string]string{
		"web": fmt.Sprintf(`virtual_server "web" {
  address = "10.0.0.1"
  port    = 80
  real_server {
    address = "127.0.0.1"
    port    = %d
    check "tcp" {
      delay_loop      = 1
      connect_timeout = 1
      warmup          = 0
    }
  }
  real_server {
    address = "127.0.0.2"
    port    = 80
    weight  = %d
  }
}
`, down, weight),
		"db":   "virtual_server \"db\" {\n  address = \"10.0.0.2\"\n  port = 3306\n  real_server { address = \"10.0.1.1\" }\n}\n",
		"api":  "virtual_server \"api\" {\n  address = \"10.0.0.3\"\n  port = 443\n  real_server { address = \"10.0.1.1\" }\n}\n",
		"mail": "virtual_server \"mail\" {\n  address = \"10.0.0.4\"\n  port = 25\n  real_server { address = \"10.0.1.1\" }\n}\n",
	}
	if len(keep) == 0 {
		keep = []string{"web", "db", "api", "mail"}
	}
	var b strings.Builder
	for _, k := range keep {
		b.WriteString(all[k])
	}
	return b.String()
}

// closedPort is a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// daemonRun is `lvsctl run` in-process on h's fake kernel with a socket.
type daemonRun struct {
	h    *harness
	k    *lockedKernel // h's fake kernel, which the daemon writes
	sock string
	logs *lockedBuffer
}

// lockedKernel is a Fake behind a mutex: the daemon writes it while the
// test reads it.
type lockedKernel struct {
	mu sync.Mutex
	f  *ipvs.Fake
}

func (k *lockedKernel) Services(ctx context.Context) ([]ipvs.VirtualService, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.Services(ctx)
}

func (k *lockedKernel) Apply(ctx context.Context, ops []ipvs.Op) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.Apply(ctx, ops)
}

func (k *lockedKernel) Close() error { return nil }

func startInProcess(t *testing.T, h *harness, cfg string) *daemonRun {
	t.Helper()
	d := &daemonRun{h: h, k: &lockedKernel{f: h.kernel}, sock: filepath.Join(shortDir(t), "lvsctl.sock"), logs: &lockedBuffer{}}
	h.env.openKernel = func(context.Context, string) (ipvs.Kernel, error) { return d.k, nil }
	e := *h.env
	e.stderr = d.logs
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"run", "-f", cfg, "--socket", d.sock}, &e) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("lvsctl run did not stop")
		}
	})
	return d
}

// cli runs an lvsctl command beside the daemon.
func (d *daemonRun) cli(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	e := *d.h.env
	e.stdout, e.stderr = &out, &errOut
	code := run(context.Background(), args, &e)
	return code, out.String(), errOut.String()
}

func (d *daemonRun) status(t *testing.T) statusapi.Status {
	t.Helper()
	st, _, err := statusapi.Get(context.Background(), d.sock)
	require.NoError(t, err)
	return st
}

// table is the fake kernel's table as plan lines, for comparisons.
func table(t *testing.T, k interface {
	Services(context.Context) ([]ipvs.VirtualService, error)
}) []string {
	t.Helper()
	svcs, err := k.Services(context.Background())
	require.NoError(t, err)
	return render(ipvs.Diff(nil, svcs))
}

func render(ops []ipvs.Op) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.String()
	}
	return out
}

// TestDaemonPath runs lvsctl run in-process with a real server down by
// its check, and drives it with plan and apply: the plan is made by the
// daemon with the current health, apply reloads through it, and an empty
// or destructive file is refused by apply and by SIGHUP, the table left
// as it was, unless the override says so.
func TestDaemonPath(t *testing.T) {
	h := newHarness(t)
	down := closedPort(t)
	file := writeConfig(t, fourServices(down, 1))
	d := startInProcess(t, h, file)

	// Wait for the checked server to be found down and evicted.
	require.Eventually(t, func() bool {
		st, _, err := statusapi.Get(context.Background(), d.sock)
		if err != nil || len(st.Pools) != 4 {
			return false
		}
		for _, p := range st.Pools {
			for _, r := range p.Reals {
				if r.HasCheck && r.Checked && r.State == statusapi.StateDown && !r.InTable {
					return true
				}
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, d.logs.String())
	before := table(t, d.k)
	require.Len(t, before, 4+4, "the down server is out of the table")

	// The unchanged file: nothing to do, although the kernel lacks a
	// server the file lists.
	code, out, errOut := d.cli("plan", "-f", file, "--socket", d.sock)
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "No changes: lvsctl run's table")
	assert.NotContains(t, out, "+ real")

	// An edited file: exactly the edit.
	edited := writeConfig(t, fourServices(down, 5))
	code, out, errOut = d.cli("plan", "-f", edited, "--socket", d.sock)
	assert.Equal(t, 2, code, out+errOut)
	assert.Equal(t, "Plan (by lvsctl run, with the current health): 0 to add, 1 to change, 0 to delete.\n"+
		"  ~ real TCP 10.0.0.1:80 (web) -> 127.0.0.2:80 weight 1 -> 5\n", out)

	// The same as JSON.
	code, out, _ = d.cli("plan", "-f", edited, "--socket", d.sock, "-o", "json")
	assert.Equal(t, 2, code)
	var p statusapi.Plan
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	assert.Equal(t, statusapi.SourceDaemon, p.Source)
	assert.Equal(t, statusapi.Changes{Edit: statusapi.Counts{RealServer: 1}}, p.Changes)
	require.Len(t, p.Ops, 1)
	assert.Equal(t, statusapi.Op{Kind: statusapi.OpEditRealServer, Service: "web", Key: "TCP 10.0.0.1:80", RealServer: "127.0.0.2:80",
		Text: "~ real TCP 10.0.0.1:80 (web) -> 127.0.0.2:80 weight 1 -> 5"}, p.Ops[0])

	// Apply through the daemon: no lock error, the edit made and reported.
	code, out, errOut = d.cli("apply", "-f", edited, "--socket", d.sock)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "~ real TCP 10.0.0.1:80 (web) -> 127.0.0.2:80 weight 1 -> 5\n"+
		"Applied 1 change (by lvsctl run, as a reload of "+edited+").\n", out)
	assert.Contains(t, table(t, d.k), "+ real TCP 10.0.0.1:80 (web) -> 127.0.0.2:80 fwd=nat weight=5")
	st := d.status(t)
	assert.Equal(t, 2, st.Config.Generation)
	require.NotNil(t, st.Config.LastReload)
	assert.True(t, st.Config.LastReload.OK)
	assert.Equal(t, "apply", st.Config.LastReload.Via)
	before = table(t, d.k)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // the test process must survive SIGHUP
	defer signal.Stop(hup)
	sighup := func(src string) {
		t.Helper()
		require.NoError(t, os.WriteFile(file, []byte(src), 0o644))
		n := strings.Count(d.logs.String(), "SIGHUP: reloading")
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
		require.Eventually(t, func() bool {
			st := d.status(t)
			return strings.Count(d.logs.String(), "SIGHUP: reloading") > n && st.Config.LastReload != nil && st.Config.LastReload.Via == "SIGHUP"
		}, 10*time.Second, 10*time.Millisecond)
		time.Sleep(100 * time.Millisecond) // the daemon's pass, if it (wrongly) got one
	}

	refusals := []struct {
		name, src, apply, hup string
	}{
		{"empty", "", "Empty configuration", "1 error, the first: " + file + ":1:1: Error: Empty configuration"},
		{"comments only", "# truncated by a failed copy\n", "Empty configuration", "Empty configuration"},
		{"3 of 4 services", fourServices(down, 5, "web"), "would delete 3 of 4 owned services (db, api, mail); pass --allow-destroy or set allow_destroy = true",
			"would delete 3 of 4 owned services (db, api, mail)"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			gen := d.status(t).Config.Generation
			bad := writeConfig(t, tt.src)
			code, out, errOut := d.cli("apply", "-f", bad, "--socket", d.sock)
			assert.Equal(t, 1, code)
			assert.Contains(t, out+errOut, tt.apply)
			assert.Contains(t, errOut, "kept the running configuration")
			assert.Equal(t, before, table(t, d.k), "the table is untouched")
			st := d.status(t)
			require.NotNil(t, st.Config.LastReload)
			assert.False(t, st.Config.LastReload.OK)
			assert.Equal(t, gen, st.Config.Generation)

			sighup(tt.src)
			st = d.status(t)
			assert.False(t, st.Config.LastReload.OK)
			assert.Contains(t, st.Config.LastReload.Error, tt.hup)
			assert.Equal(t, gen, st.Config.Generation)
			assert.Equal(t, before, table(t, d.k), "the table is untouched")
			assert.Contains(t, d.logs.String(), "reload refused")
		})
	}

	// The plan says apply would refuse it.
	few := writeConfig(t, fourServices(down, 5, "web"))
	code, out, _ = d.cli("plan", "-f", few, "--socket", d.sock)
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "apply would refuse this: it would delete 3 of 4 owned services (db, api, mail)")

	// With the override: applied.
	code, out, errOut = d.cli("apply", "-f", few, "--socket", d.sock, "--allow-destroy")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "- service TCP 10.0.0.2:3306 (db)")
	assert.Contains(t, out, "Applied 3 changes")
	assert.Len(t, table(t, d.k), 2)

	// allow_empty in the file, by SIGHUP: everything goes.
	sighup("allow_empty = true\n")
	st = d.status(t)
	assert.True(t, st.Config.LastReload.OK, st.Config.LastReload.Error)
	require.Eventually(t, func() bool { return len(table(t, d.k)) == 0 }, 10*time.Second, 10*time.Millisecond)
}

// TestDaemonPathInvalidFile: the daemon renders the diagnostics and keeps
// the running configuration.
func TestDaemonPathInvalidFile(t *testing.T) {
	h := newHarness(t)
	file := writeConfig(t, fourServices(closedPort(t), 1))
	d := startInProcess(t, h, file)
	require.Eventually(t, func() bool {
		_, err := os.Lstat(d.sock)
		return err == nil && len(table(t, d.k)) > 0
	}, 10*time.Second, 10*time.Millisecond)
	bad := writeConfig(t, "virtual_server \"web\" {\n  address = \"10.0.0.1\"\n  port = 80\n  schedulr = \"rr\"\n}\n")
	code, out, errOut := d.cli("apply", "-f", bad, "--socket", d.sock)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, bad+":4:3: Error: Unsupported argument")
	assert.Contains(t, errOut, "1 error, lvsctl run kept the running configuration")
	code, _, errOut = d.cli("plan", "-f", bad, "--socket", d.sock)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "1 error, nothing applied")
}

// TestApplyRefusalsKernel: without a daemon, apply refuses an empty file,
// a backend's file and a change that deletes more than half, unless
// overridden; plan says so.
func TestApplyRefusalsKernel(t *testing.T) {
	h := newHarness(t)
	port := closedPort(t)
	all := writeConfig(t, fourServices(port, 1))
	require.Equal(t, 0, h.run("apply", "-f", all), h.errOut.String())
	before := table(t, h.kernel)

	few := writeConfig(t, fourServices(port, 1, "web"))
	tests := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"empty file", []string{"apply", "-f", writeConfig(t, "")}, 1, ":1:1: Error: Empty configuration"},
		{"validate an empty file", []string{"validate", "-f", writeConfig(t, "\n")}, 1, ":1:1: Error: Empty configuration"},
		{"plan an empty file", []string{"plan", "-f", writeConfig(t, "# nothing\n")}, 1, ":1:1: Error: Empty configuration"},
		{"a backend's file", []string{"apply", "-f", writeConfig(t, "realserver {\n  mode = \"dr\"\n  vips = [\"10.0.0.1\"]\n}\n")}, 1,
			"has no virtual_server and no vrrp_instance (a backend's realserver file?)"},
		{"3 of 4 services", []string{"apply", "-f", few}, 1,
			few + ": refused: it would delete 3 of 4 owned services (db, api, mail); pass --allow-destroy or set allow_destroy = true; nothing applied"},
		{"3 of 4 services, cached", []string{"apply", "-f", few}, 1, "would delete 3 of 4 owned services"},
		{"plan says so", []string{"plan", "-f", few}, 2, "apply would refuse this: it would delete 3 of 4 owned services (db, api, mail)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := h.run(tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, h.out.String()+h.errOut.String(), tt.message)
			assert.Equal(t, before, table(t, h.kernel))
		})
	}

	// allow_empty says that deleting everything is meant.
	assert.Equal(t, 2, h.run("plan", "-f", writeConfig(t, "allow_empty = true\n")))
	assert.Contains(t, h.out.String(), "Plan: 0 to add, 0 to change, 4 to delete.")
	assert.NotContains(t, h.out.String(), "refuse")

	// The overrides: the flag, or the file.
	require.Equal(t, 0, h.run("apply", "-f", few, "--allow-destroy"), h.errOut.String())
	assert.Len(t, table(t, h.kernel), 3)
	require.Equal(t, 0, h.run("apply", "-f", all), h.errOut.String())
	require.Equal(t, 0, h.run("apply", "-f", writeConfig(t, "allow_destroy = true\n"+fourServices(port, 1, "db"))), h.errOut.String())
	assert.Len(t, table(t, h.kernel), 2)
}

// TestApplyRefusesRealServerLoss: a service that stays but loses more
// than half of its real servers.
func TestApplyRefusesRealServerLoss(t *testing.T) {
	h := newHarness(t)
	pool := func(n int) string {
		var b strings.Builder
		b.WriteString("virtual_server \"pool\" {\n  address = \"10.0.0.9\"\n  port = 80\n")
		for i := range n {
			fmt.Fprintf(&b, "  real_server { address = \"10.0.2.%d\" }\n", i+1)
		}
		b.WriteString("}\n")
		return b.String()
	}
	require.Equal(t, 0, h.run("apply", "-f", writeConfig(t, pool(4))), h.errOut.String())
	assert.Equal(t, 1, h.run("apply", "-f", writeConfig(t, pool(1))))
	assert.Contains(t, h.errOut.String(), "would delete 3 of 4 real servers of pool (TCP 10.0.0.9:80)")
	assert.Len(t, table(t, h.kernel), 5)
	assert.Equal(t, 0, h.run("apply", "-f", writeConfig(t, pool(2))), "half is not more than half: "+h.errOut.String())
	assert.Len(t, table(t, h.kernel), 3)
}

// TestApplyWhileRunHoldsTheLock: when lvsctl run holds the state lock and
// its socket does not answer, apply says that the daemon owns the table
// (it said "another lvsctl is applying").
func TestApplyWhileRunHoldsTheLock(t *testing.T) {
	h := newHarness(t)
	state := (&globals{}).ownership(h.env).Path
	unlock, err := lockExclusive(context.Background(), state, roleRun, readersWait)
	require.NoError(t, err)
	defer unlock()
	code := h.run("apply", "-f", writeConfig(t, fourServices(closedPort(t), 1)), "--socket", filepath.Join(shortDir(t), "absent.sock"))
	assert.Equal(t, 1, code)
	assert.Contains(t, h.errOut.String(), "--socket")
	code = h.run("apply", "-f", writeConfig(t, fourServices(closedPort(t), 1)))
	assert.Equal(t, 1, code)
	assert.Contains(t, h.errOut.String(), fmt.Sprintf("lvsctl run (pid %d) owns this namespace's IPVS table", os.Getpid()))
	assert.NotContains(t, h.errOut.String(), "is applying")
}

// TestDaemonPathKernelLacks: plan and apply through lvsctl run report what
// the running kernel lacks (as its probe says) on the line that asks for
// it, as they do without a daemon, and the table and the daemon's
// configuration stay as they were.
func TestDaemonPathKernelLacks(t *testing.T) {
	h := newHarness(t)
	var asked []ipvs.Scheduler
	var mu sync.Mutex
	h.env.probe = func(_ context.Context, scheds []ipvs.Scheduler, _ []ipvs.TunnelType) (ipvs.Capabilities, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, scheds...)
		var caps ipvs.Capabilities
		if slices.Contains(scheds, "twos") {
			caps.MissingSchedulers = []ipvs.Scheduler{"twos"}
		}
		return caps, nil
	}
	port := closedPort(t)
	file := writeConfig(t, fourServices(port, 1))
	d := startInProcess(t, h, file)
	require.Eventually(t, func() bool {
		_, err := os.Lstat(d.sock)
		return err == nil && len(table(t, d.k)) > 0
	}, 10*time.Second, 10*time.Millisecond)
	before := table(t, d.k)

	src := strings.Replace(fourServices(port, 1), "port = 3306\n", "port = 3306\n  scheduler = \"twos\"\n", 1)
	require.NotEqual(t, fourServices(port, 1), src, "the test needs db's block")
	twos := writeConfig(t, src)
	line := strings.Count(src[:strings.Index(src, `"twos"`)], "\n") + 1
	for _, cmd := range []string{"plan", "apply"} {
		code, _, errOut := d.cli(cmd, "-f", twos, "--socket", d.sock)
		assert.Equal(t, 1, code, cmd)
		assert.Contains(t, errOut, fmt.Sprintf("%s:%d:", twos, line), cmd)
		assert.Contains(t, errOut, "Error: Scheduler not in this kernel", cmd)
	}
	assert.Equal(t, before, table(t, d.k), "nothing reached the table")
	mu.Lock()
	assert.Contains(t, asked, ipvs.Scheduler("twos"), "the daemon asked the kernel")
	mu.Unlock()
}
