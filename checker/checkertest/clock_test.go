package checkertest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lvsctl/lvsctl/checker/checkertest"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func fired(tm interface{ C() <-chan time.Time }) (time.Time, bool) {
	select {
	case at := <-tm.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestClock(t *testing.T) {
	c := checkertest.NewClock(t0)
	a := c.NewTimer(2 * time.Second)
	b := c.NewTimer(time.Second)
	assert.Equal(t, 2, c.Pending())
	next, ok := c.Next()
	assert.True(t, ok)
	assert.Equal(t, t0.Add(time.Second), next)

	assert.True(t, c.Step())
	assert.Equal(t, t0.Add(time.Second), c.Now())
	at, ok := fired(b)
	assert.True(t, ok)
	assert.Equal(t, t0.Add(time.Second), at)
	_, ok = fired(a)
	assert.False(t, ok)
	assert.Equal(t, 1, c.Pending())

	// Reset re-arms from now and drops a value not yet received.
	c.Advance(5 * time.Second)
	assert.False(t, b.Reset(time.Second), "b had fired")
	assert.False(t, a.Reset(3*time.Second), "a had fired too, its value not received")
	_, ok = fired(a)
	assert.False(t, ok, "stale value dropped by Reset")
	c.AdvanceTo(t0.Add(7 * time.Second))
	at, ok = fired(b)
	assert.True(t, ok)
	assert.Equal(t, t0.Add(7*time.Second), at)

	assert.True(t, a.Stop())
	assert.False(t, a.Stop())
	assert.Equal(t, 0, c.Pending())
	assert.False(t, c.Step())
	assert.True(t, c.BlockUntil(0))
	c.AdvanceTo(t0) // never backwards
	assert.Equal(t, t0.Add(7*time.Second), c.Now())
}

func TestBlockUntil(t *testing.T) {
	c := checkertest.NewClock(t0)
	go func() {
		tm := c.NewTimer(time.Second)
		<-tm.C()
		tm.Reset(time.Second)
	}()
	assert.True(t, c.BlockUntil(1))
	c.Step()
	assert.True(t, c.BlockUntil(1))
	next, _ := c.Next()
	assert.Equal(t, t0.Add(2*time.Second), next)
}
