package director

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

func TestExecScript(t *testing.T) {
	ctx := context.Background()
	s := lvshcl.VRRPScript{Name: "chk", Argv: []string{"/bin/sh", "-c", `test "$LVSCTL_VRRP_SCRIPT" = chk && test -z "$HOME"`}, Timeout: 5 * time.Second}
	up, detail := ExecScript(ctx, s)
	assert.True(t, up, detail)
	assert.Equal(t, "exit status 0", detail)

	s.Argv = []string{"/bin/sh", "-c", "echo haproxy is not running; exit 1"}
	up, detail = ExecScript(ctx, s)
	assert.False(t, up)
	assert.Equal(t, "exit status 1: haproxy is not running", detail)

	// A hung script is killed with its children at its timeout.
	s.Argv, s.Timeout = []string{"/bin/sh", "-c", "sleep 30 & sleep 30"}, 200*time.Millisecond
	start := time.Now()
	up, detail = ExecScript(ctx, s)
	assert.False(t, up)
	assert.Contains(t, detail, "timed out after 200ms")
	assert.Less(t, time.Since(start), 3*time.Second)

	s.Argv = []string{"/nonexistent/chk"}
	up, detail = ExecScript(ctx, s)
	assert.False(t, up)
	assert.Contains(t, detail, "no such file")
}

// The generic notify gets keepalived's four arguments after its own; every
// hook the event variables, and nothing of the daemon's environment.
func TestExecHook(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	n := lvshcl.VRRPNotify{
		Master: &lvshcl.Hook{Argv: []string{"/bin/sh", "-c", `echo "$LVSCTL_EVENT $LVSCTL_VRRP_STATE $LVSCTL_VRRP_PREVIOUS $LVSCTL_VRRP_REASON [$HOME]" >> "$0"`, out}, Timeout: 5 * time.Second},
		Any:    &lvshcl.Hook{Argv: []string{"/bin/sh", "-c", `echo "$# $1 $2 $3 $4 $5" >> "$0"`, out, "own arg"}, Timeout: 5 * time.Second},
	}
	for _, c := range notifyCalls(n, "INSTANCE", "VI_1", vrrp.StateBackup, vrrp.StateMaster, 150, "master down") {
		require.NoError(t, ExecHook(context.Background(), c.hook, c.args, c.env))
	}
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "notify_master MASTER BACKUP master down []\n5 own arg INSTANCE VI_1 MASTER 150\n", string(b))

	err = ExecHook(context.Background(), lvshcl.Hook{Argv: []string{"/bin/sh", "-c", "echo oops >&2; exit 3"}}, nil, nil)
	require.Error(t, err)
	assert.Equal(t, "exit status 3: oops", err.Error())
	start := time.Now()
	err = ExecHook(context.Background(), lvshcl.Hook{Argv: []string{"/bin/sleep", "30"}, Timeout: 100 * time.Millisecond}, nil, nil)
	assert.ErrorContains(t, err, "timed out")
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.True(t, strings.HasPrefix(firstLine("\n\n  a  \nb"), "a"))
}
