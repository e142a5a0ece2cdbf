// Package director is the glue of `lvsctl run`: it runs the IPVS daemon
// (package daemon: health checks that keep the kernel's table) when the
// configuration has virtual services, and the VRRP instances that move the
// VIPs between directors (Runner) when it has some, side by side, and hands
// both every reload. The virtual services' quorum flows from the daemon to
// the instances that track it.
//
// Beside them runs the BGP announcer (Announcer, bgp.go) of the bgp block:
// it hears the same quorum, and from the daemon's snapshots when each
// service has had its first check results (settle.go). At stop it goes
// first: it withdraws, waits drain_time and closes its sessions while the
// IPVS daemon, the VRRP instances and the sync daemons still run, and
// only then are they stopped.
//
// A configuration with VRRP instances or a bgp block and no virtual
// service never opens IPVS, so such a node runs on a kernel without it
// (keepalived --vrrp, in front of HAProxy say). A reload that brings the
// first virtual services opens it then.
package director

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lvsctl/lvsctl/ipvs"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// Daemon is what the director needs of the IPVS daemon (*daemon.Daemon).
type Daemon interface {
	Run(ctx context.Context, cfg *lvshcl.Config, reload <-chan *lvshcl.Config) error
}

// Options configure a Director.
type Options struct {
	Logger *slog.Logger
	// StartIPVS opens the kernel's IPVS and returns the daemon that keeps
	// it, with onQuorum as its daemon.Options.OnQuorum, and a function
	// that closes the kernel handle once the daemon's Run returned. It is
	// called when a configuration has virtual services (or no VRRP
	// instance at all, as before VRRP existed): at start, or at the first
	// reload that brings some.
	StartIPVS func(ctx context.Context, onQuorum func(name string, up bool)) (Daemon, func(), error)
	VRRP      VRRPOptions
	// Sync drives the kernel's connection sync daemon (sync.go).
	Sync SyncOptions
	// BGP runs the bgp block (bgp.go).
	BGP BGPOptions
	// SettlePoll is how often an unsettled service's checks are looked at
	// (default 100 ms); After is time.After, replaced by tests.
	SettlePoll time.Duration
	After      func(time.Duration) <-chan time.Time
}

// Director runs one node's configuration. Create it with New and call Run.
type Director struct {
	o    Options
	log  *slog.Logger
	vrrp *Runner
	sync *Syncer
	bgp  *Announcer
}

// New returns a director; nothing happens until Run.
func New(o Options) *Director {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.VRRP.Logger == nil {
		o.VRRP.Logger = o.Logger
	}
	if o.Sync.Logger == nil {
		o.Sync.Logger = o.Logger
	}
	if o.BGP.Logger == nil {
		o.BGP.Logger = o.Logger
	}
	if o.SettlePoll <= 0 {
		o.SettlePoll = 100 * time.Millisecond
	}
	if o.After == nil {
		o.After = time.After
	}
	syncer := NewSyncer(o.Sync)
	o.VRRP.NewInstance = syncer.wrapNewInstance(o.VRRP.NewInstance)
	return &Director{o: o, log: o.Logger, vrrp: NewRunner(o.VRRP), sync: syncer, bgp: NewAnnouncer(o.BGP)}
}

// NeedsIPVS reports whether cfg needs the IPVS daemon: it has virtual
// services, or nothing else to run (no VRRP instance, no bgp block).
func NeedsIPVS(cfg *lvshcl.Config) bool {
	return len(cfg.Services) > 0 || (len(cfg.VRRP.Instances) == 0 && cfg.BGP == nil)
}

// newReals returns the services of next that must wait for the first
// probes of their new real servers before they are announced on again:
// those with a real server cur's service of the same name has not, unless
// the reload can only have raised the up weight that decides the quorum.
// That is the case when the service keeps its quorum and hysteresis and
// its sorry server, and every server it had stays with at least its
// weight: the servers that already had their results still hold what they
// held, and an announced VIP is not withdrawn (and its flows moved to the
// other directors) only because a backend was added. Any other change
// with a new server (a server removed or lighter, a new quorum) presumes
// nothing: the service waits for the new servers' first results.
func newReals(cur, next *lvshcl.Config) []string {
	type prev struct {
		weights map[ipvs.RealKey]uint32
		pool    *lvshcl.Pool
	}
	old := map[string]prev{}
	for i, s := range cur.Services {
		p := prev{weights: make(map[ipvs.RealKey]uint32, len(s.RealServers))}
		for _, r := range s.RealServers {
			p.weights[r.Key()] = r.Weight
		}
		if i < len(cur.Pools) {
			p.pool = &cur.Pools[i]
		}
		old[s.Name] = p
	}
	var out []string
	for i, s := range next.Services {
		p, existed := old[s.Name]
		added, kept := false, 0
		raisedOnly := existed
		for _, r := range s.RealServers {
			w, ok := p.weights[r.Key()]
			switch {
			case !ok:
				added = true
			case r.Weight < w:
				raisedOnly = false
				kept++
			default:
				kept++
			}
		}
		if !added {
			continue
		}
		if kept != len(p.weights) || !samePoolQuorum(p.pool, next.Pools, i) {
			raisedOnly = false
		}
		if !raisedOnly {
			out = append(out, s.Name)
		}
	}
	return out
}

