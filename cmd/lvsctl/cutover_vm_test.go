package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// cutoverKeepalived is a NAT director as keepalived runs it, with TCP
// checks.
const cutoverKeepalived = `global_defs {
    router_id lb1
}
virtual_server 10.0.1.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.0.2.11 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 10.0.2.12 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
`

// kaChecker is keepalived's checker (-C) running in a lab host.
type kaChecker struct {
	cmd  *exec.Cmd
	done chan error
	log  *kaLogBuffer
}

func startKaChecker(t *testing.T, l *lab.Lab, host, conf string) *kaChecker {
	t.Helper()
	const bin = "/usr/sbin/keepalived"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("keepalived is not in the guest (.ci/vm-assets copies it): %v", err)
	}
	dir := t.TempDir()
	k := &kaChecker{done: make(chan error, 1), log: &kaLogBuffer{}}
	k.cmd = exec.Command(bin, "-C", "-n", "-l", "-D", "-f", conf,
		"-p", filepath.Join(dir, "keepalived.pid"), "-c", filepath.Join(dir, "checkers.pid"))
	k.cmd.Stdout, k.cmd.Stderr = k.log, k.log
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, l.Do(host, k.cmd.Start))
	go func() { k.done <- k.cmd.Wait() }()
	t.Cleanup(func() {
		k.kill()
		t.Logf("keepalived log:\n%s", k.log.String())
	})
	return k
}

// kill ends keepalived and its children with SIGKILL: it has no chance to
// delete its virtual servers (the runbook's step).
func (k *kaChecker) kill() {
	if k.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGKILL)
	<-k.done
}

// TestVMCutOver executes docs/import.md's cut-over runbook for a director
// without VRRP, and its roll-back, under traffic: keepalived runs the
// director with a client fetching through the VIP all along and one
// keep-alive connection open; the import, plan --adopt, keepalived killed,
// lvsctl run --adopt; then lvsctl stopped and keepalived started again.
// Not one request may fail, the open connection must keep working, and
// lvsctl must adopt the table without writing to it.
func TestVMCutOver(t *testing.T) {
	requireVM(t)
	l := lab.New("vmcut-")
	t.Cleanup(func() { l.Close() })
	backends, err := l.NATTopology(2)
	require.NoError(t, err)
	for i, b := range backends {
		name := fmt.Sprintf("be%d", i+1)
		_, err := l.Serve(name, b.String()+":80", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, name)
		}))
		require.NoError(t, err)
	}
	ns := l.NSPath("director")
	dir := t.TempDir()
	kaConf := filepath.Join(dir, "keepalived.conf")
	require.NoError(t, os.WriteFile(kaConf, []byte(cutoverKeepalived), 0o644))

	ka := startKaChecker(t, l, "director", kaConf)
	w := tableWatch{t: t, ns: ns}
	w.until(15*time.Second, "keepalived programs the table", func() bool { return len(w.reals(80)) == 2 })
	before := savedTable(t, l, "director")

	// Traffic: a request every 20 ms, each on a new connection.
	var ok, failed atomic.Int64
	var failures sync.Map
	stop := make(chan struct{})
	trafficDone := make(chan struct{})
	go func() {
		defer close(trafficDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			body, err := l.Get(ctx, "client", "http://10.0.1.100/")
			cancel()
			if err != nil || (body != "be1" && body != "be2") {
				failed.Add(1)
				failures.Store(time.Now().Format(time.StampMilli), fmt.Sprintf("%q %v", body, err))
				continue
			}
			ok.Add(1)
		}
	}()
	// One keep-alive connection, used at each step.
	var conn net.Conn
	require.NoError(t, l.Do("client", func() error {
		var err error
		conn, err = net.DialTimeout("tcp", "10.0.1.100:80", 3*time.Second)
		return err
	}))
	defer conn.Close()
	rd := bufio.NewReader(conn)
	useConn := func(step string) {
		t.Helper()
		require.NoError(t, conn.SetDeadline(time.Now().Add(3*time.Second)))
		_, err := fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: vip\r\n\r\n")
		require.NoError(t, err, "%s: the open connection", step)
		resp, err := http.ReadResponse(rd, nil)
		require.NoError(t, err, "%s: the open connection", step)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, step)
	}
	useConn("under keepalived")

	// 1. Import and review; flush_on_exit out for the cut-over.
	cli := newVMCLI(t, ns)
	out := filepath.Join(dir, "lvsctl.hcl")
	require.Equal(t, 0, cli.run("import", "keepalived", kaConf, "-o", out), cli.errOut.String())
	hcl, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Contains(t, string(hcl), "flush_on_exit = true\n")
	require.NoError(t, os.WriteFile(out, []byte(strings.Replace(string(hcl), "flush_on_exit = true\n", "", 1)), 0o600))
	require.Equal(t, 0, cli.run("validate", "-f", out), cli.errOut.String())

	// 2. Plan against keepalived's table: adopted, no change.
	require.Equal(t, 0, cli.run("plan", "--adopt", "-f", out), cli.errOut.String())
	assert.Contains(t, cli.out.String(), "No changes")
	assert.Contains(t, cli.out.String(), "Adopted services")

	// 3. keepalived killed (its table stays), lvsctl run --adopt.
	ka.kill()
	assert.Equal(t, before, savedTable(t, l, "director"), "a killed keepalived leaves its table")
	useConn("between the daemons")
	state := filepath.Join(dir, "state.json")
	d := startDaemon(t, "-f", out, "--netns", ns, "--state", state, "--adopt", "--resync", "1s")
	w.until(10*time.Second, "lvsctl runs", func() bool { return strings.Contains(d.logText(), "msg=running") })
	time.Sleep(3 * time.Second) // a few checks and resyncs (--resync 1s)
	assert.Equal(t, before, savedTable(t, l, "director"), "lvsctl adopted the table as it was")
	assert.NotContains(t, d.logText(), "msg=applied", "nothing written")
	assert.NotContains(t, d.logText(), "msg=applied ", "nothing written")
	useConn("under lvsctl")

	// Roll back: lvsctl stopped (the table stays without flush_on_exit),
	// keepalived started again (it finds its services there).
	d.signal(t, syscall.SIGTERM)
	require.NoError(t, d.wait(t))
	assert.Contains(t, d.logText(), "the IPVS table stays in place")
	assert.Equal(t, before, savedTable(t, l, "director"), "a stopped lvsctl leaves the table without flush_on_exit")
	useConn("between the daemons, back")
	startKaChecker(t, l, "director", kaConf)
	time.Sleep(3 * time.Second)
	assert.Equal(t, before, savedTable(t, l, "director"), "keepalived takes the table back as it was")
	useConn("under keepalived again")

	close(stop)
	<-trafficDone
	failures.Range(func(k, v any) bool { t.Logf("failed at %s: %s", k, v); return true })
	t.Logf("requests: %d answered, %d failed", ok.Load(), failed.Load())
	assert.Zero(t, failed.Load(), "no client request fails during the cut-over and the roll-back")
	assert.Greater(t, ok.Load(), int64(100))
}
