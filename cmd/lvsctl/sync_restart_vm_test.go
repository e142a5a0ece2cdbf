package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncMaxLenConf is syncRunConf with sync_maxlen = 64: the kernel runs the
// backup daemon with 1024, its floor.
var syncMaxLenConf = strings.Replace(syncRunConf, "  syncid         = 9\n", "  syncid         = 9\n  sync_maxlen    = 64\n", 1)

// TestVMSyncUnchangedIsNotRestarted: with sync_maxlen = 64, a SIGHUP of an
// unchanged file and a SIGTERM + start of the backup director leave the
// sync daemons running, with no stop or start logged; the start line says
// what the kernel applies; a quick BACKUP-MASTER-BACKUP flip of the
// backup ends with the daemons running; a connection still survives a
// failover after.
func TestVMSyncUnchangedIsNotRestarted(t *testing.T) {
	requireVM(t)
	require.Contains(t, syncMaxLenConf, "sync_maxlen    = 64")
	l := syncLab(t)
	startEcho(t, l, "be1")
	dir := t.TempDir()
	args := func(host string, prio int) []string {
		cfg := filepath.Join(dir, host+".hcl")
		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(syncMaxLenConf, prio)), 0o644))
		return []string{"-f", cfg, "--netns", l.NSPath(host), "--state", filepath.Join(dir, host+".json")}
	}
	d1Args, d2Args := args("d1", 150), args("d2", 100)
	sock := filepath.Join(dir, "d2.sock")
	d2Args = append(d2Args, "--socket", sock)
	status := func() string {
		var out, errOut bytes.Buffer
		e := defaultEnv()
		e.stdout, e.stderr = &out, &errOut
		run(context.Background(), []string{"status", "--socket", sock}, e)
		return out.String() + errOut.String()
	}
	d1 := startDaemon(t, d1Args...)
	d2 := startDaemon(t, d2Args...)
	waitLog := func(t *testing.T, d *daemonProc, what string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(d.logText(), what) < n {
			require.True(t, time.Now().Before(deadline), "no %q (x%d) in the log", what, n)
			time.Sleep(50 * time.Millisecond)
		}
	}
	daemons := func(host string) string { return string(lvsctlList(l.NSPath(host), "-L", "--daemon").stdout) }
	// Both may start as master for a moment: settled is d1 master and d2
	// backup for a whole second.
	settled := time.Now().Add(20 * time.Second)
	for stable := 0; stable < 10; time.Sleep(100 * time.Millisecond) {
		stable++
		if !strings.Contains(daemons("d1"), "master sync daemon") || !strings.Contains(daemons("d2"), "backup sync daemon") {
			stable = 0
		}
		require.True(t, time.Now().Before(settled), "never settled: d1 %q, d2 %q", daemons("d1"), daemons("d2"))
	}
	assert.Contains(t, daemons("d2"), "backup sync daemon (mcast=sync0, syncid=9, maxlen=1024")
	assert.Contains(t, daemons("d1"), "master sync daemon (mcast=sync0, syncid=9, maxlen=64")
	assert.Contains(t, d2.logText(), "state=backup interface=sync0 syncid=9 group=224.0.0.81 port=8848 ttl=1 maxlen=1024 configured_maxlen=64")
	// Count what comes after.
	d1Stops, d2Stops := strings.Count(d1.logText(), `msg="sync daemon stopped"`), strings.Count(d2.logText(), `msg="sync daemon stopped"`)
	d1Starts, d2Starts := strings.Count(d1.logText(), `msg="sync daemon started"`), strings.Count(d2.logText(), `msg="sync daemon started"`)

	outer := t
	t.Run("SIGHUP with the file unchanged", func(t *testing.T) {
		for _, d := range []*daemonProc{d1, d2} {
			d.signal(t, syscall.SIGHUP)
			waitLog(t, d, "msg=reloaded", 1)
		}
		time.Sleep(time.Second)
		assert.Equal(t, d1Stops, strings.Count(d1.logText(), `msg="sync daemon stopped"`))
		assert.Equal(t, d2Stops, strings.Count(d2.logText(), `msg="sync daemon stopped"`))
		assert.Equal(t, d1Starts, strings.Count(d1.logText(), `msg="sync daemon started"`))
		assert.Equal(t, d2Starts, strings.Count(d2.logText(), `msg="sync daemon started"`))
	})

	t.Run("SIGTERM and start of the backup director", func(t *testing.T) {
		d2.signal(t, syscall.SIGTERM)
		require.NoError(t, d2.wait(t))
		assert.Contains(t, daemons("d2"), "backup sync daemon (mcast=sync0, syncid=9, maxlen=1024", "a backup daemon outlives lvsctl")
		d2 = startDaemon(outer, d2Args...) // it outlives the subtest
		waitLog(t, d2, `msg="sync daemon running as configured; left alone" state=backup`, 1)
		time.Sleep(time.Second)
		assert.NotContains(t, d2.logText(), `msg="sync daemon stopped"`)
		assert.NotContains(t, d2.logText(), `msg="sync daemon started"`)
		assert.NotContains(t, d2.logText(), "sync daemon: retrying")
		assert.Contains(t, daemons("d2"), "backup sync daemon (mcast=sync0, syncid=9, maxlen=1024")
		st := status()
		t.Logf("lvsctl status:\n%s", st)
		assert.Contains(t, st, "sync (follows VI_1): want backup; running backup on sync0 syncid 9 maxlen 1024, checked")
		assert.NotContains(t, st, "error (")
	})

	t.Run("a quick BACKUP-MASTER-BACKUP flip ends with the daemons running", func(t *testing.T) {
		require.NoError(t, l.Down("d1", "eth0"))
		waitLog(t, d2, `msg="sync daemon started" state=master`, 1)
		require.NoError(t, l.Up("d1", "eth0", ""))
		waitLog(t, d2, `msg="sync daemon started" state=backup`, 1)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(daemons("d1"), "master sync daemon") || !strings.Contains(daemons("d2"), "backup sync daemon") ||
			strings.Contains(daemons("d2"), "master sync daemon") {
			require.True(t, time.Now().Before(deadline), "after the flip: d1 %q, d2 %q", daemons("d1"), daemons("d2"))
			time.Sleep(100 * time.Millisecond)
		}
		assert.Contains(t, daemons("d2"), "backup sync daemon (mcast=sync0, syncid=9, maxlen=1024")
	})

	t.Run("a connection survives a failover", func(t *testing.T) {
		s := dialEcho(t, l)
		require.NoError(t, s.echo(0, 3*time.Second))
		s.awaitSynced(l, "d2", 10*time.Second)
		require.NoError(t, l.Down("d1", "eth0"))
		waitLog(t, d2, `msg="sync daemon started" state=master`, 2)
		for i := 2; i < 5; i++ {
			require.NoError(t, s.echo(i, 15*time.Second), "after failover")
		}
	})
}
