package director

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/bgp"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// The BGP side of `lvsctl run` (issue 19): an Announcer runs the bgp block's
// speaker and announces each announce block's VIPs while everything the
// block tracks is healthy:
//
//   - track_virtual_server: the service holds quorum (SetQuorum) and every
//     tracked server has had its first check result (SetSettled): a freshly
//     started or reloaded daemon never announces on a presumed quorum;
//   - track_interface: the link is up (LinkSource);
//   - track_script: the vrrp_script passes, with its rise and fall (run by
//     the announcer itself, whether or not a vrrp_instance tracks it too).
//
// An input never reported counts as down. Each change converges the
// speaker's announced set by difference (bgp.Speaker.SetAnnounced); on
// shutdown the speaker withdraws everything, waits drain_time and closes.
//
// The VIPs of every announce block are put on the bgp block's
// vip_interface (viplink.go) when the configuration is loaded, announced
// or not: a DR or TUN director must hold the VIP for IPVS to see the
// traffic the routers still send during a drain or a withdrawal. They are
// removed when the announce block is, and at stop after the drain. The
// bgp block's sloppy_tcp and sloppy_sctp set the kernel's sysctls while
// the announcer runs (sysctl.go).

// BGPSpeaker is what the announcer needs of a *bgp.Speaker; tests fake it.
type BGPSpeaker interface {
	Start(ctx context.Context) error
	SetAnnounced(ctx context.Context, want []bgp.Announcement) error
	Stop(ctx context.Context) error
}

// speakerReconfigurer is a speaker that applies a new configuration by
// difference (bgp.Speaker.SetConfig): unchanged sessions stay up. Any
// error from it (a changed asn or router_id among others) restarts the
// speaker instead.
type speakerReconfigurer interface {
	SetConfig(ctx context.Context, next bgp.Config) error
}

// BGPOptions configure an Announcer. Zero fields are the real thing.
type BGPOptions struct {
	Logger *slog.Logger
	// NewSpeaker makes the speaker; nil is bgp.New.
	NewSpeaker func(bgp.Config) (BGPSpeaker, error)
	// Links follows the interfaces' link states; nil is NetlinkLinks.
	Links LinkSource
	// Probe runs a vrrp_script once; nil is ExecScript.
	Probe ScriptProber
	// Retry is the wait before retrying a speaker that failed to start or
	// to announce (default 1 s).
	Retry time.Duration
	// After is time.After; tests replace it.
	After func(time.Duration) <-chan time.Time
	// StopGrace bounds the speaker's Stop beyond its drain time (default
	// 5 s).
	StopGrace time.Duration
	// VIPLink puts the VIPs on the bgp block's vip_interface; nil is
	// NetlinkVIPLink.
	VIPLink VIPLink
	// Sysctl reads and writes net.ipv4.vs.sloppy_*; nil is ProcSysctl.
	Sysctl Sysctl
}

// Announcer runs the bgp block of a configuration. Create it with
// NewAnnouncer; its Set methods are safe from any goroutine.
type Announcer struct {
	o   BGPOptions
	log *slog.Logger

	mu      sync.Mutex
	quorum  map[string]bool
	settled map[string]bool
	links   map[string]bool
	scripts map[string]bool
	poke    chan struct{}
	st      bgpState // under mu
}

// NewAnnouncer returns an announcer; nothing happens until Run.
func NewAnnouncer(o BGPOptions) *Announcer {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NewSpeaker == nil {
		o.NewSpeaker = func(c bgp.Config) (BGPSpeaker, error) { return bgp.New(c) }
	}
	if o.Links == nil {
		o.Links = NetlinkLinks{Logger: o.Logger}
	}
	if o.Probe == nil {
		o.Probe = ExecScript
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 5 * time.Second
	}
	if o.VIPLink == nil {
		o.VIPLink = NetlinkVIPLink{}
	}
	if o.Sysctl == nil {
		o.Sysctl = ProcSysctl{}
	}
	return &Announcer{
		o: o, log: o.Logger,
		quorum: map[string]bool{}, settled: map[string]bool{}, links: map[string]bool{}, scripts: map[string]bool{},
		poke: make(chan struct{}, 1),
		st:   newBGPState(),
	}
}

