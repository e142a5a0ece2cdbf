package director

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/vrrp"
)

// SyncKernel is what the sync glue needs of the kernel's IPVS
// (*ipvs.Netlink).
type SyncKernel interface {
	SyncDaemons(ctx context.Context) ([]ipvs.SyncDaemon, error)
	StartSyncDaemon(ctx context.Context, d ipvs.SyncDaemon) error
	StopSyncDaemon(ctx context.Context, s ipvs.SyncState) error
}

// SyncOptions configure a Syncer. Zero fields are the real thing.
type SyncOptions struct {
	Logger *slog.Logger
	// Open opens the kernel's IPVS; nil is ipvs.Open in the process's
	// namespace (`lvsctl run --netns` runs inside it).
	Open func(ctx context.Context) (SyncKernel, func(), error)
	// ReadFile and WriteFile read and write a sysctl under /proc/sys;
	// nil is the file system.
	ReadFile  func(path string) ([]byte, error)
	WriteFile func(path string, b []byte) error
	// RetryMin and RetryMax bound the delay before a failed kernel
	// request is tried again (defaults 1 s and 30 s).
	RetryMin, RetryMax time.Duration
	// RequestTimeout bounds every request to the kernel (default
	// DefaultSyncRequestTimeout). A request the kernel does not answer in
	// time fails like any other (logged, retried), and the netlink socket
	// it was sent on is replaced.
	RequestTimeout time.Duration
	// Recheck is how often the running daemons are compared with what
	// should run, so that one that went away is started again (default
	// DefaultSyncRecheck).
	Recheck time.Duration
}

// Defaults of SyncOptions.
const (
	// DefaultSyncRequestTimeout bounds a sync daemon request. The kernel
	// answers in milliseconds, except that it never answers a stop that
	// interrupted a daemon thread that had not run yet (ip_vs_sync.c's
	// stop_sync_thread returns -EINTR and netlink sends no ack for it),
	// as when a stop follows a start within milliseconds: the daemon is
	// stopped, and the retry finds it so.
	DefaultSyncRequestTimeout = 2 * time.Second
	DefaultSyncRecheck        = 10 * time.Second
)

// Syncer drives the kernel's IPVS connection synchronisation daemons. In
// mode active-active both run all the time (each director sends its
// connections and receives the others'); on exit the master daemon stops
// and the backup one keeps running. In mode vrrp (the default) they follow
// the state of one VRRP instance (keepalived's lvs_sync_daemon):
//
//   - MASTER: the backup daemon stops, the master daemon starts: it
//     multicasts the director's connections.
//   - BACKUP: the master daemon stops, the backup daemon starts: it
//     receives the master's connections into this director's table, so
//     they survive a failover.
//   - FAULT, STOP (the instance left, or lvsctl stops): the master daemon
//     stops; a backup daemon keeps running, so that the connections the
//     new master sends keep arriving and an lvsctl restart does not lose
//     them. INIT changes nothing.
//
// A daemon already running with the configured parameters, as the kernel
// applies them (see effectiveMaxLen), is left alone; one with other
// parameters is restarted. The sysctls of the sync block are written when
// a configuration brings them, with their previous values logged. Every
// kernel request has a deadline; failures (the interface does not exist
// yet, a request the kernel does not answer) are logged and retried, and
// while a daemon that should run does not, Status says why. The running
// daemons are compared with what should run every Recheck.
type Syncer struct {
	o   SyncOptions
	log *slog.Logger

	mu     sync.Mutex
	cfg    *lvshcl.Sync
	states map[string]vrrp.State
	wake   chan struct{}
	status SyncStatus
	kept   map[ipvs.SyncState]ipvs.SyncDaemon // running as wanted, already logged
}

