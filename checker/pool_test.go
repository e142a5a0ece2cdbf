package checker_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/checker/checkertest"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// script is a Prober that returns scripted results per target (repeating
// the last one) and records when each probe happened on the fake clock.
type script struct {
	clock *checkertest.Clock
	mu    sync.Mutex
	res   map[checker.Target][]checker.Result
	calls map[checker.Target][]time.Duration // offsets from t0
}

func newScript(clk *checkertest.Clock) *script {
	return &script{clock: clk, res: map[checker.Target][]checker.Result{}, calls: map[checker.Target][]time.Duration{}}
}

func (s *script) set(t checker.Target, rs ...checker.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.res[t] = rs
}

func (s *script) Probe(_ context.Context, t checker.Target) checker.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[t] = append(s.calls[t], s.clock.Now().Sub(t0))
	rs := s.res[t]
	r := rs[0]
	if len(rs) > 1 {
		s.res[t] = rs[1:]
	}
	return r
}

func (s *script) probes(t checker.Target) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.calls[t]...)
}

func ok() checker.Result {
	return checker.Result{Up: true, Weight: checker.NoWeight, Reason: "connected"}
}
func fail() checker.Result {
	return checker.Result{Weight: checker.NoWeight, Reason: "connect: connection refused"}
}
func weight(w int) checker.Result {
	return checker.Result{Up: true, Weight: w, Reason: fmt.Sprintf("exit status %d, weight %d", w+2, w)}
}

// results parses "+" (up), "-" (down) and "5" (up with weight 5) tokens.
func results(s string) []checker.Result {
	var out []checker.Result
	for _, tok := range strings.Fields(s) {
		switch tok {
		case "+":
			out = append(out, ok())
		case "-":
			out = append(out, fail())
		default:
			var w int
			fmt.Sscan(tok, &w)
			out = append(out, weight(w))
		}
	}
	return out
}

func target(addr string) checker.Target {
	return checker.Target{Service: "web", Addr: netip.MustParseAddrPort(addr)}
}

// render prints an event as "OFFSET up|down [wN]".
func render(e checker.Event) string {
	s := fmt.Sprintf("%gs", e.At.Sub(t0).Seconds())
	if e.Up {
		s += " up"
	} else {
		s += " down"
	}
	if e.Weight != checker.NoWeight {
		s += fmt.Sprintf(" w%d", e.Weight)
	}
	return s
}

// harness runs a Pool on a fake clock; each step fires the next timer and
// waits until every server has re-armed its timer.
type harness struct {
	t      *testing.T
	clock  *checkertest.Clock
	script *script
	pool   *checker.Pool
	cancel context.CancelFunc
	ran    chan struct{}
	n      int // servers running
}

func newHarness(t *testing.T, rand func(time.Duration) time.Duration) *harness {
	clk := checkertest.NewClock(t0)
	if rand == nil {
		rand = func(time.Duration) time.Duration { return 0 }
	}
	h := &harness{t: t, clock: clk, script: newScript(clk), ran: make(chan struct{})}
	h.pool = checker.NewPool(checker.Options{Clock: clk, Rand: rand, EventBuffer: 1000})
	return h
}

func (h *harness) set(specs ...checker.Spec) {
	h.t.Helper()
	require.NoError(h.t, h.pool.Set(specs))
	h.n = len(specs)
	require.True(h.t, h.clock.BlockUntil(h.n), "servers did not arm their timers")
}

func (h *harness) spec(tg checker.Target, tm checker.Timing, rs string) checker.Spec {
	h.script.set(tg, results(rs)...)
	return checker.Spec{Target: tg, Prober: h.script, Timing: tm}
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.ran)
		h.pool.Run(ctx)
	}()
	h.t.Cleanup(h.stop)
}

// until fires timers in order up to offset d from t0 (inclusive).
func (h *harness) until(d time.Duration) {
	h.t.Helper()
	for {
		next, ok := h.clock.Next()
		if !ok || next.After(t0.Add(d)) {
			break
		}
		h.clock.Step()
		require.True(h.t, h.clock.BlockUntil(h.n), "servers did not re-arm their timers")
	}
	h.clock.AdvanceTo(t0.Add(d))
}

