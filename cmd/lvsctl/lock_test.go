//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/ipvs"
)

// pausingKernel is a fake kernel shared by two commands: the first Apply
// of more than after ops stops after them until release is closed, as an
// apply of a large table is busy for a while.
type pausingKernel struct {
	mu      sync.Mutex
	fake    *ipvs.Fake
	after   int
	reached chan struct{} // closed once the apply is half-way
	release chan struct{}
	paused  bool
}

func (k *pausingKernel) Services(ctx context.Context) ([]ipvs.VirtualService, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fake.Services(ctx)
}

func (k *pausingKernel) Apply(ctx context.Context, ops []ipvs.Op) (int, error) {
	k.mu.Lock()
	if k.paused || len(ops) <= k.after {
		defer k.mu.Unlock()
		return k.fake.Apply(ctx, ops)
	}
	k.paused = true
	n, err := k.fake.Apply(ctx, ops[:k.after])
	k.mu.Unlock()
	if err != nil {
		return n, err
	}
	close(k.reached)
	<-k.release
	k.mu.Lock()
	defer k.mu.Unlock()
	m, err := k.fake.Apply(ctx, ops[k.after:])
	return n + m, err
}

func (k *pausingKernel) Close() error { return nil }

// TestPlanWaitsForApply: a plan started while an apply is half-way says
// so, waits, and then shows the table the apply left, never the half.
func TestPlanWaitsForApply(t *testing.T) {
	k := &pausingKernel{fake: ipvs.NewFake(), after: 2, reached: make(chan struct{}), release: make(chan struct{})}
	stateDir := t.TempDir()
	newEnv := func() (*env, *lockedBuffer, *lockedBuffer) {
		out, errOut := &lockedBuffer{}, &lockedBuffer{}
		return &env{
			stdout: out, stderr: errOut, stateDir: stateDir,
			openKernel: func(context.Context, string) (ipvs.Kernel, error) { return k, nil },
		}, out, errOut
	}
	var services strings.Builder
	for i := range 3 {
		fmt.Fprintf(&services, "virtual_server \"s%d\" {\n  address = \"10.0.0.%d\"\n  port = 80\n  real_server { address = \"10.0.1.1\" }\n}\n", i, i+1)
	}
	cfg := writeConfig(t, services.String())

	applyEnv, applyOut, applyErr := newEnv()
	applied := make(chan int)
	go func() { applied <- run(context.Background(), []string{"apply", "-f", cfg}, applyEnv) }()
	<-k.reached

	planEnv, planOut, planErr := newEnv()
	planned := make(chan int)
	go func() { planned <- run(context.Background(), []string{"plan", "-f", cfg}, planEnv) }()
	require.Eventually(t, func() bool {
		return strings.Contains(planErr.String(), fmt.Sprintf("waiting for the running apply (pid %d) to finish...", os.Getpid()))
	}, 10*time.Second, 5*time.Millisecond, "plan says it waits: %q", planErr.String())
	select {
	case code := <-planned:
		t.Fatalf("plan finished (exit %d) while the apply was half-way:\n%s", code, planOut.String())
	default:
	}

	close(k.release)
	require.Equal(t, 0, <-applied, applyErr.String())
	assert.Contains(t, applyOut.String(), "Applied 6 changes.")
	require.Equal(t, 0, <-planned, planErr.String())
	assert.Equal(t, "No changes: the kernel's IPVS table matches the configuration.\n", planOut.String())
}

func TestStateLock(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	pidLine := fmt.Sprintf("(pid %d)", os.Getpid())

	t.Run("plan creates nothing without a lock file", func(t *testing.T) {
		dir := t.TempDir()
		var progress strings.Builder
		unlock, err := lockShared(context.Background(), filepath.Join(dir, "state.json"), time.Second, &progress)
		require.NoError(t, err)
		unlock()
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, entries)
		assert.Empty(t, progress.String())
	})

	t.Run("plan times out on an apply that does not finish", func(t *testing.T) {
		unlock, err := lockExclusive(context.Background(), state, roleApply, 0)
		require.NoError(t, err)
		defer unlock()
		var progress strings.Builder
		_, err = lockShared(context.Background(), state, 200*time.Millisecond, &progress)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "timed out after 200ms waiting for the running apply "+pidLine)
		assert.Equal(t, "lvsctl: waiting for the running apply "+pidLine+" to finish...\n", progress.String())
	})

	t.Run("plan stops waiting when cancelled", func(t *testing.T) {
		unlock, err := lockExclusive(context.Background(), state, roleApply, 0)
		require.NoError(t, err)
		defer unlock()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = lockShared(ctx, state, time.Minute, &strings.Builder{})
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("plan does not wait for lvsctl run", func(t *testing.T) {
		unlock, err := lockState(state)
		require.NoError(t, err)
		defer unlock()
		var progress strings.Builder
		unlockPlan, err := lockShared(context.Background(), state, time.Minute, &progress)
		require.NoError(t, err)
		unlockPlan()
		assert.Contains(t, progress.String(), "lvsctl "+pidLine+" holds "+state+".lock (lvsctl run); planning against the table as it is now")
	})

	t.Run("a second writer fails at once, naming the first", func(t *testing.T) {
		unlock, err := lockExclusive(context.Background(), state, roleApply, 0)
		require.NoError(t, err)
		defer unlock()
		_, err = lockExclusive(context.Background(), state, roleApply, time.Minute)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "another lvsctl "+pidLine+" is applying to this namespace")
	})

	t.Run("apply waits for plans to finish reading", func(t *testing.T) {
		unlockPlan, err := lockShared(context.Background(), state, time.Second, &strings.Builder{})
		require.NoError(t, err)
		locked := make(chan error)
		go func() {
			unlock, err := lockExclusive(context.Background(), state, roleApply, time.Minute)
			if err == nil {
				unlock()
			}
			locked <- err
		}()
		select {
		case err := <-locked:
			t.Fatalf("apply took the lock while a plan read: %v", err)
		case <-time.After(3 * lockPoll):
		}
		unlockPlan()
		require.NoError(t, <-locked)
	})

	t.Run("apply gives up on a plan that does not finish", func(t *testing.T) {
		unlockPlan, err := lockShared(context.Background(), state, time.Second, &strings.Builder{})
		require.NoError(t, err)
		defer unlockPlan()
		_, err = lockExclusive(context.Background(), state, roleApply, 200*time.Millisecond)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "still read by lvsctl plan after 200ms")
	})
}
