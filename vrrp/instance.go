package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures one VRRP instance (keepalived's vrrp_instance). The
// keepalived keyword of each field is in its comment. Zero values take
// keepalived's defaults.
type Config struct {
	Name      string // vrrp_instance NAME; used in logs, transitions and status
	Interface string // interface: where adverts go and the VIPs are added
	VRID      uint8  // virtual_router_id, 1-255

	// Version is vrrp_version, 2 or 3. Zero is 2 for IPv4 (keepalived's
	// default) and 3 for IPv6 (VRRPv2 has no IPv6).
	Version int

	// Priority is priority, 1-255; zero is 100. 255 is the address owner,
	// which becomes master at once and ignores tracking weights.
	Priority uint8

	// AdvertInterval is advert_int; zero is 1 s. Whole seconds (1-255) in
	// VRRPv2, multiples of 10 ms up to 40.95 s in VRRPv3.
	AdvertInterval time.Duration

	// InitialState is state: StateMaster or StateBackup, as keepalived
	// 2.2.7 uses them. Zero (StateInit) is keepalived's default: the
	// address owner (priority 255) is master at once, others start as
	// backup. StateBackup makes the owner wait Master_Down_Interval like
	// the others. StateMaster changes nothing below priority 255 (they
	// still start as backup), except that it turns nopreempt off, as
	// keepalived does ("nopreempt will not work with initial state
	// MASTER").
	InitialState State

	NoPreempt    bool          // nopreempt: a higher priority backup does not take over from a live master
	PreemptDelay time.Duration // preempt_delay: how long a lower priority master is still accepted (0-1000 s)

	// Password is authentication { auth_type PASS auth_pass ... }, VRRPv2
	// only, at most 8 bytes. Empty is no authentication.
	Password string

	VIPs []VIP // virtual_ipaddress, all of one family

	// ExcludedVIPs is virtual_ipaddress_excluded: added and removed with
	// the VIPs but not listed in the adverts; of either family.
	ExcludedVIPs []VIP
	// Routes is virtual_routes and Rules virtual_rules: installed on
	// entering MASTER, removed on leaving it.
	Routes []Route
	Rules  []Rule

	// SourceAddr is unicast_src_ip (or mcast_src_ip): the adverts' source
	// address, and the one ties are broken on. The default is the
	// interface's primary IPv4 address, or its IPv6 link-local address.
	SourceAddr netip.Addr

	// UnicastPeers is unicast_peer: adverts go to each of these instead of
	// 224.0.0.18 / ff02::12, and adverts from anyone else are dropped.
	UnicastPeers []netip.Addr

	// GARPRepeat is garp_master_repeat: gratuitous ARPs / unsolicited NAs
	// per VIP in each burst; zero is 5.
	GARPRepeat int
	// GARPDelay is garp_master_delay: when the second burst goes after
	// becoming master; zero is 5 s, negative is no second burst.
	GARPDelay time.Duration

	// UseVMAC is use_vmac: the VIPs go on a macvlan interface (private
	// mode) on Interface whose MAC address is the RFC 5798 virtual router
	// MAC 00-00-5E-00-01-VRID (IPv6: 00-00-5E-00-02-VRID), so that a
	// client's ARP (neighbour) entry for a VIP stays the same across
	// failovers. The adverts are sent and received on it too, unless
	// VMACXmitBase. The macvlan is created by Run (replacing a stale one
	// of the same name) and deleted when Run returns.
	UseVMAC bool
	// VMACName is the macvlan's name (use_vmac NAME); empty is
	// keepalived's "vrrp.VRID".
	VMACName string
	// VMACXmitBase is vmac_xmit_base: adverts are sent and received on
	// Interface (with its MAC address), the VIPs stay on the macvlan. It
	// is required with unicast peers, as in keepalived.
	VMACXmitBase bool

	// NoAccept is no_accept: while master (and not the address owner,
	// priority 255) the node drops every packet to or from its VIPs, as
	// keepalived does with nftables (table ip/ip6 "lvsctl_vrrp_VRID_IF",
	// input and output chains at priority filter - 1): the VIPs then only
	// route. That runs before IPVS, so a virtual_server on such a VIP gets
	// nothing. It needs the nft command. The default is accept mode.
	NoAccept bool
	// Accept is accept: in Strict mode, keep accept mode (VRRPv3 only;
	// keepalived resets it for v2).
	Accept bool
	// Strict is strict_mode (keepalived's global vrrp_strict): RFC
	// compliance as keepalived 2.2.7 enforces it. VIPs are required; New
	// turns off, with a warning each, what it forbids: authentication,
	// preempt_delay, state MASTER below priority 255, accept with VRRPv2
	// and vmac_xmit_base. Without Accept it means no_accept below 255.
	Strict bool

	// StartupDelay is keepalived's vrrp_startup_delay: Run opens the
	// sockets and removes stale VIPs at once, but stays in INIT, silent,
	// for this long before it starts (for interfaces slow to come up
	// after boot).
	StartupDelay time.Duration

	// GARPRefresh is garp_master_refresh: while master, announce the VIPs
	// again every GARPRefresh (GARPRefreshRepeat per VIP, default 1);
	// zero is never, keepalived's default.
	GARPRefresh       time.Duration
	GARPRefreshRepeat int

	// Track lists what the instance's priority depends on (keepalived's
	// track_script, track_interface, and checker quorums); the caller
	// reports their state with SetTracked. All start up.
	Track []Track

	// OnTransition, if set, is called on every state change, on Run's
	// goroutine (notify, notify_master, ...): it must not block for long.
	OnTransition func(Transition)

	Logger *slog.Logger // nil: slog.Default()
	Clock  Clock        // nil: the system clock
}

// A VIP is one virtual_ipaddress entry.
type VIP struct {
	// Prefix is the address with its prefix length, e.g. 10.99.0.100/24.
	// keepalived's default for a bare address is /32 (/128).
	Prefix netip.Prefix
	// Label is the IPv4 address label ("label eth0:vip"); the kernel wants
	// it to start with the interface name.
	Label string
	// Dev is the interface the address goes on ("dev eth1"); empty is the
	// instance's (or its use_vmac macvlan).
	Dev string
	// Scope is the address scope ("scope link"): RT_SCOPE_UNIVERSE (0,
	// keepalived's default "global"), 200 site, 253 link, 254 host, 255
	// nowhere.
	Scope uint8
	// Broadcast is the IPv4 broadcast address ("brd"); invalid is none.
	Broadcast netip.Addr
}

// A Route is one virtual_routes (or static_routes) entry, installed while
// master: "DST [src SRC] [via GW] [dev DEV] [metric N] [table T]
// [scope S]", or blackhole.
type Route struct {
	Dst       netip.Prefix
	Src       netip.Addr // preferred source; invalid: none
	Gateway   netip.Addr // via; invalid: a direct route
	Dev       string     // empty: the instance's interface (unless Gateway alone says)
	Metric    int
	Table     int   // 0: main
	Scope     uint8 // 0: the kernel's choice for the route
	Blackhole bool
}

// A Rule is one virtual_rules entry, installed while master: "from SRC |
// to DST [iif IF] [oif IF] [priority N] table T".
type Rule struct {
	From, To netip.Prefix // invalid: any
	IIF, OIF string
	Priority int // 0: the kernel chooses
	Table    int
}

// A Track is one thing the instance's priority depends on.
type Track struct {
	Name string // as passed to SetTracked, e.g. "script:chk_haproxy"
	// Weight follows keepalived: 0 means down is FAULT; positive adds the
	// weight while up; negative adds it (subtracts) while down. The
	// effective priority stays within 1-254.
	Weight int
	// Valued marks an object that reports a number (SetTrackedValue)
	// rather than up or down: keepalived's track_file. With weight 0 a
	// non-zero value is FAULT; otherwise value x weight is added to the
	// priority, and below -253 it is FAULT. Values start at 0.
	Valued bool
}

// Status is a snapshot of an instance.
type Status struct {
	Name      string
	Interface string
	VRID      uint8
	Version   uint8

	State State
	Since time.Time // when State was entered
	Fault string    // why, in FAULT

	Priority     uint8 // effective: base plus tracking weights
	BasePriority uint8

	Master         netip.Addr    // the master's address (ours when MASTER); invalid if none known
	MasterPriority uint8         // the master's advertised priority
	AdvertInterval time.Duration // Master_Adver_Interval (a v3 backup learns the master's)
	SourceAddr     netip.Addr    // our adverts' source

	Transitions uint64
	Counters    Counters
}

// Counters are an instance's packet and transition counts since New.
type Counters struct {
	AdvertsSent          uint64
	AdvertsReceived      uint64 // valid ones for our VRID
	PriorityZeroSent     uint64
	PriorityZeroReceived uint64
	BecameMaster         uint64
	ReleasedMaster       uint64
	AddressMismatch      uint64 // v3 adverts whose address list differs from ours (accepted, logged)
	SendErrors           uint64
	Dropped              map[DropReason]uint64
}

// Defaults of keepalived 2.2.7.
const (
	DefaultPriority   = 100
	DefaultInterval   = time.Second
	DefaultGARPRepeat = 5
	DefaultGARPDelay  = 5 * time.Second
)

// An Instance is one VRRP virtual router on one interface. Create it with
// New, run it with Run; Status and SetTracked may be called from any
// goroutine at any time.
type Instance struct {
	cfg     Config
	version uint8
	is6     bool
	recv    receiver
	log     *slog.Logger
	clock   Clock
	open    func(*Instance) (system, error)

	trackCh          chan struct{}
	forceCh          chan forced
	running          atomic.Bool
	noPreemptCleared bool
	strictResets     []string

	mu      sync.Mutex
	tracked map[string]bool
	values  map[string]int // of Valued tracks
	status  Status

	// Owned by Run's goroutine.
	sys        system
	m          *machine
	linkUp     bool
	dropLogged map[DropReason]time.Time
	suppressed map[DropReason]int
}

// system is what Run needs of the host: raw VRRP sockets, netlink, a packet
// socket for announcements. sys_linux.go has the real one; tests fake it.
type system interface {
	primary() netip.Addr
	recv(buf []byte) (packet, error) // blocks; net.ErrClosed after close
	send(b []byte, dst netip.Addr) error
	addVIPs() error
	delVIPs() error // also those a crashed run left behind
	announce() error
	linkUp() bool
	linkChanges() <-chan bool
	// deletions wakes the instance when an address, route or rule was
	// deleted; missing then names what it installed as master that is
	// gone ("" if nothing).
	deletions() <-chan struct{}
	missing() string
	close() error
}

// New checks cfg, fills in the defaults and returns an instance ready to
// Run. All problems are reported at once.
func New(cfg Config) (*Instance, error) {
	in := &Instance{
		cfg:        cfg,
		clock:      cfg.Clock,
		log:        cfg.Logger,
		open:       openSystem,
		trackCh:    make(chan struct{}, 1),
		forceCh:    make(chan forced, 8),
		tracked:    map[string]bool{},
		values:     map[string]int{},
		dropLogged: map[DropReason]time.Time{},
		suppressed: map[DropReason]int{},
	}
	if err := in.setup(); err != nil {
		return nil, err
	}
	if in.clock == nil {
		in.clock = systemClock{}
	}
	if in.log == nil {
		in.log = slog.Default()
	}
	in.log = in.log.With("vrrp_instance", cfg.Name)
	for _, r := range in.strictResets {
		in.log.Warn(r)
	}
	if in.noPreemptCleared {
		in.log.Warn("nopreempt does not work with state MASTER: preemption stays on (as in keepalived)")
	}
	c := &in.cfg
	for _, t := range c.Track {
		in.tracked[t.Name] = true
	}
	in.recv = receiver{version: in.version, vrid: c.VRID, interval: c.AdvertInterval, peers: c.UnicastPeers}
	for _, v := range c.VIPs {
		in.recv.vips = append(in.recv.vips, v.Prefix.Addr())
	}
	if c.Password != "" {
		in.recv.authType = AuthPassword
		copy(in.recv.authData[:], c.Password)
	}
	prio, _ := in.effective()
	in.status = Status{
		Name: c.Name, Interface: c.Interface, VRID: c.VRID, Version: in.version,
		State: StateInit, Priority: prio, BasePriority: c.Priority, AdvertInterval: c.AdvertInterval,
		SourceAddr: c.SourceAddr, Counters: Counters{Dropped: map[DropReason]uint64{}},
	}
	return in, nil
}

func (in *Instance) setup() error {
	c := &in.cfg
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("vrrp instance %q: "+format, append([]any{c.Name}, args...)...))
	}
	if c.Name == "" {
		bad("a name is required")
	}
	if c.Interface == "" || len(c.Interface) > 15 || strings.ContainsAny(c.Interface, "/ :") {
		bad("interface %q is not a valid interface name", c.Interface)
	}
	if c.VRID == 0 {
		bad("virtual_router_id must be 1-255")
	}

	// Family: the VIPs', else the source's or peers', else IPv4.
	var fam []netip.Addr
	for _, v := range c.VIPs {
		fam = append(fam, v.Prefix.Addr())
	}
	fam = append(append(fam, c.SourceAddr), c.UnicastPeers...)
	for _, a := range fam {
		if a.IsValid() {
			in.is6 = a.Is6() && !a.Is4In6()
			break
		}
	}
	familyName := map[bool]string{false: "IPv4", true: "IPv6"}[in.is6]
	seen := map[netip.Addr]bool{}
	for _, v := range c.VIPs {
		a := v.Prefix.Addr()
		switch {
		case !v.Prefix.IsValid() || a.Is4In6() || a.Zone() != "":
			bad("virtual_ipaddress %v is not a valid address/prefix", v.Prefix)
		case a.Is6() != in.is6:
			bad("virtual_ipaddress %v: all addresses of an instance must be %s", v.Prefix, familyName)
		case seen[a]:
			bad("virtual_ipaddress %v is listed twice", a)
		case v.Label != "" && in.is6:
			bad("virtual_ipaddress %v: IPv6 addresses have no label", v.Prefix)
		case v.Label != "" && !c.UseVMAC && v.Dev == "" && (!strings.HasPrefix(v.Label, c.Interface) || len(v.Label) > 15):
			bad("label %q must start with the interface name %q and be at most 15 characters", v.Label, c.Interface)
		}
		seen[a] = true
	}
	for _, v := range c.ExcludedVIPs {
		a := v.Prefix.Addr()
		switch {
		case !v.Prefix.IsValid() || a.Is4In6() || a.Zone() != "":
			bad("virtual_ipaddress_excluded %v is not a valid address/prefix", v.Prefix)
		case seen[a]:
			bad("virtual_ipaddress_excluded %v is listed twice", a)
		case v.Label != "" && a.Is6():
			bad("virtual_ipaddress_excluded %v: IPv6 addresses have no label", v.Prefix)
		}
		seen[a] = true
	}
	for _, v := range append(append([]VIP(nil), c.VIPs...), c.ExcludedVIPs...) {
		if v.Dev != "" && (len(v.Dev) > 15 || strings.ContainsAny(v.Dev, "/ :")) {
			bad("dev %q of %v is not a valid interface name", v.Dev, v.Prefix)
		}
		if v.Dev != "" && v.Label != "" && (!strings.HasPrefix(v.Label, v.Dev) || len(v.Label) > 15) {
			bad("label %q must start with the interface name %q and be at most 15 characters", v.Label, v.Dev)
		}
		if v.Broadcast.IsValid() && (!v.Broadcast.Is4() || !v.Prefix.Addr().Is4()) {
			bad("brd %v of %v: broadcast addresses are IPv4", v.Broadcast, v.Prefix)
		}
	}
	for _, r := range c.Routes {
		switch {
		case !r.Dst.IsValid():
			bad("virtual_routes: %v is not a valid destination", r.Dst)
		case r.Gateway.IsValid() && r.Gateway.Is4() != r.Dst.Addr().Is4():
			bad("virtual_routes %v: gateway %v is of the other family", r.Dst, r.Gateway)
		case r.Blackhole && (r.Gateway.IsValid() || r.Dev != ""):
			bad("virtual_routes %v: a blackhole route has no gateway or dev", r.Dst)
		case r.Table < 0 || r.Metric < 0:
			bad("virtual_routes %v: table and metric must not be negative", r.Dst)
		}
	}
	for _, r := range c.Rules {
		switch {
		case !r.From.IsValid() && !r.To.IsValid():
			bad("virtual_rules: a rule needs from or to")
		case r.From.IsValid() && r.To.IsValid() && r.From.Addr().Is4() != r.To.Addr().Is4():
			bad("virtual_rules: from %v and to %v are of different families", r.From, r.To)
		case r.Table <= 0:
			bad("virtual_rules: a rule needs a table")
		}
	}
	if len(c.VIPs) > 255 {
		bad("%d virtual_ipaddress entries, at most 255 fit an advert", len(c.VIPs))
	}

	switch {
	case c.Version == 0 && in.is6:
		in.version = 3
	case c.Version == 0 || c.Version == 2:
		in.version = 2
		if in.is6 {
			bad("VRRPv2 has no IPv6: use version 3")
		}
	case c.Version == 3:
		in.version = 3
	default:
		bad("vrrp_version %d: must be 2 or 3", c.Version)
	}
	if c.Priority == 0 {
		c.Priority = DefaultPriority
	}
	if c.AdvertInterval == 0 {
		c.AdvertInterval = DefaultInterval
	}
	if in.version == 2 && (c.AdvertInterval%time.Second != 0 || c.AdvertInterval < time.Second || c.AdvertInterval > 255*time.Second) {
		bad("advert_int %v: VRRPv2 takes whole seconds, 1-255", c.AdvertInterval)
	}
	if in.version == 3 && (c.AdvertInterval%(10*time.Millisecond) != 0 || c.AdvertInterval < 10*time.Millisecond || c.AdvertInterval > maxV3Interval) {
		bad("advert_int %v: VRRPv3 takes 0.01-40.95 s in hundredths", c.AdvertInterval)
	}
	if c.Strict {
		reset := func(what string) { in.strictResets = append(in.strictResets, what) }
		if len(c.VIPs) == 0 {
			bad("strict_mode needs at least one virtual_ipaddress (keepalived refuses the configuration)")
		}
		if c.Password != "" {
			c.Password = ""
			reset("authentication is ignored in strict mode")
		}
		if c.PreemptDelay != 0 {
			c.PreemptDelay = 0
			reset("preempt_delay is incompatible with strict mode: reset")
		}
		if c.InitialState == StateMaster && c.Priority != 255 {
			c.InitialState = StateInit
			reset("state MASTER must match being the address owner (priority 255): reset")
		}
		if c.Accept && in.version == 2 {
			c.Accept = false
			reset("accept mode for VRRP version 2 does not comply with RFC 3768: reset")
		}
		if c.VMACXmitBase {
			c.VMACXmitBase = false
			reset("vmac_xmit_base is incompatible with strict mode: reset")
		}
		if in.is6 && len(c.VIPs) > 0 && !c.VIPs[0].Prefix.Addr().IsLinkLocalUnicast() {
			bad("strict_mode: the first IPv6 virtual_ipaddress must be link-local (RFC 5798 section 5.2.9)")
		}
	}
	if c.Accept && c.NoAccept {
		bad("accept and no_accept contradict each other")
	}
	switch c.InitialState {
	case StateInit, StateBackup:
	case StateMaster:
		in.noPreemptCleared = c.NoPreempt
		c.NoPreempt = false
	default:
		bad("state %v: must be MASTER or BACKUP", c.InitialState)
	}
	if c.PreemptDelay < 0 || c.PreemptDelay > 1000*time.Second {
		bad("preempt_delay %v: must be 0-1000 s", c.PreemptDelay)
	}
	if c.Password != "" && in.version == 3 {
		bad("authentication is VRRPv2 only (RFC 5798 removed it)")
	}
	if len(c.Password) > authLen {
		bad("auth_pass is %d bytes, at most 8 are sent", len(c.Password))
	}
	if c.SourceAddr.IsValid() {
		switch {
		case c.SourceAddr.Is6() != in.is6 || c.SourceAddr.Is4In6():
			bad("unicast_src_ip %v is not %s like the VIPs", c.SourceAddr, familyName)
		case in.is6 && len(c.UnicastPeers) == 0 && !c.SourceAddr.IsLinkLocalUnicast():
			bad("mcast_src_ip %v: VRRP over IPv6 multicast is sent from a link-local address", c.SourceAddr)
		}
	}
	peers := map[netip.Addr]bool{}
	for _, p := range c.UnicastPeers {
		switch {
		case !p.IsValid() || p.Is6() != in.is6 || p.Is4In6():
			bad("unicast_peer %v is not a valid %s address", p, familyName)
		case peers[p]:
			bad("unicast_peer %v is listed twice", p)
		case p == c.SourceAddr:
			bad("unicast_peer %v is our own unicast_src_ip", p)
		}
		peers[p] = true
	}
	if c.UseVMAC {
		if c.VMACName == "" {
			c.VMACName = fmt.Sprintf("vrrp.%d", c.VRID)
		}
		switch {
		case len(c.VMACName) > 15 || strings.ContainsAny(c.VMACName, "/ :"):
			bad("use_vmac %q is not a valid interface name", c.VMACName)
		case c.VMACName == c.Interface:
			bad("use_vmac %q: the macvlan needs a name other than the interface's", c.VMACName)
		case len(c.UnicastPeers) > 0 && !c.VMACXmitBase:
			bad("use_vmac with unicast_peer needs vmac_xmit_base (as in keepalived)")
		}
		for _, v := range c.VIPs {
			if v.Label != "" && v.Dev == "" && (!strings.HasPrefix(v.Label, c.VMACName) || len(v.Label) > 15) {
				bad("label %q: with use_vmac the VIPs are on %s, and the label must start with that name and be at most 15 characters", v.Label, c.VMACName)
			}
		}
	} else if c.VMACXmitBase || c.VMACName != "" {
		bad("vmac_xmit_base and a use_vmac name need use_vmac")
	}
	if c.GARPRepeat < 0 {
		bad("garp_master_repeat %d must not be negative", c.GARPRepeat)
	}
	if c.StartupDelay < 0 {
		bad("vrrp_startup_delay %v must not be negative", c.StartupDelay)
	}
	if c.GARPRefresh < 0 || c.GARPRefreshRepeat < 0 {
		bad("garp_master_refresh and garp_master_refresh_repeat must not be negative")
	}
	if c.GARPRefreshRepeat == 0 {
		c.GARPRefreshRepeat = 1
	}
	if c.GARPRepeat == 0 {
		c.GARPRepeat = DefaultGARPRepeat
	}
	if c.GARPDelay == 0 {
		c.GARPDelay = DefaultGARPDelay
	}
	names := map[string]bool{}
	for _, t := range c.Track {
		switch {
		case t.Name == "":
			bad("a tracked object needs a name")
		case names[t.Name]:
			bad("%q is tracked twice", t.Name)
		case t.Weight < -254 || t.Weight > 254:
			bad("weight %d of %q: must be -254..254", t.Weight, t.Name)
		}
		names[t.Name] = true
	}
	return errors.Join(errs...)
}