func (h *harness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.ran
		h.cancel = nil
	}
}

// events drains what has been emitted so far.
func (h *harness) events() []string {
	var out []string
	for {
		select {
		case e, ok := <-h.pool.Events():
			if !ok {
				return out
			}
			out = append(out, render(e))
		default:
			return out
		}
	}
}

func timing(f func(*checker.Timing)) checker.Timing {
	tm := checker.DefaultTiming()
	tm.DelayLoop = 10 * time.Second
	tm.Warmup = 0
	if f != nil {
		f(&tm)
	}
	return tm
}

func secs(ds ...float64) []time.Duration {
	out := []time.Duration{}
	for _, d := range ds {
		out = append(out, time.Duration(d*float64(time.Second)))
	}
	return out
}

func TestStateMachine(t *testing.T) {
	half := func(n time.Duration) time.Duration { return n / 2 }
	tests := []struct {
		name    string
		timing  checker.Timing
		rand    func(time.Duration) time.Duration
		results string
		until   time.Duration
		probes  []time.Duration
		events  []string
	}{
		{
			name: "healthy: one probe per delay_loop, no event", timing: timing(nil),
			results: "+", until: 30 * time.Second,
			probes: secs(0, 10, 20, 30),
		},
		{
			name: "first probe decides at once, without retries", timing: timing(nil),
			results: "- - - +", until: 30 * time.Second,
			probes: secs(0, 10, 20, 30), events: []string{"0s down", "30s up"},
		},
		{
			name: "keepalived default: one retry a second later, then down", timing: timing(nil),
			results: "+ - - -", until: 31 * time.Second,
			probes: secs(0, 10, 11, 21, 31), events: []string{"11s down"},
		},
		{
			name: "a good retry saves the round", timing: timing(func(t *checker.Timing) { t.Retry = 3 }),
			results: "+ - - + - - - -", until: 40 * time.Second,
			// round at 10: fail, retry 11 fail, retry 12 ok; round at 22: fail,
			// retries 23 24 25 fail -> down at 25; then one probe per round.
			probes: secs(0, 10, 11, 12, 22, 23, 24, 25, 35), events: []string{"25s down"},
		},
		{
			name: "retry 0: the first failure of an up server is final", timing: timing(func(t *checker.Timing) { t.Retry = 0 }),
			results: "+ - +", until: 20 * time.Second,
			probes: secs(0, 10, 20), events: []string{"10s down", "20s up"},
		},
		{
			name: "delay_before_retry 0 retries at once", timing: timing(func(t *checker.Timing) { t.Retry = 2; t.DelayBeforeRetry = 0 }),
			results: "+ - - -", until: 15 * time.Second,
			probes: secs(0, 10, 10, 10), events: []string{"10s down"},
		},
		{
			name: "fall 2 counts failed rounds, each with its retries", timing: timing(func(t *checker.Timing) { t.Fall = 2 }),
			results: "+ - - - -", until: 32 * time.Second,
			probes: secs(0, 10, 11, 21, 22, 32), events: []string{"22s down"},
		},
		{
			name: "fall 2: a good round in between resets the count", timing: timing(func(t *checker.Timing) { t.Fall = 2; t.Retry = 0 }),
			results: "+ - + - + - - +", until: 70 * time.Second,
			probes: secs(0, 10, 20, 30, 40, 50, 60, 70), events: []string{"60s down", "70s up"},
		},
		{
			name: "down servers are not retried; rise 3 needs three good rounds", timing: timing(func(t *checker.Timing) { t.Rise = 3 }),
			results: "- + + - + + + -", until: 80 * time.Second,
			probes: secs(0, 10, 20, 30, 40, 50, 60, 70, 71), events: []string{"0s down", "60s up", "71s down"},
		},
		{
			name:    "alpha: presumed down, the first success brings it up whatever rise",
			timing:  timing(func(t *checker.Timing) { t.Alpha = true; t.Rise = 3 }),
			results: "+", until: 10 * time.Second,
			probes: secs(0, 10), events: []string{"0s up"},
		},
		{
			name: "alpha: a failing first probe is no transition", timing: timing(func(t *checker.Timing) { t.Alpha = true }),
			results: "- - +", until: 20 * time.Second,
			probes: secs(0, 10, 20), events: []string{"20s up"},
		},
		{
			name: "warmup: first probe after a random delay up to warmup", timing: timing(func(t *checker.Timing) { t.Warmup = 8 * time.Second }),
			rand: half, results: "+", until: 20 * time.Second,
			probes: secs(4, 14),
		},
		{
			name: "warmup defaults to delay_loop", timing: timing(func(t *checker.Timing) { t.Warmup = checker.WarmupDelayLoop }),
			rand: half, results: "+", until: 20 * time.Second,
			probes: secs(5, 15),
		},
		{
			name: "dynamic weight: changes while up are events", timing: timing(func(t *checker.Timing) { t.Retry = 0 }),
			results: "5 5 7 + - 3", until: 50 * time.Second,
			probes: secs(0, 10, 20, 30, 40, 50),
			events: []string{"0s up w5", "20s up w7", "30s up", "40s down", "50s up w3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.rand)
			tg := target("10.0.0.1:80")
			h.start()
			h.set(h.spec(tg, tc.timing, tc.results))
			h.until(tc.until)
			assert.Equal(t, tc.probes, h.script.probes(tg), "probe times")
			assert.Equal(t, tc.events, h.events(), "events")
		})
	}
}

