package director

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
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
}

// Syncer drives the kernel's IPVS connection synchronisation daemon from
// the state of one VRRP instance (the sync block; keepalived's
// lvs_sync_daemon):
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
// A daemon already running with the configured parameters is left alone;
// one with other parameters is restarted. The sysctls of the sync block
// are written when a configuration brings them, with their previous values
// logged. Kernel failures (the interface does not exist yet, say) are
// logged and retried.
type Syncer struct {
	o   SyncOptions
	log *slog.Logger

	mu     sync.Mutex
	cfg    *lvshcl.Sync
	states map[string]vrrp.State
	wake   chan struct{}
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
	return &Syncer{o: o, log: o.Logger, states: map[string]vrrp.State{}, wake: make(chan struct{}, 1)}
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
	)
	defer func() {
		if closeK != nil {
			closeK()
		}
	}()
	step := func(ctx context.Context, stopping bool) error {
		s.mu.Lock()
		w := s.wantLocked(stopping)
		s.mu.Unlock()
		if w.cfg == nil && !everSync {
			return nil
		}
		if k == nil {
			var err error
			if k, closeK, err = s.o.Open(ctx); err != nil {
				k = nil
				return fmt.Errorf("open IPVS: %w", err)
			}
		}
		everSync = true
		if w.cfg != nil && !reflect.DeepEqual(w.cfg.Sysctls, sysctls) {
			if err := s.setSysctls(w.cfg.Sysctls); err != nil {
				return err
			}
			sysctls = w.cfg.Sysctls
		}
		return s.apply(ctx, k, w)
	}
	for {
		if retry == nil {
			if err := step(ctx, false); err != nil && ctx.Err() == nil {
				s.log.Error("sync daemon: retrying", "err", err, "retry_in", delay)
				retry = time.After(delay)
				delay = min(2*delay, s.o.RetryMax)
			} else {
				delay = s.o.RetryMin
			}
		}
		select {
		case <-ctx.Done():
			// The instances have left (or are leaving): stop the master
			// daemon, keep a backup one.
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := step(sctx, true); err != nil {
				s.log.Error("sync daemon: stopping", "err", err)
			}
			cancel()
			return
		case <-s.wake:
		case <-retry:
			retry = nil
		}
	}
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

// sameDaemon reports whether running d is what cfg asks for. The kernel
// fills in the max length from the MTU when none is configured.
func sameDaemon(d, cfg ipvs.SyncDaemon) bool {
	return d.Interface == cfg.Interface && d.SyncID == cfg.SyncID && d.Port == cfg.Port &&
		d.TTL == cfg.TTL && d.Group == cfg.Group && (cfg.MaxLen == 0 || d.MaxLen == cfg.MaxLen)
}

// apply makes the kernel's daemons what w asks for.
func (s *Syncer) apply(ctx context.Context, k SyncKernel, w want) error {
	running, err := k.SyncDaemons(ctx)
	if err != nil {
		return err
	}
	cur := map[ipvs.SyncState]ipvs.SyncDaemon{}
	for _, d := range running {
		cur[d.State] = d
	}
	stop := func(st ipvs.SyncState, why string) error {
		if _, ok := cur[st]; !ok {
			return nil
		}
		if err := k.StopSyncDaemon(ctx, st); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
		delete(cur, st)
		s.log.Info("sync daemon stopped", "state", st.String(), "why", why)
		return nil
	}
	start := func(st ipvs.SyncState) error {
		d := w.cfg.Daemon
		d.State = st
		if r, ok := cur[st]; ok {
			if sameDaemon(r, d) {
				return nil
			}
			if err := stop(st, "configuration changed"); err != nil {
				return err
			}
		}
		if err := k.StartSyncDaemon(ctx, d); err != nil {
			return err
		}
		s.log.Info("sync daemon started", "state", st.String(), "interface", d.Interface, "syncid", d.SyncID,
			"group", d.Group.String(), "port", d.Port, "ttl", d.TTL, "maxlen", d.MaxLen, "vrrp_instance", w.cfg.VRRPInstance)
		return nil
	}
	var inst string
	if w.cfg != nil {
		inst = w.cfg.VRRPInstance
	}
	switch {
	case w.cfg == nil:
		// The sync block went away: stop what it started.
		if err := stop(ipvs.SyncMaster, "no sync block"); err != nil {
			return err
		}
		return stop(ipvs.SyncBackup, "no sync block")
	case w.master:
		if err := stop(ipvs.SyncBackup, inst+" is MASTER"); err != nil {
			return err
		}
		return start(ipvs.SyncMaster)
	case w.backup:
		if err := stop(ipvs.SyncMaster, inst+" is BACKUP"); err != nil {
			return err
		}
		return start(ipvs.SyncBackup)
	case w.keep:
		if err := stop(ipvs.SyncMaster, inst+" is not MASTER"); err != nil {
			return err
		}
		if r, ok := cur[ipvs.SyncBackup]; ok && !sameDaemon(r, w.cfg.Daemon) {
			return start(ipvs.SyncBackup)
		}
	}
	return nil
}
