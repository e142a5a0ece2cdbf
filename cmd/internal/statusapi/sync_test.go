package statusapi

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteSync(t *testing.T) {
	now := t0.Add(time.Hour)
	tests := []struct {
		name string
		sync *Sync
		want string
	}{
		{name: "no sync block"},
		{
			name: "running as wanted",
			sync: &Sync{VRRPInstance: "VI_1", Want: []string{"backup"}, CheckedAt: now.Add(-3 * time.Second),
				Running: []SyncDaemon{{State: "backup", Interface: "sync0", SyncID: 9, MaxLen: 1024}}},
			want: "\nsync (follows VI_1): want backup; running backup on sync0 syncid 9 maxlen 1024, checked 3s ago\n",
		},
		{
			name: "a daemon that should run does not",
			sync: &Sync{VRRPInstance: "VI_1", Want: []string{"master"}, Running: []SyncDaemon{}, Failures: 4,
				Error: "start master sync daemon on sync0: ipvs: no such interface"},
			want: "\nsync (follows VI_1): want master; running none\n  error (4 failures): start master sync daemon on sync0: ipvs: no such interface\n",
		},
		{
			name: "FAULT keeps a backup daemon",
			sync: &Sync{VRRPInstance: "VI_1", Want: []string{}, Running: []SyncDaemon{{State: "backup", Interface: "sync0", SyncID: 9, MaxLen: 1472}}},
			want: "\nsync (follows VI_1): want none; running backup on sync0 syncid 9 maxlen 1472\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := Status{PID: 1, Started: t0, Now: now, Config: Config{File: "f", Generation: 1}, Sync: tc.sync}
			var b bytes.Buffer
			require.NoError(t, Write(&b, st))
			head := "lvsctl run: pid 1, up 1h0m (since 2026-11-21 07:00:01 UTC)\nconfig: f, generation 1\n"
			assert.Equal(t, head+tc.want, b.String())
		})
	}
}
