// Package director is the glue of `lvsctl run`: it runs the IPVS daemon
// (package daemon: health checks that keep the kernel's table) when the
// configuration has virtual services, and the VRRP instances that move the
// VIPs between directors (Runner) when it has some, side by side, and hands
// both every reload. The virtual services' quorum flows from the daemon to
// the instances that track it.
//
// A configuration with VRRP instances and no virtual service never opens
// IPVS, so such a node runs on a kernel without it (keepalived --vrrp, in
// front of HAProxy say). A reload that brings the first virtual services
// opens it then.
package director

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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
}

// Director runs one node's configuration. Create it with New and call Run.
type Director struct {
	o    Options
	log  *slog.Logger
	vrrp *Runner
	sync *Syncer
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
	syncer := NewSyncer(o.Sync)
	o.VRRP.NewInstance = syncer.wrapNewInstance(o.VRRP.NewInstance)
	return &Director{o: o, log: o.Logger, vrrp: NewRunner(o.VRRP), sync: syncer}
}

// needsIPVS reports whether cfg needs the IPVS daemon.
func needsIPVS(cfg *lvshcl.Config) bool {
	return len(cfg.Services) > 0 || len(cfg.VRRP.Instances) == 0
}

// Run runs cfg until ctx is done, then stops both sides (the IPVS table
// stays, unless flush on exit; the instances leave gracefully). Each
// configuration received on reload (already validated) goes to both. It
// returns an error if IPVS is needed at start and cannot be opened, or if
// either side fails for good; then the other side is stopped too.
func (d *Director) Run(ctx context.Context, cfg *lvshcl.Config, reload <-chan *lvshcl.Config) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

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
		cancel() // one side is gone: stop the other
	}

	var ipvsReload chan *lvshcl.Config
	var closeIPVS func()
	startIPVS := func(c *lvshcl.Config) error {
		dm, closeFn, err := d.o.StartIPVS(ctx, d.vrrp.SetQuorum)
		if err != nil {
			return err
		}
		closeIPVS = closeFn
		ipvsReload = make(chan *lvshcl.Config)
		running++
		go func() { results <- result{"ipvs", dm.Run(ctx, c, ipvsReload)} }()
		return nil
	}
	if needsIPVS(cfg) {
		if err := startIPVS(cfg); err != nil {
			return err
		}
	} else {
		d.log.Info("no virtual services: running VRRP only, without IPVS", "vrrp_instances", len(cfg.VRRP.Instances))
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
			if ctx.Err() != nil {
				continue
			}
			send(nil, next, vrrpReload)
			d.sync.SetConfig(next.Sync)
			switch {
			case ipvsReload != nil:
				send(ipvsReload, next, nil)
			case needsIPVS(next):
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
}

// Status returns a snapshot; safe from any goroutine.
func (d *Director) Status() Status {
	return Status{VRRP: d.vrrp.Status(), Sync: d.sync.Status()}
}