// SyncStatus is the state of the sync daemons, for status and metrics.
type SyncStatus struct {
	// Configured is true with a sync block; the rest is then set.
	Configured bool
	// Mode is the block's mode ("vrrp" or "active-active"); VRRPInstance
	// the instance followed in mode vrrp.
	Mode         string
	VRRPInstance string
	// WantMaster and WantBackup say which daemons should run now, from
	// the instance's state.
	WantMaster, WantBackup bool
	// Running are the daemons the kernel reported at the latest check,
	// with the parameters it applies; CheckedAt is when.
	Running   []ipvs.SyncDaemon
	CheckedAt time.Time
	// Error is the latest failure, while it is not repaired: a daemon
	// that should run may not.
	Error string
	// Failures counts the failed attempts since start.
	Failures uint64
}

// Missing returns the daemons that should run and, at the latest check,
// did not.
func (st SyncStatus) Missing() []ipvs.SyncState {
	var out []ipvs.SyncState
	for _, w := range []struct {
		want bool
		st   ipvs.SyncState
	}{{st.WantMaster, ipvs.SyncMaster}, {st.WantBackup, ipvs.SyncBackup}} {
		if w.want && !slices.ContainsFunc(st.Running, func(d ipvs.SyncDaemon) bool { return d.State == w.st }) {
			out = append(out, w.st)
		}
	}
	return out
}

// Status returns the sync daemons' state; safe from any goroutine.
func (s *Syncer) Status() SyncStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Running = slices.Clone(st.Running)
	return st
}