func (a *Announcer) set(m map[string]bool, name string, up bool) {
	a.mu.Lock()
	old, known := m[name]
	m[name] = up
	a.mu.Unlock()
	if !known || old != up {
		select {
		case a.poke <- struct{}{}:
		default:
		}
	}
}

// SetQuorum passes a virtual_server's quorum (daemon.Options.OnQuorum).
func (a *Announcer) SetQuorum(name string, up bool) { a.set(a.quorum, name, up) }

// SetSettled says whether every tracked server of a virtual_server has had
// its first check result since the configuration was loaded; until then
// its quorum is presumed and is not announced on.
func (a *Announcer) SetSettled(name string, settled bool) { a.set(a.settled, name, settled) }

func (a *Announcer) setLink(name string, up bool)   { a.set(a.links, name, up) }
func (a *Announcer) setScript(name string, up bool) { a.set(a.scripts, name, up) }

// Withheld is why an announce block's VIPs are not announced: the first
// tracked object that is not up.
type Withheld struct {
	Announce, Reason string
	// Kind is Reason's class, the "reason" label of the withdrawals it
	// causes: one of the Withdraw* constants.
	Kind string
}

// The reasons of withdrawals (metrics label "reason"; `lvsctl status`).
const (
	WithdrawSettling  = "settling"      // a tracked service's first check results are awaited
	WithdrawQuorum    = "quorum"        // a tracked service lost its quorum
	WithdrawInterface = "interface"     // a tracked interface is down
	WithdrawScript    = "script"        // a tracked vrrp_script fails
	WithdrawVIPLink   = "vip_interface" // the VIPs cannot be put on vip_interface
	WithdrawConfig    = "config"        // a reload removed the VIP
	WithdrawRestart   = "restart"       // the speaker restarts (changed asn, router_id, ...)
	WithdrawStop      = "stop"          // the daemon stops
)

// The reasons of announcements.
const (
	AnnounceLoad      = "load"      // first announced since the speaker started
	AnnounceRecovered = "recovered" // announced again after a withdrawal
)

