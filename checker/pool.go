package checker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Spec is the check of one real server: what probes it and when.
type Spec struct {
	Target Target
	Prober Prober
	Timing Timing
	// Presume, when set, is what a new server is taken to be until its
	// first probe decides (as any first probe does: without retries, rise
	// or fall). Nil is the default presumption: down with Timing.Alpha or
	// a RoleProber that tests a role, up otherwise. A server already in
	// the pool keeps its state whatever Presume says.
	Presume *Presumption
}

// Presumption is the state of a server before its first probe.
type Presumption struct {
	Up bool
	// Reason is shown as the server's reason until the first probe, such
	// as "presumed from the table, not yet checked".
	Reason string
}

// presumption is what a new server of spec is taken to be before its first
// probe.
func (s Spec) presumption() Presumption {
	if s.Presume != nil {
		return *s.Presume
	}
	if rp, ok := s.Prober.(RoleProber); ok && rp.TestsRole() {
		return Presumption{Up: false, Reason: "not checked yet (its role is unknown until a probe succeeds)"}
	}
	if s.Timing.Alpha {
		return Presumption{Up: false, Reason: "not checked yet (alpha)"}
	}
	return Presumption{Up: true, Reason: "not checked yet"}
}

// Event is a health transition of one real server: it went up or down, or
// its dynamic weight changed while up (Up == WasUp).
type Event struct {
	Target Target
	Up     bool
	WasUp  bool
	// Weight is the dynamic weight, or NoWeight for the configured one.
	Weight int
	// Reason is the reason of the probe that caused the transition.
	Reason string
	At     time.Time
}

// LogValue makes an Event one structured log record:
// service, real, state, weight (when dynamic) and reason.
func (e Event) LogValue() slog.Value {
	state := "down"
	if e.Up {
		state = "up"
	}
	attrs := []slog.Attr{
		slog.String("service", e.Target.Service),
		slog.String("real", e.Target.Addr.String()),
		slog.String("state", state),
	}
	if e.Weight != NoWeight {
		attrs = append(attrs, slog.Int("weight", e.Weight))
	}
	return slog.GroupValue(append(attrs, slog.String("reason", e.Reason))...)
}

// Status is the current health of one real server, for a status command.
type Status struct {
	Target Target
	Up     bool
	// Checked is false until the first round is over: Up is then the
	// presumption (true, or false with Alpha).
	Checked bool
	Weight  int       // dynamic weight, or NoWeight
	Since   time.Time // when Up last changed, or the server was added
	// Transitions counts the changes of Up since the server was added
	// (the first probe counts when it contradicts the presumption).
	Transitions uint64
	Reason      string    // why it is in its state
	Last        Result    // the latest probe
	LastAt      time.Time // when the latest probe ended; zero if none yet
	// Progress towards a transition: consecutive failed rounds of an up
	// server (towards Fall) or successful rounds of a down one (towards
	// Rise), and retries spent in the current round.
	FailRounds, OKRounds, Retries int
}

// Options configure a Pool. The zero value is the system clock, a uniform
// random warmup and an event buffer of 256.
type Options struct {
	Clock Clock
	// Rand returns a random duration in [0, n]; it draws the warmup delays.
	Rand func(n time.Duration) time.Duration
	// EventBuffer is the capacity of the Events channel.
	EventBuffer int
}

// ErrStopped is returned by Set and Run once Run has returned.
var ErrStopped = errors.New("checker: pool stopped")

// Pool checks many real servers concurrently, one goroutine and one timer
// each, and reports their transitions on Events. Set changes the set of
// checks at any time; Run runs them until its context is cancelled. On the
// system clock the timers fire on a 5 ms grid, so that checks due at about
// the same time run together: a check may start up to 5 ms later than its
// Timing says.
type Pool struct {
	clock  Clock
	rand   func(time.Duration) time.Duration
	events chan Event
	grid   bool // the clock is the system's: timers fire on timerGrid

	mu      sync.Mutex
	servers map[Target]*server
	ctx     context.Context // Run's, while it runs
	stopped bool
	wg      sync.WaitGroup
	onProbe func(Target, Result)
}

