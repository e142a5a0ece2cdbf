package director

import (
	"log/slog"
	"net/netip"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// The announced VIPs live on a link the daemon manages, the bgp block's
// vip_interface: a DR or TUN director must hold a VIP as a local address
// for IPVS (on LOCAL_IN) to see the traffic the routers send it.
//
// The choice: every VIP of every announce block is on the link from the
// load of its configuration until the block goes (a reload: right after
// the withdrawal) or the daemon stops (after the drain), announced or not. A withdrawal stops new flows
// from being routed here, but the flows the routers already hash here keep
// coming for a while (a drain, a router's convergence, a flap), and IPVS
// must still forward them; an address that came and went with the
// announcement would turn them into resets. The addresses are the
// daemon's: one found on the link at start (left by a daemon killed with
// SIGKILL) is taken over and removed at stop.
//
// The link itself: one that exists is used as it is ("lo" works: only the
// VIP addresses are added and removed); one that does not is created as a
// dummy link, marked with the alias vipLinkAlias, and deleted at stop. A
// dummy link with that alias found at start (a killed daemon's) counts as
// created by this daemon.

// vipLinkAlias marks the dummy links lvsctl creates.
const vipLinkAlias = "lvsctl vip_interface"

// VIPLink is the link the VIPs are put on; NetlinkVIPLink is the host's.
type VIPLink interface {
	// Ensure makes the link exist and be up. created says it is a dummy
	// link made by lvsctl (now or by a previous daemon), to be deleted at
	// stop.
	Ensure(name string) (created bool, err error)
	// AddAddr puts p on the link; an address already there is no error.
	AddAddr(name string, p netip.Prefix) error
	// DelAddr takes p off the link; an address not there is no error.
	DelAddr(name string, p netip.Prefix) error
	// Delete deletes the link.
	Delete(name string) error
}

// vipSet is the VIPs the announcer put on the link; Run's goroutine only.
type vipSet struct {
	link    VIPLink
	log     *slog.Logger
	want    string // the configured link
	name    string // the link holding addrs; "" before Ensure worked
	created bool
	addrs   map[netip.Prefix]bool
	err     string // the last failure, retried; "" when all is in place
	logged  string // the failure last logged: a retry failing alike is not
}

// failed records a failure, logged once until it changes or heals.
func (v *vipSet) failed(msg string, err error, args ...any) {
	v.err = err.Error()
	if v.logged == v.err {
		return
	}
	v.logged = v.err
	v.log.Error(msg, append(args, "error", err, "retry", "every second")...)
}

// hostPrefix is vip as a /32 or /128.
func hostPrefix(vip netip.Addr) netip.Prefix { return netip.PrefixFrom(vip, vip.BitLen()) }

// wanted is the VIPs of cfg's announce blocks.
func wanted(cfg *lvshcl.BGP) map[netip.Prefix]bool {
	want := map[netip.Prefix]bool{}
	if cfg != nil {
		for _, an := range cfg.Announces {
			for _, vip := range an.VIPs {
				want[hostPrefix(vip)] = true
			}
		}
	}
	return want
}

// apply puts cfg's VIPs on cfg's vip_interface (moving them all if the
// link changed). VIPs no longer configured stay until prune, which the
// announcer calls once they are withdrawn.
func (v *vipSet) apply(cfg *lvshcl.BGP) {
	want := wanted(cfg)
	name := ""
	if cfg != nil && len(want) > 0 {
		name = cfg.VIPInterface
	}
	if v.name != "" && v.name != name {
		v.clear()
	}
	v.want, v.err = name, ""
	if name == "" {
		return
	}
	if v.name == "" {
		created, err := v.link.Ensure(name)
		if err != nil {
			v.failed("bgp: cannot set up vip_interface; nothing is announced until it works", err, "vip_interface", name)
			return
		}
		v.name, v.created = name, created
		if created {
			v.log.Info("bgp: VIP link ready (dummy link, deleted at stop)", "vip_interface", name)
		}
	}
	for p := range want {
		if v.addrs[p] {
			continue
		}
		if err := v.link.AddAddr(name, p); err != nil {
			v.failed("bgp: cannot put a VIP on vip_interface; nothing is announced until it works", err, "vip_interface", name, "vip", p)
			continue
		}
		v.addrs[p] = true
		v.log.Info("bgp: VIP on vip_interface", "vip_interface", name, "vip", p)
	}
	if v.err == "" && v.logged != "" {
		v.logged = ""
		v.log.Info("bgp: vip_interface ready again", "vip_interface", name)
	}
}

// prune takes off the link the VIPs cfg no longer has (withdrawn by then).
func (v *vipSet) prune(cfg *lvshcl.BGP) {
	want := wanted(cfg)
	for p := range v.addrs {
		if want[p] {
			continue
		}
		if err := v.link.DelAddr(v.name, p); err != nil {
			v.log.Warn("bgp: cannot take a VIP off vip_interface", "vip_interface", v.name, "vip", p, "error", err)
			continue
		}
		delete(v.addrs, p)
		v.log.Info("bgp: VIP off vip_interface (removed from the configuration, withdrawn)", "vip_interface", v.name, "vip", p)
	}
}

// clear takes the VIPs off the link, and deletes it if lvsctl created it.
func (v *vipSet) clear() {
	if v.name == "" {
		return
	}
	if v.created {
		if err := v.link.Delete(v.name); err != nil {
			v.log.Warn("bgp: cannot delete vip_interface", "vip_interface", v.name, "error", err)
		} else {
			v.log.Info("bgp: vip_interface deleted", "vip_interface", v.name)
		}
	} else {
		for p := range v.addrs {
			if err := v.link.DelAddr(v.name, p); err != nil {
				v.log.Warn("bgp: cannot take a VIP off vip_interface", "vip_interface", v.name, "vip", p, "error", err)
			}
		}
	}
	v.name, v.created = "", false
	v.addrs = map[netip.Prefix]bool{}
}
