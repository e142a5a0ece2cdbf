package checker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	// Name names the check (Prober and Timing) when the server has
	// several: "http#1". Empty for a server with one check.
	Name string
	// Also holds the server's other checks, as keepalived allows several
	// checkers per real server: the server is up only when its check and
	// every one of these is up. Each check has its own state machine,
	// timer and Timing; events and status are the server's, with the
	// check that caused them (Event.Check) and each check's state
	// (Status.Checks). Names must be distinct.
	Also []Check
}

// Check is one of several checks of a real server (Spec.Also).
type Check struct {
	Name   string
	Prober Prober
	Timing Timing
}

// checks returns every check of s, its own first.
func (s Spec) checks() []Check {
	return append([]Check{{Name: s.Name, Prober: s.Prober, Timing: s.Timing}}, s.Also...)
}

// Presumption is the state of a server before its first probe.
type Presumption struct {
	Up bool
	// Reason is shown as the server's reason until the first probe, such
	// as "presumed from the table, not yet checked".
	Reason string
}

// presumption is what a new check c of spec is taken to be before its
// first probe.
func (s Spec) presumption(c Check) Presumption {
	if s.Presume != nil {
		return *s.Presume
	}
	if rp, ok := c.Prober.(RoleProber); ok && rp.TestsRole() {
		return Presumption{Up: false, Reason: "not checked yet (its role is unknown until a probe succeeds)"}
	}
	if c.Timing.Alpha {
		return Presumption{Up: false, Reason: "not checked yet (alpha)"}
	}
	return Presumption{Up: true, Reason: "not checked yet"}
}

// PresumedUp says whether a new server of s is presumed up: every one of
// its checks is.
func (s Spec) PresumedUp() bool {
	for _, c := range s.checks() {
		if !s.presumption(c).Up {
			return false
		}
	}
	return true
}

