package hcl

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/vrrp"
)

// Limits of the VRRP part.
const (
	maxTrackWeight   = 253 // keepalived's range for track_script / track_interface weights
	maxPreemptDelay  = 1000 * time.Second
	maxV2Interval    = 255 * time.Second
	maxV3Interval    = 4095 * 10 * time.Millisecond
	maxGARPRepeat    = 255
	maxInterfaceName = 15 // IFNAMSIZ - 1
)

// vrrpBuilder builds the VRRP part of a file.
type vrrpBuilder struct {
	*builder
	f        *fileSyntax
	scripts  map[string]*scriptDef
	services map[string]bool
	groupOf  map[string]*groupDef // instance name -> its sync group
}

type scriptDef struct {
	syn   *vrrpScriptSyntax
	built VRRPScript
	ok    bool
	used  bool
}

type groupDef struct {
	syn            *vrrpGroupSyntax
	trackingWeight bool
}

// instanceFacts is what the checks across instances need to know of one.
type instanceFacts struct {
	syn      *vrrpInstanceSyntax
	iface    string
	vrid     int
	vridOK   bool
	is6      bool
	famKnown bool
	peers    []netip.Addr
	vips     []vipDef
}

type vipDef struct {
	prefix netip.Prefix
	where  hcl.Range
}

// buildVRRP validates the VRRP blocks of f.
func buildVRRP(f *fileSyntax) (VRRP, hcl.Diagnostics) {
	b := &vrrpBuilder{
		builder:  &builder{},
		f:        f,
		scripts:  map[string]*scriptDef{},
		services: map[string]bool{},
		groupOf:  map[string]*groupDef{},
	}
	for _, s := range f.Services {
		b.services[s.Name] = true
	}
	var out VRRP
	v := &f.VRRP

	// Scripts first: instances take their default weights.
	var scriptOrder []*scriptDef
	for _, s := range v.Scripts {
		def := b.script(s)
		if prev, dup := b.scripts[s.Name]; dup {
			b.errorAt(s.NameRange, prev.syn.NameRange.Ptr(), "Duplicate vrrp_script name",
				"A vrrp_script named %q is already defined at %s.", s.Name, posString(prev.syn.NameRange))
			continue
		}
		b.scripts[s.Name] = def
		scriptOrder = append(scriptOrder, def)
	}

	// Groups next: membership decides what happens to tracking weights.
	instances := map[string]*vrrpInstanceSyntax{}
	for _, s := range v.Instances {
		if _, dup := instances[s.Name]; !dup {
			instances[s.Name] = s
		}
	}
	groupNames := map[string]*vrrpGroupSyntax{}
	for _, g := range v.Groups {
		if prev, dup := groupNames[g.Name]; dup {
			b.errorAt(g.NameRange, prev.NameRange.Ptr(), "Duplicate vrrp_sync_group name",
				"A vrrp_sync_group named %q is already defined at %s.", g.Name, posString(prev.NameRange))
		} else {
			groupNames[g.Name] = g
		}
		out.Groups = append(out.Groups, b.group(g, instances))
	}

	// Instances.
	var facts []instanceFacts
	names := map[string]*vrrpInstanceSyntax{}
	for _, s := range v.Instances {
		if prev, dup := names[s.Name]; dup {
			b.errorAt(s.NameRange, prev.NameRange.Ptr(), "Duplicate vrrp_instance name",
				"A vrrp_instance named %q is already defined at %s. Names identify instances in logs, hooks and sync groups, so each must be unique.",
				s.Name, posString(prev.NameRange))
		} else {
			names[s.Name] = s
		}
		inst, fact := b.instance(s)
		out.Instances = append(out.Instances, inst)
		facts = append(facts, fact)
	}
	b.acrossInstances(facts)
	out.Static = b.static(v) // static.go

	for _, def := range scriptOrder {
		out.Scripts = append(out.Scripts, def.built)
		if !def.used {
			b.diags = append(b.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Unused vrrp_script",
				Detail:   fmt.Sprintf("No vrrp_instance tracks vrrp_script %q, so it never runs. Add it to an instance's track_script, or remove it.", def.syn.Name),
				Subject:  def.syn.NameRange.Ptr(),
			})
		}
	}
	return out, b.diags
}

// script builds one vrrp_script.
func (b *vrrpBuilder) script(s *vrrpScriptSyntax) *scriptDef {
	def := &scriptDef{syn: s, built: VRRPScript{Name: s.Name, Interval: time.Second, Rise: 1, Fall: 1}}
	before := b.errorCount()
	sc := &def.built
	if strings.TrimSpace(s.Name) == "" {
		b.errorAt(s.NameRange, nil, "Invalid vrrp_script name",
			"The name of a vrrp_script must not be empty: instances track it by name.")
	}
	if s.Command == nil {
		b.errorAt(s.DefRange, nil, "Missing command",
			"A vrrp_script needs command: the program and its arguments, run without a shell, such as [\"/usr/bin/killall\", \"-0\", \"haproxy\"]. Exit status 0 is up, anything else down.")
	} else {
		sc.Argv, _ = b.argv(s.Command)
	}
	if s.Interval != nil {
		if d, ok := b.duration(s.Interval, false); ok {
			sc.Interval = d
		}
	}
	sc.Timeout = sc.Interval
	if s.Timeout != nil {
		if d, ok := b.duration(s.Timeout, false); ok {
			sc.Timeout = d
		}
	}
	if s.Weight != nil {
		w, _ := b.whole(s.Weight, -maxTrackWeight, maxTrackWeight, "Invalid weight", "weight")
		sc.Weight = int(w)
	}
	if s.Rise != nil {
		if n, ok := b.whole(s.Rise, 1, math.MaxInt32, "Invalid rise", "rise"); ok {
			sc.Rise = int(n)
		}
	}
	if s.Fall != nil {
		if n, ok := b.whole(s.Fall, 1, math.MaxInt32, "Invalid fall", "fall"); ok {
			sc.Fall = int(n)
		}
	}
	sc.InitFail = s.InitFail.ok() && s.InitFail.Val
	def.ok = b.errorCount() == before
	return def
}

