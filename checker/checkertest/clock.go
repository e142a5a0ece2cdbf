// Package checkertest provides a fake clock for testing code that uses the
// checker package: tests move time forward by hand instead of sleeping.
package checkertest

import (
	"slices"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/checker"
)

// Clock is a checker.Clock whose time only moves when Advance or AdvanceTo is
// called. It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	changed *sync.Cond // broadcast whenever the set of pending timers changes
	now     time.Time
	pending []*timer // armed timers, in no particular order
}

var _ checker.Clock = (*Clock)(nil)

// NewClock returns a fake clock that reads start.
func NewClock(start time.Time) *Clock {
	c := &Clock{now: start}
	c.changed = sync.NewCond(&c.mu)
	return c
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the fake time reaches Now()+d.
func (c *Clock) NewTimer(d time.Duration) checker.Timer {
	t := &timer{clock: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arm(t, d)
	return t
}

// Advance moves the time forward by d, firing every timer that falls due on
// the way, in deadline order.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	to := c.now.Add(d)
	c.mu.Unlock()
	c.AdvanceTo(to)
}

// AdvanceTo moves the time forward to t (never backwards) and fires every
// timer due by then; each receives its own deadline. Goroutines woken this
// way read Now() == t, so to observe a schedule step by step use Step.
func (c *Clock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	c.fireDue()
}

// Step moves the time to the earliest pending deadline and fires the timers
// due then. It returns false, and does nothing, when no timer is armed.
func (c *Clock) Step() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.earliest()
	if i < 0 {
		return false
	}
	if w := c.pending[i].when; w.After(c.now) {
		c.now = w
	}
	c.fireDue()
	return true
}

// fireDue fires the timers due by c.now; c.mu is held.
func (c *Clock) fireDue() {
	for {
		i := c.earliest()
		if i < 0 || c.pending[i].when.After(c.now) {
			return
		}
		t := c.pending[i]
		c.pending = slices.Delete(c.pending, i, i+1)
		t.armed = false
		select {
		case t.ch <- t.when:
		default:
		}
		c.changed.Broadcast()
	}
}

// Next returns the deadline of the earliest pending timer.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.earliest()
	if i < 0 {
		return time.Time{}, false
	}
	return c.pending[i].when, true
}

// Pending returns the number of armed timers.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// BlockUntil waits until exactly n timers are armed: the way a test knows
// that the goroutines under test have finished reacting to the last Advance
// and are waiting for time to move again. As a guard against a hung test it
// gives up after 10 seconds of real time and returns false.
func (c *Clock) BlockUntil(n int) bool {
	giveUp := time.AfterFunc(10*time.Second, func() {
		c.mu.Lock()
		c.changed.Broadcast()
		c.mu.Unlock()
	})
	defer giveUp.Stop()
	deadline := time.Now().Add(10 * time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) != n {
		if !time.Now().Before(deadline) {
			return false
		}
		c.changed.Wait()
	}
	return true
}

func (c *Clock) earliest() int {
	best := -1
	for i, t := range c.pending {
		if best < 0 || t.when.Before(c.pending[best].when) {
			best = i
		}
	}
	return best
}

// arm (re)schedules t at now+d; c.mu is held.
func (c *Clock) arm(t *timer, d time.Duration) {
	select { // no stale value after Reset, as with Go 1.23 timers
	case <-t.ch:
	default:
	}
	t.when = c.now.Add(d)
	if !t.armed {
		t.armed = true
		c.pending = append(c.pending, t)
	}
	c.changed.Broadcast()
}

// disarm removes t from the pending timers; c.mu is held.
func (c *Clock) disarm(t *timer) bool {
	select {
	case <-t.ch:
	default:
	}
	if !t.armed {
		return false
	}
	t.armed = false
	if i := slices.Index(c.pending, t); i >= 0 {
		c.pending = slices.Delete(c.pending, i, i+1)
	}
	c.changed.Broadcast()
	return true
}

type timer struct {
	clock *Clock
	ch    chan time.Time
	when  time.Time
	armed bool
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	return t.clock.disarm(t)
}

func (t *timer) Reset(d time.Duration) bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := t.armed
	t.clock.arm(t, d)
	return was
}
