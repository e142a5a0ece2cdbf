package director

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// track_file: the number in the file, times the weight, moves the real
// instance's priority, read at start and again when the file changes; a
// file that is missing or holds no number counts as 0. The instance's Run
// fails (no such interface) and waits an hour to retry: only tracking is
// under test.
func TestTrackFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prio")
	require.NoError(t, os.WriteFile(path, []byte("3\n"), 0o644))
	cfg := lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{{Config: vrrp.Config{
		Name: "VI_1", Interface: "lvsctl-none0", VRID: 1, Priority: 100,
		Track: []vrrp.Track{{Name: lvshcl.TrackFile + path, Weight: 10, Valued: true}},
	}}}}
	r := NewRunner(VRRPOptions{
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		NewInstance: func(c vrrp.Config) (Instance, error) { return vrrp.New(c) },
		Links:       &fakeLinks{initial: map[string]bool{}},
		RetryMin:    time.Hour, RetryMax: time.Hour,
		FilePoll: 5 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, cfg, nil) }()
	t.Cleanup(func() { cancel(); <-done })

	prio := func() uint8 {
		st := r.Status()
		if len(st.Instances) == 0 {
			return 0
		}
		return st.Instances[0].Status.Priority
	}
	wait := func(want uint8, what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if prio() == want {
				return
			}
		}
		t.Fatalf("%s: priority %d, want %d", what, prio(), want)
	}
	wait(130, "3 x 10 at start")
	require.NoError(t, os.WriteFile(path, []byte("-2"), 0o644))
	wait(80, "-2 x 10 after a change")
	require.NoError(t, os.Remove(path))
	wait(100, "a missing file is 0")
	require.NoError(t, os.WriteFile(path, []byte("junk"), 0o644))
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, uint8(100), prio(), "not a number is 0")
}

// track_process: up while a process of that name runs (comm, or argv[0]'s
// base name), looked for under ProcRoot; a negative weight counts while
// it is down.
func TestTrackProcess(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct{ pid, comm, cmdline string }{
		{"1", "systemd", "/sbin/init\x00"},
		{"42", "haproxy", "/usr/sbin/haproxy\x00-f\x00/etc/haproxy.cfg\x00"},
		{"77", "python3", "/usr/bin/long-named-daemon\x00"},
	} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, tc.pid), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, tc.pid, "comm"), []byte(tc.comm+"\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(root, tc.pid, "cmdline"), []byte(tc.cmdline), 0o644))
	}
	cfg := lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{{Config: vrrp.Config{
		Name: "VI_1", Interface: "lvsctl-none0", VRID: 1, Priority: 100,
		Track: []vrrp.Track{
			{Name: lvshcl.TrackProcess + "haproxy", Weight: -20},
			{Name: lvshcl.TrackProcess + "long-named-daemon", Weight: 5},
			{Name: lvshcl.TrackProcess + "nginx", Weight: 7},
		},
	}}}}
	r := NewRunner(VRRPOptions{
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		NewInstance: func(c vrrp.Config) (Instance, error) { return vrrp.New(c) },
		Links:       &fakeLinks{initial: map[string]bool{}},
		RetryMin:    time.Hour, RetryMax: time.Hour,
		FilePoll: 5 * time.Millisecond,
		ProcRoot: root,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, cfg, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	prio := func() uint8 {
		st := r.Status()
		if len(st.Instances) == 0 {
			return 0
		}
		return st.Instances[0].Status.Priority
	}
	wait := func(want uint8, what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if prio() == want {
				return
			}
		}
		t.Fatalf("%s: priority %d, want %d", what, prio(), want)
	}
	wait(105, "haproxy up (no -20), the daemon found by argv[0] (+5), nginx down (no +7)")
	require.NoError(t, os.RemoveAll(filepath.Join(root, "42")))
	wait(85, "haproxy gone: -20")
}
