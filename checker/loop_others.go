//go:build !linux

package checker

import "time"

// ioLoop elsewhere than on Linux runs no probe itself: the scheduler only
// waits on it, and every probe runs on a worker.
type ioLoop struct{ wakeup chan struct{} }

func newIOLoop() (*ioLoop, error) { return &ioLoop{wakeup: make(chan struct{}, 1)}, nil }

func (l *ioLoop) wake() {
	select {
	case l.wakeup <- struct{}{}:
	default:
	}
}

func (l *ioLoop) poll(timeout time.Duration) {
	if timeout < 0 {
		<-l.wakeup
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-l.wakeup:
	case <-t.C:
	}
}

func (l *ioLoop) close()                             {}
func (l *ioLoop) abortCancelled()                    {}
func (l *ioLoop) nextDeadline() (time.Time, bool)    { return time.Time{}, false }
func (l *ioLoop) begin(c *check, prober Prober) bool { return false }
