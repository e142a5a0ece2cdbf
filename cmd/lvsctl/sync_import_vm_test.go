package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncKeepalivedConf is TestVMSyncFailover's director as keepalived.conf:
// the sync daemon given by global_defs' lvs_sync_daemon, with the
// connection timeouts of lvs_timeouts.
const syncKeepalivedConf = `
global_defs {
    vrrp_version 3
    lvs_sync_daemon sync0 VI_1 id 9
    lvs_timeouts tcp 7200 udp 30
}

vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority %d
    advert_int 0.1
    garp_master_delay 0
    virtual_ipaddress {
        10.0.5.100/24
    }
}

virtual_server 10.0.5.100 7000 {
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.0.5.21 7000 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
`

// TestVMSyncImportFailover: keepalived.conf with lvs_sync_daemon, imported
// by lvsctl import keepalived and run unedited on two directors, keeps a
// client's connection across a failover: the backup learns it from the
// master's sync daemon and carries it once it holds the VIP. The imported
// lvs_timeouts are set by lvsctl run on both.
func TestVMSyncImportFailover(t *testing.T) {
	requireVM(t)
	l := syncLab(t)
	startEcho(t, l, "be1")
	dir := t.TempDir()
	start := func(host string, prio int) *daemonProc {
		ka := filepath.Join(dir, host+".keepalived.conf")
		require.NoError(t, os.WriteFile(ka, []byte(fmt.Sprintf(syncKeepalivedConf, prio)), 0o644))
		out := filepath.Join(dir, host+".hcl")
		cli := newVMCLI(t, l.NSPath(host))
		require.Equal(t, 0, cli.run("import", "keepalived", ka, "-o", out), cli.errOut.String())
		hcl, err := os.ReadFile(out)
		require.NoError(t, err)
		t.Logf("%s imported:\n%s", host, hcl)
		require.Contains(t, string(hcl), "sync {")
		require.Contains(t, cli.errOut.String(), "complete")
		return startDaemon(t, "-f", out, "--netns", l.NSPath(host), "--state", filepath.Join(dir, host+".json"))
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
	settled := time.Now().Add(20 * time.Second)
	for !strings.Contains(string(lvsctlList(l.NSPath("d1"), "-L", "--daemon").stdout), "master sync daemon (mcast=sync0, syncid=9") ||
		!strings.Contains(string(lvsctlList(l.NSPath("d2"), "-L", "--daemon").stdout), "backup sync daemon (mcast=sync0, syncid=9") {
		require.True(t, time.Now().Before(settled), "the directors never settled as master (d1) and backup (d2)")
		time.Sleep(100 * time.Millisecond)
	}
	for _, h := range []string{"d1", "d2"} {
		r := ipvsadmIn(t, l, h, nil, "-L", "--timeout")
		require.Zero(t, r.code, "%s", r.stderr)
		assert.Equal(t, "Timeout (tcp tcpfin udp): 7200 120 30\n", string(r.stdout), h)
	}

	s := dialEcho(t, l)
	for i := 0; i < 10; i++ {
		require.NoError(t, s.echo(i, 3*time.Second))
	}
	// The backup knows the connection before the failover (the kernel's
	// sync_threshold: keepalived sets none, so the import neither).
	t.Logf("d2 -Lnc:\n%s", s.awaitSynced(l, "d2", 15*time.Second))

	// The master loses its link; the backup takes the VIP and the
	// connection keeps working.
	require.NoError(t, l.Down("d1", "eth0"))
	waitLog(d2, `msg="sync daemon started" state=master`)
	for i := 200; i < 205; i++ {
		require.NoError(t, s.echo(i, 15*time.Second), "after failover")
	}
}