// SetTrackedValue reports the value of a Valued tracked object named in
// Config.Track (a track_file's number). Safe to call at any time.
func (in *Instance) SetTrackedValue(name string, v int) error {
	valued := false
	for _, t := range in.cfg.Track {
		valued = valued || (t.Name == name && t.Valued)
	}
	if !valued {
		return fmt.Errorf("vrrp instance %q tracks no value %q", in.cfg.Name, name)
	}
	in.mu.Lock()
	old := in.values[name]
	in.values[name] = v
	in.mu.Unlock()
	if old != v {
		select {
		case in.trackCh <- struct{}{}:
		default:
		}
		if !in.running.Load() {
			prio, _ := in.effective()
			in.mu.Lock()
			in.status.Priority = prio
			in.mu.Unlock()
		}
	}
	return nil
}

type forced struct {
	to     State
	reason string
}

// Force moves the instance, if it runs, from BACKUP to MASTER or from
// MASTER to BACKUP at once, as keepalived's vrrp_sync_group does with the
// other members when one of them changes: the state machine goes on from
// there (a forced master with a better router beside it yields to its
// next advert). Other states, and the same state, are left alone. It does
// not wait for the change.
func (in *Instance) Force(to State, reason string) error {
	if to != StateMaster && to != StateBackup {
		return fmt.Errorf("vrrp instance %q: can only be forced to MASTER or BACKUP, not %v", in.cfg.Name, to)
	}
	select {
	case in.forceCh <- forced{to, reason}:
		return nil
	default:
		return fmt.Errorf("vrrp instance %q: too many forced changes pending", in.cfg.Name)
	}
}

