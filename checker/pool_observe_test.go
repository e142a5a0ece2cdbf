package checker_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// TestOnProbeAndTransitions: every probe reaches OnProbe, retries
// included, and Status counts the changes of state.
func TestOnProbeAndTransitions(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	var seen []bool
	h.pool.OnProbe(func(tg checker.Target, r checker.Result) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Up)
	})
	tg := target("10.0.0.1:80")
	// up (presumed, no transition), down after one retry, up again.
	h.start()
	h.set(h.spec(tg, timing(nil), "+ - - +"))
	h.until(21 * time.Second)

	mu.Lock()
	assert.Equal(t, []bool{true, false, false, true}, seen, "probes at 0, 10, 11 (retry), 21")
	mu.Unlock()
	assert.Equal(t, []string{"11s down", "21s up"}, h.events())
	st, ok := h.pool.Lookup(tg)
	require.True(t, ok)
	assert.EqualValues(t, 2, st.Transitions)
	assert.Equal(t, t0.Add(21*time.Second), st.Since)
}