// Event is a health transition of one real server: it went up or down, or
// its dynamic weight changed while up (Up == WasUp).
type Event struct {
	Target Target
	Up     bool
	WasUp  bool
	// Weight is the dynamic weight, or NoWeight for the configured one.
	Weight int
	// Reason is the reason of the probe that caused the transition; with
	// several checks, "name: reason" of each failed one when down.
	Reason string
	// Check names the check whose probe caused the event when the server
	// has several (Spec.Name, Check.Name); empty otherwise.
	Check string
	At    time.Time
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
	if e.Check != "" {
		attrs = append(attrs, slog.String("check", e.Check))
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
	// Rise), and retries spent in the current round. With several checks,
	// those of the check probed last.
	FailRounds, OKRounds, Retries int
	// Checks is the state of each check of a server with several, in the
	// order of the Spec (its own, then Also); nil with one check.
	Checks []CheckStatus
}

// CheckStatus is the state of one of several checks of a real server.
type CheckStatus struct {
	Name                          string
	Up, Checked                   bool
	Weight                        int
	Since                         time.Time
	Transitions                   uint64
	Reason                        string
	Last                          Result
	LastAt                        time.Time
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

// Pool checks many real servers concurrently and reports their
// transitions on Events. Set changes the set of checks at any time; Run
// runs them until its context is cancelled.
//
// On the system clock, as in keepalived's single event loop, one goroutine
// keeps every check's next probe in one min-heap and sleeps in one
// epoll_wait until the earliest is due, on a 5 ms grid so that checks due
// at about the same time run in one wakeup (a check may start up to 5 ms
// later than its Timing says). TCP and plain HTTP status checks run on
// that loop as non-blocking sockets in its epoll set, with no goroutine
// and no timer of their own; other probes run on a small pool of worker
// goroutines that grows to the number of probes in flight. A probe's
// timeout starts when its connect is issued, and a probe whose deadline
// passed while the process was too busy to look is checked once more
// before it counts as timed out: when the process is saturated, checks run
// late rather than time out. On another Clock (tests), each check waits on
// a timer of that Clock and its probes run on the workers.
type Pool struct {
	clock  Clock
	rand   func(time.Duration) time.Duration
	events chan Event
	grid   bool // the clock is the system's: the loop's heap schedules

	mu      sync.Mutex
	servers map[Target]*server
	ctx     context.Context // Run's, while it runs
	stopped bool
	wg      sync.WaitGroup
	onProbe atomic.Pointer[func(Target, Result)]

	sched *sched      // the heap and loop, on the system clock while Run runs
	jobs  chan *check // hands a due check to an idle worker
}

// NewPool returns a Pool with no checks.
func NewPool(o Options) *Pool {
	p := &Pool{clock: o.Clock, rand: o.Rand, servers: map[Target]*server{}, jobs: make(chan *check)}
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
// for new servers. New servers start with their warmup; servers not in
// specs are stopped, and Set returns once their probes in flight have
// ended (they are cancelled), so no event about them follows. Invalid specs (a nil Prober, a bad Timing, a Prober
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
		names := map[string]bool{}
		for _, c := range s.checks() {
			if len(s.Also) > 0 && (c.Name == "" || names[c.Name]) {
				errs = append(errs, fmt.Errorf("check %s: several checks need distinct names, not %q", s.Target, c.Name))
			}
			names[c.Name] = true
			if c.Prober == nil {
				errs = append(errs, fmt.Errorf("check %s: no prober", s.Target))
			} else if v, ok := c.Prober.(Validator); ok {
				errs = appendEach(errs, s.Target, v.Validate())
			}
			errs = appendEach(errs, s.Target, c.Timing.Validate())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return ErrStopped
	}
	var removed []*check
	for t, s := range p.servers {
		if !seen[t] {
			delete(p.servers, t)
			s.mu.Lock()
			for _, c := range s.checks {
				removed = append(removed, c)
				c.remove()
			}
			s.mu.Unlock()
		}
	}
	now := p.clock.Now()
	for _, spec := range specs {
		if s, ok := p.servers[spec.Target]; ok {
			removed = append(removed, s.update(spec, now)...)
			continue
		}
		s := newServer(p, spec, now)
		p.servers[spec.Target] = s
		if p.ctx != nil {
			for _, c := range s.checks {
				p.start(c, now)
			}
		}
	}
	p.mu.Unlock()

	for _, c := range removed {
		if c.done != nil {
			<-c.done
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
	if p.grid {
		sc, err := newSched(p)
		if err != nil {
			p.mu.Unlock()
			return fmt.Errorf("checker: %w", err)
		}
		p.sched = sc
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			sc.run()
		}()
	}
	p.ctx = ctx
	now := p.clock.Now()
	for _, s := range p.servers {
		for _, c := range s.checks {
			p.start(c, now)
		}
	}
	p.mu.Unlock()

	<-ctx.Done()
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	if p.sched != nil {
		p.sched.stop()
	}
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
// goroutine that ran the probe (a worker or the loop), before the result
// is applied; fn must be safe for concurrent use and must not block. nil
// stops it.
func (p *Pool) OnProbe(fn func(Target, Result)) {
	if fn == nil {
		p.onProbe.Store(nil)
		return
	}
	p.onProbe.Store(&fn)
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

// start schedules c's first probe after the warmup; p.mu is held and
// p.ctx set. On the system clock the loop's heap holds it; on another
// clock c gets a timer of that clock and a goroutine waiting on it.
func (p *Pool) start(c *check, now time.Time) {
	ctx, cancel := context.WithCancel(p.ctx)
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	first := p.rand(c.timing.maxWarmup())
	c.ctx, c.cancel, c.done = ctx, cancel, make(chan struct{})
	c.started = true
	c.next = now.Add(first)
	if p.sched != nil {
		p.sched.schedule(c, c.next)
		return
	}
	c.timer = p.clock.NewTimer(first)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c.wait()
	}()
}

// reschedule makes c's next probe come at next; s.mu is held and c is
// started, idle and not retired.
func (c *check) reschedule(next time.Time) {
	c.next = next
	p := c.srv.pool
	if p.sched != nil {
		p.sched.schedule(c, next)
		return
	}
	c.timer.Reset(next.Sub(p.clock.Now()))
}

// wait is the goroutine of a check on an injected clock: it hands c to a
// worker each time its timer fires.
func (c *check) wait() {
	for {
		select {
		case <-c.ctx.Done():
			c.timer.Stop()
			return
		case <-c.timer.C():
		}
		c.srv.pool.dispatch(c)
	}
}

// dispatch starts a probe of the due check c: on the loop when its prober
// can run there, on a worker otherwise.
func (p *Pool) dispatch(c *check) {
	s := c.srv
	s.mu.Lock()
	if c.retired || c.busy || c.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	c.busy = true
	prober := c.prober
	s.mu.Unlock()
	if p.sched != nil && p.sched.begin(c, prober) {
		return
	}
	select {
	case p.jobs <- c:
		return
	default:
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.work(c)
	}()
}

// work is a worker: it probes c, then waits for the next check handed to
// it, until Run stops. Workers are as many as probes ever were in flight
// at once on them (idle ones cost a parked goroutine, no CPU).
func (p *Pool) work(c *check) {
	for {
		s := c.srv
		s.mu.Lock()
		prober := c.prober
		s.mu.Unlock()
		c.complete(prober.Probe(c.ctx, s.target), false)
		select {
		case c = <-p.jobs:
		case <-p.ctx.Done():
			return
		}
	}
}

// timerGrid is the period of the grid on which the loop wakes up on the
// system clock. Checks due within the same few milliseconds then run
// together, in one wakeup of the process, rather than each in its own: at
// 10,000 checks a second, the sleeps and wakeups in between would
// otherwise cost about a tenth of the checker's CPU time. A check starts at
// most that much later than Timing says.
const timerGrid = 5 * time.Millisecond

// server is one real server: one check or several, each with its own
// schedule and state machine. The server's state is that of its
// checks together: up when every one is up. mu guards the checks' state
// and what Set and Status touch; emit is held while a check computes and
// sends an event, so that one server's events keep their order.
type server struct {
	pool   *Pool
	target Target
	emit   sync.Mutex

	mu      sync.Mutex
	presume *Presumption
	checks  []*check
	// The server's state, the checks' together, as last reported.
	up          bool
	weight      int
	since       time.Time
	transitions uint64
	last        *check // the check probed last
}

// check is one check of a server.
type check struct {
	srv    *server
	name   string
	ctx    context.Context // set by start; cancelled when removed or stopped
	cancel context.CancelFunc
	done   chan struct{} // closed once retired: no probe of it runs any more

	// Guarded by srv.mu.
	prober  Prober
	timing  Timing
	m       machine
	started bool
	timer   Timer     // on an injected clock, once started
	next    time.Time // when the next probe is due
	busy    bool      // a probe is in flight: from its dispatch to its rescheduling
	retired bool
	heapIdx int       // in the loop's heap; -1 when not in it (sched.mu)
	heapAt  time.Time // when due, in the loop's heap (sched.mu)
}

// remove cancels c and retires it unless a probe of it is in flight (the
// probe's end retires it). It returns what to wait on for that, nil when
// c never started. s.mu is held.
func (c *check) remove() <-chan struct{} {
	if !c.started {
		return nil
	}
	c.cancel()
	if !c.busy {
		c.retire()
	} else if p := c.srv.pool; p.sched != nil {
		p.sched.abort() // if in flight on the loop, it is abandoned
	}
	return c.done
}

// retire takes c out of the schedule for good; s.mu is held.
func (c *check) retire() {
	if c.retired {
		return
	}
	c.retired = true
	if p := c.srv.pool; p.sched != nil {
		p.sched.unschedule(c)
	} else if c.timer != nil {
		c.timer.Stop()
	}
	close(c.done)
}

func newServer(p *Pool, spec Spec, now time.Time) *server {
	s := &server{pool: p, target: spec.Target, presume: spec.Presume, since: now}
	for _, c := range spec.checks() {
		s.checks = append(s.checks, &check{srv: s, name: c.Name, prober: c.Prober, timing: c.Timing, m: newMachine(now, spec.presumption(c)), heapIdx: -1})
	}
	s.up, s.weight, _ = s.state()
	return s
}

// state is the server's state from its checks': up when all are, the
// weight of the first that reports one, and the reason. s.mu is held.
func (s *server) state() (up bool, weight int, reason string) {
	if len(s.checks) == 1 {
		m := &s.checks[0].m
		return m.up, m.weight, m.reason
	}
	up, weight = true, NoWeight
	var down, all []string
	for _, c := range s.checks {
		r := c.name + ": " + c.m.reason
		all = append(all, r)
		if !c.m.up {
			up = false
			down = append(down, r)
		} else if weight == NoWeight {
			weight = c.m.weight
		}
	}
	if !up {
		return false, NoWeight, strings.Join(down, "; ")
	}
	return true, weight, strings.Join(all, "; ")
}

// complete applies the result of a probe of c and schedules the next one;
// or, when c was removed or the pool stopped meanwhile, drops the result
// and retires c. inLoop says that it runs on the loop, which must not
// block: it then leaves an event it cannot send at once, or a server whose
// event another goroutine is sending, to a goroutine of its own.
func (c *check) complete(res Result, inLoop bool) {
	s := c.srv
	p := s.pool
	if c.ctx.Err() != nil {
		c.idle(time.Time{})
		return
	}
	if fn := p.onProbe.Load(); fn != nil {
		(*fn)(s.target, res)
	}
	if inLoop {
		if !s.emit.TryLock() {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				s.emit.Lock()
				c.apply(res, false)
			}()
			return
		}
	} else {
		s.emit.Lock()
	}
	c.apply(res, inLoop)
}

// apply is complete with s.emit held; it unlocks it.
func (c *check) apply(res Result, inLoop bool) {
	s := c.srv
	p := s.pool
	now := p.clock.Now()
	s.mu.Lock()
	delay, _ := c.m.observe(c.timing, now, res)
	s.last = c
	wasUp := s.up
	up, weight, reason := s.state()
	changed := up != s.up || weight != s.weight
	if up != s.up {
		s.since = now
		s.transitions++
	}
	s.up, s.weight = up, weight
	s.mu.Unlock()
	if changed {
		ev := Event{Target: s.target, Up: up, WasUp: wasUp, Weight: weight, Reason: reason, Check: c.name, At: now}
		select {
		case p.events <- ev:
		default:
			if inLoop {
				p.wg.Add(1)
				go func() {
					defer p.wg.Done()
					c.send(ev, now.Add(delay))
				}()
				return
			}
			c.send(ev, now.Add(delay))
			return
		}
	}
	s.emit.Unlock()
	c.idle(now.Add(delay))
}

// send blocks until the event is taken or c is cancelled, then unlocks
// s.emit and schedules the next probe at next.
func (c *check) send(ev Event, next time.Time) {
	s := c.srv
	select {
	case s.pool.events <- ev:
	case <-c.ctx.Done():
	}
	s.emit.Unlock()
	c.idle(next)
}

// idle ends c's probe in flight: c is scheduled at next, or retired if it
// was removed or the pool stopped.
func (c *check) idle(next time.Time) {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	c.busy = false
	if c.ctx.Err() != nil {
		c.retire()
		return
	}
	c.reschedule(next)
}

// update applies a new spec to a known server; p.mu is held. Checks are
// matched by name: a kept check keeps its state and schedule, a new one
// starts from the server's state (a down server is not presumed up by a
// reload that adds or renames its checks), and the removed ones are
// cancelled and returned for Set to wait for.
func (s *server) update(spec Spec, now time.Time) (removed []*check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.presume = spec.Presume
	old := map[string]*check{}
	for _, c := range s.checks {
		old[c.name] = c
	}
	var checks, added []*check
	for _, cs := range spec.checks() {
		c, ok := old[cs.Name]
		if !ok {
			pr := spec.presumption(cs)
			if !s.up {
				pr = Presumption{Up: false, Reason: "not checked yet (the server was down)"}
			}
			c = &check{srv: s, name: cs.Name, prober: cs.Prober, timing: cs.Timing, m: newMachine(now, pr), heapIdx: -1}
			added = append(added, c)
			checks = append(checks, c)
			continue
		}
		delete(old, cs.Name)
		checks = append(checks, c)
		prev := c.timing
		c.prober, c.timing = cs.Prober, cs.Timing
		if !c.started || c.busy || c.retired || cs.Timing == prev {
			continue // not started, or the probe's end reschedules with the new timing itself
		}
		if latest := now.Add(cs.Timing.DelayLoop); latest.Before(c.next) {
			c.reschedule(latest)
		}
	}
	for _, c := range old {
		removed = append(removed, c)
		c.remove()
		if s.last == c {
			s.last = nil
		}
	}
	s.checks = checks
	if up, weight, _ := s.state(); len(removed) > 0 && (up != s.up || weight != s.weight) {
		// A removed check held the server down (or its weight): probe a
		// kept check now, whose result reports the new state, rather than
		// at its next delay_loop.
		for _, c := range checks {
			if c.started && !c.busy && !c.retired {
				c.reschedule(now)
				break
			}
		}
	}
	if s.pool.ctx != nil {
		s.mu.Unlock()
		for _, c := range added {
			s.pool.start(c, now)
		}
		s.mu.Lock()
	}
	return removed
}

func (s *server) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	up, weight, reason := s.state()
	st := Status{Target: s.target, Up: up, Checked: true, Weight: weight, Since: s.since, Transitions: s.transitions, Reason: reason}
	last := s.last
	for _, c := range s.checks {
		m := &c.m
		st.Checked = st.Checked && m.checked
		if last == nil || m.lastAt.After(last.m.lastAt) {
			last = c
		}
		if len(s.checks) > 1 {
			st.Checks = append(st.Checks, CheckStatus{
				Name: c.name, Up: m.up, Checked: m.checked, Weight: m.weight, Since: m.since,
				Transitions: m.transitions, Reason: m.reason, Last: m.last, LastAt: m.lastAt,
				FailRounds: m.failRounds, OKRounds: m.okRounds, Retries: m.retries,
			})
		}
	}
	m := &last.m
	st.Last, st.LastAt = m.last, m.lastAt
	st.FailRounds, st.OKRounds, st.Retries = m.failRounds, m.okRounds, m.retries
	return st
}