// dropsVIPTraffic reports whether the instance is in no_accept mode: a
// non-owner with no_accept, or in strict mode without accept.
func (in *Instance) dropsVIPTraffic() bool {
	c := &in.cfg
	return (c.NoAccept || (c.Strict && !c.Accept)) && c.Priority != 255
}

// SetTracked reports the state of a tracked object named in Config.Track.
// It is safe to call at any time, before Run too.
func (in *Instance) SetTracked(name string, up bool) error {
	in.mu.Lock()
	old, ok := in.tracked[name]
	if ok {
		in.tracked[name] = up
	}
	in.mu.Unlock()
	if !ok {
		return fmt.Errorf("vrrp instance %q does not track %q", in.cfg.Name, name)
	}
	if old != up {
		select {
		case in.trackCh <- struct{}{}:
		default:
		}
		if !in.running.Load() {
			prio, _ := in.effective()
			in.mu.Lock()
			in.status.Priority = prio
			in.mu.Unlock()
		}
	}
	return nil
}

// effective computes the effective priority and the fault reason (empty if
// none) from the tracked objects.
func (in *Instance) effective() (uint8, string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	base := int(in.cfg.Priority)
	prio := base
	var faults []string
	for _, t := range in.cfg.Track {
		if t.Valued {
			v := in.values[t.Name]
			switch {
			case t.Weight == 0 && v != 0:
				faults = append(faults, fmt.Sprintf("%s is %d", t.Name, v))
			case t.Weight != 0 && v*t.Weight < -253:
				faults = append(faults, fmt.Sprintf("%s is %d (x %d < -253)", t.Name, v, t.Weight))
			case t.Weight != 0:
				prio += max(min(v*t.Weight, 253), -253)
			}
			continue
		}
		up := in.tracked[t.Name]
		switch {
		case t.Weight == 0 && !up:
			faults = append(faults, t.Name+" down")
		case t.Weight > 0 && up, t.Weight < 0 && !up:
			prio += t.Weight
		}
	}
	if base == 255 {
		prio = 255 // the address owner's priority does not move
	} else {
		prio = min(max(prio, 1), 254)
	}
	return uint8(prio), strings.Join(faults, ", ")
}