// group builds one vrrp_sync_group and records its members.
func (b *vrrpBuilder) group(g *vrrpGroupSyntax, instances map[string]*vrrpInstanceSyntax) VRRPSyncGroup {
	out := VRRPSyncGroup{
		Name:           g.Name,
		TrackingWeight: g.TrackingWeight.ok() && g.TrackingWeight.Val,
		Notify:         b.notifyHooks(g.Notify),
	}
	def := &groupDef{syn: g, trackingWeight: out.TrackingWeight}
	if strings.TrimSpace(g.Name) == "" {
		b.errorAt(g.NameRange, nil, "Invalid vrrp_sync_group name",
			"The name of a vrrp_sync_group must not be empty: it names the group in logs and hooks.")
	}
	switch {
	case g.Group == nil:
		b.errorAt(g.DefRange, nil, "Missing group",
			"A vrrp_sync_group needs group: the names of the vrrp_instances that fail over together, such as [\"VI_writer\", \"VI_reader\"].")
		return out
	case !g.Group.ok():
		return out
	case len(g.Group.Val) == 0:
		b.errorAt(g.Group.Value, nil, "Empty sync group",
			"group lists the vrrp_instances that fail over together; it must name at least one.")
		return out
	}
	seen := map[string]hcl.Range{}
	for _, m := range g.Group.Val {
		if !m.ok() {
			continue
		}
		if prev, dup := seen[m.Val]; dup {
			b.errorAt(m.Value, prev.Ptr(), "Duplicate sync group member",
				"vrrp_instance %q is already listed at %s.", m.Val, posString(prev))
			continue
		}
		seen[m.Val] = m.Value
		if _, ok := instances[m.Val]; !ok {
			b.errorAt(m.Value, nil, "Unknown vrrp_instance",
				"No vrrp_instance named %q is defined%s.", m.Val, known(keys(instances)))
			continue
		}
		if other, taken := b.groupOf[m.Val]; taken {
			where := other.syn.NameRange
			for _, om := range other.syn.Group.Val {
				if om.Val == m.Val {
					where = om.Value
				}
			}
			b.errorAt(m.Value, where.Ptr(), "Instance in two sync groups",
				"vrrp_instance %q is already a member of vrrp_sync_group %q (at %s). An instance follows one group.",
				m.Val, other.syn.Name, posString(where))
			continue
		}
		b.groupOf[m.Val] = def
		out.Instances = append(out.Instances, m.Val)
	}
	if len(g.Group.Val) == 1 && len(out.Instances) == 1 {
		b.diags = append(b.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Sync group of one instance",
			Detail:   "A vrrp_sync_group makes instances fail over together; with one member it only adds the group's notify hooks.",
			Subject:  g.Group.Value.Ptr(),
		})
	}
	return out
}

func (b *vrrpBuilder) notifyHooks(n notifySyntax) VRRPNotify {
	return VRRPNotify{
		Master: b.hook(n.Master),
		Backup: b.hook(n.Backup),
		Fault:  b.hook(n.Fault),
		Stop:   b.hook(n.Stop),
		Any:    b.hook(n.Any),
	}
}