// NewSyncer returns a syncer; nothing happens until Run.
func NewSyncer(o SyncOptions) *Syncer {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Open == nil {
		o.Open = func(ctx context.Context) (SyncKernel, func(), error) {
			n, err := ipvs.Open(ctx, "")
			if err != nil {
				return nil, nil, err
			}
			return n, func() { n.Close() }, nil
		}
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.WriteFile == nil {
		o.WriteFile = func(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(30*time.Second, o.RetryMin)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultSyncRequestTimeout
	}
	if o.Recheck <= 0 {
		o.Recheck = DefaultSyncRecheck
	}
	return &Syncer{o: o, log: o.Logger, states: map[string]vrrp.State{}, wake: make(chan struct{}, 1),
		kept: map[ipvs.SyncState]ipvs.SyncDaemon{}}
}

func (s *Syncer) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// SetConfig hands the syncer a configuration's sync block (nil: none).
// Safe from any goroutine; never blocks.
func (s *Syncer) SetConfig(c *lvshcl.Sync) {
	s.mu.Lock()
	s.cfg = c
	s.mu.Unlock()
	s.poke()
}

// Transition records an instance's new state. Safe from any goroutine
// (instances call it from their OnTransition); never blocks.
func (s *Syncer) Transition(t vrrp.Transition) {
	s.mu.Lock()
	s.states[t.Instance] = t.To
	s.mu.Unlock()
	s.poke()
}

// wrapNewInstance makes every instance made by newInstance report its
// transitions to s as well.
func (s *Syncer) wrapNewInstance(newInstance func(vrrp.Config) (Instance, error)) func(vrrp.Config) (Instance, error) {
	if newInstance == nil {
		newInstance = func(c vrrp.Config) (Instance, error) { return vrrp.New(c) }
	}
	return func(c vrrp.Config) (Instance, error) {
		prev := c.OnTransition
		c.OnTransition = func(t vrrp.Transition) {
			if prev != nil {
				prev(t)
			}
			s.Transition(t)
		}
		return newInstance(c)
	}
}

// want is the daemon state the configuration and the instance's state
// call for.
type want struct {
	cfg    *lvshcl.Sync
	master bool // run the master daemon
	backup bool // run the backup daemon
	keep   bool // leave a running backup daemon alone (FAULT, STOP)
}

func (s *Syncer) wantLocked(stopping bool) want {
	w := want{cfg: s.cfg}
	if s.cfg == nil {
		return w
	}
	if s.cfg.Mode == lvshcl.SyncActiveActive {
		// Both daemons, whatever VRRP does; on exit the master stops and
		// the backup keeps running, as in FAULT.
		if stopping {
			w.keep = true
		} else {
			w.master, w.backup = true, true
		}
		return w
	}
	st := s.states[s.cfg.VRRPInstance]
	if stopping {
		st = vrrp.StateStop
	}
	switch st {
	case vrrp.StateMaster:
		w.master = true
	case vrrp.StateBackup:
		w.backup = true
	case vrrp.StateFault, vrrp.StateStop:
		w.keep = true
	case vrrp.StateInit:
		w.keep, w.master = true, false
	}
	return w
}

// Run drives the daemons until ctx is done, starting with cfg; then it
// stops the master daemon (if it runs) and returns. Without a sync block
// it never opens IPVS.
func (s *Syncer) Run(ctx context.Context, cfg *lvshcl.Sync) {
	s.SetConfig(cfg)
	var (
		k        SyncKernel
		closeK   func()
		sysctls  []lvshcl.Sysctl // last written
		delay    = s.o.RetryMin
		retry    <-chan time.Time
		everSync bool
		quick    = true // the next timeout is retried at once
	)
	reopen := func() {
		if closeK != nil {
			closeK()
		}
		k, closeK = nil, nil
	}
	defer reopen()
	recheck := time.NewTicker(s.o.Recheck)
	defer recheck.Stop()
	step := func(ctx context.Context, stopping bool) error {
		s.mu.Lock()
		w := s.wantLocked(stopping)
		s.mu.Unlock()
		if w.cfg == nil && !everSync {
			return nil
		}
		if k == nil {
			err := s.request(ctx, func(ctx context.Context) error {
				var err error
				k, closeK, err = s.o.Open(ctx)
				return err
			})
			if err != nil {
				k, closeK = nil, nil
				return s.failed(w, fmt.Errorf("open IPVS: %w", err))
			}
		}
		everSync = true
		if w.cfg != nil && !reflect.DeepEqual(w.cfg.Sysctls, sysctls) {
			if err := s.setSysctls(w.cfg.Sysctls); err != nil {
				return s.failed(w, err)
			}
			sysctls = w.cfg.Sysctls
		}
		running, err := s.apply(ctx, k, w)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				// The socket may still get the late answer: use a new one.
				reopen()
			}
			return s.failed(w, err)
		}
		s.checked(w, running)
		return nil
	}
	for {
		if retry == nil {
			switch err := step(ctx, false); {
			case err == nil || ctx.Err() != nil:
				if err == nil && (!quick || delay > s.o.RetryMin) {
					s.log.Info("sync daemon: repaired after failures")
				}
				delay, quick = s.o.RetryMin, true
			default:
				wait := delay
				if quick && errors.Is(err, context.DeadlineExceeded) {
					wait, quick = 0, false
				} else {
					delay = min(2*delay, s.o.RetryMax)
				}
				s.log.Error("sync daemon: retrying", "err", err, "retry_in", wait)
				retry = time.After(wait)
			}
		}
		select {
		case <-ctx.Done():
			// The instances have left (or are leaving): stop the master
			// daemon, keep a backup one.
			sctx, cancel := context.WithTimeout(context.Background(), 2*s.o.RequestTimeout+time.Second)
			if err := step(sctx, true); err != nil {
				s.log.Error("sync daemon: stopping", "err", err)
			}
			cancel()
			return
		case <-s.wake:
		case <-recheck.C:
		case <-retry:
			retry = nil
		}
	}
}

// failed records err in the status and returns it.
func (s *Syncer) failed(w want, err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setWantLocked(w)
	s.status.Error = err.Error()
	s.status.Failures++
	return err
}

// checked records a successful step: running is what the kernel runs.
func (s *Syncer) checked(w want, running []ipvs.SyncDaemon) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setWantLocked(w)
	s.status.Running = running
	s.status.CheckedAt = time.Now()
	s.status.Error = ""
	if m := s.status.Missing(); len(m) > 0 {
		// Not reached while apply does its job; said rather than hidden.
		s.status.Error = fmt.Sprintf("%s daemon should run and does not", m[0])
	}
}