func TestEventCarriesReasonAndStatus(t *testing.T) {
	h := newHarness(t, nil)
	tg := target("10.0.0.1:80")
	h.start()
	h.set(h.spec(tg, timing(nil), "+ - -"))

	st, ok := h.pool.Lookup(tg)
	require.True(t, ok)
	assert.False(t, st.Checked)
	assert.True(t, st.Up)
	assert.Equal(t, "not checked yet", st.Reason)
	assert.True(t, st.LastAt.IsZero())

	h.until(10 * time.Second)
	st, _ = h.pool.Lookup(tg)
	assert.True(t, st.Checked)
	assert.True(t, st.Up)
	assert.Equal(t, 1, st.Retries, "the failure at 10s spent one retry")
	assert.Equal(t, t0, st.Since)

	h.until(11 * time.Second)
	ev := <-h.pool.Events()
	assert.Equal(t, checker.Event{
		Target: tg, Up: false, WasUp: true, Weight: checker.NoWeight,
		Reason: "connect: connection refused", At: t0.Add(11 * time.Second),
	}, ev)
	st, _ = h.pool.Lookup(tg)
	assert.False(t, st.Up)
	assert.Equal(t, t0.Add(11*time.Second), st.Since)
	assert.Equal(t, "connect: connection refused", st.Reason)
	assert.Equal(t, fail(), st.Last)
	assert.Equal(t, 0, st.Retries)
}

func TestEventLogValue(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	log.Info("health", "event", checker.Event{Target: target("10.0.0.1:80"), Weight: checker.NoWeight, Reason: "status 503"})
	log.Info("health", "event", checker.Event{Target: target("10.0.0.1:80"), Up: true, Weight: 5, Reason: "exit status 7, weight 5"})
	assert.Equal(t, `level=INFO msg=health event.service=web event.real=10.0.0.1:80 event.state=down event.reason="status 503"
level=INFO msg=health event.service=web event.real=10.0.0.1:80 event.state=up event.weight=5 event.reason="exit status 7, weight 5"
`, buf.String())
}