// instance builds one vrrp_instance.
func (b *vrrpBuilder) instance(s *vrrpInstanceSyntax) (VRRPInstance, instanceFacts) {
	before := b.errorCount()
	c := vrrp.Config{
		Name:       s.Name,
		Priority:   vrrp.DefaultPriority,
		GARPRepeat: vrrp.DefaultGARPRepeat,
		GARPDelay:  vrrp.DefaultGARPDelay,
	}
	fact := instanceFacts{syn: s}
	if strings.TrimSpace(s.Name) == "" {
		b.errorAt(s.NameRange, nil, "Invalid vrrp_instance name",
			"The name of a vrrp_instance must not be empty: it names the instance in logs, hooks and sync groups.")
	}

	switch {
	case s.Interface == nil:
		b.errorAt(s.DefRange, nil, "Missing interface",
			"A vrrp_instance needs interface = \"NAME\": the interface its adverts go out of and its VIPs are added to.")
	case s.Interface.ok():
		if b.interfaceName(s.Interface.Val, s.Interface.Value) {
			c.Interface, fact.iface = s.Interface.Val, s.Interface.Val
		}
	}

	switch {
	case s.VRID == nil:
		b.errorAt(s.DefRange, nil, "Missing virtual_router_id",
			"A vrrp_instance needs virtual_router_id, from 1 to 255: the same on every router that shares these VIPs, and different from the other virtual routers on the segment.")
	default:
		n, ok := b.whole(s.VRID, 1, 255, "Invalid virtual_router_id", "virtual_router_id")
		c.VRID, fact.vrid, fact.vridOK = uint8(n), int(n), ok
	}

	// use_vmac: the VIPs (and their labels) go on the macvlan.
	labelDev := fact.iface
	if u := s.UseVMAC; u.ok() {
		switch v := u.Val; {
		case v.Type() == cty.Bool:
			c.UseVMAC = v.True()
		case v.Type() == cty.String && b.interfaceName(v.AsString(), u.Value):
			c.UseVMAC, c.VMACName = true, v.AsString()
		case v.Type() != cty.String:
			b.errorAt(u.Value, nil, "Invalid use_vmac",
				"use_vmac is true, or the name of the macvlan interface to create (keepalived's use_vmac NAME); got a %s.", v.Type().FriendlyName())
		}
		if c.UseVMAC {
			labelDev = c.VMACName
			if labelDev == "" {
				labelDev = fmt.Sprintf("vrrp.%d", c.VRID)
			}
		}
	}
	if x := s.VMACXmitBase; x.ok() && x.Val {
		if !c.UseVMAC {
			b.errorAt(x.Range, nil, "vmac_xmit_base without use_vmac",
				"vmac_xmit_base sends the adverts from the interface instead of the use_vmac macvlan; without use_vmac there is no macvlan. Remove it or set use_vmac = true.")
		}
		c.VMACXmitBase = true
	}

	// VIPs and the family.
	var famRange *hcl.Range
	famKnown := false
	addVIP := func(text string, where hcl.Range, opts *vipSyntax, excluded bool) {
		p, ok := b.vip(text, where)
		if !ok {
			return
		}
		is6 := p.Addr().Is6()
		switch {
		case excluded: // any family: not in the adverts
		case !famKnown:
			famKnown, fact.is6, famRange = true, is6, where.Ptr()
		case is6 != fact.is6:
			b.errorAt(where, famRange, "VIP address family mismatch",
				"%s is %s but the instance's first VIP (at %s) is %s. An instance's VIPs are all of one family, as its adverts list them; use one instance per family.",
				p, famName6(is6), posString(*famRange), famName6(fact.is6))
			return
		}
		for _, prev := range fact.vips {
			if prev.prefix.Addr() == p.Addr() {
				b.errorAt(where, prev.where.Ptr(), "Duplicate VIP",
					"VIP %s is already listed at %s.", p.Addr(), posString(prev.where))
				return
			}
		}
		vip := vrrp.VIP{Prefix: p}
		dev := labelDev
		if opts != nil {
			if opts.Dev.ok() && b.interfaceName(opts.Dev.Val, opts.Dev.Value) {
				vip.Dev, dev = opts.Dev.Val, opts.Dev.Val
			}
			if opts.Label.ok() && b.vipLabel(opts.Label, p, dev) {
				vip.Label = opts.Label.Val
			}
			if opts.Scope != nil {
				vip.Scope, _ = b.scope(opts.Scope)
			}
			if opts.Brd.ok() {
				a, err := netip.ParseAddr(opts.Brd.Val)
				if err != nil || !a.Is4() || !p.Addr().Is4() {
					b.errorAt(opts.Brd.Value, nil, "Invalid brd",
						"brd is the IPv4 broadcast address of an IPv4 VIP, such as \"10.0.0.255\"; got %q.", opts.Brd.Val)
				} else {
					vip.Broadcast = a
				}
			}
		}
		fact.vips = append(fact.vips, vipDef{prefix: p, where: where})
		if excluded {
			c.ExcludedVIPs = append(c.ExcludedVIPs, vip)
		} else {
			c.VIPs = append(c.VIPs, vip)
		}
	}
	if s.VIPList != nil {
		for _, el := range s.VIPList.Val {
			if el.ok() {
				addVIP(el.Val, el.Value, nil, false)
			}
		}
	}
	if s.ExcludedList != nil {
		for _, el := range s.ExcludedList.Val {
			if el.ok() {
				addVIP(el.Val, el.Value, nil, true)
			}
		}
	}
	for _, v := range s.VIPs {
		switch {
		case v.Address == nil:
			b.errorAt(v.DefRange, nil, "Missing VIP address",
				"A vip block needs address = \"IP[/PREFIX]\", such as \"10.0.0.100/24\".")
		case v.Address.ok():
			addVIP(v.Address.Val, v.Address.Value, v, v.Excluded.ok() && v.Excluded.Val)
		}
	}
	c.Routes = b.routes(s.Routes, blockVRoute)
	c.Rules = b.rules(s.Rules, blockVRule)
	if len(c.VIPs) > 255 {
		b.errorAt(s.DefRange, nil, "Too many VIPs",
			"This instance has %d VIPs; a VRRP advert lists at most 255.", len(c.VIPs))
	}
	if len(c.VIPs) == 0 && b.errorCount() == before {
		b.diags = append(b.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Instance without VIPs",
			Detail:   "This vrrp_instance has no virtual_ipaddress: it takes part in elections and runs its hooks, but moves no address.",
			Subject:  s.DefRange.Ptr(),
		})
	}

	// Source and peers: they also give the family when there is no VIP.
	var src netip.Addr
	if s.UnicastSrcIP.ok() {
		if a, ok := b.vrrpIP(s.UnicastSrcIP, "unicast_src_ip"); ok {
			src = a
			if !famKnown {
				famKnown, fact.is6, famRange = true, a.Is6(), s.UnicastSrcIP.Value.Ptr()
			}
		}
	}
	peers := map[netip.Addr]hcl.Range{}
	if s.UnicastPeers != nil && s.UnicastPeers.ok() {
		if len(s.UnicastPeers.Val) == 0 {
			b.errorAt(s.UnicastPeers.Value, nil, "Empty unicast_peer",
				"unicast_peer lists the other routers' addresses, to send adverts to them instead of to the multicast group; remove it for multicast.")
		}
		for _, el := range s.UnicastPeers.Val {
			a, ok := b.vrrpIP(el, "unicast_peer")
			if !ok {
				continue
			}
			if !famKnown {
				famKnown, fact.is6, famRange = true, a.Is6(), el.Value.Ptr()
			}
			if prev, dup := peers[a]; dup {
				b.errorAt(el.Value, prev.Ptr(), "Duplicate unicast_peer",
					"%s is already listed at %s.", a, posString(prev))
				continue
			}
			peers[a] = el.Value
			fact.peers = append(fact.peers, a)
			c.UnicastPeers = append(c.UnicastPeers, a)
		}
	}
	// IPv4 when nothing says otherwise; unknown when what was written is
	// invalid.
	written := len(s.VIPs) > 0 || (s.VIPList != nil && len(s.VIPList.Val) > 0) || s.UnicastSrcIP != nil || (s.UnicastPeers != nil && len(s.UnicastPeers.Val) > 0)
	fact.famKnown = famKnown || !written
	if src.IsValid() {
		switch {
		case src.Is6() != fact.is6:
			b.errorAt(s.UnicastSrcIP.Value, famRange, "unicast_src_ip family mismatch",
				"unicast_src_ip %s is %s but this instance is %s (from %s).", src, famName6(src.Is6()), famName6(fact.is6), posString(*famRange))
		case fact.is6 && len(c.UnicastPeers) == 0 && !src.IsLinkLocalUnicast():
			b.errorAt(s.UnicastSrcIP.Value, nil, "Invalid unicast_src_ip",
				"VRRP over IPv6 multicast is sent from a link-local address (fe80::/10); %s is not one. Leave unicast_src_ip out to use the interface's, or set unicast_peer.", src)
		case hasKey(peers, src):
			b.errorAt(peers[src], s.UnicastSrcIP.Value.Ptr(), "unicast_peer is our own address",
				"%s is this router's unicast_src_ip; unicast_peer lists the other routers.", src)
		default:
			c.SourceAddr = src
		}
	}
	for _, p := range c.UnicastPeers {
		if p.Is6() != fact.is6 {
			r := peers[p]
			b.errorAt(r, famRange, "unicast_peer family mismatch",
				"unicast_peer %s is %s but this instance is %s (from %s).", p, famName6(p.Is6()), famName6(fact.is6), posString(*famRange))
		}
	}

	// Version.
	version := 2
	if fact.is6 {
		version = 3
	}
	if s.Version != nil && s.Version.ok() {
		n, ok := wholeIn(s.Version.Val, 2, 3)
		switch {
		case !ok:
			b.errorAt(s.Version.Value, nil, "Invalid version",
				"version must be 2 (VRRPv2, RFC 3768) or 3 (VRRPv3, RFC 5798); got %s. The default is 2 for IPv4 and 3 for IPv6, as in keepalived.", formatNumber(s.Version.Val))
		case n == 2 && fact.is6:
			b.errorAt(s.Version.Value, famRange, "VRRPv2 has no IPv6",
				"This instance is IPv6 (from %s), which only VRRPv3 carries. Use version = 3, or leave version out.", posString(*famRange))
		default:
			version = int(n)
		}
	}
	c.Version = version

	if s.Priority != nil {
		if n, ok := b.whole(s.Priority, 1, 255, "Invalid priority", "priority"); ok {
			c.Priority = uint8(n)
		}
	}

	// Timing.
	c.AdvertInterval = vrrp.DefaultInterval
	if s.AdvertInterval != nil {
		if d, ok := b.duration(s.AdvertInterval, false); ok {
			switch {
			case version == 2 && (d%time.Second != 0 || d > maxV2Interval):
				b.errorAt(s.AdvertInterval.Value, nil, "Invalid advert_interval",
					"VRRPv2 advertises in whole seconds, from 1 to 255; got %v. Sub-second intervals need version = 3.", d)
			case version == 3 && (d%(10*time.Millisecond) != 0 || d > maxV3Interval):
				b.errorAt(s.AdvertInterval.Value, nil, "Invalid advert_interval",
					"VRRPv3 advertises in hundredths of a second, from 0.01 to 40.95 s; got %v.", d)
			default:
				c.AdvertInterval = d
			}
		}
	}
	c.NoPreempt = s.NoPreempt.ok() && s.NoPreempt.Val
	if st := s.State; st.ok() {
		switch strings.ToUpper(st.Val) {
		case "MASTER":
			c.InitialState = vrrp.StateMaster
			if c.NoPreempt {
				b.diags = append(b.diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning,
					Summary:  "nopreempt with state MASTER",
					Detail:   "keepalived turns nopreempt off when the initial state is MASTER, and so does lvsctl: a higher priority router still takes over. Remove state to keep nopreempt.",
					Subject:  s.State.Range.Ptr(),
					Context:  s.NoPreempt.Range.Ptr(),
				})
				c.NoPreempt = false
			}
		case "BACKUP":
			c.InitialState = vrrp.StateBackup
		default:
			b.errorAt(st.Value, nil, "Invalid state",
				"state is the initial state, \"MASTER\" or \"BACKUP\" (keepalived's); got %q.", st.Val)
		}
	}
	if s.PreemptDelay != nil {
		if d, ok := b.duration(s.PreemptDelay, true); ok {
			switch {
			case d > maxPreemptDelay:
				b.errorAt(s.PreemptDelay.Value, nil, "Invalid preempt_delay",
					"preempt_delay is at most 1000 seconds, as in keepalived; got %v.", d)
			case d > 0 && c.NoPreempt:
				b.diags = append(b.diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning,
					Summary:  "preempt_delay without preemption",
					Detail:   "preempt_delay delays preemption, and nopreempt = true turns preemption off, so it has no effect.",
					Subject:  s.PreemptDelay.Range.Ptr(),
					Context:  s.NoPreempt.Range.Ptr(),
				})
				c.PreemptDelay = d
			default:
				c.PreemptDelay = d
			}
		}
	}
	if s.GARPDelay != nil {
		if d, ok := b.duration(s.GARPDelay, true); ok {
			c.GARPDelay = d
			if d == 0 {
				c.GARPDelay = -1 // keepalived: 0 is no second burst
			}
		}
	}
	if s.GARPRepeat != nil {
		if n, ok := b.whole(s.GARPRepeat, 1, maxGARPRepeat, "Invalid garp_master_repeat", "garp_master_repeat"); ok {
			c.GARPRepeat = int(n)
		}
	}
	if s.StartupDelay != nil {
		if d, ok := b.duration(s.StartupDelay, true); ok {
			c.StartupDelay = d
		}
	}
	if s.GARPRefresh != nil {
		if d, ok := b.duration(s.GARPRefresh, true); ok {
			c.GARPRefresh = d
		}
	}
	if s.GARPRefreshRep != nil {
		if n, ok := b.whole(s.GARPRefreshRep, 1, maxGARPRepeat, "Invalid garp_master_refresh_repeat", "garp_master_refresh_repeat"); ok {
			c.GARPRefreshRepeat = int(n)
		}
	}

	// Authentication.
	for _, extra := range s.ExtraAuth {
		b.errorAt(extra.DefRange, s.Auth.DefRange.Ptr(), "Duplicate authentication block",
			"An instance has at most one authentication block; the first one is at %s.", posString(s.Auth.DefRange))
	}
	if a := s.Auth; a != nil {
		if version == 3 {
			var ctx *hcl.Range
			why := "IPv6"
			if s.Version != nil {
				ctx, why = s.Version.Value.Ptr(), "version = 3"
			}
			b.errorAt(a.DefRange, ctx, "Authentication with VRRPv3",
				"RFC 5798 removed authentication: VRRPv3 adverts carry none, and this instance is VRRPv3 (%s). Remove the block, or use version = 2 with IPv4.", why)
		}
		if a.Type.ok() {
			switch strings.ToLower(a.Type.Val) {
			case "pass":
			case "ah":
				b.errorAt(a.Type.Value, nil, "Authentication type not supported",
					"IPsec AH authentication is not supported (RFC 3768 removed it, and keepalived advises against it). Use type = \"pass\", or none.")
			default:
				b.errorAt(a.Type.Value, nil, "Invalid authentication type",
					"%q is not an authentication type; the one supported is \"pass\" (keepalived's auth_type PASS).", a.Type.Val)
			}
		}
		switch {
		case a.Password == nil:
			b.errorAt(a.DefRange, nil, "Missing password",
				"An authentication block needs password: up to 8 characters, the same on every router (keepalived's auth_pass).")
		case !a.Password.ok():
		case a.Password.Val == "":
			b.errorAt(a.Password.Value, nil, "Invalid password",
				"The password must not be empty; to send adverts without authentication, remove the authentication block.")
		case len(a.Password.Val) > 8:
			b.errorAt(a.Password.Value, nil, "Password too long",
				"A VRRPv2 advert carries at most 8 bytes of password; this one has %d. keepalived silently sends only the first 8: write those to interoperate with it.",
				len(a.Password.Val))
		case version == 2:
			c.Password = a.Password.Val
		}
	}

	b.acceptMode(s, &c, version, famRange)
	if c.UseVMAC {
		switch {
		case len(c.UnicastPeers) > 0 && !c.VMACXmitBase:
			b.errorAt(s.UseVMAC.Value, s.UnicastPeers.Range.Ptr(), "use_vmac with unicast_peer",
				"With unicast peers the adverts must go out of the interface itself: add vmac_xmit_base = true (keepalived requires it too).")
		}
	}

	// Tracking.
	c.Track = b.tracks(s, c)

	inst := VRRPInstance{Config: c, Notify: b.notifyHooks(s.Notify), SMTPAlert: s.SMTPAlert}
	if g, ok := b.groupOf[s.Name]; ok {
		inst.SyncGroup = g.syn.Name
	}
	// The vrrp package checks again what it runs; anything it refuses
	// that the checks above let through is reported here, not at run time.
	if b.errorCount() == before {
		if _, err := vrrp.New(c); err != nil {
			b.errorAt(s.DefRange, nil, "Invalid vrrp_instance", "%s.", upperFirst(err.Error()))
		}
	}
	return inst, fact
}