func (s *Syncer) setWantLocked(w want) {
	s.status.Configured = w.cfg != nil
	s.status.WantMaster, s.status.WantBackup = w.master, w.backup
	s.status.VRRPInstance, s.status.Mode = "", ""
	if w.cfg != nil {
		s.status.VRRPInstance = w.cfg.VRRPInstance
		s.status.Mode = w.cfg.Mode.String()
	}
}

// request runs one kernel request with the request deadline.
func (s *Syncer) request(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.o.RequestTimeout)
	defer cancel()
	err := fn(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// setSysctls writes the sysctls, logging each previous value.
func (s *Syncer) setSysctls(list []lvshcl.Sysctl) error {
	for _, sc := range list {
		prev, err := s.o.ReadFile(sc.Path())
		if err != nil {
			return fmt.Errorf("sysctl %s: %w", sc.Name, err)
		}
		old := strings.TrimSpace(string(prev))
		if old == sc.Value {
			s.log.Info("sysctl already set", "sysctl", sc.Name, "value", sc.Value)
			continue
		}
		if err := s.o.WriteFile(sc.Path(), []byte(sc.Value+"\n")); err != nil {
			return fmt.Errorf("sysctl %s = %q: %w", sc.Name, sc.Value, err)
		}
		s.log.Info("sysctl set", "sysctl", sc.Name, "value", sc.Value, "previous", old)
	}
	return nil
}

// sameDaemon reports whether running d is what cfg asks for, as the
// kernel applies it. A value the kernel does not report (zero before Linux
// 4.3) matches.
func sameDaemon(d, cfg ipvs.SyncDaemon) bool {
	unknownOr := func(ok bool, v uint64) bool { return v == 0 || ok }
	return d.Interface == cfg.Interface && d.SyncID == cfg.SyncID &&
		unknownOr(d.Port == cfg.Port, uint64(d.Port)) &&
		unknownOr(d.TTL == cfg.TTL, uint64(d.TTL)) &&
		(!d.Group.IsValid() || !cfg.Group.IsValid() || d.Group == cfg.Group) &&
		(cfg.MaxLen == 0 || d.MaxLen == 0 || d.MaxLen == effectiveMaxLen(cfg))
}

// effectiveMaxLen is the sync message length the kernel applies for a
// configured non-zero cfg.MaxLen (ip_vs_sync.c, start_sync_thread): at
// least 1024 for a backup daemon (1 for a master), at most 65535 minus the
// IP and UDP headers of the group's family. A zero MaxLen is the kernel's
// choice from the interface's MTU (1472 for a master over IPv4).
func effectiveMaxLen(cfg ipvs.SyncDaemon) uint16 {
	if cfg.MaxLen == 0 {
		return 0
	}
	hlen := 20 + 8
	if g := cfg.Group; g.IsValid() && g.Is6() && !g.Is4In6() {
		hlen = 40 + 8
	}
	lo := 1
	if cfg.State == ipvs.SyncBackup {
		lo = 1024
	}
	return uint16(min(max(int(cfg.MaxLen), lo), 65535-hlen))
}

// apply makes the kernel's daemons what w asks for and returns the
// daemons that run then, with the parameters the kernel applies.
func (s *Syncer) apply(ctx context.Context, k SyncKernel, w want) ([]ipvs.SyncDaemon, error) {
	list := func() ([]ipvs.SyncDaemon, error) {
		var running []ipvs.SyncDaemon
		err := s.request(ctx, func(ctx context.Context) error {
			var err error
			running, err = k.SyncDaemons(ctx)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list sync daemons: %w", err)
		}
		return running, nil
	}
	running, err := list()
	if err != nil {
		return nil, err
	}
	cur := map[ipvs.SyncState]ipvs.SyncDaemon{}
	for _, d := range running {
		cur[d.State] = d
	}
	result := func() []ipvs.SyncDaemon {
		out := make([]ipvs.SyncDaemon, 0, len(cur))
		for _, st := range []ipvs.SyncState{ipvs.SyncMaster, ipvs.SyncBackup} {
			if d, ok := cur[st]; ok {
				out = append(out, d)
			}
		}
		return out
	}
	stop := func(st ipvs.SyncState, why string) error {
		if _, ok := cur[st]; !ok {
			return nil
		}
		err := s.request(ctx, func(ctx context.Context) error { return k.StopSyncDaemon(ctx, st) })
		if err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("stop %s sync daemon: %w", st, err)
		}
		delete(cur, st)
		delete(s.kept, st)
		s.log.Info("sync daemon stopped", "state", st.String(), "why", why)
		return nil
	}
	start := func(st ipvs.SyncState) error {
		d := w.cfg.Daemon
		d.State = st
		if r, ok := cur[st]; ok {
			if sameDaemon(r, d) {
				if prev, logged := s.kept[st]; !logged || prev != r {
					s.kept[st] = r
					s.log.Info("sync daemon running as configured; left alone", daemonAttrs(r, d, w.cfg.VRRPInstance)...)
				}
				return nil
			}
			if err := stop(st, "configuration changed"); err != nil {
				return err
			}
		}
		if err := s.request(ctx, func(ctx context.Context) error { return k.StartSyncDaemon(ctx, d) }); err != nil {
			return fmt.Errorf("start %s sync daemon on %s: %w", st, d.Interface, err)
		}
		// Log what the kernel applies (its max length, its defaults).
		got := d
		now, err := list()
		if err == nil {
			for _, r := range now {
				if r.State == st {
					got = r
				}
			}
		}
		cur[st] = got
		s.kept[st] = got
		s.log.Info("sync daemon started", daemonAttrs(got, d, w.cfg.VRRPInstance)...)
		return err
	}
	var inst string
	if w.cfg != nil {
		inst = w.cfg.VRRPInstance
		if w.cfg.Mode == lvshcl.SyncActiveActive {
			inst = "active-active sync"
		}
	}
	switch {
	case w.cfg == nil:
		// The sync block went away: stop what it started.
		err = stop(ipvs.SyncMaster, "no sync block")
		if err == nil {
			err = stop(ipvs.SyncBackup, "no sync block")
		}
	case w.master && w.backup:
		// Active-active: each director sends its connections and takes
		// in the others'. The kernel runs both at once.
		if err = start(ipvs.SyncMaster); err == nil {
			err = start(ipvs.SyncBackup)
		}
	case w.master:
		if err = stop(ipvs.SyncBackup, inst+" is MASTER"); err == nil {
			err = start(ipvs.SyncMaster)
		}
	case w.backup:
		if err = stop(ipvs.SyncMaster, inst+" is BACKUP"); err == nil {
			err = start(ipvs.SyncBackup)
		}
	case w.keep:
		why := inst + " is not MASTER"
		if w.cfg.Mode == lvshcl.SyncActiveActive {
			why = "lvsctl stops"
		}
		err = stop(ipvs.SyncMaster, why)
		if r, ok := cur[ipvs.SyncBackup]; err == nil && ok && !sameDaemon(r, withState(w.cfg.Daemon, ipvs.SyncBackup)) {
			err = start(ipvs.SyncBackup)
		}
	}
	return result(), err
}

func withState(d ipvs.SyncDaemon, st ipvs.SyncState) ipvs.SyncDaemon {
	d.State = st
	return d
}

// daemonAttrs are the log attributes of running daemon d, configured as
// cfg: the parameters the kernel applies, and the configured max length
// when the kernel applies another.
func daemonAttrs(d, cfg ipvs.SyncDaemon, instance string) []any {
	attrs := []any{"state", d.State.String(), "interface", d.Interface, "syncid", d.SyncID,
		"group", d.Group.String(), "port", d.Port, "ttl", d.TTL, "maxlen", d.MaxLen}
	if cfg.MaxLen != 0 && cfg.MaxLen != d.MaxLen {
		attrs = append(attrs, "configured_maxlen", cfg.MaxLen)
	}
	if instance == "" {
		return append(attrs, "mode", lvshcl.SyncModeActiveActive)
	}
	return append(attrs, "vrrp_instance", instance)
}
