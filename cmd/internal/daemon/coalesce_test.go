package daemon

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/checker/checkertest"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// The adaptive coalescing window, driven step by step on the fake clock.
// stormServers servers are checked every stormLoop, server i first at
// i*stormGap: a storm of failures arrives over about a second, one every
// 7 ms, and since every window (50, 100, 200, 400, 500 ms) is no multiple
// of 7 ms, no window ever closes at the instant of a probe: the order of
// what happens is fixed.
const (
	stormServers = 143
	stormGap     = 7 * time.Millisecond
	stormLoop    = stormServers * stormGap // 1,001 ms
)

// flipProber is a scripted health that records, for each server, the fake
// times at which its result changed: with rise and fall 1, the transitions.
type flipProber struct {
	clk   *checkertest.Clock
	mu    sync.Mutex
	down  map[netip.AddrPort]bool // scripted
	isUp  map[netip.AddrPort]bool // the latest result; absent: presumed up
	flips map[netip.AddrPort][]time.Time
	n     int
}

func (p *flipProber) set(addrs []netip.AddrPort, up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range addrs {
		p.down[a] = !up
	}
}

func (p *flipProber) Probe(_ context.Context, t checker.Target) checker.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	up := !p.down[t.Addr]
	was, ok := p.isUp[t.Addr]
	if !ok {
		was = true
	}
	if up != was {
		p.n++
		p.flips[t.Addr] = append(p.flips[t.Addr], p.clk.Now())
	}
	p.isUp[t.Addr] = up
	if !up {
		return checker.Result{Up: false, Weight: checker.NoWeight, Reason: "connect: connection refused"}
	}
	return checker.Result{Up: true, Weight: checker.NoWeight, Reason: "connected"}
}

// state returns the servers up, as far as the probes said, and the number
// of transitions so far.
func (p *flipProber) state(all []netip.AddrPort) (up []string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range all {
		if u, ok := p.isUp[a]; !ok || u {
			up = append(up, a.String())
		}
	}
	return up, p.n
}

// phase scripts servers (by index) up or down at a fake time from the start.
type phase struct {
	at      time.Duration
	servers []int
	up      bool
	// firstWait is how long the phase's first transition waits for its
	// reconcile.
	firstWait time.Duration
}

func serverRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestAdaptiveCoalescing(t *testing.T) {
	const (
		short = 50 * time.Millisecond  // Options.Coalesce's default
		long  = 500 * time.Millisecond // DefaultCoalesceMax
	)
	all := serverRange(0, stormServers)
	for _, tc := range []struct {
		name   string
		phases []phase
		// reconciles bounds the reconciles; the storm of a second takes
		// five windows: 50, 100, 200, 400 ms, then one that closes 50 ms
		// after the last failure.
		reconciles int
	}{{
		name:       "an isolated failure is applied after Coalesce",
		phases:     []phase{{at: 2 * time.Second, servers: []int{10}, firstWait: short}},
		reconciles: 1,
	}, {
		name: "two failures 140 ms apart are two reconciles, each after Coalesce",
		phases: []phase{
			{at: 2 * time.Second, servers: []int{10}, firstWait: short},
			{at: 2 * time.Second, servers: []int{30}, firstWait: short},
		},
		reconciles: 2,
	}, {
		name:       "a storm over a delay_loop takes a handful of reconciles",
		phases:     []phase{{at: 2 * time.Second, servers: all, firstWait: short}},
		reconciles: 6,
	}, {
		name: "an isolated failure 200 ms after a storm still waits only Coalesce",
		phases: []phase{
			{at: 2 * time.Second, servers: serverRange(0, 100), firstWait: short},
			{at: 2 * time.Second, servers: []int{130}, firstWait: short},
		},
		reconciles: 6,
	}, {
		name: "after a quiet second the window is back to Coalesce",
		phases: []phase{
			{at: 2 * time.Second, servers: all, firstWait: short},
			{at: 4 * time.Second, servers: all, up: true, firstWait: short},
		},
		reconciles: 12,
	}, {
		name: "a storm 100 ms after a storm keeps the long window",
		phases: []phase{
			{at: 2 * time.Second, servers: all, firstWait: short},
			{at: 3100 * time.Millisecond, servers: all, up: true, firstWait: long},
		},
		reconciles: 12,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			pr := &flipProber{clk: f.clk, down: map[netip.AddrPort]bool{}, isUp: map[netip.AddrPort]bool{}, flips: map[netip.AddrPort][]time.Time{}}
			addrs := make([]netip.AddrPort, stormServers)
			cfg := f.config(stormServers, func(p *lvshcl.Pool) {
				for i := range p.Members {
					c := p.Members[i].Check
					c.Prober = pr
					c.Timing.DelayLoop = stormLoop
					c.Timing.Warmup = time.Duration(i) * stormGap
					addrs[i] = c.Target.Addr
				}
			})
			start := f.clk.Now()
			f.start(cfg, Options{Resync: time.Hour, Rand: func(n time.Duration) time.Duration { return n }})

			// settle waits until the daemon and the checks are done with
			// the latest step: every transition probed has been observed
			// (its notify hook ran, after the window was armed), and the
			// armed timers are the checks, the resync and, while some
			// transition is not in the kernel yet, the window. The reads
			// go from what changes last to what changes first, so that a
			// match cannot be a mix of before and after.
			kernelUp := func() []string {
				var up []string
				for _, r := range f.k.reals(t, web) {
					a, _, _ := strings.Cut(r, "/")
					up = append(up, a)
				}
				slices.Sort(up)
				return up
			}
			settle := func() {
				t.Helper()
				giveUp := time.Now().Add(10 * time.Second) // a hang guard, not a timing assertion
				for {
					armed := f.clk.Pending()
					inKernel := kernelUp()
					up, flips := pr.state(addrs)
					slices.Sort(up)
					hooks := len(f.hooks.list())
					want := stormServers + 1
					if !slices.Equal(inKernel, up) {
						want++
					}
					if hooks == flips && armed == want {
						return
					}
					if time.Now().After(giveUp) {
						t.Fatalf("at %v: not settled: %d timers armed, want %d; %d hooks for %d transitions",
							f.clk.Now().Sub(start), armed, want, hooks, flips)
					}
					time.Sleep(20 * time.Microsecond)
				}
			}
			settle()
			require.Len(t, kernelUp(), stormServers)

			// Step from deadline to deadline, scripting the phases on the
			// way, and note when each server changes in the kernel.
			applied := map[string][]time.Time{}
			last := kernelUp()
			end := start.Add(tc.phases[len(tc.phases)-1].at + 2*time.Second)
			next := 0
			for {
				to, _ := f.clk.Next()
				if next < len(tc.phases) && !to.Before(start.Add(tc.phases[next].at)) {
					to = start.Add(tc.phases[next].at)
				}
				if to.After(end) {
					break
				}
				f.clk.AdvanceTo(to)
				settle()
				for ; next < len(tc.phases) && !start.Add(tc.phases[next].at).After(to); next++ {
					ph := tc.phases[next]
					var set []netip.AddrPort
					for _, i := range ph.servers {
						set = append(set, addrs[i])
					}
					pr.set(set, ph.up)
				}
				now := kernelUp()
				for _, a := range addrs {
					if slices.Contains(last, a.String()) != slices.Contains(now, a.String()) {
						applied[a.String()] = append(applied[a.String()], to)
					}
				}
				last = now
			}
			require.NoError(t, f.stop())

			up, _ := pr.state(addrs)
			slices.Sort(up)
			assert.Equal(t, up, last, "every transition is in the kernel")
			var longest time.Duration
			for _, a := range addrs {
				flips := pr.flips[a]
				if !assert.Len(t, applied[a.String()], len(flips), "%s: one change in the kernel per transition", a) {
					continue
				}
				for j, at := range flips {
					longest = max(longest, applied[a.String()][j].Sub(at))
				}
			}
			assert.LessOrEqual(t, longest, long, "no transition waits more than CoalesceMax")
			seen := map[netip.AddrPort]int{} // transitions of each server before the phase
			for i, ph := range tc.phases {
				var first time.Time
				var wait time.Duration
				for _, s := range ph.servers {
					a := addrs[s]
					require.Greater(t, len(pr.flips[a]), seen[a], "phase %d: server %d changed", i, s)
					at := pr.flips[a][seen[a]]
					if first.IsZero() || at.Before(first) {
						first, wait = at, applied[a.String()][seen[a]].Sub(at)
					}
				}
				for _, s := range ph.servers {
					seen[addrs[s]]++
				}
				assert.Equal(t, ph.firstWait, wait, "phase %d: the first transition (at %v) waits", i, first.Sub(start))
			}
			st := f.d.Stats()
			assert.LessOrEqual(t, st.Reconciles, tc.reconciles)
			t.Logf("%d reconciles, %d writes after the first apply, longest wait %v", st.Reconciles, st.Writes-(stormServers+1), longest)
		})
	}
}