// acceptMode reads accept, no_accept and strict_mode, and turns off what
// keepalived 2.2.7 turns off in strict mode, with a warning for each.
func (b *vrrpBuilder) acceptMode(s *vrrpInstanceSyntax, c *vrrp.Config, version int, famRange *hcl.Range) {
	c.Accept = s.Accept.ok() && s.Accept.Val
	c.NoAccept = s.NoAccept.ok() && s.NoAccept.Val
	c.Strict = s.StrictMode.ok() && s.StrictMode.Val
	if c.Accept && c.NoAccept {
		b.errorAt(s.NoAccept.Range, s.Accept.Range.Ptr(), "accept and no_accept",
			"accept and no_accept contradict each other; keep one.")
		c.Accept, c.NoAccept = false, false
	}
	warn := func(subject *hcl.Range, summary, format string, args ...any) {
		b.diags = append(b.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...),
			Subject: subject, Context: s.StrictMode.Range.Ptr(),
		})
	}
	if !c.Strict {
		return
	}
	if len(c.VIPs) == 0 {
		b.errorAt(s.StrictMode.Range, nil, "strict_mode without VIPs",
			"In strict mode an instance needs at least one virtual_ipaddress; keepalived refuses the configuration too.")
	}
	if c.Password != "" {
		c.Password = ""
		warn(s.Auth.DefRange.Ptr(), "Authentication ignored in strict mode",
			"Strict mode sends no authentication, as keepalived (\"Strict mode does not support authentication. Ignoring.\").")
	}
	if c.PreemptDelay != 0 {
		c.PreemptDelay = 0
		warn(s.PreemptDelay.Range.Ptr(), "preempt_delay ignored in strict mode",
			"keepalived resets preempt_delay in strict mode, and so does lvsctl.")
	}
	if c.InitialState == vrrp.StateMaster && c.Priority != 255 {
		c.InitialState = vrrp.StateInit
		warn(s.State.Range.Ptr(), "state MASTER ignored in strict mode",
			"In strict mode state MASTER must match being the address owner (priority 255); keepalived resets it, and so does lvsctl.")
	}
	if c.Accept && version == 2 {
		c.Accept = false
		warn(s.Accept.Range.Ptr(), "accept ignored with VRRPv2",
			"Accept mode does not comply with RFC 3768 (VRRPv2); in strict mode keepalived resets it, and so does lvsctl: the master drops traffic to the VIPs.")
	}
	if c.VMACXmitBase {
		c.VMACXmitBase = false
		warn(s.VMACXmitBase.Range.Ptr(), "vmac_xmit_base ignored in strict mode",
			"keepalived resets vmac_xmit_base in strict mode, and so does lvsctl.")
	}
	if c.UseVMAC && len(c.UnicastPeers) > 0 {
		// Without xmit base now: keep the instance valid.
		b.errorAt(s.UnicastPeers.Range, s.StrictMode.Range.Ptr(), "use_vmac with unicast_peer in strict mode",
			"Strict mode turns vmac_xmit_base off, and use_vmac with unicast peers needs it.")
	}
	if len(c.VIPs) > 0 && c.VIPs[0].Prefix.Addr().Is6() && !c.VIPs[0].Prefix.Addr().IsLinkLocalUnicast() {
		b.errorAt(s.StrictMode.Range, famRange, "strict_mode with a global first IPv6 VIP",
			"RFC 5798 (section 5.2.9) wants the first IPv6 address of an advert to be link-local; list a fe80:: VIP first.")
	}
}