// Status returns a snapshot of the instance.
func (in *Instance) Status() Status {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.status
	s.Counters.Dropped = maps.Clone(in.status.Counters.Dropped)
	return s
}

func (in *Instance) count(f func(c *Counters)) {
	in.mu.Lock()
	f(&in.status.Counters)
	in.mu.Unlock()
}

// Run runs the instance until ctx is done: it opens the sockets on the
// interface (in the network namespace of the calling thread), removes VIPs
// a previous run left behind, starts in BACKUP (MASTER for the address
// owner) and follows RFC 5798. When ctx is done it gives up mastership with
// a priority-0 advert, removes the VIPs and returns nil. It returns an error
// if the interface or the sockets cannot be set up, or reading fails for
// good.
func (in *Instance) Run(ctx context.Context) error {
	if !in.running.CompareAndSwap(false, true) {
		return fmt.Errorf("vrrp instance %q is already running", in.cfg.Name)
	}
	defer in.running.Store(false)

	sys, err := in.open(in)
	if err != nil {
		return fmt.Errorf("vrrp instance %q: %w", in.cfg.Name, err)
	}
	defer sys.close()
	in.sys = sys
	if err := sys.delVIPs(); err != nil {
		in.log.Warn("cannot remove stale VIPs", "err", err)
	}
	c := &in.cfg
	p := params{
		version:      in.version,
		interval:     c.AdvertInterval,
		preempt:      !c.NoPreempt,
		preemptDelay: c.PreemptDelay,
		primary:      sys.primary(),
		startBackup:  c.InitialState == StateBackup,
		garpRefresh:  c.GARPRefresh,
	}
	if c.GARPDelay > 0 {
		p.garpDelay = c.GARPDelay
	}
	prio, fault := in.effective()
	in.m = newMachine(c.Name, p, prio, in)
	in.linkUp = sys.linkUp()
	if !in.linkUp {
		fault = in.linkFault(fault)
	}
	in.m.fault = fault
	in.mu.Lock()
	in.status.SourceAddr = p.primary
	in.mu.Unlock()
	in.log.Info("starting", "interface", c.Interface, "vrid", c.VRID, "version", in.version,
		"priority", prio, "source", p.primary, "advert_int", c.AdvertInterval, "unicast_peers", c.UnicastPeers)

	if c.StartupDelay > 0 {
		in.log.Info("waiting before starting (vrrp_startup_delay)", "delay", c.StartupDelay)
		t := in.clock.NewTimer()
		t.ResetAt(in.clock.Now().Add(c.StartupDelay))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
		t.Stop()
	}

	done := make(chan struct{})
	defer close(done)
	pkts := make(chan packet, 64)
	readErr := make(chan error, 1)
	go in.readLoop(sys, pkts, readErr, done)

	in.m.start(in.clock.Now())
	in.publish()
	timer := in.clock.NewTimer()
	defer timer.Stop()
	for {
		if next := in.m.next(); next.IsZero() {
			timer.Stop()
		} else {
			timer.ResetAt(next)
		}
		select {
		case <-ctx.Done():
			in.m.stop(in.clock.Now())
			in.publish()
			return nil
		case err := <-readErr:
			in.m.stop(in.clock.Now())
			in.publish()
			return fmt.Errorf("vrrp instance %q: reading adverts: %w", c.Name, err)
		case pk := <-pkts:
			in.handle(pk)
		case up := <-sys.linkChanges():
			if up != in.linkUp {
				in.linkUp = up
				in.log.Info("link state", "interface", c.Interface, "up", up)
				in.refresh()
			}
		case <-in.trackCh:
			in.refresh()
		case <-sys.deletions():
			if in.m.state == StateMaster {
				if what := sys.missing(); what != "" {
					in.m.relinquish(in.clock.Now(), what)
				}
			}
		case f := <-in.forceCh:
			in.m.force(in.clock.Now(), f.to, f.reason)
		case <-timer.C():
			in.m.tick(in.clock.Now())
		}
		in.publish()
	}
}