// TestCoalescer checks the window's arithmetic alone: transitions at the
// given milliseconds, seen at once, and the milliseconds at which the
// windows close.
func TestCoalescer(t *testing.T) {
	every10 := func(from, to int) []int {
		var out []int
		for n := from; n <= to; n += 10 {
			out = append(out, n)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		events []int
		closes []int
	}{
		{"lone", []int{0}, []int{50}},
		{"two, 60 ms apart", []int{0, 60}, []int{50, 110}},
		{"burst", []int{0, 10, 20}, []int{50}},
		{"stream: the windows double up to the cap, the last closes 50 ms after the last transition",
			every10(0, 1990), []int{50, 150, 350, 750, 1250, 1750, 2040}},
		{"quiet for more than the window: back to 50 ms",
			append(every10(0, 990), every10(2000, 2190)...), []int{50, 150, 350, 750, 1040, 2050, 2150, 2240}},
		{"quiet for less than the window: the window stays long",
			append(every10(0, 990), every10(1300, 1990)...), []int{50, 150, 350, 750, 1040, 1800, 2040}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			c := coalescer{min: 50 * time.Millisecond, max: 500 * time.Millisecond}
			var deadline time.Time // the timer; zero: stopped
			var closes []int
			for n := 0; n <= 5000; n++ {
				now := t0.Add(time.Duration(n) * time.Millisecond)
				if now.Equal(deadline) {
					deadline = time.Time{}
					if wait, closes_ := c.due(now); closes_ {
						closes = append(closes, n)
					} else {
						require.Positive(t, wait)
						deadline = now.Add(wait)
					}
				}
				if slices.Contains(tc.events, n) {
					if wait, opened := c.event(now, now); opened {
						require.Positive(t, wait)
						deadline = now.Add(wait)
					}
				}
			}
			assert.Equal(t, tc.closes, closes)
		})
	}

	// Transitions queued during a slow reconcile: the window opens when the
	// first is seen, and closes 50 ms later, not at once.
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := coalescer{min: 50 * time.Millisecond, max: 500 * time.Millisecond}
	wait, opened := c.event(t0.Add(300*time.Millisecond), t0.Add(100*time.Millisecond))
	assert.True(t, opened)
	assert.Equal(t, 50*time.Millisecond, wait)
}