// scopes are the names of address and route scopes (iproute2's).
var scopes = map[string]uint8{"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}

// scope reads a scope: a name or a number 0-255.
func (b *vrrpBuilder) scope(a *attr[cty.Value]) (uint8, bool) {
	if !a.ok() {
		return 0, false
	}
	v := a.Val
	if v.Type() == cty.String {
		if n, ok := scopes[strings.ToLower(v.AsString())]; ok {
			return n, true
		}
	}
	if v.Type() == cty.Number {
		if f, acc := v.AsBigFloat().Int64(); acc == 0 && f >= 0 && f <= 255 {
			return uint8(f), true
		}
	}
	b.errorAt(a.Value, nil, "Invalid scope",
		"scope is global, site, link, host, nowhere or a number 0-255, as in ip-address(8).")
	return 0, false
}

// routes builds virtual_routes (or static_routes: kind) blocks.
func (b *vrrpBuilder) routes(rs []*routeSyntax, kind string) []vrrp.Route {
	var out []vrrp.Route
	for _, r := range rs {
		if !r.To.ok() {
			continue
		}
		var rt vrrp.Route
		ok := true
		p, err := parsePrefix(r.To.Val)
		if err != nil {
			b.errorAt(r.To.Value, nil, "Invalid route destination", "to is an address or prefix, such as \"192.0.2.0/24\": %v.", err)
			continue
		}
		rt.Dst = p
		addr := func(a *attr[string], what string) netip.Addr {
			if !a.ok() {
				return netip.Addr{}
			}
			ip, err := netip.ParseAddr(a.Val)
			if err != nil || ip.Is4() != p.Addr().Is4() {
				b.errorAt(a.Value, nil, "Invalid "+what, "%s is an address of the destination's family; got %q.", what, a.Val)
				ok = false
			}
			return ip
		}
		rt.Gateway, rt.Src = addr(r.Via, "via"), addr(r.Src, "src")
		if r.Dev.ok() && b.interfaceName(r.Dev.Val, r.Dev.Value) {
			rt.Dev = r.Dev.Val
		}
		if r.Metric != nil {
			n, mok := b.whole(r.Metric, 0, math.MaxUint32, "Invalid metric", "metric")
			rt.Metric, ok = int(n), ok && mok
		}
		if r.Table != nil {
			n, tok := b.whole(r.Table, 1, math.MaxUint32, "Invalid table", "table")
			rt.Table, ok = int(n), ok && tok
		}
		if r.Scope != nil {
			rt.Scope, _ = b.scope(r.Scope)
		}
		rt.Blackhole = r.Blackhole.ok() && r.Blackhole.Val
		if rt.Blackhole && (r.Via != nil || r.Dev != nil) {
			b.errorAt(r.DefRange, nil, "Blackhole route with a next hop", "A blackhole route has no via or dev.")
			ok = false
		}
		if ok {
			out = append(out, rt)
		}
	}
	return out
}

// rules builds virtual_rules (or static_rules: kind) blocks.
func (b *vrrpBuilder) rules(rs []*ruleSyntax, kind string) []vrrp.Rule {
	var out []vrrp.Rule
	for _, r := range rs {
		var ru vrrp.Rule
		ok := true
		pfx := func(a *attr[string], what string) netip.Prefix {
			if !a.ok() {
				return netip.Prefix{}
			}
			p, err := parsePrefix(a.Val)
			if err != nil {
				b.errorAt(a.Value, nil, "Invalid "+what, "%s is an address or prefix: %v.", what, err)
				ok = false
			}
			return p
		}
		ru.From, ru.To = pfx(r.From, "from"), pfx(r.To, "to")
		if r.From == nil && r.To == nil {
			b.errorAt(r.DefRange, nil, "Rule without from or to", "A %s block needs from or to (or both).", kind)
			ok = false
		}
		if r.IIF.ok() && b.interfaceName(r.IIF.Val, r.IIF.Value) {
			ru.IIF = r.IIF.Val
		}
		if r.OIF.ok() && b.interfaceName(r.OIF.Val, r.OIF.Value) {
			ru.OIF = r.OIF.Val
		}
		if r.Priority != nil {
			n, pok := b.whole(r.Priority, 1, math.MaxUint32, "Invalid priority", "priority")
			ru.Priority, ok = int(n), ok && pok
		}
		if r.Table != nil {
			n, tok := b.whole(r.Table, 1, math.MaxUint32, "Invalid table", "table")
			ru.Table, ok = int(n), ok && tok
		}
		if ok && ru.From.IsValid() && ru.To.IsValid() && ru.From.Addr().Is4() != ru.To.Addr().Is4() {
			b.errorAt(r.DefRange, nil, "Rule of two families", "from and to must be of one family.")
			ok = false
		}
		if ok {
			out = append(out, ru)
		}
	}
	return out
}

// parsePrefix reads an address (a host prefix) or a prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// trackDef is one tracked object as written.
type trackDef struct {
	name   string    // with its kind prefix
	where  hcl.Range // the list element or the track block
	weight int
	// ownWeight is the track block's weight, if it sets one.
	ownWeight *hcl.Range
}

// tracks builds the instance's tracked objects: the three lists, then the
// track blocks.
func (b *vrrpBuilder) tracks(s *vrrpInstanceSyntax, c vrrp.Config) []vrrp.Track {
	var defs []trackDef
	byName := map[string]hcl.Range{}
	add := func(t trackDef) {
		if prev, dup := byName[t.name]; dup {
			b.errorAt(t.where, prev.Ptr(), "Duplicate track",
				"%s is already tracked by this instance at %s; track each object once (a track block gives it a weight of its own).",
				describeTrack(t.name), posString(prev))
			return
		}
		byName[t.name] = t.where
		defs = append(defs, t)
	}
	script := func(name string, where hcl.Range) (trackDef, bool) {
		def, ok := b.scripts[name]
		if !ok {
			b.errorAt(where, nil, "Unknown vrrp_script",
				"No vrrp_script named %q is defined%s.", name, known(keys(b.scripts)))
			return trackDef{}, false
		}
		def.used = true
		return trackDef{name: TrackScript + name, where: where, weight: def.built.Weight}, true
	}
	iface := func(name string, where hcl.Range) (trackDef, bool) {
		if !b.interfaceName(name, where) {
			return trackDef{}, false
		}
		return trackDef{name: TrackInterface + name, where: where}, true
	}
	service := func(name string, where hcl.Range) (trackDef, bool) {
		if !b.services[name] {
			var names []string
			for _, s := range b.f.Services {
				names = append(names, s.Name)
			}
			b.errorAt(where, nil, "Unknown virtual_server",
				"No virtual_server named %q is defined%s. track_virtual_server follows the quorum of a virtual_server of this file.", name, known(names))
			return trackDef{}, false
		}
		return trackDef{name: TrackVirtualServer + name, where: where}, true
	}
	file := func(path string, where hcl.Range) (trackDef, bool) {
		if !strings.HasPrefix(path, "/") {
			b.errorAt(where, nil, "Invalid track_file",
				"A tracked file is an absolute path, such as \"/run/lvsctl/prio\"; got %q.", path)
			return trackDef{}, false
		}
		// keepalived's track_file weight defaults to 1.
		return trackDef{name: TrackFile + path, where: where, weight: 1}, true
	}
	process := func(name string, where hcl.Range) (trackDef, bool) {
		if name == "" || strings.ContainsAny(name, "/\x00") {
			b.errorAt(where, nil, "Invalid track_process",
				"A tracked process is a process name (its comm, or the base name of its program), such as \"haproxy\"; got %q.", name)
			return trackDef{}, false
		}
		// keepalived's vrrp_track_process weight defaults to 1.
		return trackDef{name: TrackProcess + name, where: where, weight: 1}, true
	}
	lists := []struct {
		list *strList
		fn   func(string, hcl.Range) (trackDef, bool)
	}{
		{s.TrackScript, script},
		{s.TrackInterface, iface},
		{s.TrackVirtualServer, service},
		{s.TrackFile, file},
		{s.TrackProcess, process},
	}
	for _, l := range lists {
		if l.list == nil {
			continue
		}
		for _, el := range l.list.Val {
			if !el.ok() {
				continue
			}
			if t, ok := l.fn(el.Val, el.Value); ok {
				add(t)
			}
		}
	}
	for _, tb := range s.Tracks {
		var set []*attr[string]
		for _, a := range []*attr[string]{tb.Script, tb.Interface, tb.VirtualServer, tb.File, tb.Process} {
			if a != nil {
				set = append(set, a)
			}
		}
		if len(set) == 0 {
			b.errorAt(tb.DefRange, nil, "Missing tracked object",
				"A track block names one object: script = \"NAME\" (a vrrp_script), interface = \"NAME\", virtual_server = \"NAME\" (its quorum), file = \"/PATH\" (a number, keepalived's track_file) or process = \"NAME\", with an optional weight.")
			continue
		}
		if len(set) > 1 {
			b.errorAt(set[1].Range, set[0].Range.Ptr(), "Conflicting arguments",
				"A track block names one object, and this one already has %s; use one track block per object.", set[0].Name)
			continue
		}
		a := set[0]
		if !a.ok() {
			continue
		}
		var t trackDef
		var ok bool
		switch a {
		case tb.Script:
			t, ok = script(a.Val, tb.DefRange)
		case tb.Interface:
			t, ok = iface(a.Val, a.Value)
			t.where = tb.DefRange
		case tb.VirtualServer:
			t, ok = service(a.Val, a.Value)
			t.where = tb.DefRange
		case tb.File:
			t, ok = file(a.Val, a.Value)
			t.where = tb.DefRange
		case tb.Process:
			t, ok = process(a.Val, a.Value)
			t.where = tb.DefRange
		}
		if !ok {
			continue
		}
		if tb.Weight != nil {
			w, wok := b.whole(tb.Weight, -maxTrackWeight, maxTrackWeight, "Invalid weight", "weight")
			if !wok {
				continue
			}
			t.weight, t.ownWeight = int(w), tb.Weight.Value.Ptr()
		}
		add(t)
	}

	// Weights in a sync group are 0 unless the group keeps them, as in
	// keepalived: members with differing priorities would re-elect forever.
	g, grouped := b.groupOf[s.Name]
	var out []vrrp.Track
	for _, t := range defs {
		switch {
		case t.weight == 0:
		case grouped && !g.trackingWeight:
			subject := t.where
			if t.ownWeight != nil {
				subject = *t.ownWeight
			}
			b.diags = append(b.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Tracking weight ignored in a sync group",
				Detail: fmt.Sprintf("vrrp_instance %q is a member of vrrp_sync_group %q, so %s counts with weight 0 (down is FAULT for the whole group), as in keepalived: members whose priorities move apart would re-elect forever. Set sync_group_tracking_weight = true in the group to keep weight %d.",
					s.Name, g.syn.Name, describeTrack(t.name), t.weight),
				Subject: subject.Ptr(),
				Context: g.syn.NameRange.Ptr(),
			})
			t.weight = 0
		case c.Priority == 255:
			b.diags = append(b.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Tracking weight of the address owner",
				Detail:   fmt.Sprintf("This instance has priority 255 (the address owner), whose priority does not move: the weight %d of %s has no effect. Only weight 0 (down is FAULT) does.", t.weight, describeTrack(t.name)),
				Subject:  t.where.Ptr(),
			})
		}
		out = append(out, vrrp.Track{Name: t.name, Weight: t.weight, Valued: strings.HasPrefix(t.name, TrackFile)})
	}
	return out
}

