package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/director"
	"github.com/lvsctl/lvsctl/ipvs"
)

// syncSource is a source with sync daemons.
type syncSource struct {
	*fakeSource
	sync director.SyncStatus
}

func (s syncSource) Sync() director.SyncStatus { return s.sync }

func TestCollectorSync(t *testing.T) {
	tests := []struct {
		name string
		sync director.SyncStatus
		want string
	}{
		{
			name: "backup wanted and running",
			sync: director.SyncStatus{Configured: true, WantBackup: true, Running: []ipvs.SyncDaemon{{State: ipvs.SyncBackup}}},
			want: `
lvsctl_sync_daemon_wanted{state="master"} 0
lvsctl_sync_daemon_wanted{state="backup"} 1
lvsctl_sync_daemon_running{state="master"} 0
lvsctl_sync_daemon_running{state="backup"} 1
lvsctl_sync_daemon_failures_total 0
`,
		},
		{
			name: "master wanted, not running",
			sync: director.SyncStatus{Configured: true, WantMaster: true, Failures: 3, Error: "no such interface"},
			want: `
lvsctl_sync_daemon_wanted{state="master"} 1
lvsctl_sync_daemon_wanted{state="backup"} 0
lvsctl_sync_daemon_running{state="master"} 0
lvsctl_sync_daemon_running{state="backup"} 0
lvsctl_sync_daemon_failures_total 3
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(syncSource{fakeSource: source(), sync: tc.sync}, Options{})
			want := `
# HELP lvsctl_sync_daemon_wanted 1 if the sync daemon of this state should run now.
# TYPE lvsctl_sync_daemon_wanted gauge
# HELP lvsctl_sync_daemon_running 1 if the sync daemon of this state ran at the latest check.
# TYPE lvsctl_sync_daemon_running gauge
# HELP lvsctl_sync_daemon_failures_total Failed attempts to read, start or stop the sync daemons (each is retried).
# TYPE lvsctl_sync_daemon_failures_total counter
` + tc.want
			require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
				"lvsctl_sync_daemon_wanted", "lvsctl_sync_daemon_running", "lvsctl_sync_daemon_failures_total"))
		})
	}
	t.Run("no sync block: no series", func(t *testing.T) {
		c := New(syncSource{fakeSource: source()}, Options{})
		assert.Zero(t, testutil.CollectAndCount(c, "lvsctl_sync_daemon_wanted", "lvsctl_sync_daemon_running"))
	})
}
