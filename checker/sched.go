package checker

import (
	"container/heap"
	"sync"
	"time"
)

// sched is the Pool's scheduler on the system clock, keepalived's model:
// one goroutine, one min-heap of the checks' next probes, one wait (an
// epoll_wait on Linux, see ioLoop) that ends at the earliest of the next
// due check, the next deadline of a probe in flight on the loop, a socket
// event or a wake from another goroutine. The wait ends on the 5 ms grid
// (timerGrid), so that checks due at about the same time start in one
// wakeup.
type sched struct {
	p  *Pool
	io *ioLoop // used by the loop goroutine only

	mu       sync.Mutex
	heap     timeHeap[*check] // by heapAt; check.heapIdx is the index
	sleeping bool             // the loop waits, until wakeAt at the latest
	wakeAt   time.Time        // zero: no wake planned (wait without end)
	aborts   bool             // some check in flight on the loop was removed
	quit     bool
}

func newSched(p *Pool) (*sched, error) {
	io, err := newIOLoop()
	if err != nil {
		return nil, err
	}
	return &sched{p: p, io: io}, nil
}

// schedule puts c's next probe at at, waking the loop if it sleeps past it.
func (s *sched) schedule(c *check, at time.Time) {
	s.mu.Lock()
	c.heapAt = at
	if c.heapIdx >= 0 {
		heap.Fix(&s.heap, c.heapIdx)
	} else {
		heap.Push(&s.heap, c)
	}
	wake := s.sleeping && (s.wakeAt.IsZero() || at.Before(s.wakeAt))
	if wake {
		s.sleeping = false // one wake is enough
	}
	s.mu.Unlock()
	if wake {
		s.io.wake()
	}
}

// unschedule takes c out of the heap.
func (s *sched) unschedule(c *check) {
	s.mu.Lock()
	if i := c.heapIdx; i >= 0 {
		heap.Remove(&s.heap, i)
	}
	s.mu.Unlock()
}

// abort has the loop abandon the probes in flight of cancelled checks.
func (s *sched) abort() {
	s.mu.Lock()
	s.aborts = true
	wake := s.sleeping
	s.sleeping = false
	s.mu.Unlock()
	if wake {
		s.io.wake()
	}
}

// begin starts a probe of c by prober on the loop, when it can run there.
// It runs on the loop goroutine.
func (s *sched) begin(c *check, prober Prober) bool { return s.io.begin(c, prober) }

// stop ends the loop: it abandons its probes in flight and returns.
func (s *sched) stop() {
	s.mu.Lock()
	s.quit = true
	s.mu.Unlock()
	s.io.wake()
}

// run is the loop.
func (s *sched) run() {
	defer s.io.close()
	var due []*check
	for {
		now := time.Now()
		s.mu.Lock()
		if s.quit {
			s.mu.Unlock()
			return
		}
		aborts := s.aborts
		s.aborts = false
		for len(s.heap) > 0 && !s.heap[0].heapAt.After(now) {
			due = append(due, heap.Pop(&s.heap).(*check))
		}
		var wake time.Time
		if len(due) == 0 {
			if len(s.heap) > 0 {
				wake = s.heap[0].heapAt
			}
			if dl, ok := s.io.nextDeadline(); ok && (wake.IsZero() || dl.Before(wake)) {
				wake = dl
			}
			if !wake.IsZero() {
				wake = onGrid(wake)
			}
			s.sleeping, s.wakeAt = true, wake
		}
		s.mu.Unlock()

		if aborts {
			s.io.abortCancelled()
		}
		if len(due) > 0 {
			for i, c := range due {
				s.p.dispatch(c)
				due[i] = nil
			}
			due = due[:0]
			s.io.poll(0) // the events that are ready, without sleeping
			continue
		}
		timeout := time.Duration(-1)
		if !wake.IsZero() {
			timeout = max(time.Until(wake), 0)
		}
		s.io.poll(timeout)
		s.mu.Lock()
		s.sleeping = false
		s.mu.Unlock()
	}
}

// onGrid rounds t up to the grid of timerGrid.
func onGrid(t time.Time) time.Time {
	n := t.UnixNano() % int64(timerGrid)
	if n == 0 {
		return t
	}
	return t.Add(timerGrid - time.Duration(n))
}