// acrossInstances checks what instances must not share: a virtual router
// (interface, VRID and family) and a VIP.
func (b *vrrpBuilder) acrossInstances(facts []instanceFacts) {
	type routerKey struct {
		iface string
		vrid  int
		is6   bool
	}
	routers := map[routerKey][]instanceFacts{}
	vips := map[netip.Addr]instanceFacts{}
	vipAt := map[netip.Addr]hcl.Range{}
	for _, f := range facts {
		if f.iface != "" && f.vridOK && f.famKnown {
			k := routerKey{f.iface, f.vrid, f.is6}
			for _, prev := range routers[k] {
				if len(f.peers) > 0 && len(prev.peers) > 0 && !overlap(f.peers, prev.peers) {
					continue // unicast to different peers: two virtual routers
				}
				b.errorAt(f.syn.VRID.Value, prev.syn.VRID.Value.Ptr(), "Duplicate virtual_router_id",
					"vrrp_instance %q already uses virtual_router_id %d on %s for %s (at %s). Each virtual router on a segment needs its own VRID, or the routers mistake each other's adverts.",
					prev.syn.Name, f.vrid, f.iface, famName6(f.is6), posString(prev.syn.VRID.Value))
				break
			}
			routers[k] = append(routers[k], f)
		}
		for _, v := range f.vips {
			a := v.prefix.Addr()
			if prev, dup := vips[a]; dup && prev.syn != f.syn {
				b.errorAt(v.where, vipAt[a].Ptr(), "VIP of two instances",
					"%s is already a VIP of vrrp_instance %q (at %s). Two instances would add and remove it independently.",
					a, prev.syn.Name, posString(vipAt[a]))
				continue
			}
			vips[a], vipAt[a] = f, v.where
		}
	}
}