func TestSetKeepsState(t *testing.T) {
	h := newHarness(t, func(n time.Duration) time.Duration { return n })
	failed, healthy, added := target("10.0.0.1:80"), target("10.0.0.2:80"), target("10.0.0.3:80")
	tm := timing(func(t *checker.Timing) { t.Warmup = 2 * time.Second })
	h.start()
	h.set(h.spec(failed, tm, "-"), h.spec(healthy, tm, "+"))
	h.until(2 * time.Second)
	assert.Equal(t, []string{"2s down"}, h.events())

	// Reload at 5s: same two servers (new prober values, same timing) and a new one.
	h.clock.AdvanceTo(t0.Add(5 * time.Second))
	h.set(h.spec(failed, tm, "-"), h.spec(healthy, tm, "+"), h.spec(added, tm, "+"))
	st, _ := h.pool.Lookup(failed)
	assert.False(t, st.Up, "a failed server stays failed across a reload")
	assert.True(t, st.Checked)
	next, _ := h.clock.Next()
	assert.Equal(t, t0.Add(7*time.Second), next, "the new server's warmup comes first")

	h.until(12 * time.Second)
	assert.Equal(t, secs(2, 12), h.script.probes(failed), "not re-checked from scratch")
	assert.Equal(t, secs(2, 12), h.script.probes(healthy))
	assert.Equal(t, secs(7), h.script.probes(added))
	assert.Empty(t, h.events(), "no event: nothing changed")
}

func TestSetKeepsRetryProgress(t *testing.T) {
	h := newHarness(t, nil)
	tg := target("10.0.0.1:80")
	tm := timing(func(t *checker.Timing) { t.Retry = 2 })
	h.start()
	h.set(h.spec(tg, tm, "+ - - -"))
	h.until(11 * time.Second) // 0 ok; 10 fails, retry at 11 fails too: two of three attempts spent
	st, _ := h.pool.Lookup(tg)
	assert.Equal(t, 2, st.Retries)
	h.set(checker.Spec{Target: tg, Prober: h.script, Timing: tm})
	h.until(12 * time.Second)
	assert.Equal(t, []string{"12s down"}, h.events())
}

func TestSetNewTimingReschedules(t *testing.T) {
	h := newHarness(t, nil)
	tg := target("10.0.0.1:80")
	h.start()
	h.set(h.spec(tg, timing(func(t *checker.Timing) { t.DelayLoop = time.Minute }), "+"))
	h.until(10 * time.Second) // probed at 0, next at 60
	h.set(h.spec(tg, timing(func(t *checker.Timing) { t.DelayLoop = 5 * time.Second }), "+"))
	h.until(25 * time.Second)
	assert.Equal(t, secs(0, 15, 20, 25), h.script.probes(tg))

	// A longer delay_loop does not postpone the probe already due.
	h.set(h.spec(tg, timing(func(t *checker.Timing) { t.DelayLoop = time.Hour }), "+"))
	next, _ := h.clock.Next()
	assert.Equal(t, t0.Add(30*time.Second), next)
}

func TestSetRemoves(t *testing.T) {
	h := newHarness(t, nil)
	a, b := target("10.0.0.1:80"), target("10.0.0.2:80")
	h.start()
	h.set(h.spec(a, timing(nil), "+"), h.spec(b, timing(nil), "-"))
	h.until(0)
	assert.Equal(t, []string{"0s down"}, h.events())
	h.set(h.spec(a, timing(nil), "+"))
	_, ok := h.pool.Lookup(b)
	assert.False(t, ok)
	h.until(30 * time.Second)
	assert.Equal(t, secs(0), h.script.probes(b))
	assert.Len(t, h.pool.Status(), 1)

	// Re-adding starts from scratch: presumed up, checked after warmup.
	h.set(h.spec(a, timing(nil), "+"), h.spec(b, timing(nil), "+"))
	st, _ := h.pool.Lookup(b)
	assert.True(t, st.Up)
	assert.False(t, st.Checked)
}

