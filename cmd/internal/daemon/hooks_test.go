package daemon

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// lockedBuffer is a log sink safe for the hook goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 10s", what)
}

func TestExecHooks(t *testing.T) {
	var log lockedBuffer
	x := ExecHooks{Logger: slog.New(slog.NewTextHandler(&log, nil))}
	dir := t.TempDir()

	// argv without a shell: the program gets exactly these arguments and a
	// clean environment with the event variables.
	out := filepath.Join(dir, "env")
	x.Run(lvshcl.Hook{Argv: []string{"/usr/bin/env", "-0"}}, []string{"LVSCTL_EVENT=down", "LVSCTL_REAL_ADDR=10.0.0.1"})
	x.Run(lvshcl.Hook{Argv: []string{"/bin/sh", "-c", `printf '%s\n' "$1" "$LVSCTL_EVENT" "$HOME" > "$2"`, "sh", "a b;c", out}}, []string{"LVSCTL_EVENT=quorum_up"})
	waitFor(t, "hook output", func() bool { b, _ := os.ReadFile(out); return bytes.Count(b, []byte("\n")) == 3 })
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "a b;c\nquorum_up\n\n", string(b), "arguments pass unsplit; HOME is not inherited")

	// A failing hook is logged with its output, never fatal.
	x.Run(lvshcl.Hook{Argv: []string{"/bin/sh", "-c", "echo broken >&2; exit 3"}}, nil)
	waitFor(t, "failure logged", func() bool { return strings.Contains(log.String(), "hook failed") })
	assert.Contains(t, log.String(), "exit status 3")
	assert.Contains(t, log.String(), "broken")

	// A hook past its timeout is killed with its process group.
	start := time.Now()
	x.Run(lvshcl.Hook{Argv: []string{"/bin/sleep", "30"}, Timeout: 200 * time.Millisecond}, nil)
	waitFor(t, "timeout logged", func() bool { return strings.Contains(log.String(), "signal: killed") })
	assert.Less(t, time.Since(start), 5*time.Second)

	// A missing program is a logged failure too.
	x.Run(lvshcl.Hook{Argv: []string{"/nonexistent/hook"}}, nil)
	waitFor(t, "missing program logged", func() bool { return strings.Contains(log.String(), "/nonexistent/hook") })
}
