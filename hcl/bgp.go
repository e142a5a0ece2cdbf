package hcl

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/ipvs"
)

// The bgp block: the director announces its VIPs to its routers by BGP, so
// that several active directors share the traffic behind the routers' ECMP
// (package bgp runs the speaker; docs/bgp.md).
//
//	bgp {
//	  asn            = 65001
//	  router_id      = "10.0.0.11"
//	  hold_time      = 9      # default 90 s; 0 or 3 s and more, whole seconds
//	  idle_hold_time = 1      # wait before reconnecting after a reset, default 1 s
//	  drain_time     = 2      # SIGTERM: withdraw, wait this, close; default 2 s
//	  vip_interface  = "lvsctl0"  # the link the VIPs are put on (a dummy link, or "lo")
//	  sloppy_tcp     = true   # net.ipv4.vs.sloppy_tcp = 1 while lvsctl run runs
//	  sloppy_sctp    = false  # net.ipv4.vs.sloppy_sctp likewise
//	  neighbor "tor1" {
//	    address        = "10.0.0.1"
//	    asn            = 65000
//	    password       = "..."          # TCP MD5
//	    hold_time      = 9              # default: the bgp block's
//	    source_address = "10.0.0.11"
//	    multihop       = 2              # eBGP multihop TTL, 1-255
//	    bfd { min_tx = "100ms"  min_rx = "100ms"  multiplier = 3 }
//	  }
//	  announce "web" {
//	    vips                 = ["192.0.2.10", "2001:db8::10"]
//	    track_virtual_server = ["web"]
//	    track_interface      = ["eth0"]
//	    track_script         = ["chk_local"]   # a vrrp_script
//	    communities          = ["65001:100"]
//	    med                  = 10
//	  }
//	}
//
// A VIP is VRRP's or BGP's, never both. Behind ECMP every director must pick
// the same backend for a flow and reach it without carrying the replies, so
// NAT on an announced service is an error, and a scheduler other than mh or
// sh, mh without mh-port and persistence without a sync block are warned of.

const (
	blockBGP         = "bgp"
	blockBGPNeighbor = "neighbor"
	blockBGPAnnounce = "announce"
	blockBGPBFD      = "bfd"
)

// Defaults of the bgp block.
const (
	DefaultBGPHoldTime     = 90 * time.Second
	DefaultBGPIdleHoldTime = time.Second
	DefaultBGPDrainTime    = 2 * time.Second
	DefaultBFDInterval     = 300 * time.Millisecond
	DefaultBFDMultiplier   = 3
	// DefaultVIPInterface is the dummy link `lvsctl run` creates for the
	// announced VIPs when vip_interface is not set.
	DefaultVIPInterface = "lvsctl0"
)

// BGP is the bgp block.
type BGP struct {
	ASN          uint32
	RouterID     netip.Addr
	HoldTime     time.Duration
	IdleHoldTime time.Duration
	DrainTime    time.Duration
	// VIPInterface is the link the announced VIPs are put on, as /32 and
	// /128 (DefaultVIPInterface unless set).
	VIPInterface string
	// SloppyTCP and SloppySCTP set net.ipv4.vs.sloppy_tcp and sloppy_sctp
	// to 1 while the daemon runs (the previous values come back on stop):
	// a director then takes over a flow that began on another one.
	SloppyTCP, SloppySCTP bool
	Neighbors             []BGPNeighbor // in file order
	Announces             []BGPAnnounce // in file order
}

// BGPNeighbor is a neighbor block.
type BGPNeighbor struct {
	Name          string
	Address       netip.Addr
	ASN           uint32
	Password      string        // TCP MD5 signature; empty for none
	HoldTime      time.Duration // the bgp block's unless set
	SourceAddress netip.Addr    // invalid when not set
	Multihop      uint8         // 0: directly connected
	BFD           *BGPBFD       // nil: no BFD
}

// BGPBFD is a neighbor's bfd block.
type BGPBFD struct {
	MinTx, MinRx time.Duration
	Multiplier   uint8
}

// BGPAnnounce is an announce block: VIPs announced while every tracked
// object is healthy.
type BGPAnnounce struct {
	Name               string
	VIPs               []netip.Addr
	TrackVirtualServer []string
	TrackInterface     []string
	TrackScript        []string
	Communities        []uint32 // ASN<<16 | value
	MED                *uint32
}

var bgpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "asn", Required: true},
		{Name: "router_id", Required: true},
		{Name: "hold_time"},
		{Name: "idle_hold_time"},
		{Name: "drain_time"},
		{Name: "vip_interface"},
		{Name: "sloppy_tcp"},
		{Name: "sloppy_sctp"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockBGPNeighbor, LabelNames: []string{"name"}},
		{Type: blockBGPAnnounce, LabelNames: []string{"name"}},
	},
}

var bgpNeighborSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address", Required: true},
		{Name: "asn", Required: true},
		{Name: "password"},
		{Name: "hold_time"},
		{Name: "source_address"},
		{Name: "multihop"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: blockBGPBFD}},
}

var bgpBFDSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "min_tx"}, {Name: "min_rx"}, {Name: "multiplier"}},
}

var bgpAnnounceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "vips", Required: true},
		{Name: "track_virtual_server"},
		{Name: "track_interface"},
		{Name: "track_script"},
		{Name: "communities"},
		{Name: "med"},
	},
}

// bgpBuilder builds the bgp block.
type bgpBuilder struct {
	builder
	d decoder
}

func (bb *bgpBuilder) flush() {
	bb.diags = append(bb.diags, bb.d.diags...)
	bb.d.diags = nil
}

func (bb *bgpBuilder) warnAt(subject hcl.Range, summary, detail string, args ...any) {
	bb.diags = append(bb.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  subject.Ptr(),
	})
}