func TestSetRejectsInvalid(t *testing.T) {
	h := newHarness(t, nil)
	a := target("10.0.0.1:80")
	require.NoError(t, h.pool.Set([]checker.Spec{h.spec(a, timing(nil), "+")}))
	bad := timing(func(t *checker.Timing) { t.Rise = 0; t.DelayLoop = 0 })
	err := h.pool.Set([]checker.Spec{
		{Target: target("10.0.0.2:80"), Prober: &checker.TCP{}, Timing: bad},
		{Target: target("10.0.0.3:80"), Timing: timing(nil)},
		{Target: target("10.0.0.4:80"), Prober: &checker.HTTP{}, Timing: timing(nil)},
		{Target: a, Prober: &checker.TCP{}, Timing: timing(nil)},
		{Target: a, Prober: &checker.TCP{}, Timing: timing(nil)},
	})
	require.Error(t, err)
	for _, want := range []string{
		"check web 10.0.0.2:80: delay_loop 0s: want a positive duration",
		"check web 10.0.0.2:80: rise 0: want 1 or more",
		"check web 10.0.0.3:80: no prober",
		"check web 10.0.0.4:80: no url to check",
		"check web 10.0.0.1:80: duplicate",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Len(t, h.pool.Status(), 1, "nothing changed")
}

func TestStatusSorted(t *testing.T) {
	p := checker.NewPool(checker.Options{Clock: checkertest.NewClock(t0)})
	pr := checker.ProberFunc(func(context.Context, checker.Target) checker.Result { return ok() })
	var specs []checker.Spec
	for _, s := range []string{"b 10.0.0.2:80", "a 10.0.0.10:80", "a 10.0.0.9:80", "a [2001:db8::1]:80"} {
		svc, addr, _ := strings.Cut(s, " ")
		specs = append(specs, checker.Spec{Target: checker.Target{Service: svc, Addr: netip.MustParseAddrPort(addr)}, Prober: pr, Timing: timing(nil)})
	}
	require.NoError(t, p.Set(specs))
	var got []string
	for _, st := range p.Status() {
		got = append(got, st.Target.String())
	}
	assert.Equal(t, []string{"a 10.0.0.9:80", "a 10.0.0.10:80", "a [2001:db8::1]:80", "b 10.0.0.2:80"}, got)
}

func TestRunStops(t *testing.T) {
	h := newHarness(t, nil)
	tg := target("10.0.0.1:80")
	h.start()
	h.set(h.spec(tg, timing(nil), "-"))
	h.until(0)
	h.stop()
	_, open := <-h.pool.Events()
	for open { // drain the one event, then the channel is closed
		_, open = <-h.pool.Events()
	}
	assert.Equal(t, 0, h.clock.Pending(), "timers stopped")
	assert.ErrorIs(t, h.pool.Set(nil), checker.ErrStopped)
	assert.ErrorIs(t, h.pool.Run(context.Background()), checker.ErrStopped)
	st, ok := h.pool.Lookup(tg)
	require.True(t, ok, "status survives the stop")
	assert.False(t, st.Up)
}

// A probe that blocks until cancelled must not keep Set (removal) or Run
// (stop) waiting.
func TestCancelInterruptsProbe(t *testing.T) {
	clk := checkertest.NewClock(t0)
	started := make(chan struct{}, 2)
	block := checker.ProberFunc(func(ctx context.Context, _ checker.Target) checker.Result {
		started <- struct{}{}
		<-ctx.Done()
		return fail()
	})
	p := checker.NewPool(checker.Options{Clock: clk, Rand: func(time.Duration) time.Duration { return 0 }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	a, b := target("10.0.0.1:80"), target("10.0.0.2:80")
	require.NoError(t, p.Set([]checker.Spec{{Target: a, Prober: block, Timing: timing(nil)}, {Target: b, Prober: block, Timing: timing(nil)}}))
	require.True(t, clk.BlockUntil(2))
	clk.Step()
	<-started
	<-started
	require.NoError(t, p.Set([]checker.Spec{{Target: a, Prober: block, Timing: timing(nil)}}))
	cancel()
	<-done
	assert.Empty(t, collect(p.Events()))
}

func collect(ch <-chan checker.Event) []checker.Event {
	var out []checker.Event
	for e := range ch {
		out = append(out, e)
	}
	return out
}

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