// NewPool returns a Pool with no checks.
func NewPool(o Options) *Pool {
	p := &Pool{clock: o.Clock, rand: o.Rand, servers: map[Target]*server{}}
	if p.clock == nil {
		p.clock = SystemClock{}
	}
	switch p.clock.(type) {
	case SystemClock, *SystemClock:
		p.grid = true
	}
	if p.rand == nil {
		p.rand = func(n time.Duration) time.Duration {
			if n <= 0 {
				return 0
			}
			return rand.N(n + 1)
		}
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 256
	}
	p.events = make(chan Event, o.EventBuffer)
	return p
}

// Events delivers transitions, in order for each server. It is closed when
// Run returns. The caller must keep reading: a server whose event is not
// taken waits to be checked again.
func (p *Pool) Events() <-chan Event { return p.events }

// Set makes specs the pool's checks. Servers that were already checked keep
// their state, counters and schedule, so a failed server stays failed and a
// healthy one is not re-checked from scratch; they switch to the new Prober
// at their next probe and to the new Timing at once (the next probe comes no
// later than the new DelayLoop from now). Alpha and Presume only matter
// for new servers. New servers start with their warmup; servers not in specs are
// stopped, and Set returns once their goroutines have exited, so no event
// about them follows. Invalid specs (a nil Prober, a bad Timing, a Prober
// whose Validate fails, a duplicate Target) make Set change nothing and
// return every error.
func (p *Pool) Set(specs []Spec) error {
	var errs []error
	seen := make(map[Target]bool, len(specs))
	for _, s := range specs {
		if seen[s.Target] {
			errs = append(errs, fmt.Errorf("check %s: duplicate", s.Target))
		}
		seen[s.Target] = true
		if s.Prober == nil {
			errs = append(errs, fmt.Errorf("check %s: no prober", s.Target))
		} else if v, ok := s.Prober.(Validator); ok {
			errs = appendEach(errs, s.Target, v.Validate())
		}
		errs = appendEach(errs, s.Target, s.Timing.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return ErrStopped
	}
	var removed []*server
	for t, s := range p.servers {
		if !seen[t] {
			delete(p.servers, t)
			removed = append(removed, s)
			if s.cancel != nil {
				s.cancel()
			}
		}
	}
	now := p.clock.Now()
	for _, spec := range specs {
		if s, ok := p.servers[spec.Target]; ok {
			s.update(spec, now)
			continue
		}
		s := &server{pool: p, spec: spec, m: newMachine(now, spec.presumption())}
		p.servers[spec.Target] = s
		if p.ctx != nil {
			p.start(s, now)
		}
	}
	p.mu.Unlock()

	for _, s := range removed {
		if s.done != nil {
			<-s.done
		}
	}
	return nil
}

// appendEach appends err, or each of the errors it joins, naming t.
func appendEach(errs []error, t Target, err error) []error {
	if err == nil {
		return errs
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = appendEach(errs, t, e)
		}
		return errs
	}
	return append(errs, fmt.Errorf("check %s: %w", t, err))
}

// Run checks the servers until ctx is cancelled, then stops every check,
// waits for them and closes Events. It returns ErrStopped if called again.
func (p *Pool) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.ctx != nil || p.stopped {
		p.mu.Unlock()
		return ErrStopped
	}
	p.ctx = ctx
	now := p.clock.Now()
	for _, s := range p.servers {
		p.start(s, now)
	}
	p.mu.Unlock()

	<-ctx.Done()
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.wg.Wait()
	close(p.events)
	return nil
}

// Status returns every server's state, sorted by service then address.
func (p *Pool) Status() []Status {
	p.mu.Lock()
	out := make([]Status, 0, len(p.servers))
	for _, s := range p.servers {
		out = append(out, s.status())
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b Status) int {
		return cmp.Or(cmp.Compare(a.Target.Service, b.Target.Service), a.Target.Addr.Compare(b.Target.Addr))
	})
	return out
}

