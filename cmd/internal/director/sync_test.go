package director

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/vrrp"
)

// fakeSyncKernel keeps the daemons as the kernel does: one per state,
// EEXIST and ESRCH included.
type fakeSyncKernel struct {
	mu      sync.Mutex
	daemons map[ipvs.SyncState]ipvs.SyncDaemon
	calls   []string
	failNew error // once
	sysctls map[string]string
}

func newFakeSyncKernel() *fakeSyncKernel {
	return &fakeSyncKernel{daemons: map[ipvs.SyncState]ipvs.SyncDaemon{},
		sysctls: map[string]string{"/proc/sys/net/ipv4/vs/sync_threshold": "3\t50\n", "/proc/sys/net/ipv4/vs/conntrack": "0\n"}}
}

func (k *fakeSyncKernel) SyncDaemons(context.Context) ([]ipvs.SyncDaemon, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []ipvs.SyncDaemon
	for _, st := range []ipvs.SyncState{ipvs.SyncMaster, ipvs.SyncBackup} {
		if d, ok := k.daemons[st]; ok {
			if d.MaxLen == 0 {
				d.MaxLen = 1472 // the kernel's, from the MTU
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func (k *fakeSyncKernel) StartSyncDaemon(_ context.Context, d ipvs.SyncDaemon) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.failNew; err != nil {
		k.failNew = nil
		return err
	}
	if _, ok := k.daemons[d.State]; ok {
		return unix.EEXIST
	}
	k.daemons[d.State] = d
	k.calls = append(k.calls, "new "+d.State.String())
	return nil
}

func (k *fakeSyncKernel) StopSyncDaemon(_ context.Context, s ipvs.SyncState) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.daemons[s]; !ok {
		return unix.ESRCH
	}
	delete(k.daemons, s)
	k.calls = append(k.calls, "del "+s.String())
	return nil
}

func (k *fakeSyncKernel) state() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var s []string
	for _, st := range []ipvs.SyncState{ipvs.SyncMaster, ipvs.SyncBackup} {
		if d, ok := k.daemons[st]; ok {
			s = append(s, fmt.Sprintf("%s:%s/%d", st, d.Interface, d.SyncID))
		}
	}
	return strings.Join(s, " ")
}

func syncCfg(id uint32) *lvshcl.Sync {
	return &lvshcl.Sync{VRRPInstance: "VI_1", Daemon: ipvs.SyncDaemon{Interface: "eth1", SyncID: id, Port: 8848, TTL: 1,
		Group: netip.MustParseAddr("224.0.0.81")}}
}

func startSyncer(t *testing.T, k *fakeSyncKernel, cfg *lvshcl.Sync) (*Syncer, *syncBuf, func()) {
	logs := &syncBuf{}
	opened := 0
	s := NewSyncer(SyncOptions{
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Open:     func(context.Context) (SyncKernel, func(), error) { opened++; return k, func() {}, nil },
		ReadFile: func(p string) ([]byte, error) { k.mu.Lock(); defer k.mu.Unlock(); return []byte(k.sysctls[p]), nil },
		WriteFile: func(p string, b []byte) error {
			k.mu.Lock()
			defer k.mu.Unlock()
			k.sysctls[p] = string(b)
			return nil
		},
		RetryMin: 10 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, cfg) }()
	return s, logs, func() { cancel(); <-done; assert.LessOrEqual(t, opened, 1) }
}

func eventuallyState(t *testing.T, k *fakeSyncKernel, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return k.state() == want }, 2*time.Second, 5*time.Millisecond, "want %q, have %q", want, k.state())
}

func TestSyncerFollowsTransitions(t *testing.T) {
	k := newFakeSyncKernel()
	cfg := syncCfg(51)
	cfg.Sysctls = []lvshcl.Sysctl{{Name: "net.ipv4.vs.sync_threshold", Value: "3\t50"}, {Name: "net.ipv4.vs.conntrack", Value: "1"}}
	s, logs, stop := startSyncer(t, k, cfg)
	tr := func(to vrrp.State) { s.Transition(vrrp.Transition{Instance: "VI_1", To: to}) }

	tr(vrrp.StateBackup)
	eventuallyState(t, k, "backup:eth1/51")
	tr(vrrp.StateMaster)
	eventuallyState(t, k, "master:eth1/51")
	s.Transition(vrrp.Transition{Instance: "VI_other", To: vrrp.StateBackup}) // not followed
	tr(vrrp.StateBackup)
	eventuallyState(t, k, "backup:eth1/51")
	tr(vrrp.StateMaster)
	eventuallyState(t, k, "master:eth1/51")
	tr(vrrp.StateFault) // master stops
	eventuallyState(t, k, "")
	tr(vrrp.StateBackup)
	eventuallyState(t, k, "backup:eth1/51")
	tr(vrrp.StateFault) // backup stays
	time.Sleep(50 * time.Millisecond)
	eventuallyState(t, k, "backup:eth1/51")

	// A reload with another syncid restarts the daemon.
	tr(vrrp.StateMaster)
	eventuallyState(t, k, "master:eth1/51")
	s.SetConfig(syncCfg(7))
	eventuallyState(t, k, "master:eth1/7")
	stop() // lvsctl stops while MASTER: the master daemon stops
	assert.Equal(t, "", k.state())
	assert.Equal(t, []string{"new backup", "del backup", "new master", "del master", "new backup", "del backup", "new master",
		"del master", "new backup", "del backup", "new master", "del master", "new master", "del master"}, k.calls)

	assert.Equal(t, "1\n", k.sysctls["/proc/sys/net/ipv4/vs/conntrack"])
	assert.Contains(t, logs.String(), `msg="sysctl set" sysctl=net.ipv4.vs.conntrack value=1 previous=0`)
	assert.Contains(t, logs.String(), `msg="sysctl already set" sysctl=net.ipv4.vs.sync_threshold`)
	assert.Contains(t, logs.String(), `msg="sync daemon started" state=master interface=eth1 syncid=51`)
}

func TestSyncerStopKeepsBackupAndRetries(t *testing.T) {
	k := newFakeSyncKernel()
	k.failNew = unix.ENODEV
	s, logs, stop := startSyncer(t, k, syncCfg(1))
	s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup})
	eventuallyState(t, k, "backup:eth1/1")
	assert.Contains(t, logs.String(), "sync daemon: retrying")
	stop()
	assert.Equal(t, "backup:eth1/1", k.state(), "a backup daemon outlives lvsctl")

	// Restarted, the running backup daemon is kept as it is; a reload
	// without a sync block stops it.
	k.calls = nil
	s, _, stop = startSyncer(t, k, syncCfg(1))
	s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup})
	time.Sleep(50 * time.Millisecond)
	s.SetConfig(nil)
	eventuallyState(t, k, "")
	stop()
	assert.Equal(t, []string{"del backup"}, k.calls)
}

func TestSyncerWithoutBlockNeverOpens(t *testing.T) {
	s := NewSyncer(SyncOptions{Open: func(context.Context) (SyncKernel, func(), error) {
		t.Error("opened IPVS without a sync block")
		return nil, nil, unix.EPERM
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, nil) }()
	s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateMaster})
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
}
