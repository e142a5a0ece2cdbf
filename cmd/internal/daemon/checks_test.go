package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// syncBuffer is a log sink for the daemon's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSeveralChecksEvict: a real server with two checks leaves the table
// when its second check fails although the first passes, comes back when
// it passes again, and the log and status name the check.
func TestSeveralChecksEvict(t *testing.T) {
	var down atomic.Bool
	second := checker.ProberFunc(func(_ context.Context, tg checker.Target) checker.Result {
		if down.Load() && tg.Addr.String() == "10.0.1.2:80" {
			return checker.Result{Weight: checker.NoWeight, Reason: "status 503"}
		}
		return checker.Result{Up: true, Weight: checker.NoWeight, Reason: "status 200"}
	})
	f := newFixture(t)
	cfg := f.config(2, func(p *lvshcl.Pool) {
		for i := range p.Members {
			sp := *p.Members[i].Check
			sp.Name = "tcp#1"
			sp.Also = []checker.Check{{Name: "http#2", Prober: second, Timing: sp.Timing}}
			p.Members[i].Check = &sp
		}
	})
	var log syncBuffer
	f.start(cfg, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })

	down.Store(true)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 1 })
	assert.Equal(t, []string{"10.0.1.1:80/2"}, f.k.reals(t, web))
	assert.Contains(t, log.String(), `msg="real server down" service=web service_key="TCP 10.0.0.1:80" real=10.0.1.2:80 reason="http#2: status 503" check=http#2`)
	var st checker.Status
	for _, s := range f.d.Status() {
		if s.Target.Addr.String() == "10.0.1.2:80" {
			st = s
		}
	}
	require.Len(t, st.Checks, 2)
	assert.Equal(t, []bool{true, false}, []bool{st.Checks[0].Up, st.Checks[1].Up})
	assert.False(t, st.Up)

	down.Store(false)
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.Contains(t, log.String(), `msg="real server up" service=web service_key="TCP 10.0.0.1:80" real=10.0.1.2:80 reason="tcp#1: connected; http#2: status 200" check=http#2`)
	envs := f.hooks.envs()
	require.Len(t, envs, 2)
	assert.Contains(t, envs[0], "LVSCTL_CHECK=http#2", "notify_down names the check")
	assert.Contains(t, envs[0], "LVSCTL_REASON=http#2: status 503")
}
