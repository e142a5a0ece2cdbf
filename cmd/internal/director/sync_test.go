package director

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
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
	// failNewFor fails every start with failNew while it is set.
	failNewFor bool
	// silentStops stops the daemon but then sends no answer, as Linux
	// does for a stop that interrupts a thread that has not run yet:
	// the call returns only when its context is done.
	silentStops int
	sysctls     map[string]string
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
			switch {
			case d.MaxLen == 0:
				d.MaxLen = 1472 // the kernel's, from the MTU
			case st == ipvs.SyncBackup:
				d.MaxLen = max(d.MaxLen, 1024) // the kernel's floor
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
		if !k.failNewFor {
			k.failNew = nil
		}
		return err
	}
	if _, ok := k.daemons[d.State]; ok {
		return unix.EEXIST
	}
	k.daemons[d.State] = d
	k.calls = append(k.calls, "new "+d.State.String())
	return nil
}

func (k *fakeSyncKernel) StopSyncDaemon(ctx context.Context, s ipvs.SyncState) error {
	k.mu.Lock()
	if _, ok := k.daemons[s]; !ok {
		k.mu.Unlock()
		return unix.ESRCH
	}
	delete(k.daemons, s)
	k.calls = append(k.calls, "del "+s.String())
	silent := k.silentStops > 0
	if silent {
		k.silentStops--
	}
	k.mu.Unlock()
	if silent {
		<-ctx.Done()
		return fmt.Errorf("ipvs: request interrupted: %w", ctx.Err())
	}
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
	s, logs, stop := startSyncerWith(t, k, cfg, nil)
	return s, logs, func() { assert.LessOrEqual(t, stop(), 1) }
}

// startSyncerWith runs a Syncer on k, its options edited by edit; the
// returned stop stops it and says how many times it opened the kernel.
func startSyncerWith(t *testing.T, k *fakeSyncKernel, cfg *lvshcl.Sync, edit func(*SyncOptions)) (*Syncer, *syncBuf, func() int) {
	logs := &syncBuf{}
	var opened atomic.Int32
	o := SyncOptions{
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Open:     func(context.Context) (SyncKernel, func(), error) { opened.Add(1); return k, func() {}, nil },
		ReadFile: func(p string) ([]byte, error) { k.mu.Lock(); defer k.mu.Unlock(); return []byte(k.sysctls[p]), nil },
		WriteFile: func(p string, b []byte) error {
			k.mu.Lock()
			defer k.mu.Unlock()
			k.sysctls[p] = string(b)
			return nil
		},
		RetryMin: 10 * time.Millisecond,
	}
	if edit != nil {
		edit(&o)
	}
	s := NewSyncer(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, cfg) }()
	return s, logs, func() int { cancel(); <-done; return int(opened.Load()) }
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