func (in *Instance) linkFault(f string) string {
	msg := "interface " + in.cfg.Interface + " down"
	if f == "" {
		return msg
	}
	return msg + ", " + f
}

// refresh applies a change of tracking or link state.
func (in *Instance) refresh() {
	now := in.clock.Now()
	prio, fault := in.effective()
	if !in.linkUp {
		fault = in.linkFault(fault)
	}
	if fault != "" {
		in.m.setFault(now, fault)
		in.m.setPriority(now, prio)
	} else {
		in.m.setPriority(now, prio)
		in.m.setFault(now, "")
	}
}

func (in *Instance) readLoop(sys system, pkts chan<- packet, readErr chan<- error, done <-chan struct{}) {
	buf := make([]byte, 8192)
	failures := 0
	for {
		p, err := sys.recv(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Transient errors (ENOBUFS, ...) are retried, a broken
			// socket is reported after a while.
			if failures++; failures >= 100 {
				readErr <- err
				return
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		failures = 0
		select {
		case pkts <- p:
		case <-done:
			return
		}
	}
}

// handle checks a received packet and passes it to the state machine.
func (in *Instance) handle(p packet) {
	now := in.clock.Now()
	a, reason, msg, mismatch := in.recv.check(p)
	if reason != "" {
		in.count(func(c *Counters) { c.Dropped[reason]++ })
		in.logDrop(now, reason, msg)
		return
	}
	in.count(func(c *Counters) {
		c.AdvertsReceived++
		if a.Priority == 0 {
			c.PriorityZeroReceived++
		}
		if mismatch {
			c.AddressMismatch++
		}
	})
	if mismatch {
		in.logDrop(now, "addresses", fmt.Sprintf("advert from %v lists %v, ours are %v (accepted)", p.src, a.Addresses, in.recv.vips))
	}
	in.m.receive(now, a, p.src)
}

// logDrop logs a dropped packet, at most once per reason every 10 s, with the
// number of drops not logged in between.
func (in *Instance) logDrop(now time.Time, reason DropReason, msg string) {
	if reason == DropVRID {
		in.log.Debug("ignoring advert", "reason", reason, "detail", msg)
		return
	}
	if last, ok := in.dropLogged[reason]; ok && now.Sub(last) < 10*time.Second {
		in.suppressed[reason]++
		return
	}
	in.log.Warn("dropped VRRP packet", "reason", string(reason), "detail", msg, "suppressed", in.suppressed[reason])
	in.dropLogged[reason] = now
	in.suppressed[reason] = 0
}

// publish copies the state machine's view into the status.
func (in *Instance) publish() {
	m := in.m
	in.mu.Lock()
	defer in.mu.Unlock()
	s := &in.status
	s.State, s.Priority, s.Fault = m.state, m.prio, ""
	if m.state == StateFault {
		s.Fault = m.fault
	}
	s.Master, s.MasterPriority, s.AdvertInterval = m.master, m.masterPrio, m.masterInterval
	if m.state == StateMaster {
		s.Master, s.MasterPriority = m.p.primary, m.prio
	}
	if m.state == StateFault || m.state == StateStop {
		s.Master, s.MasterPriority = netip.Addr{}, 0
	}
}

// The effects of the state machine.

func (in *Instance) transition(t Transition) {
	if t.To == StateMaster {
		if err := in.sys.addVIPs(); err != nil {
			in.log.Error("cannot add VIPs", "err", err)
		}
	}
	if t.From == StateMaster {
		if err := in.sys.delVIPs(); err != nil {
			in.log.Error("cannot remove VIPs", "err", err)
		}
	}
	in.publish()
	in.mu.Lock()
	in.status.Since = t.Time
	in.status.Transitions++
	if t.To == StateMaster {
		in.status.Counters.BecameMaster++
	}
	if t.From == StateMaster {
		in.status.Counters.ReleasedMaster++
	}
	in.mu.Unlock()
	in.log.Info("entering "+t.To.String()+" state", "from", t.From.String(), "reason", t.Reason, "priority", t.Priority)
	if in.cfg.OnTransition != nil {
		in.cfg.OnTransition(t)
	}
}

func (in *Instance) advertise(prio uint8) {
	c := &in.cfg
	a := Advertisement{
		Version:   in.version,
		VRID:      c.VRID,
		Priority:  prio,
		Interval:  c.AdvertInterval,
		AuthType:  in.recv.authType,
		AuthData:  in.recv.authData,
		Addresses: in.recv.vips,
		Src:       in.m.p.primary,
	}
	dsts := c.UnicastPeers
	if len(dsts) == 0 {
		dsts = []netip.Addr{GroupIPv4}
		if in.is6 {
			dsts = []netip.Addr{GroupIPv6}
		}
	}
	for _, dst := range dsts {
		a.Dst = dst
		b, err := a.MarshalBinary()
		if err == nil {
			err = in.sys.send(b, dst)
		}
		if err != nil {
			in.count(func(c *Counters) { c.SendErrors++ })
			in.logDrop(in.clock.Now(), "send", fmt.Sprintf("cannot send advert to %v: %v", dst, err))
			continue
		}
		in.count(func(c *Counters) {
			c.AdvertsSent++
			if prio == 0 {
				c.PriorityZeroSent++
			}
		})
	}
}

func (in *Instance) announce() { in.announceN(in.cfg.GARPRepeat) }

func (in *Instance) refreshAnnounce() { in.announceN(in.cfg.GARPRefreshRepeat) }

func (in *Instance) announceN(n int) {
	if len(in.cfg.VIPs)+len(in.cfg.ExcludedVIPs) == 0 {
		return
	}
	for range n {
		if err := in.sys.announce(); err != nil {
			in.logDrop(in.clock.Now(), "announce", fmt.Sprintf("cannot announce the VIPs: %v", err))
			return
		}
	}
}
