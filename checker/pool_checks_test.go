package checker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// TestSeveralChecks: a real server with several checks (keepalived's
// several *_CHECK blocks) is up only when every check is; each check keeps
// its own timing and state machine, and events and status name the check
// that failed.
func TestSeveralChecks(t *testing.T) {
	tg := target("10.0.0.1:80")
	type probe struct {
		name    string
		delay   time.Duration
		results string
	}
	tests := []struct {
		name   string
		checks []probe
		until  time.Duration
		probes map[string][]time.Duration
		events []string
		status string // reason at the end
		up     bool
	}{
		{
			name: "second check fails and recovers; the first keeps its timing",
			checks: []probe{
				{"tcp#1", 10 * time.Second, "+"},
				{"http#2", 5 * time.Second, "+ - - - +"},
			},
			until: 20 * time.Second,
			probes: map[string][]time.Duration{
				"tcp#1":  secs(0, 10, 20),
				"http#2": secs(0, 5, 6, 11, 16),
			},
			events: []string{"6s down http#2 [http#2: connect: connection refused]", "16s up http#2 [tcp#1: connected; http#2: connected]"},
			status: "tcp#1: connected; http#2: connected", up: true,
		},
		{
			name: "both fail: down once, up only when both are back",
			checks: []probe{
				{"tcp#1", 10 * time.Second, "+ - - - +"},
				{"tcp#2", 10 * time.Second, "+ + - - - +"},
			},
			until: 41 * time.Second,
			probes: map[string][]time.Duration{
				"tcp#1": secs(0, 10, 11, 21, 31, 41),
				"tcp#2": secs(0, 10, 20, 21, 31, 41),
			},
			events: []string{"11s down tcp#1 [tcp#1: connect: connection refused]", "41s up tcp#2 [tcp#1: connected; tcp#2: connected]"},
			status: "tcp#1: connected; tcp#2: connected", up: true,
		},
		{
			name: "one check down from the first probe",
			checks: []probe{
				{"tcp#1", 10 * time.Second, "+"},
				{"exec#2", 10 * time.Second, "-"},
			},
			until: 10 * time.Second,
			probes: map[string][]time.Duration{
				"tcp#1":  secs(0, 10),
				"exec#2": secs(0, 10),
			},
			events: []string{"0s down exec#2 [exec#2: connect: connection refused]"},
			status: "exec#2: connect: connection refused", up: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			scripts := map[string]*script{}
			var spec checker.Spec
			for i, c := range tt.checks {
				sc := newScript(h.clock)
				sc.set(tg, results(c.results)...)
				scripts[c.name] = sc
				tm := timing(func(tm *checker.Timing) { tm.DelayLoop = c.delay })
				if i == 0 {
					spec = checker.Spec{Target: tg, Name: c.name, Prober: sc, Timing: tm}
					continue
				}
				spec.Also = append(spec.Also, checker.Check{Name: c.name, Prober: sc, Timing: tm})
			}
			h.start()
			require.NoError(t, h.pool.Set([]checker.Spec{spec}))
			h.n = len(tt.checks)
			require.True(t, h.clock.BlockUntil(h.n))
			h.until(tt.until)

			var got []string
			for {
				select {
				case e := <-h.pool.Events():
					got = append(got, render(e)+" "+e.Check+" ["+e.Reason+"]")
					continue
				default:
				}
				break
			}
			assert.Equal(t, tt.events, got)
			for name, want := range tt.probes {
				assert.Equal(t, want, scripts[name].probes(tg), name)
			}
			st, ok := h.pool.Lookup(tg)
			require.True(t, ok)
			assert.Equal(t, tt.up, st.Up)
			assert.Equal(t, tt.status, st.Reason)
			require.Len(t, st.Checks, len(tt.checks))
			for i, c := range tt.checks {
				assert.Equal(t, c.name, st.Checks[i].Name)
			}
		})
	}
}

// TestSeveralChecksNames: Set refuses several checks without distinct names.
func TestSeveralChecksNames(t *testing.T) {
	p := checker.NewPool(checker.Options{})
	sc := newScript(nil)
	tm := timing(nil)
	for _, names := range [][2]string{{"", "tcp#2"}, {"tcp#1", "tcp#1"}} {
		err := p.Set([]checker.Spec{{Target: target("10.0.0.1:80"), Name: names[0], Prober: sc, Timing: tm,
			Also: []checker.Check{{Name: names[1], Prober: sc, Timing: tm}}}})
		assert.ErrorContains(t, err, "several checks need distinct names", names)
	}
}

// TestSeveralChecksReload: a reload that gives a down server a second
// check (renaming its first) keeps it down until its checks pass; an up
// server stays up.
func TestSeveralChecksReload(t *testing.T) {
	h := newHarness(t, nil)
	down, up := target("10.0.0.1:80"), target("10.0.0.2:80")
	sc := newScript(h.clock)
	sc.set(down, results("-")...)
	sc.set(up, results("+")...)
	tm := timing(nil)
	h.start()
	require.NoError(t, h.pool.Set([]checker.Spec{{Target: down, Prober: sc, Timing: tm}, {Target: up, Prober: sc, Timing: tm}}))
	h.n = 2
	require.True(t, h.clock.BlockUntil(h.n))
	h.until(0)
	st, _ := h.pool.Lookup(down)
	require.False(t, st.Up)

	ok := checker.ProberFunc(func(context.Context, checker.Target) checker.Result {
		return checker.Result{Up: true, Weight: checker.NoWeight, Reason: "status 200"}
	})
	var specs []checker.Spec
	for _, tg := range []checker.Target{down, up} {
		specs = append(specs, checker.Spec{Target: tg, Name: "tcp#1", Prober: sc, Timing: tm,
			Also: []checker.Check{{Name: "http#2", Prober: ok, Timing: tm}}})
	}
	require.NoError(t, h.pool.Set(specs))
	h.n = 4
	st, _ = h.pool.Lookup(down)
	assert.False(t, st.Up, "still down before its new checks ran: %s", st.Reason)
	st, _ = h.pool.Lookup(up)
	assert.True(t, st.Up, "still up: %s", st.Reason)
}

// TestSeveralChecksReloadRemovesFailing: a reload that removes the check
// that held a server down (the others kept, by name) reports it up at
// once, by a probe of a kept check, not a delay_loop later.
func TestSeveralChecksReloadRemovesFailing(t *testing.T) {
	h := newHarness(t, nil)
	tg := target("10.0.0.1:80")
	pass, fail := newScript(h.clock), newScript(h.clock)
	pass.set(tg, results("+")...)
	fail.set(tg, results("-")...)
	tm := timing(nil)
	spec := checker.Spec{Target: tg, Name: "tcp#1", Prober: pass, Timing: tm,
		Also: []checker.Check{{Name: "tcp#2", Prober: pass, Timing: tm}, {Name: "http#3", Prober: fail, Timing: tm}}}
	h.start()
	require.NoError(t, h.pool.Set([]checker.Spec{spec}))
	h.n = 3
	require.True(t, h.clock.BlockUntil(h.n))
	h.until(0)
	assert.Equal(t, []string{"0s down"}, h.events())

	spec.Also = spec.Also[:1]
	require.NoError(t, h.pool.Set([]checker.Spec{spec}))
	h.n = 2
	h.until(0)
	assert.Equal(t, []string{"0s up"}, h.events(), "at the reload, not at the next delay_loop (%s)", tm.DelayLoop)
	st, _ := h.pool.Lookup(tg)
	assert.True(t, st.Up, st.Reason)
}
