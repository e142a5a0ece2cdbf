package director

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/vrrp"
)

func aaSyncCfg(id uint32) *lvshcl.Sync {
	return &lvshcl.Sync{Mode: lvshcl.SyncActiveActive, Daemon: ipvs.SyncDaemon{Interface: "eth1", SyncID: id, Port: 8848, TTL: 1,
		Group: netip.MustParseAddr("224.0.0.81")}}
}

// TestSyncerActiveActive: mode active-active starts the master and the
// backup daemon at once and ignores VRRP; reloads change the daemons by
// difference; exit stops the master daemon and keeps the backup one.
func TestSyncerActiveActive(t *testing.T) {
	for _, tc := range []struct {
		name string
		// steps: each a configuration handed over by a reload (nil: the
		// sync block went away) and the daemons then.
		steps []struct {
			cfg  *lvshcl.Sync
			want string
		}
		// after stop, and the kernel requests made after the first step.
		afterStop string
		calls     []string
	}{
		{name: "start, unchanged reload, exit",
			steps: []struct {
				cfg  *lvshcl.Sync
				want string
			}{{aaSyncCfg(0), "master:eth1/0 backup:eth1/0"}, {aaSyncCfg(0), "master:eth1/0 backup:eth1/0"}},
			afterStop: "backup:eth1/0", calls: []string{"del master"}},
		{name: "reload with another syncid restarts both",
			steps: []struct {
				cfg  *lvshcl.Sync
				want string
			}{{aaSyncCfg(0), "master:eth1/0 backup:eth1/0"}, {aaSyncCfg(9), "master:eth1/9 backup:eth1/9"}},
			afterStop: "backup:eth1/9", calls: []string{"del master", "new master", "del backup", "new backup", "del master"}},
		{name: "reload to vrrp mode with the instance BACKUP keeps the backup only",
			steps: []struct {
				cfg  *lvshcl.Sync
				want string
			}{{aaSyncCfg(0), "master:eth1/0 backup:eth1/0"}, {syncCfg(0), "backup:eth1/0"}},
			afterStop: "backup:eth1/0", calls: []string{"del master"}},
		{name: "reload without a sync block stops both",
			steps: []struct {
				cfg  *lvshcl.Sync
				want string
			}{{aaSyncCfg(0), "master:eth1/0 backup:eth1/0"}, {nil, ""}},
			afterStop: "", calls: []string{"del master", "del backup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newFakeSyncKernel()
			s, logs, stop := startSyncer(t, k, tc.steps[0].cfg)
			eventuallyState(t, k, tc.steps[0].want)
			// VRRP transitions of any instance change nothing.
			s.Transition(vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup})
			s.Transition(vrrp.Transition{Instance: "", To: vrrp.StateFault})
			require.Eventually(t, func() bool {
				st := s.Status()
				return st.WantMaster && st.WantBackup && len(st.Running) == 2 && st.Error == ""
			}, 2*time.Second, 5*time.Millisecond)
			assert.Equal(t, "active-active", s.Status().Mode)
			k.mu.Lock()
			k.calls = nil
			k.mu.Unlock()
			for _, st := range tc.steps[1:] {
				s.SetConfig(st.cfg)
				time.Sleep(30 * time.Millisecond) // several steps, if the syncer made any
				eventuallyState(t, k, st.want)
			}
			stop()
			assert.Equal(t, tc.afterStop, k.state())
			k.mu.Lock()
			assert.Equal(t, tc.calls, k.calls)
			k.mu.Unlock()
			assert.Contains(t, logs.String(), `msg="sync daemon started" state=master interface=eth1`)
			assert.Contains(t, logs.String(), "mode=active-active")
		})
	}
}

// TestSyncerActiveActiveRepairs: a daemon stopped behind lvsctl's back
// (ipvsadm --stop-daemon) is started again at the next check.
func TestSyncerActiveActiveRepairs(t *testing.T) {
	k := newFakeSyncKernel()
	s, _, stop := startSyncerWith(t, k, aaSyncCfg(3), func(o *SyncOptions) { o.Recheck = 10 * time.Millisecond })
	defer stop()
	eventuallyState(t, k, "master:eth1/3 backup:eth1/3")
	k.mu.Lock()
	delete(k.daemons, ipvs.SyncBackup)
	k.mu.Unlock()
	eventuallyState(t, k, "master:eth1/3 backup:eth1/3")
	assert.Empty(t, s.Status().Missing())
}
