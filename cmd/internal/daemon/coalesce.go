package daemon

import "time"

// coalescer decides when the health transitions gathered so far are
// reconciled: the adaptive window of Options.Coalesce and CoalesceMax. It
// only does arithmetic on the times it is given; Run owns the timer.
//
// A transition with nothing pending opens a window. The window closes, and
// the reconcile runs, when it has lasted its length or when no transition
// came for min (quiet): so a lone transition, or the last one of a burst,
// waits min. A window's length is min after a quiet period of at least the
// previous length, otherwise twice the previous, at most max: in a storm
// (a mass failure seen over a delay_loop) the first transitions are applied
// after min and the following ones in fewer, larger batches, none waiting
// more than max.
type coalescer struct {
	min, max time.Duration

	window time.Duration // the current window's length; 0 before the first
	open   bool
	opened time.Time // when the current window opened
	last   time.Time // the latest transition
}

// event records a transition that happened at at and is seen at now. It
// returns true and the delay to arm the timer with if it opens a window.
// The gap between windows is measured between the transitions themselves,
// so a slow reconcile does not pass for a quiet period; the quiet that
// closes a window starts no earlier than the window, so transitions queued
// during a slow reconcile do not close it at once.
func (c *coalescer) event(now, at time.Time) (time.Duration, bool) {
	if at.IsZero() || at.After(now) {
		at = now
	}
	if c.open {
		if at.After(c.last) {
			c.last = at
		}
		return 0, false
	}
	quiet := at.Sub(c.last)
	c.open, c.opened, c.last = true, now, now
	if c.window == 0 || quiet >= c.window {
		c.window = c.min
	} else {
		c.window = min(2*c.window, c.max)
	}
	return c.next(now), true
}

// due is called when the timer fires at now. It returns true if the window
// closes (reconcile now), otherwise the delay to re-arm the timer with (0:
// no window is open).
func (c *coalescer) due(now time.Time) (time.Duration, bool) {
	if !c.open {
		return 0, false
	}
	if d := c.next(now); d > 0 {
		return d, false
	}
	c.open = false
	return 0, true
}

// close ends the open window early (a resync applies what is pending).
func (c *coalescer) close() { c.open = false }

// next is the time left until the open window closes, if no transition
// comes in between.
func (c *coalescer) next(now time.Time) time.Duration {
	end := c.opened.Add(c.window)
	if quiet := c.last.Add(c.min); quiet.Before(end) {
		end = quiet
	}
	return end.Sub(now)
}