// vip parses a virtual_ipaddress: an address, with a prefix length or
// not (then /32 or /128, as keepalived).
func (b *vrrpBuilder) vip(text string, where hcl.Range) (netip.Prefix, bool) {
	var p netip.Prefix
	var err error
	if strings.Contains(text, "/") {
		p, err = netip.ParsePrefix(text)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(text); err == nil {
			p = netip.PrefixFrom(a, a.BitLen())
		}
	}
	const help = "A VIP is an IPv4 or IPv6 address with an optional prefix length, such as \"10.0.0.100/24\" or \"2001:db8::100/64\" (without one: /32 or /128)."
	a := p.Addr()
	switch {
	case err != nil:
		b.errorAt(where, nil, "Invalid VIP", "%q is not an address: %v. %s", text, err, help)
	case a.Zone() != "":
		b.errorAt(where, nil, "Invalid VIP", "%q has an IPv6 zone; the VIP is added to the instance's interface, so leave the zone out.", text)
	case a.Is4In6():
		b.errorAt(where, nil, "Invalid VIP", "%q is an IPv4-mapped IPv6 address; write the IPv4 address %s.", text, a.Unmap())
	case a.IsUnspecified() || a.IsMulticast() || a.IsLoopback():
		b.errorAt(where, nil, "Invalid VIP", "%s cannot be a VIP: it is not a unicast address another host could reach.", a)
	case p.Bits() == 0:
		b.errorAt(where, nil, "Invalid VIP", "%q has prefix length 0, which would claim every address. %s", text, help)
	default:
		return p, true
	}
	return netip.Prefix{}, false
}

