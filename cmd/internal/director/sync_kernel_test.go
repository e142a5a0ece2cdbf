package director

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/vrrp"
)

func TestEffectiveMaxLen(t *testing.T) {
	v4, v6 := netip.MustParseAddr("224.0.0.81"), netip.MustParseAddr("ff02::81")
	tests := []struct {
		name   string
		state  ipvs.SyncState
		maxlen uint16
		group  netip.Addr
		want   uint16
	}{
		{"unset: the kernel's", ipvs.SyncBackup, 0, v4, 0},
		{"backup raised to 1024", ipvs.SyncBackup, 64, v4, 1024},
		{"master keeps 64", ipvs.SyncMaster, 64, v4, 64},
		{"backup above the floor", ipvs.SyncBackup, 1400, v4, 1400},
		{"IPv4 ceiling", ipvs.SyncMaster, 65507, v4, 65507},
		{"IPv6 ceiling", ipvs.SyncMaster, 65507, v6, 65487},
		{"no group: IPv4", ipvs.SyncMaster, 65507, netip.Addr{}, 65507},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, effectiveMaxLen(ipvs.SyncDaemon{State: tc.state, MaxLen: tc.maxlen, Group: tc.group}))
		})
	}
}

// TestSyncerSmallMaxLenIsNotAChange: with sync_maxlen 64 the kernel runs
// the backup daemon with 1024; a reload of the same block and a restart of
// lvsctl leave it alone, and the log says what the kernel applies.
func TestSyncerSmallMaxLenIsNotAChange(t *testing.T) {
	k := newFakeSyncKernel()
	cfg := syncCfg(9)
	cfg.Daemon.MaxLen = 64
	s, logs, stop := startSyncer(t, k, cfg)
	s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup})
	eventuallyState(t, k, "backup:eth1/9")
	s.SetConfig(cfg) // SIGHUP, unchanged
	time.Sleep(50 * time.Millisecond)
	stop()
	s, _, stop = startSyncer(t, k, cfg) // SIGTERM and start again
	s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup})
	time.Sleep(50 * time.Millisecond)
	stop()
	assert.Equal(t, []string{"new backup"}, k.calls, "started once, never restarted")
	assert.Contains(t, logs.String(), `msg="sync daemon started" state=backup interface=eth1 syncid=9 group=224.0.0.81 port=8848 ttl=1 maxlen=1024 configured_maxlen=64`)
	assert.NotContains(t, logs.String(), "configuration changed")
}

// TestSyncerStartLogsKernelMaxLen: without sync_maxlen the start line
// says what the kernel chose, not 0.
func TestSyncerStartLogsKernelMaxLen(t *testing.T) {
	k := newFakeSyncKernel()
	s, logs, stop := startSyncer(t, k, syncCfg(9))
	s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateMaster})
	eventuallyState(t, k, "master:eth1/9")
	stop()
	assert.Contains(t, logs.String(), `msg="sync daemon started" state=master interface=eth1 syncid=9 group=224.0.0.81 port=8848 ttl=1 maxlen=1472 vrrp_instance=VI_1`)
}

// TestSyncerStopWithoutAnswer: a stop the kernel never answers (it stopped
// a thread that had not run yet) times out, is logged, and the retry, on a
// new socket, finds the daemon gone and goes on: a quick
// BACKUP -> MASTER -> BACKUP flip ends with the backup daemon running.
func TestSyncerStopWithoutAnswer(t *testing.T) {
	k := newFakeSyncKernel()
	s, logs, stop := startSyncerWith(t, k, syncCfg(9), func(o *SyncOptions) { o.RequestTimeout = 50 * time.Millisecond })
	tr := func(to vrrp.State) { s.Transition(vrrp.Transition{Instance: "VI_1", To: to}) }
	tr(vrrp.StateBackup)
	eventuallyState(t, k, "backup:eth1/9")
	k.mu.Lock()
	k.silentStops = 1
	k.mu.Unlock()
	tr(vrrp.StateMaster)
	eventuallyState(t, k, "master:eth1/9")
	tr(vrrp.StateBackup)
	eventuallyState(t, k, "backup:eth1/9")
	opened := stop()
	assert.Equal(t, 2, opened, "the socket of the unanswered request is replaced")
	assert.Contains(t, logs.String(), `msg="sync daemon: retrying"`)
	assert.Contains(t, logs.String(), "deadline exceeded")
	assert.Contains(t, logs.String(), `msg="sync daemon: repaired after failures"`)
	assert.Empty(t, s.Status().Error, "repaired")
}

// TestSyncerMissingDaemonIsAnError: while a daemon that should run cannot
// be started, Status says so; once it runs, the error clears.
func TestSyncerMissingDaemonIsAnError(t *testing.T) {
	k := newFakeSyncKernel()
	k.failNew, k.failNewFor = unix.ENODEV, true
	s, _, stop := startSyncer(t, k, syncCfg(9))
	defer stop()
	s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup})
	require.Eventually(t, func() bool { return s.Status().Failures >= 2 }, 2*time.Second, 5*time.Millisecond)
	st := s.Status()
	assert.True(t, st.Configured)
	assert.True(t, st.WantBackup)
	assert.Equal(t, []ipvs.SyncState{ipvs.SyncBackup}, st.Missing())
	assert.Contains(t, st.Error, "start backup sync daemon on eth1")
	k.mu.Lock()
	k.failNew, k.failNewFor = nil, false
	k.mu.Unlock()
	eventuallyState(t, k, "backup:eth1/9")
	require.Eventually(t, func() bool { return s.Status().Error == "" }, 2*time.Second, 5*time.Millisecond)
	assert.Empty(t, s.Status().Missing())
}

// TestSyncerRecheckRestartsAVanishedDaemon: a daemon stopped behind
// lvsctl's back (ipvsadm --stop-daemon) is started again at the next
// recheck.
func TestSyncerRecheckRestartsAVanishedDaemon(t *testing.T) {
	k := newFakeSyncKernel()
	s, logs, stop := startSyncerWith(t, k, syncCfg(9), func(o *SyncOptions) { o.Recheck = 20 * time.Millisecond })
	defer stop()
	s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup})
	eventuallyState(t, k, "backup:eth1/9")
	k.mu.Lock()
	delete(k.daemons, ipvs.SyncBackup)
	k.mu.Unlock()
	eventuallyState(t, k, "backup:eth1/9")
	assert.Equal(t, 2, strings.Count(logs.String(), `msg="sync daemon started"`))
	assert.True(t, slices.Equal(k.calls, []string{"new backup", "new backup"}), "%v", k.calls)
}
