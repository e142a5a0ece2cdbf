package hcl

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/ipvs"
)

// The sync block: keepalived's lvs_sync_daemon, the kernel's IPVS
// connection synchronisation daemon driven by a VRRP instance, so that the
// backup director knows the connections of the master when it takes over.
//
//	sync {
//	  mode           = "vrrp"        # or "active-active"; default "vrrp"
//	  interface      = "eth1"        # where the sync messages go (required)
//	  vrrp_instance  = "VI_1"        # master there: master daemon (required in mode vrrp, refused in active-active)
//	  syncid         = 51            # 0-255; default: the instance's virtual_router_id (vrrp), 0 (active-active)
//	  sync_maxlen    = 1472          # default: from the interface's MTU
//	  port           = 8848          # default 8848
//	  ttl            = 1             # 1-255, default 1
//	  group          = "224.0.0.81"  # multicast, IPv4 or IPv6; default 224.0.0.81
//	  # sysctls of net.ipv4.vs, set at start and on reload (previous values logged):
//	  sync_threshold = [3, 50]
//	  sync_version   = 1
//	  conntrack      = true           # NAT behind netfilter state
//	}

const blockSync = "sync"

// Keepalived's (and the kernel's) defaults.
const (
	DefaultSyncPort = 8848
	DefaultSyncTTL  = 1
)

// DefaultSyncGroup is the multicast group of the sync messages by default
// (IP_VS_SYNC_GROUP).
var DefaultSyncGroup = netip.MustParseAddr("224.0.0.81")

// SyncMode says which sync daemons a director runs.
type SyncMode int

const (
	// SyncVRRP follows a vrrp_instance: master daemon while it is MASTER,
	// backup daemon while BACKUP (keepalived's lvs_sync_daemon).
	SyncVRRP SyncMode = iota
	// SyncActiveActive runs the master and the backup daemon at once on
	// every director, without VRRP: each sends its connections and
	// receives the others' (directors behind ECMP).
	SyncActiveActive
)

// The mode attribute's values.
const (
	SyncModeVRRP         = "vrrp"
	SyncModeActiveActive = "active-active"
)

func (m SyncMode) String() string {
	if m == SyncActiveActive {
		return SyncModeActiveActive
	}
	return SyncModeVRRP
}

// Sync is the sync block.
type Sync struct {
	// Mode is SyncVRRP (the default) or SyncActiveActive.
	Mode SyncMode
	// VRRPInstance is the vrrp_instance whose state the daemon follows
	// in SyncVRRP mode: master daemon while it is MASTER, backup daemon
	// while BACKUP. Empty in SyncActiveActive mode.
	VRRPInstance string
	// Daemon is the daemon to start, State aside: Interface, SyncID,
	// MaxLen (0: the kernel's), Group, Port and TTL (defaults filled in).
	Daemon ipvs.SyncDaemon
	// Sysctls to set, in the order written.
	Sysctls []Sysctl
}

// Sysctl is one kernel setting: its name as sysctl(8) writes it
// (net.ipv4.vs.sync_threshold) and the value to write.
type Sysctl struct {
	Name, Value string
}

// Path is the sysctl's file under /proc/sys.
func (s Sysctl) Path() string { return "/proc/sys/" + strings.ReplaceAll(s.Name, ".", "/") }

var syncSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "mode"},
		{Name: "interface", Required: true},
		{Name: "vrrp_instance"},
		{Name: "syncid"},
		{Name: "sync_maxlen"},
		{Name: "port"},
		{Name: "ttl"},
		{Name: "group"},
		{Name: "sync_threshold"},
		{Name: "sync_version"},
		{Name: "conntrack"},
	},
}