// vipLabel checks the label of VIP p on interface iface ("" if unknown).
func (b *vrrpBuilder) vipLabel(label *attr[string], p netip.Prefix, iface string) bool {
	switch {
	case p.Addr().Is6():
		b.errorAt(label.Range, nil, "Label on an IPv6 VIP",
			"Address labels are IPv4 only (the kernel has none for IPv6); remove label.")
	case len(label.Val) > maxInterfaceName:
		b.errorAt(label.Value, nil, "Invalid label",
			"A label is at most 15 characters (the kernel's limit); %q has %d.", label.Val, len(label.Val))
	case iface != "" && !strings.HasPrefix(label.Val, iface):
		b.errorAt(label.Value, nil, "Invalid label",
			"The kernel wants an address label to start with the interface name: %q does not start with %q. Write it as %q.", label.Val, iface, iface+":vip")
	default:
		return true
	}
	return false
}

// vrrpIP parses an address of a router (unicast_src_ip, unicast_peer).
func (b *vrrpBuilder) vrrpIP(a *attr[string], what string) (netip.Addr, bool) {
	if !a.ok() {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(a.Val)
	switch {
	case err != nil:
		b.errorAt(a.Value, nil, "Invalid IP address",
			"%s must be an IPv4 or IPv6 address literal such as 10.0.0.2; host names are not resolved. %q is not one: %v.", what, a.Val, err)
	case addr.Zone() != "":
		b.errorAt(a.Value, nil, "Invalid IP address",
			"%s must not have an IPv6 zone (%q): adverts always use the instance's interface.", what, "%"+addr.Zone())
	case addr.Is4In6():
		b.errorAt(a.Value, nil, "Invalid IP address", "%s %q is an IPv4-mapped IPv6 address; write the IPv4 address %s.", what, a.Val, addr.Unmap())
	case addr.IsUnspecified() || addr.IsMulticast():
		b.errorAt(a.Value, nil, "Invalid IP address", "%s cannot be %s: it must be a router's unicast address.", what, addr)
	default:
		return addr, true
	}
	return netip.Addr{}, false
}

// interfaceName checks a Linux interface name.
func (b *vrrpBuilder) interfaceName(name string, where hcl.Range) bool {
	if name == "" || len(name) > maxInterfaceName || name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n") {
		b.errorAt(where, nil, "Invalid interface name",
			"%q is not a Linux interface name: 1 to 15 characters, without \"/\", \":\" or spaces (an alias such as eth0:1 is a label of eth0, not an interface).", name)
		return false
	}
	return true
}

func describeTrack(name string) string {
	for _, p := range []string{TrackScript, TrackInterface, TrackVirtualServer, TrackFile, TrackProcess} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			kind := strings.TrimSuffix(p, ":")
			if kind == "script" {
				kind = "vrrp_script"
			}
			return fmt.Sprintf("%s %q", kind, rest)
		}
	}
	return name
}

func famName6(is6 bool) string {
	if is6 {
		return "IPv6"
	}
	return "IPv4"
}

// known lists the names defined, for "no such name" errors.
func known(names []string) string {
	if len(names) == 0 {
		return " (there are none)"
	}
	slices.Sort(names)
	if len(names) > 10 {
		names = append(names[:10], "...")
	}
	return "; defined: " + strings.Join(names, ", ")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

func overlap(a, b []netip.Addr) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
