package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// timeoutKernel is the fixture's kernel with its timeouts.
type timeoutKernel struct{ *kernel }

func (k timeoutKernel) Timeouts(ctx context.Context) (ipvs.Timeouts, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.Timeouts(ctx)
}

func (k timeoutKernel) SetTimeouts(ctx context.Context, t ipvs.Timeouts) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.SetTimeouts(ctx, t)
}

func (k timeoutKernel) timeouts(t *testing.T) ipvs.Timeouts {
	got, err := k.Timeouts(context.Background())
	require.NoError(t, err)
	return got
}

// TestTimeoutsStartReloadDrift: the timeouts block is set at start, a
// reload sets the new one, and one changed behind the daemon's back is
// put back at the next resync as a repair.
func TestTimeoutsStartReloadDrift(t *testing.T) {
	f := newFixture(t)
	k := timeoutKernel{f.k}
	withTimeouts := func(to ipvs.Timeouts) *lvshcl.Config {
		c := f.config(1, nil)
		c.Timeouts = &to
		return c
	}
	f.start(withTimeouts(ipvs.Timeouts{TCP: time.Hour}), Options{Kernel: k, Resync: 5 * time.Second})
	want := ipvs.Timeouts{TCP: time.Hour, TCPFin: 2 * time.Minute, UDP: 5 * time.Minute}
	f.until(time.Second, func() bool { return k.timeouts(t) == want })

	f.reload <- withTimeouts(ipvs.Timeouts{UDP: time.Minute})
	want.UDP = time.Minute // tcp stays as it was: left out is unchanged
	f.until(time.Second, func() bool { return k.timeouts(t) == want })

	require.NoError(t, k.SetTimeouts(context.Background(), ipvs.Timeouts{UDP: 300 * time.Second}))
	f.until(6*time.Second, func() bool { return k.timeouts(t) == want })
	require.NoError(t, f.stop())
	assert.Equal(t, 1, f.d.Stats().Repairs)
}

// TestTimeoutsWithObserver: the timeouts block is set when the kernel is
// wrapped to count ops for the metrics (Observe), as when lvsctl run
// serves metrics.
func TestTimeoutsWithObserver(t *testing.T) {
	f := newFixture(t)
	k := timeoutKernel{f.k}
	cfg := f.config(1, nil)
	cfg.Timeouts = &ipvs.Timeouts{TCP: time.Hour}
	loads := make(chan error, 1)
	d := New(Options{Kernel: k, Owned: &ipvs.MemOwnership{}, Clock: f.clk, Hooks: f.hooks,
		Rand:   func(time.Duration) time.Duration { return 0 },
		OnLoad: func(_ *lvshcl.Config, _ []ipvs.Op, err error) { loads <- err }})
	d.Observe(Observer{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, cfg, nil) }()
	select {
	case err := <-loads:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("no load outcome")
	}
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, time.Hour, k.timeouts(t).TCP)
}
