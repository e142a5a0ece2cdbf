package checker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

func kept() checker.Result {
	return checker.Result{Keep: true, Weight: checker.NoWeight, Reason: "too many connections"}
}

// keepResults is results with "k" for a probe without opinion.
func keepResults(s string) []checker.Result {
	var out []checker.Result
	for _, tok := range strings.Fields(s) {
		if tok == "k" {
			out = append(out, kept())
		} else {
			out = append(out, results(tok)...)
		}
	}
	return out
}

// A Result with Keep leaves the state, its reason and the rise/fall progress
// alone, ends the round without retries, and does not decide a first round.
func TestStateMachineKeep(t *testing.T) {
	tests := []struct {
		name    string
		timing  checker.Timing
		results string
		until   time.Duration
		probes  []time.Duration
		events  []string
	}{
		{
			name: "up server kept up, no retries", timing: timing(nil),
			results: "+ k k k +", until: 40 * time.Second,
			probes: secs(0, 10, 20, 30, 40),
		},
		{
			name: "down server kept down", timing: timing(nil),
			results: "- k k +", until: 30 * time.Second,
			probes: secs(0, 10, 20, 30), events: []string{"0s down", "30s up"},
		},
		{
			name: "a kept retry ends the round: neither failed nor good", timing: timing(func(t *checker.Timing) { t.Retry = 2 }),
			results: "+ - k - - -", until: 33 * time.Second,
			// round 10: fail, retry 11 kept (round over); round 21: fail,
			// retries 22 23 fail -> down.
			probes: secs(0, 10, 11, 21, 22, 23, 33), events: []string{"23s down"},
		},
		{
			name: "fall 2: kept rounds do not reset the failed rounds", timing: timing(func(t *checker.Timing) { t.Fall = 2; t.Retry = 0 }),
			results: "+ - k k - +", until: 50 * time.Second,
			probes: secs(0, 10, 20, 30, 40, 50), events: []string{"40s down", "50s up"},
		},
		{
			name: "rise 2: kept rounds do not reset the good rounds", timing: timing(func(t *checker.Timing) { t.Rise = 2 }),
			results: "- + k +", until: 30 * time.Second,
			probes: secs(0, 10, 20, 30), events: []string{"0s down", "30s up"},
		},
		{
			name: "a kept first round decides nothing: the next one does", timing: timing(func(t *checker.Timing) { t.Rise = 3; t.Fall = 3 }),
			results: "k -", until: 10 * time.Second,
			probes: secs(0, 10), events: []string{"10s down"},
		},
		{
			name: "alpha: presumed down while kept", timing: timing(func(t *checker.Timing) { t.Alpha = true; t.Rise = 3 }),
			results: "k k +", until: 20 * time.Second,
			probes: secs(0, 10, 20), events: []string{"20s up"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tg := target("10.0.0.1:3306")
			h.start()
			h.script.set(tg, keepResults(tc.results)...)
			h.set(checker.Spec{Target: tg, Prober: h.script, Timing: tc.timing})
			h.until(tc.until)
			assert.Equal(t, tc.probes, h.script.probes(tg), "probe times")
			assert.Equal(t, tc.events, h.events(), "events")
		})
	}
}

func TestKeepStatus(t *testing.T) {
	h := newHarness(t, nil)
	tg := target("10.0.0.1:3306")
	h.start()
	h.script.set(tg, keepResults("k k -")...)
	h.set(checker.Spec{Target: tg, Prober: h.script, Timing: timing(nil)})

	h.until(0)
	st, ok := h.pool.Lookup(tg)
	require.True(t, ok)
	assert.False(t, st.Checked, "a kept first round is not a check")
	assert.True(t, st.Up)
	assert.Equal(t, "not checked yet", st.Reason)
	assert.True(t, st.Last.Keep)
	assert.Equal(t, "too many connections", st.Last.Reason)
	assert.Equal(t, t0, st.LastAt)
}