// samePoolQuorum says whether next's pool i decides its quorum as p did.
func samePoolQuorum(p *lvshcl.Pool, next []lvshcl.Pool, i int) bool {
	if p == nil || i >= len(next) {
		return p == nil && i >= len(next)
	}
	n := next[i]
	if p.Quorum != n.Quorum || p.Hysteresis != n.Hysteresis || (p.SorryServer == nil) != (n.SorryServer == nil) {
		return false
	}
	return p.SorryServer == nil || p.SorryServer.Key() == n.SorryServer.Key()
}

// Run runs cfg until ctx is done, then stops both sides (the IPVS table
// stays, unless flush on exit; the instances leave gracefully). Each
// configuration received on reload (already validated) goes to both. It
// returns an error if IPVS is needed at start and cannot be opened, or if
// either side fails for good; then the other side is stopped too.
func (d *Director) Run(ctx context.Context, cfg *lvshcl.Config, reload <-chan *lvshcl.Config) error {
	// The announcer runs on the caller's context; the other sides on one
	// cancelled only once the announcer is done (withdrawn, drained,
	// closed), or when a side fails.
	parent := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	bctx, bcancel := context.WithCancel(parent)
	defer bcancel()
	bgpReload := make(chan *lvshcl.Config)
	bgpDone := make(chan struct{})
	go func() {
		defer close(bgpDone)
		_ = d.bgp.Run(bctx, cfg, bgpReload)
	}()
	go func() {
		select {
		case <-bctx.Done():
		case <-ctx.Done():
		}
		bcancel()
		<-bgpDone
		cancel()
	}()
	defer func() { bcancel(); <-bgpDone }()
	onQuorum := func(name string, up bool) {
		d.vrrp.SetQuorum(name, up)
		d.bgp.SetQuorum(name, up)
	}
	cur := cfg

	type result struct {
		who string
		err error
	}
	results := make(chan result, 2)
	running := 0
	var firstErr error
	finished := func(res result) {
		running--
		if res.err == nil && ctx.Err() == nil {
			res.err = errors.New("stopped unexpectedly")
		}
		if res.err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", res.who, res.err)
		}
		cancel() // one side is gone: stop the others
	}

	var ipvsReload chan *lvshcl.Config
	var closeIPVS func()
	startIPVS := func(c *lvshcl.Config) error {
		dm, closeFn, err := d.o.StartIPVS(ctx, onQuorum)
		if err != nil {
			return err
		}
		closeIPVS = closeFn
		if src, ok := dm.(SnapshotSource); ok {
			go watchSettled(ctx, src, d.bgp.SetSettled, d.o.SettlePoll, d.o.After)
		}
		ipvsReload = make(chan *lvshcl.Config)
		running++
		go func() { results <- result{"ipvs", dm.Run(ctx, c, ipvsReload)} }()
		return nil
	}
	switch {
	case NeedsIPVS(cfg):
		if err := startIPVS(cfg); err != nil {
			return err
		}
	case len(cfg.VRRP.Instances) > 0:
		d.log.Info("no virtual services: running VRRP only, without IPVS", "vrrp_instances", len(cfg.VRRP.Instances), "bgp", cfg.BGP != nil)
	default:
		d.log.Info("no virtual services: running BGP only, without IPVS", "announces", len(cfg.BGP.Announces))
	}
	syncDone := make(chan struct{})
	go func() { defer close(syncDone); d.sync.Run(ctx, cfg.Sync) }()
	defer func() { cancel(); <-syncDone }()
	vrrpReload := make(chan lvshcl.VRRP)
	running++
	go func() { results <- result{"vrrp", d.vrrp.Run(ctx, cfg.VRRP, vrrpReload)} }()

	// send hands a reload to one side, minding the sides that stop.
	send := func(ch chan<- *lvshcl.Config, v *lvshcl.Config, vr chan<- lvshcl.VRRP) {
		for {
			select {
			case ch <- v:
				return
			case vr <- v.VRRP:
				return
			case res := <-results:
				finished(res)
			case <-ctx.Done():
				return
			}
		}
	}
	for running > 0 {
		select {
		case res := <-results:
			finished(res)
		case next, ok := <-reload:
			if !ok {
				reload = nil
				continue
			}
			if ctx.Err() != nil || parent.Err() != nil {
				continue
			}
			// Services with new real servers wait for their first
			// probes again before they are announced on.
			for _, name := range newReals(cur, next) {
				d.bgp.SetSettled(name, false)
			}
			cur = next
			select {
			case bgpReload <- next:
			case <-bgpDone:
			}
			send(nil, next, vrrpReload)
			d.sync.SetConfig(next.Sync)
			switch {
			case ipvsReload != nil:
				send(ipvsReload, next, nil)
			case NeedsIPVS(next):
				if err := startIPVS(next); err != nil {
					d.log.Error("reload: the configuration has virtual services but IPVS cannot be opened; running VRRP only until a reload succeeds",
						"err", err, "services", len(next.Services))
				} else {
					d.log.Info("reload: virtual services configured, IPVS opened", "services", len(next.Services))
				}
			}
		}
	}
	if closeIPVS != nil {
		closeIPVS()
	}
	return firstErr
}

// Status is the node's state, for `lvsctl status`.
type Status struct {
	VRRP VRRPStatus
	Sync SyncStatus
	BGP  BGPStatus
}

// Status returns a snapshot; safe from any goroutine.
func (d *Director) Status() Status {
	return Status{VRRP: d.vrrp.Status(), Sync: d.sync.Status(), BGP: d.bgp.Status()}
}