// want returns what cfg announces under the current inputs, and the
// announce blocks withheld with their reason.
func (a *Announcer) want(cfg *lvshcl.BGP) ([]bgp.Announcement, []Withheld) {
	if cfg == nil {
		return nil, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []bgp.Announcement
	var held []Withheld
	for _, an := range cfg.Announces {
		reason, kind := "", ""
		for _, s := range an.TrackVirtualServer {
			switch {
			case !a.settled[s]:
				reason, kind = "virtual_server "+s+": waiting for its first check results", WithdrawSettling
			case !a.quorum[s]:
				reason, kind = "virtual_server "+s+": quorum lost", WithdrawQuorum
			}
			if reason != "" {
				break
			}
		}
		for _, l := range an.TrackInterface {
			if reason == "" && !a.links[l] {
				reason, kind = "interface "+l+" down", WithdrawInterface
			}
		}
		for _, s := range an.TrackScript {
			if reason == "" && !a.scripts[s] {
				reason, kind = "vrrp_script "+s+" failing", WithdrawScript
			}
		}
		if reason == "" && a.st.vipErr != "" {
			reason, kind = "vip_interface: "+a.st.vipErr, WithdrawVIPLink
		}
		if reason != "" {
			held = append(held, Withheld{an.Name, reason, kind})
			continue
		}
		for _, vip := range an.VIPs {
			b := bgp.Announcement{Prefix: netip.PrefixFrom(vip, vip.BitLen())}
			for _, c := range an.Communities {
				b.Communities = append(b.Communities, bgp.Community(c))
			}
			if an.MED != nil {
				m := *an.MED
				b.MED = &m
			}
			out = append(out, b)
		}
	}
	return out, held
}

// speakerConfig is the bgp.Config of cfg (without Logger and OnPeer).
func speakerConfig(cfg *lvshcl.BGP) bgp.Config {
	c := bgp.Config{ASN: cfg.ASN, RouterID: cfg.RouterID, HoldTime: cfg.HoldTime, IdleHoldTime: cfg.IdleHoldTime, DrainTime: cfg.DrainTime}
	for _, n := range cfg.Neighbors {
		bn := bgp.Neighbor{Name: n.Name, Address: n.Address, ASN: n.ASN, Password: n.Password, HoldTime: n.HoldTime,
			SourceAddress: n.SourceAddress, Multihop: n.Multihop}
		if n.BFD != nil {
			bn.BFD = &bgp.BFD{MinTx: n.BFD.MinTx, MinRx: n.BFD.MinRx, Multiplier: n.BFD.Multiplier}
		}
		c.Neighbors = append(c.Neighbors, bn)
	}
	return c
}

// Run runs cfg's bgp block until ctx is done, applying each configuration
// received on reload, then withdraws, drains and closes, and only then
// takes the VIPs off vip_interface and restores the sysctls. A speaker
// that fails to start or to announce is logged and retried; Run returns
// nil.
func (a *Announcer) Run(ctx context.Context, cfg *lvshcl.Config, reload <-chan *lvshcl.Config) error {
	var (
		cur        *lvshcl.BGP
		spk        BGPSpeaker
		spkCfg     bgp.Config
		started    bool
		retry      <-chan time.Time
		linksOnce  bool
		scriptRuns = map[string]*scriptRun{}
		vips       = &vipSet{link: a.o.VIPLink, log: a.log, addrs: map[netip.Prefix]bool{}}
		sloppy     = &sloppyMode{sys: a.o.Sysctl, log: a.log, saved: map[string]string{}}
	)
	stopSpeaker := func(reason string) {
		if spk == nil || !started {
			spk, started = nil, false
			return
		}
		a.withdrawAll(reason)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spkCfg.DrainTime+a.o.StopGrace)
		defer cancel()
		if err := spk.Stop(sctx); err != nil {
			a.log.Warn("bgp: stopping the speaker", "error", err)
		}
		spk, started = nil, false
		a.setRunning(false, "")
		a.peersClosed()
	}
	defer func() {
		for _, r := range scriptRuns {
			r.cancel()
		}
		stopSpeaker(WithdrawStop)
		// After the drain: the routers no longer send the VIPs here.
		vips.clear()
		sloppy.restore()
		a.setVIPs(vips)
	}()
	withSpeakerHooks := func(c bgp.Config) bgp.Config {
		c.Logger = a.log
		c.OnPeer = a.onPeer
		c.OnBFD = a.onBFD
		return c
	}
	apply := func(c *lvshcl.Config) {
		next := c.BGP
		var nextCfg bgp.Config
		if next != nil {
			nextCfg = speakerConfig(next)
		}
		switch {
		case next == nil:
			stopSpeaker(WithdrawConfig)
		case spk == nil || !started || reflect.DeepEqual(nextCfg, spkCfg):
			// Nothing running, or nothing changed: the sessions are left alone.
		default:
			if r, ok := spk.(speakerReconfigurer); ok {
				err := r.SetConfig(ctx, withSpeakerHooks(nextCfg))
				if err == nil {
					a.log.Info("bgp: neighbors reconfigured by difference")
					spkCfg = nextCfg
					a.setNeighbors(nextCfg.Neighbors)
					break
				}
				a.log.Info("bgp: restarting the speaker for the new bgp settings", "reason", err)
			}
			stopSpeaker(WithdrawRestart)
		}
		cur = next
		if cur != nil && spk == nil {
			spkCfg = nextCfg
		}
		a.scriptsFor(ctx, c, scriptRuns)
		if !linksOnce && cur != nil && slices.ContainsFunc(cur.Announces, func(an lvshcl.BGPAnnounce) bool { return len(an.TrackInterface) > 0 }) {
			linksOnce = true
			go func() {
				if err := a.o.Links.Watch(ctx, a.setLink); err != nil && ctx.Err() == nil {
					a.log.Error("bgp: cannot follow link states; tracked interfaces count as down", "error", err)
				}
			}()
		}
		vips.apply(cur)
		sloppy.apply(cur)
		a.setVIPs(vips)
		a.setSloppy(sloppy)
	}
	converge := func() {
		retry = nil
		if cur == nil {
			return
		}
		if vips.err != "" {
			vips.apply(cur)
			a.setVIPs(vips)
		}
		if spk == nil || !started {
			s, err := a.o.NewSpeaker(withSpeakerHooks(spkCfg))
			if err == nil {
				a.setNeighbors(spkCfg.Neighbors)
				err = s.Start(ctx)
			}
			if errors.Is(err, bgp.ErrNotBuilt) {
				a.log.Error("bgp: the bgp block is ignored", "error", err)
				a.setRunning(false, err.Error())
				cur = nil // nothing to retry until a reload
				vips.clear()
				sloppy.restore()
				a.setVIPs(vips)
				a.setSloppy(sloppy)
				return
			}
			if err != nil {
				a.log.Error("bgp: cannot start the speaker; retrying", "error", err, "retry", a.o.Retry)
				a.setRunning(false, err.Error())
				retry = a.o.After(a.o.Retry)
				return
			}
			spk, started = s, true
			a.setRunning(true, "")
		}
		want, held := a.want(cur)
		if err := spk.SetAnnounced(ctx, want); err != nil {
			a.log.Error("bgp: cannot converge the announcements; retrying", "error", err, "retry", a.o.Retry)
			a.setRunning(true, err.Error())
			retry = a.o.After(a.o.Retry)
			return
		}
		a.announced(cur, want, held)
		vips.prune(cur) // VIPs removed by a reload: withdrawn now
		a.setVIPs(vips)
		if vips.err != "" && retry == nil {
			retry = a.o.After(a.o.Retry)
		}
	}
	a.setConfigured(cfg.BGP != nil)
	apply(cfg)
	converge()
	for {
		select {
		case <-ctx.Done():
			return nil
		case next, ok := <-reload:
			if !ok {
				reload = nil
				continue
			}
			a.setConfigured(next.BGP != nil)
			apply(next)
			converge()
		case <-a.poke:
			converge()
		case <-retry:
			converge()
		}
	}
}