// OnProbe makes fn hear the result of every probe (metrics), on the
// probing server's goroutine, before the result is applied; fn must be
// safe for concurrent use and must not block. nil stops it.
func (p *Pool) OnProbe(fn func(Target, Result)) {
	p.mu.Lock()
	p.onProbe = fn
	p.mu.Unlock()
}

// Lookup returns one server's state.
func (p *Pool) Lookup(t Target) (Status, bool) {
	p.mu.Lock()
	s, ok := p.servers[t]
	p.mu.Unlock()
	if !ok {
		return Status{}, false
	}
	return s.status(), true
}

// start launches s's goroutine, its first probe after the warmup; p.mu is
// held and p.ctx set.
func (p *Pool) start(s *server, now time.Time) {
	ctx, cancel := context.WithCancel(p.ctx)
	first := p.rand(s.spec.Timing.maxWarmup())
	s.mu.Lock()
	s.cancel, s.done = cancel, make(chan struct{})
	s.next = now.Add(first)
	s.timer = p.clock.NewTimer(p.after(first))
	s.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		s.run(ctx)
	}()
}

// timerGrid is the period of the grid on which the pool's timers fire on
// the system clock. Checks due within the same few milliseconds then run
// together, in one wakeup of the process, rather than each in its own: at
// 10,000 checks a second, the scheduler's sleeps and wakeups in between
// would otherwise cost about a tenth of the checker's CPU time. A check
// starts at most that much later than Timing says.
const timerGrid = 5 * time.Millisecond

// after is the timer duration for a wait of d: d, or on the system clock
// the wait until the first point of the grid at or after d from now.
func (p *Pool) after(d time.Duration) time.Duration {
	if !p.grid {
		return d
	}
	at := time.Now().Add(d).UnixNano()
	return d + time.Duration((int64(timerGrid)-at%int64(timerGrid))%int64(timerGrid))
}

// server is one real server's check. Its goroutine owns the probing; mu
// guards what Set and Status touch.
type server struct {
	pool   *Pool
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	spec  Spec
	m     machine
	timer Timer     // nil until started
	next  time.Time // when timer fires
	busy  bool      // between the timer firing and its re-arming
}

func (s *server) run(ctx context.Context) {
	defer close(s.done)
	clock := s.pool.clock
	for {
		select {
		case <-ctx.Done():
			s.timer.Stop()
			return
		case <-s.timer.C():
		}
		s.mu.Lock()
		s.busy = true
		prober, target := s.spec.Prober, s.spec.Target
		s.mu.Unlock()

		res := prober.Probe(ctx, target)
		if ctx.Err() != nil {
			return
		}
		s.pool.mu.Lock()
		onProbe := s.pool.onProbe
		s.pool.mu.Unlock()
		if onProbe != nil {
			onProbe(target, res)
		}
		now := clock.Now()
		s.mu.Lock()
		wasUp := s.m.up
		delay, changed := s.m.observe(s.spec.Timing, now, res)
		ev := Event{Target: target, Up: s.m.up, WasUp: wasUp, Weight: s.m.weight, Reason: s.m.reason, At: now}
		s.mu.Unlock()
		if changed {
			select {
			case s.pool.events <- ev:
			case <-ctx.Done():
				return
			}
		}
		s.mu.Lock()
		s.busy = false
		s.next = now.Add(delay)
		s.timer.Reset(s.pool.after(s.next.Sub(clock.Now())))
		s.mu.Unlock()
	}
}

// update applies a new spec to a known server.
func (s *server) update(spec Spec, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.spec.Timing
	s.spec = spec
	if s.timer == nil || s.busy || spec.Timing == old {
		return // not started, or the goroutine reschedules with the new timing itself
	}
	if latest := now.Add(spec.Timing.DelayLoop); latest.Before(s.next) {
		s.next = latest
		s.timer.Reset(s.pool.after(latest.Sub(now)))
	}
}

func (s *server) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &s.m
	return Status{
		Target: s.spec.Target, Up: m.up, Checked: m.checked, Weight: m.weight,
		Since: m.since, Transitions: m.transitions, Reason: m.reason, Last: m.last, LastAt: m.lastAt,
		FailRounds: m.failRounds, OKRounds: m.okRounds, Retries: m.retries,
	}
}
