package vrrp

import "time"

// Clock is the instance's source of time. Tests inject a fake one and
// advance it instead of sleeping; nil in Config means the system clock.
type Clock interface {
	Now() time.Time
	// NewTimer returns a stopped timer.
	NewTimer() Timer
}

// Timer is a one-shot timer of a Clock that is armed at an absolute time
// (the state machine thinks in deadlines, so a fake clock cannot skew it).
// After ResetAt or Stop returns, no stale value is received from C.
type Timer interface {
	C() <-chan time.Time
	ResetAt(deadline time.Time) // fires at once if the deadline has passed
	Stop()
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) NewTimer() Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return systemTimer{t}
}

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time        { return t.t.C }
func (t systemTimer) ResetAt(deadline time.Time) { t.t.Reset(time.Until(deadline)) }
func (t systemTimer) Stop()                      { t.t.Stop() }