// scriptRun is one tracked vrrp_script's runner.
type scriptRun struct {
	def    lvshcl.VRRPScript
	cancel context.CancelFunc
}

// scriptsFor starts the runners of the scripts cfg's announces track, and
// stops (or restarts) the others (or those whose definition changed).
func (a *Announcer) scriptsFor(ctx context.Context, cfg *lvshcl.Config, runs map[string]*scriptRun) {
	want := map[string]lvshcl.VRRPScript{}
	if cfg.BGP != nil {
		for _, an := range cfg.BGP.Announces {
			for _, name := range an.TrackScript {
				for _, s := range cfg.VRRP.Scripts {
					if s.Name == name {
						want[name] = s
					}
				}
			}
		}
	}
	for name, r := range runs {
		if def, ok := want[name]; !ok || !reflect.DeepEqual(def, r.def) {
			r.cancel()
			delete(runs, name)
			a.mu.Lock()
			delete(a.scripts, name)
			a.mu.Unlock()
		}
	}
	for name, def := range want {
		if _, ok := runs[name]; ok {
			continue
		}
		sctx, cancel := context.WithCancel(ctx)
		runs[name] = &scriptRun{def: def, cancel: cancel}
		go a.runScript(sctx, def)
	}
}

// runScript runs s every interval; rise successes bring it up, fall
// failures down; the first result decides unless init_fail.
func (a *Announcer) runScript(ctx context.Context, s lvshcl.VRRPScript) {
	interval := s.Interval
	if interval <= 0 {
		interval = time.Second
	}
	rise, fall := max(s.Rise, 1), max(s.Fall, 1)
	up, known := false, false
	if s.InitFail {
		known = true
		a.setScript(s.Name, false)
	}
	ok, fails := 0, 0
	for {
		pass, detail := a.o.Probe(ctx, s)
		if ctx.Err() != nil {
			return
		}
		if pass {
			ok, fails = ok+1, 0
		} else {
			ok, fails = 0, fails+1
		}
		switch {
		case !known:
			known, up = true, pass
			a.setScript(s.Name, up)
		case !up && ok >= rise:
			up = true
			a.setScript(s.Name, true)
		case up && fails >= fall:
			up = false
			a.log.Info("bgp: tracked vrrp_script failing", "script", s.Name, "detail", detail)
			a.setScript(s.Name, false)
		}
		select {
		case <-ctx.Done():
			return
		case <-a.o.After(interval):
		}
	}
}
