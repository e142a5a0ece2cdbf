package checker

import "time"

// machine is the health state of one real server: the rules of Timing
// applied to a sequence of probe results. It knows nothing of timers; it
// says how long to wait before the next probe.
type machine struct {
	up      bool // current state (presumed until checked)
	checked bool // the first round is over
	weight  int  // dynamic weight while up, or NoWeight

	okRounds   int // consecutive successful rounds while down
	failRounds int // consecutive failed rounds while up
	retries    int // retries spent in the current round

	since       time.Time // when up last changed (or the server was added)
	transitions uint64    // how many times up changed
	reason      string    // why the server is in its current state
	last        Result    // latest probe result
	lastAt      time.Time // when it was taken (zero before the first probe)
}

func newMachine(now time.Time, p Presumption) machine {
	return machine{up: p.Up, weight: NoWeight, since: now, reason: p.Reason}
}

// observe applies the result of a probe that ended at now. It returns the
// delay until the next probe and whether the state or the weight changed.
func (m *machine) observe(t Timing, now time.Time, r Result) (next time.Duration, changed bool) {
	m.last, m.lastAt = r, now
	if r.Keep {
		// No opinion: state, reason and rise/fall progress stay, the
		// round is over (no retry), and a first round is not decisive.
		m.retries = 0
		return t.DelayLoop, false
	}
	if !m.checked {
		// The first probe decides, without retries, rise or fall.
		m.checked = true
		m.retries, m.okRounds, m.failRounds = 0, 0, 0
		changed = m.set(now, r.Up, weightOf(r), r.Reason)
		if !changed {
			m.reason = r.Reason // the presumption is now a fact, with its reason
		}
		return t.DelayLoop, changed
	}
	if r.Up {
		m.retries, m.failRounds = 0, 0
		if m.up {
			return t.DelayLoop, m.set(now, true, weightOf(r), r.Reason)
		}
		m.okRounds++
		if m.okRounds >= t.Rise {
			m.okRounds = 0
			changed = m.set(now, true, weightOf(r), r.Reason)
		}
		return t.DelayLoop, changed
	}
	m.okRounds = 0
	if !m.up {
		return t.DelayLoop, false
	}
	if m.retries < t.Retry {
		m.retries++
		return t.DelayBeforeRetry, false
	}
	m.retries = 0
	m.failRounds++
	if m.failRounds >= t.Fall {
		m.failRounds = 0
		changed = m.set(now, false, NoWeight, r.Reason)
	}
	return t.DelayLoop, changed
}

// set moves to state up with weight w and reports whether anything changed.
func (m *machine) set(now time.Time, up bool, w int, reason string) bool {
	if !up {
		w = NoWeight
	}
	if up == m.up && w == m.weight {
		return false
	}
	if up != m.up {
		m.since = now
		m.transitions++
	}
	m.up, m.weight, m.reason = up, w, reason
	return true
}

func weightOf(r Result) int {
	if r.Weight < 0 {
		return NoWeight
	}
	return r.Weight
}
