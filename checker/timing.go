package checker

import (
	"errors"
	"fmt"
	"time"
)

// keepalived's defaults, kept for compatibility.
const (
	DefaultDelayLoop        = 60 * time.Second // delay_loop
	DefaultRetry            = 1                // retry (nb_get_retry) for tcp and http checks
	DefaultExecRetry        = 0                // retry for exec (MISC_CHECK) checks
	DefaultDelayBeforeRetry = time.Second      // delay_before_retry
	DefaultRise             = 1                // a failed server returns after one good check
	DefaultFall             = 1                // an up server fails after one failed round
)

// WarmupDelayLoop as Timing.Warmup spreads first checks over up to
// DelayLoop: keepalived's default warmup.
const WarmupDelayLoop time.Duration = -1

// Timing is when a real server is checked and how results become state.
// The names are keepalived's.
//
// Checks run in rounds, DelayLoop apart (measured from the end of one round
// to the start of the next). In a round the server is probed once; if the
// probe fails while the server is up, it is probed again up to Retry more
// times, DelayBeforeRetry apart, and the round fails only if every attempt
// failed. An up server goes down after Fall consecutive failed rounds. A
// down server is probed once per round, without retries, and comes back up
// after Rise consecutive successful rounds.
//
// The first round after a server is added is decisive: as in keepalived, the
// server is presumed up (down with Alpha, or when its Prober tests a role:
// RoleProber; or as Spec.Presume says) until then, and that round's single
// probe sets its state whatever Rise, Fall and Retry say. It starts after a
// random delay of up to Warmup.
type Timing struct {
	DelayLoop        time.Duration
	Retry            int
	DelayBeforeRetry time.Duration
	// Warmup bounds the random delay before the first check; zero checks at
	// once, WarmupDelayLoop means up to DelayLoop.
	Warmup time.Duration
	Rise   int
	Fall   int
	// Alpha presumes a new server down until its first check succeeds
	// (keepalived's alpha); otherwise it is presumed up, unless its check
	// tests a role (RoleProber) or Spec.Presume says otherwise.
	Alpha bool
}

// DefaultTiming returns keepalived's defaults for tcp and http checks (for
// exec checks keepalived uses DefaultExecRetry).
func DefaultTiming() Timing {
	return Timing{
		DelayLoop:        DefaultDelayLoop,
		Retry:            DefaultRetry,
		DelayBeforeRetry: DefaultDelayBeforeRetry,
		Warmup:           WarmupDelayLoop,
		Rise:             DefaultRise,
		Fall:             DefaultFall,
	}
}

// Validate reports every value out of range.
func (t Timing) Validate() error {
	var errs []error
	if t.DelayLoop <= 0 {
		errs = append(errs, fmt.Errorf("delay_loop %s: want a positive duration", t.DelayLoop))
	}
	if t.Retry < 0 {
		errs = append(errs, fmt.Errorf("retry %d: want 0 or more", t.Retry))
	}
	if t.DelayBeforeRetry < 0 {
		errs = append(errs, fmt.Errorf("delay_before_retry %s: want 0 or more", t.DelayBeforeRetry))
	}
	if t.Warmup < 0 && t.Warmup != WarmupDelayLoop {
		errs = append(errs, fmt.Errorf("warmup %s: want 0 or more", t.Warmup))
	}
	if t.Rise < 1 {
		errs = append(errs, fmt.Errorf("rise %d: want 1 or more", t.Rise))
	}
	if t.Fall < 1 {
		errs = append(errs, fmt.Errorf("fall %d: want 1 or more", t.Fall))
	}
	return errors.Join(errs...)
}

// maxWarmup is the bound of the first check's random delay.
func (t Timing) maxWarmup() time.Duration {
	if t.Warmup == WarmupDelayLoop {
		return t.DelayLoop
	}
	return t.Warmup
}

// DownWithin bounds how long an up server that stops answering stays up,
// when each probe gives up after probeTimeout: Fall rounds, each a DelayLoop
// wait and 1+Retry probes with DelayBeforeRetry between them. A refused
// connection fails faster than probeTimeout.
func (t Timing) DownWithin(probeTimeout time.Duration) time.Duration {
	round := t.DelayLoop + time.Duration(t.Retry+1)*probeTimeout + time.Duration(t.Retry)*t.DelayBeforeRetry
	return time.Duration(t.Fall) * round
}

// UpWithin bounds how long a down server that answers again stays down:
// Rise rounds, each a DelayLoop wait and a probe.
func (t Timing) UpWithin(probeTimeout time.Duration) time.Duration {
	return time.Duration(t.Rise) * (t.DelayLoop + probeTimeout)
}