// buildBGP decodes and checks the bgp block of body against the services
// (with their sources), the VRRP instances and scripts and the sync block.
func buildBGP(body hcl.Body, services []ipvs.VirtualService, sources []Source, vr VRRP, sy *Sync) (*BGP, hcl.Diagnostics) {
	content, _, diags := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: blockBGP}}})
	if diags.HasErrors() {
		return nil, diags
	}
	var blocks []*hcl.Block
	for _, b := range content.Blocks {
		if b.Type == blockBGP {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	bb := &bgpBuilder{}
	for _, extra := range blocks[1:] {
		bb.errorAt(extra.DefRange, blocks[0].DefRange.Ptr(), "Duplicate bgp block",
			"A director runs one BGP speaker; there is already a bgp block at %s.", posString(blocks[0].DefRange))
	}
	c, more := blocks[0].Body.Content(bgpSchema)
	bb.diags = append(bb.diags, more...)
	a := c.Attributes
	asn := decodeNumber(&bb.d, a["asn"])
	rid := decodeString(&bb.d, a["router_id"])
	hold := bb.d.raw(a["hold_time"])
	idle := bb.d.raw(a["idle_hold_time"])
	drain := bb.d.raw(a["drain_time"])
	vipIf := decodeString(&bb.d, a["vip_interface"])
	sloppyTCP := decodeBool(&bb.d, a["sloppy_tcp"])
	sloppySCTP := decodeBool(&bb.d, a["sloppy_sctp"])
	bb.flush()

	g := &BGP{HoldTime: DefaultBGPHoldTime, IdleHoldTime: DefaultBGPIdleHoldTime, DrainTime: DefaultBGPDrainTime, VIPInterface: DefaultVIPInterface}
	if vipIf.ok() {
		if name := vipIf.Val; !validInterfaceName(name) {
			bb.errorAt(vipIf.Value, nil, "Invalid vip_interface",
				"%q is not a Linux interface name: 1 to 15 characters, without \"/\", \":\" or spaces.", name)
		} else {
			g.VIPInterface = name
		}
	}
	g.SloppyTCP = sloppyTCP.ok() && sloppyTCP.Val
	g.SloppySCTP = sloppySCTP.ok() && sloppySCTP.Val
	if n, ok := bb.whole(asn, 1, 1<<32-1, "Invalid asn", "asn"); ok {
		g.ASN = uint32(n)
	}
	if rid.ok() {
		ip, err := netip.ParseAddr(rid.Val)
		if err != nil || !ip.Is4() || ip.IsUnspecified() {
			bb.errorAt(rid.Value, nil, "Invalid router_id", "router_id is the BGP identifier, an IPv4 address other than 0.0.0.0 (usually one of the director's); got %q.", rid.Val)
		} else {
			g.RouterID = ip
		}
	}
	if d, ok := bb.holdTime(hold); ok {
		g.HoldTime = d
	}
	if d, ok := bb.wholeSeconds(idle, 1, 3600); ok {
		g.IdleHoldTime = d
	}
	if d, ok := bb.duration(drain, true); ok {
		g.DrainTime = d
	}

	neighborAt := map[string]hcl.Range{}
	addrAt := map[netip.Addr]hcl.Range{}
	announceAt := map[string]hcl.Range{}
	vipAt := map[netip.Addr]hcl.Range{}
	var announces []*announceFacts
	for _, blk := range c.Blocks {
		name := blk.Labels[0]
		switch blk.Type {
		case blockBGPNeighbor:
			if prev, dup := neighborAt[name]; dup {
				bb.errorAt(blk.LabelRanges[0], nil, "Duplicate neighbor", "There is already a neighbor %q at %s.", name, posString(prev))
			}
			neighborAt[name] = blk.DefRange
			n, addrRange, ok := bb.neighbor(blk, g)
			if !ok {
				continue
			}
			if prev, dup := addrAt[n.Address]; dup {
				bb.errorAt(addrRange, nil, "Duplicate neighbor address", "Neighbor %s is already configured at %s: one session per address.", n.Address, posString(prev))
				continue
			}
			addrAt[n.Address] = addrRange
			g.Neighbors = append(g.Neighbors, n)
		case blockBGPAnnounce:
			if prev, dup := announceAt[name]; dup {
				bb.errorAt(blk.LabelRanges[0], nil, "Duplicate announce", "There is already an announce %q at %s.", name, posString(prev))
			}
			announceAt[name] = blk.DefRange
			af := bb.announce(blk, services, vr)
			for i, vip := range af.ann.VIPs {
				if prev, dup := vipAt[vip]; dup {
					bb.errorAt(af.vipRanges[i], nil, "VIP announced twice", "%s is already announced at %s; an address belongs to one announce block.", vip, posString(prev))
					continue
				}
				vipAt[vip] = af.vipRanges[i]
			}
			announces = append(announces, af)
			g.Announces = append(g.Announces, af.ann)
		}
	}
	if len(g.Neighbors) == 0 && !bb.diags.HasErrors() {
		bb.warnAt(blocks[0].DefRange, "bgp without neighbors", "This bgp block has no neighbor block: nothing is announced to anyone.")
	}
	bb.ecmpRules(announces, services, sources, sy, g)
	if bb.diags.HasErrors() {
		return nil, bb.diags
	}
	return g, bb.diags
}

// holdTime checks a hold time: 0 (no keepalives) or 3 s to 65535 s, whole
// seconds (RFC 4271 4.2).
func (bb *bgpBuilder) holdTime(a *attr[cty.Value]) (time.Duration, bool) {
	d, ok := bb.duration(a, true)
	if !ok {
		return 0, false
	}
	if d%time.Second != 0 || (d != 0 && d < 3*time.Second) || d > 65535*time.Second {
		bb.errorAt(a.Value, nil, "Invalid "+a.Name, "%s is 0 (no keepalives) or a whole number of seconds from 3 to 65535 (RFC 4271); got %v.", a.Name, d)
		return 0, false
	}
	return d, true
}

// wholeSeconds checks a duration of whole seconds from lo to hi.
func (bb *bgpBuilder) wholeSeconds(a *attr[cty.Value], lo, hi int) (time.Duration, bool) {
	d, ok := bb.duration(a, lo == 0)
	if !ok {
		return 0, false
	}
	if d%time.Second != 0 || d < time.Duration(lo)*time.Second || d > time.Duration(hi)*time.Second {
		bb.errorAt(a.Value, nil, "Invalid "+a.Name, "%s is a whole number of seconds from %d to %d; got %v.", a.Name, lo, hi, d)
		return 0, false
	}
	return d, true
}

func (bb *bgpBuilder) neighbor(blk *hcl.Block, g *BGP) (BGPNeighbor, hcl.Range, bool) {
	n := BGPNeighbor{Name: blk.Labels[0], HoldTime: g.HoldTime}
	c, more := blk.Body.Content(bgpNeighborSchema)
	bb.diags = append(bb.diags, more...)
	a := c.Attributes
	addr := decodeString(&bb.d, a["address"])
	asn := decodeNumber(&bb.d, a["asn"])
	pw := decodeString(&bb.d, a["password"])
	hold := bb.d.raw(a["hold_time"])
	src := decodeString(&bb.d, a["source_address"])
	hops := decodeNumber(&bb.d, a["multihop"])
	bb.flush()
	ok := addr.ok() && asn.ok()
	if ip, good := bb.ip(addr, "address"); good {
		n.Address = ip
	} else {
		ok = false
	}
	if v, good := bb.whole(asn, 1, 1<<32-1, "Invalid asn", "asn"); good {
		n.ASN = uint32(v)
	} else {
		ok = false
	}
	if pw.ok() {
		// The kernel's TCP_MD5SIG_MAXKEYLEN. The value is never quoted.
		if len(pw.Val) == 0 || len(pw.Val) > 80 {
			bb.errorAt(pw.Value, nil, "Invalid password", "A TCP MD5 password is 1 to 80 bytes; this one has %d.", len(pw.Val))
		}
		n.Password = pw.Val
	}
	if d, good := bb.holdTime(hold); good {
		n.HoldTime = d
	}
	if ip, good := bb.ip(src, "source_address"); good {
		if n.Address.IsValid() && ip.Is4() != n.Address.Is4() {
			bb.errorAt(src.Value, nil, "Invalid source_address", "source_address %s is not of the neighbor's family (%s).", ip, n.Address)
		}
		n.SourceAddress = ip
	}
	if v, good := bb.whole(hops, 1, 255, "Invalid multihop", "multihop"); good {
		n.Multihop = uint8(v)
	}
	for _, b := range c.Blocks {
		if n.BFD != nil {
			bb.errorAt(b.DefRange, nil, "Duplicate bfd block", "This neighbor already has a bfd block.")
			continue
		}
		n.BFD = bb.bfd(b)
	}
	var at hcl.Range
	if addr != nil {
		at = addr.Value
	}
	return n, at, ok
}

func (bb *bgpBuilder) bfd(blk *hcl.Block) *BGPBFD {
	f := &BGPBFD{MinTx: DefaultBFDInterval, MinRx: DefaultBFDInterval, Multiplier: DefaultBFDMultiplier}
	c, more := blk.Body.Content(bgpBFDSchema)
	bb.diags = append(bb.diags, more...)
	a := c.Attributes
	tx := bb.d.raw(a["min_tx"])
	rx := bb.d.raw(a["min_rx"])
	mult := decodeNumber(&bb.d, a["multiplier"])
	bb.flush()
	for _, p := range []struct {
		a   *attr[cty.Value]
		out *time.Duration
	}{{tx, &f.MinTx}, {rx, &f.MinRx}} {
		d, ok := bb.duration(p.a, false)
		if !ok {
			continue
		}
		if d < time.Millisecond || d%time.Microsecond != 0 || d > 60*time.Second {
			bb.errorAt(p.a.Value, nil, "Invalid "+p.a.Name, "%s is an interval from 1ms to 60s in whole microseconds (RFC 5880); got %v.", p.a.Name, d)
			continue
		}
		*p.out = d
	}
	if v, ok := bb.whole(mult, 1, 255, "Invalid multiplier", "multiplier"); ok {
		f.Multiplier = uint8(v)
	}
	return f
}

// announceFacts is an announce block with the ranges the cross-checks point at.
type announceFacts struct {
	ann       BGPAnnounce
	vipRanges []hcl.Range // parallel to ann.VIPs
	// tracked are the services named by track_virtual_server, with where.
	tracked map[string]hcl.Range
}

func (bb *bgpBuilder) announce(blk *hcl.Block, services []ipvs.VirtualService, vr VRRP) *announceFacts {
	af := &announceFacts{ann: BGPAnnounce{Name: blk.Labels[0]}, tracked: map[string]hcl.Range{}}
	c, more := blk.Body.Content(bgpAnnounceSchema)
	bb.diags = append(bb.diags, more...)
	a := c.Attributes
	vips := bb.d.stringList(a["vips"])
	tvs := bb.d.stringList(a["track_virtual_server"])
	tif := bb.d.stringList(a["track_interface"])
	tsc := bb.d.stringList(a["track_script"])
	comms := bb.d.stringList(a["communities"])
	med := decodeNumber(&bb.d, a["med"])
	bb.flush()

	vrrpVIP := map[netip.Addr]string{}
	for _, in := range vr.Instances {
		for _, v := range in.Config.VIPs {
			vrrpVIP[v.Prefix.Addr().Unmap()] = in.Config.Name
		}
	}
	if vips.ok() {
		if len(vips.Val) == 0 {
			bb.errorAt(vips.Value, nil, "Invalid vips", "An announce block announces at least one VIP.")
		}
		for _, v := range vips.Val {
			ip, ok := bgpVIP(v.Val)
			if !ok {
				bb.errorAt(v.Value, nil, "Invalid VIP", "A VIP announced by BGP is an IPv4 or IPv6 address, written bare or as a /32 or /128 host prefix; got %q.", v.Val)
				continue
			}
			if inst, held := vrrpVIP[ip]; held {
				bb.errorAt(v.Value, nil, "VIP held by VRRP and announced by BGP",
					"%s is a virtual_ipaddress of vrrp_instance %q: a VIP is moved by VRRP (one active director) or announced by BGP (all directors active behind ECMP), never both.", ip, inst)
				continue
			}
			af.ann.VIPs = append(af.ann.VIPs, ip)
			af.vipRanges = append(af.vipRanges, v.Value)
		}
	}
	if tvs.ok() {
		var names []string
		for _, s := range services {
			names = append(names, s.Name)
		}
		for _, v := range tvs.Val {
			if !containsName(names, v.Val) {
				bb.errorAt(v.Value, nil, "Unknown virtual_server", "track_virtual_server names a virtual_server of this file; there is no %q%s.", v.Val, known(names))
				continue
			}
			af.tracked[v.Val] = v.Value
			af.ann.TrackVirtualServer = append(af.ann.TrackVirtualServer, v.Val)
		}
	}
	if tif.ok() {
		for _, v := range tif.Val {
			name := v.Val
			if !validInterfaceName(name) {
				bb.errorAt(v.Value, nil, "Invalid interface name",
					"%q is not a Linux interface name: 1 to 15 characters, without \"/\", \":\" or spaces.", name)
				continue
			}
			af.ann.TrackInterface = append(af.ann.TrackInterface, name)
		}
	}
	if tsc.ok() {
		var names []string
		for _, s := range vr.Scripts {
			names = append(names, s.Name)
		}
		for _, v := range tsc.Val {
			if !containsName(names, v.Val) {
				bb.errorAt(v.Value, nil, "Unknown vrrp_script", "track_script names a vrrp_script of this file; there is no %q%s.", v.Val, known(names))
				continue
			}
			af.ann.TrackScript = append(af.ann.TrackScript, v.Val)
		}
	}
	if comms.ok() {
		for _, v := range comms.Val {
			c, ok := parseCommunity(v.Val)
			if !ok {
				bb.errorAt(v.Value, nil, "Invalid community", "A community is \"ASN:VALUE\", two whole numbers from 0 to 65535 (\"65001:100\"); got %q.", v.Val)
				continue
			}
			af.ann.Communities = append(af.ann.Communities, c)
		}
	}
	if v, ok := bb.whole(med, 0, 1<<32-1, "Invalid med", "med"); ok {
		m := uint32(v)
		af.ann.MED = &m
	}
	return af
}

// validInterfaceName reports whether name can be a Linux interface's.
func validInterfaceName(name string) bool {
	return name != "" && len(name) <= maxInterfaceName && name != "." && name != ".." && !strings.ContainsAny(name, "/: \t\n")
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// bgpVIP parses an announced VIP: an address, or a host prefix.
func bgpVIP(s string) (netip.Addr, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Bits() != p.Addr().BitLen() || p.Addr().Zone() != "" {
			return netip.Addr{}, false
		}
		return p.Addr().Unmap(), true
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" || ip.IsUnspecified() || ip.IsMulticast() {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

func parseCommunity(s string) (uint32, bool) {
	hi, lo, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 10, 16)
	l, err2 := strconv.ParseUint(lo, 10, 16)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return uint32(h)<<16 | uint32(l), true
}

// ecmpRules checks the services behind announced VIPs: a service whose
// address is announced, or that an announce tracks.
func (bb *bgpBuilder) ecmpRules(announces []*announceFacts, services []ipvs.VirtualService, sources []Source, sy *Sync, g *BGP) {
	for i, s := range services {
		var why hcl.Range
		found := false
		for _, af := range announces {
			for j, vip := range af.ann.VIPs {
				if !s.Key.IsFWMark() && s.Key.Addr.Unmap() == vip {
					why, found = af.vipRanges[j], true
				}
			}
			if r, ok := af.tracked[s.Name]; ok && !found {
				why, found = r, true
			}
		}
		if !found {
			continue
		}
		block := hcl.Range{}
		if i < len(sources) {
			block = sources[i].Block
		}
		for _, r := range s.RealServers {
			if r.Forwarding == ipvs.NAT {
				bb.errorAt(why, block.Ptr(), "NAT behind BGP",
					"virtual_server %q (%s) forwards to %s by NAT, and this announce puts it behind the routers' ECMP: the replies would come back through whichever director the router picks, not the one holding the connection. Use forwarding = \"dr\" or \"tun\".",
					s.Name, posString(block), r.Key())
				break
			}
		}
		schedAt := block
		if i < len(sources) && sources[i].Scheduler != nil {
			schedAt = *sources[i].Scheduler
		}
		switch {
		case s.Scheduler != "mh" && s.Scheduler != "sh":
			bb.warnAt(schedAt, "Scheduler not consistent across directors",
				"virtual_server %q is announced by BGP with scheduler %q: behind ECMP each director picks its own backend, so a flow moved to another director (one lost, added or withdrawn) lands on another backend and breaks. Use \"mh\" (Maglev hashing, with mh-port) or \"sh\".", s.Name, s.Scheduler)
		case s.Scheduler == "mh" && s.SchedFlags&ipvs.SchedFlag2 == 0:
			bb.warnAt(schedAt, "mh without mh-port",
				"virtual_server %q is announced by BGP with scheduler mh but without scheduler_flags = [\"mh-port\"]: every connection of a client goes to one backend, and the load spreads by client address only.", s.Name)
		}
		if s.Scheduler == "mh" || s.Scheduler == "sh" {
			// The consistent hash sends a flow moved from another
			// director to the same backend, but without sloppy mode the
			// kernel drops a TCP (SCTP) packet that does not open a
			// connection it knows: every flow of a lost director breaks.
			switch {
			case s.Key.Protocol == ipvs.TCP && !g.SloppyTCP:
				bb.warnAt(schedAt, "Announced service without sloppy_tcp",
					"virtual_server %q is announced by BGP with scheduler %s but the bgp block does not set sloppy_tcp = true: a director that receives a connection begun on another one (after a director is lost or withdraws) drops its packets, as IPVS creates connection entries on a SYN only.", s.Name, s.Scheduler)
			case s.Key.Protocol == ipvs.SCTP && !g.SloppySCTP:
				bb.warnAt(schedAt, "Announced service without sloppy_sctp",
					"virtual_server %q is announced by BGP with scheduler %s but the bgp block does not set sloppy_sctp = true: a director that receives an association begun on another one drops its packets, as IPVS creates entries on an INIT only.", s.Name, s.Scheduler)
			}
		}
		if s.Persistence > 0 && sy == nil {
			bb.warnAt(block, "Persistence without sync",
				"virtual_server %q is announced by BGP with persistence but there is no sync block: a client moved to another director loses its persistence entry, and with it its backend.", s.Name)
		}
	}
}

// dropScriptsUsedByBGP removes vrrp.go's "Unused vrrp_script" warnings for
// the scripts an announce block tracks: they are used.
func dropScriptsUsedByBGP(diags hcl.Diagnostics, g *BGP) hcl.Diagnostics {
	if g == nil {
		return diags
	}
	used := map[string]bool{}
	for _, a := range g.Announces {
		for _, s := range a.TrackScript {
			used[fmt.Sprintf("vrrp_script %q,", s)] = true
		}
	}
	out := diags[:0]
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning && d.Summary == "Unused vrrp_script" {
			drop := false
			for k := range used {
				if strings.Contains(d.Detail, k) {
					drop = true
				}
			}
			if drop {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}
