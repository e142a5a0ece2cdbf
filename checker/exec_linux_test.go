package checker_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

var execTarget = checker.Target{Service: "web", Key: "TCP 10.0.0.1:80", Addr: netipMust("10.0.0.1:80")}

func TestExec(t *testing.T) {
	sh := func(script string) []string { return []string{"/bin/sh", "-c", script} }
	tests := []struct {
		name   string
		probe  checker.Exec
		up     bool
		weight int
		reason string
	}{
		{name: "exit 0 is up", probe: checker.Exec{Argv: []string{"/bin/true"}}, up: true, weight: checker.NoWeight, reason: "exit status 0"},
		{name: "exit 1 is down", probe: checker.Exec{Argv: []string{"/bin/false"}}, weight: checker.NoWeight, reason: "exit status 1"},
		{
			name: "the first line of output ends the reason", probe: checker.Exec{Argv: sh("echo; echo '  replica lagging  ' >&2; echo more; exit 1")},
			weight: checker.NoWeight, reason: "exit status 1: replica lagging",
		},
		{name: "2..255 are down without dynamic_weight", probe: checker.Exec{Argv: sh("exit 7")}, weight: checker.NoWeight, reason: "exit status 7"},
		{name: "dynamic_weight: 7 is up with weight 5", probe: checker.Exec{Argv: sh("exit 7"), DynamicWeight: true}, up: true, weight: 5, reason: "exit status 7, weight 5"},
		{name: "dynamic_weight: 2 is up with weight 0", probe: checker.Exec{Argv: sh("exit 2"), DynamicWeight: true}, up: true, weight: 0, reason: "exit status 2, weight 0"},
		{name: "dynamic_weight: 255 is weight 253", probe: checker.Exec{Argv: sh("exit 255"), DynamicWeight: true}, up: true, weight: 253, reason: "exit status 255, weight 253"},
		{name: "dynamic_weight: 0 is the configured weight", probe: checker.Exec{Argv: sh("exit 0"), DynamicWeight: true}, up: true, weight: checker.NoWeight, reason: "exit status 0"},
		{name: "dynamic_weight: 1 is still down", probe: checker.Exec{Argv: sh("exit 1"), DynamicWeight: true}, weight: checker.NoWeight, reason: "exit status 1"},
		{
			name:  "no shell: arguments are passed as they are",
			probe: checker.Exec{Argv: []string{"/usr/bin/printf", "%s|%s", "$(exit 3); exit 3", "`false` *"}},
			up:    true, weight: checker.NoWeight, reason: "exit status 0: $(exit 3); exit 3|`false` *",
		},
		{
			name: "a missing program is down", probe: checker.Exec{Argv: []string{"/nonexistent/check"}},
			weight: checker.NoWeight, reason: "fork/exec /nonexistent/check: no such file or directory",
		},
		{name: "killed by a signal", probe: checker.Exec{Argv: sh("kill -9 $$")}, weight: checker.NoWeight, reason: "signal: killed"},
		{
			name: "a program name is looked up in PATH", probe: checker.Exec{Argv: []string{"true"}},
			up: true, weight: checker.NoWeight, reason: "exit status 0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.probe.Validate())
			r := tc.probe.Probe(context.Background(), execTarget)
			assert.Equal(t, tc.reason, r.Reason)
			assert.Equal(t, tc.up, r.Up)
			assert.Equal(t, tc.weight, r.Weight)
		})
	}
}

func TestExecEnvironment(t *testing.T) {
	t.Setenv("LVSCTL_TEST_LEAK", "from the daemon")
	script := `[ "$LVSCTL_SERVICE" = web ] && [ "$LVSCTL_SERVICE_KEY" = "TCP 10.0.0.1:80" ] && [ "$LVSCTL_REAL" = 10.0.0.1:80 ] && [ "$LVSCTL_REAL_ADDR" = 10.0.0.1 ] && [ "$LVSCTL_REAL_PORT" = 80 ] &&
		[ "$PATH" = "` + checker.ExecPath + `" ] && [ "$EXTRA" = "a b" ] && [ -z "$LVSCTL_TEST_LEAK" ] && [ -z "$HOME" ] ||
		{ env | sort | tr '\n' ' '; exit 1; }`
	p := &checker.Exec{Argv: []string{"/bin/sh", "-c", script}, Env: []string{"EXTRA=a b"}}
	r := p.Probe(context.Background(), execTarget)
	assert.True(t, r.Up, r.Reason)
}

func TestExecTimeoutKillsTheProcessGroup(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	p := &checker.Exec{
		Argv:    []string{"/bin/sh", "-c", `sleep 60 & echo $! > "$0"; wait`, pidfile},
		Timeout: 300 * time.Millisecond,
	}
	start := time.Now()
	r := p.Probe(context.Background(), execTarget)
	assert.False(t, r.Up)
	assert.Equal(t, "timeout after 300ms", r.Reason)
	assert.Less(t, time.Since(start), 2*time.Second)

	b, err := os.ReadFile(pidfile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return gone(pid) }, 5*time.Second, 20*time.Millisecond,
		"the check's background child %d survived", pid)
}

// gone reports whether pid is dead: no such process, or a zombie waiting
// for an init that does not reap.
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

func TestExecLeftoverChildDoesNotHang(t *testing.T) {
	// Exits at once but leaves a child holding stdout open.
	p := &checker.Exec{Argv: []string{"/bin/sh", "-c", "sleep 5 & exit 0"}}
	start := time.Now()
	r := p.Probe(context.Background(), execTarget)
	assert.True(t, r.Up, r.Reason)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestExecOutputIsBounded(t *testing.T) {
	p := &checker.Exec{Argv: []string{"/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' a; exit 1"}}
	r := p.Probe(context.Background(), execTarget)
	assert.False(t, r.Up)
	assert.True(t, strings.HasPrefix(r.Reason, "exit status 1: aaaa"), r.Reason)
	assert.LessOrEqual(t, len(r.Reason), 250)
}

func TestExecCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := (&checker.Exec{Argv: []string{"/bin/sleep", "60"}, Timeout: time.Minute}).Probe(ctx, execTarget)
	assert.False(t, r.Up)
	assert.Equal(t, "canceled", r.Reason)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestExecValidate(t *testing.T) {
	err := (&checker.Exec{Env: []string{"NOEQUALS", "LVSCTL_SERVICE=x", "=x"}, Timeout: -1}).Validate()
	assert.EqualError(t, err, `no program to run
env "NOEQUALS": want NAME=value, NAME not starting with LVSCTL_
env "LVSCTL_SERVICE=x": want NAME=value, NAME not starting with LVSCTL_
env "=x": want NAME=value, NAME not starting with LVSCTL_
negative timeout -1ns`)
}
