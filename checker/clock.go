package checker

import "time"

// Clock is the source of time for the Pool: the current time and timers.
// SystemClock is the real one; checkertest.Clock is a fake that tests
// advance by hand.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once d has
	// elapsed, like time.NewTimer.
	NewTimer(d time.Duration) Timer
}

// Timer is a single-shot timer, like *time.Timer. After Stop or Reset
// returns, no value from the earlier schedule is received from C (the Go
// 1.23 timer semantics).
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// SystemClock is the operating system's clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (SystemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time        { return t.t.C }
func (t sysTimer) Stop() bool                 { return t.t.Stop() }
func (t sysTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