// buildSync decodes and checks the sync block of body, against the
// instances of vr.
func buildSync(body hcl.Body, vr VRRP) (*Sync, hcl.Diagnostics) {
	content, _, diags := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: blockSync}}})
	if diags.HasErrors() {
		return nil, diags
	}
	var blocks []*hcl.Block
	for _, b := range content.Blocks {
		if b.Type == blockSync {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	b := &builder{}
	for _, extra := range blocks[1:] {
		b.errorAt(extra.DefRange, blocks[0].DefRange.Ptr(), "Duplicate sync block",
			"The kernel runs one sync daemon per state; there is already a sync block at %s.", posString(blocks[0].DefRange))
	}
	d := &decoder{}
	c, more := blocks[0].Body.Content(syncSchema)
	d.diags = append(d.diags, more...)
	a := c.Attributes
	mode := decodeString(d, a["mode"])
	iface := decodeString(d, a["interface"])
	inst := decodeString(d, a["vrrp_instance"])
	syncid := decodeNumber(d, a["syncid"])
	maxlen := decodeNumber(d, a["sync_maxlen"])
	port := decodeNumber(d, a["port"])
	ttl := decodeNumber(d, a["ttl"])
	group := decodeString(d, a["group"])
	threshold := decodeNumberList(d, a["sync_threshold"])
	version := decodeNumber(d, a["sync_version"])
	conntrack := decodeBool(d, a["conntrack"])
	b.diags = append(b.diags, d.diags...)

	s := &Sync{Daemon: ipvs.SyncDaemon{Port: DefaultSyncPort, TTL: DefaultSyncTTL, Group: DefaultSyncGroup}}
	if mode.ok() {
		switch mode.Val {
		case SyncModeVRRP:
		case SyncModeActiveActive:
			s.Mode = SyncActiveActive
		default:
			b.errorAt(mode.Value, nil, "Invalid sync mode",
				"mode is %q (the sync daemons follow vrrp_instance, as keepalived's lvs_sync_daemon) or %q (every director runs the master and the backup daemon, without VRRP); %q is neither.",
				SyncModeVRRP, SyncModeActiveActive, mode.Val)
		}
	}
	switch {
	case s.Mode == SyncActiveActive && inst.ok():
		b.errorAt(inst.Value, nil, "vrrp_instance in active-active sync",
			"With mode = %q every director runs both sync daemons all the time and follows no VRRP instance; remove vrrp_instance, or remove mode to follow the instance.", SyncModeActiveActive)
		inst = nil
	case s.Mode == SyncVRRP && a["vrrp_instance"] == nil && (mode == nil || mode.Val == SyncModeVRRP):
		b.errorAt(blocks[0].DefRange, nil, "Missing vrrp_instance",
			"The sync daemons follow a vrrp_instance (master daemon while it is MASTER, backup daemon while BACKUP): set vrrp_instance, or mode = %q to run both daemons on every director without VRRP.", SyncModeActiveActive)
	}
	if iface.ok() {
		name := iface.Val
		if name == "" || len(name) > maxInterfaceName || name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n") {
			b.errorAt(iface.Value, nil, "Invalid interface name",
				"%q is not a Linux interface name: 1 to 15 characters, without \"/\", \":\" or spaces.", name)
		}
		s.Daemon.Interface = name
	}
	if inst.ok() {
		s.VRRPInstance = inst.Val
		found := false
		for _, in := range vr.Instances {
			if in.Config.Name == inst.Val {
				found = true
				s.Daemon.SyncID = uint32(in.Config.VRID) // keepalived's default
			}
		}
		if !found {
			var names []string
			for _, in := range vr.Instances {
				names = append(names, in.Config.Name)
			}
			b.errorAt(inst.Value, nil, "Unknown vrrp_instance",
				"The sync daemon follows a vrrp_instance of this file; there is no %q%s.", inst.Val, known(names))
		}
	}
	if n, ok := b.whole(syncid, 0, 255, "Invalid syncid", "syncid"); ok {
		s.Daemon.SyncID = uint32(n)
	}
	// keepalived's bounds: the kernel clamps to the interface's MTU.
	if n, ok := b.whole(maxlen, 1, 65507, "Invalid sync_maxlen", "sync_maxlen"); ok {
		s.Daemon.MaxLen = uint16(n)
	}
	if n, ok := b.whole(port, 1, 65535, "Invalid port", "port"); ok {
		s.Daemon.Port = uint16(n)
	}
	if n, ok := b.whole(ttl, 1, 255, "Invalid ttl", "ttl"); ok {
		s.Daemon.TTL = uint8(n)
	}
	if group.ok() {
		g, err := netip.ParseAddr(group.Val)
		switch {
		case err != nil:
			b.errorAt(group.Value, nil, "Invalid multicast group", "group must be an IPv4 or IPv6 multicast address such as 224.0.0.81 or ff02::81; %q is not an address: %v.", group.Val, err)
		case g.Zone() != "" || !g.Unmap().IsMulticast():
			b.errorAt(group.Value, nil, "Invalid multicast group", "group must be a multicast address without a zone (224.0.0.0/4 or ff00::/8); %s is not one.", group.Val)
		default:
			s.Daemon.Group = g.Unmap()
		}
	}
	if threshold.ok() {
		v := threshold.Val
		lo, hi, ok := int64(0), int64(0), len(v) == 2
		if ok {
			lo, ok = wholeIn(v[0], 0, 1<<31-1)
		}
		if ok {
			hi, ok = wholeIn(v[1], 0, 1<<31-1)
		}
		// proc_do_sync_threshold: the period is 0 (every packet past the
		// threshold) or above the threshold.
		if !ok || (hi != 0 && lo >= hi) {
			b.errorAt(threshold.Value, nil, "Invalid sync_threshold",
				"sync_threshold is [THRESHOLD, PERIOD]: two whole numbers, the period 0 or greater than the threshold (the kernel's default is [3, 50]).")
		} else {
			s.Sysctls = append(s.Sysctls, Sysctl{"net.ipv4.vs.sync_threshold", fmt.Sprintf("%d\t%d", lo, hi)})
		}
	}
	if n, ok := b.whole(version, 0, 1, "Invalid sync_version", "sync_version"); ok {
		s.Sysctls = append(s.Sysctls, Sysctl{"net.ipv4.vs.sync_version", fmt.Sprint(n)})
	}
	if conntrack.ok() {
		v := "0"
		if conntrack.Val {
			v = "1"
		}
		s.Sysctls = append(s.Sysctls, Sysctl{"net.ipv4.vs.conntrack", v})
	}
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	return s, b.diags
}

// decodeNumberList decodes a list of numbers.
func decodeNumberList(d *decoder, a *hcl.Attribute) *attr[[]*big.Float] {
	return decode(d, a, cty.List(cty.Number), func(v cty.Value) []*big.Float {
		var out []*big.Float
		for _, e := range v.AsValueSlice() {
			if e.IsNull() || !e.IsKnown() {
				return nil
			}
			out = append(out, e.AsBigFloat())
		}
		return out
	})
}
