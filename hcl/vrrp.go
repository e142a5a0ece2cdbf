package hcl

import (
	"math/big"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/vrrp"
)

// The VRRP blocks: keepalived's vrrp_instance, vrrp_script and
// vrrp_sync_group, for `lvsctl run` to move VIPs between directors.
//
//	vrrp_script "chk_haproxy" {
//	  command  = ["/usr/bin/killall", "-0", "haproxy"]
//	  interval = 2          # timeout (default: interval), weight, rise, fall, init_fail
//	}
//	vrrp_instance "VI_1" {
//	  interface         = "eth0"
//	  virtual_router_id = 51
//	  priority          = 150
//	  advert_interval   = 1
//	  authentication { password = "s3cret" }      # v2 only
//	  virtual_ipaddress = ["10.0.0.100/24"]
//	  vip { address = "10.0.0.101/24"  label = "eth0:vip" }
//	  use_vmac             = true                   # or "vrrp.51": VIPs on a macvlan with 00:00:5e:00:01:VRID (IPv6: 02)
//	  track_script         = ["chk_haproxy"]        # weights from the vrrp_script
//	  track_interface      = ["eth1"]               # down = FAULT
//	  track_virtual_server = ["web"]                # quorum lost = FAULT
//	  track { script = "chk_mysql"  weight = -20 }  # one object, its own weight
//	  notify_master = ["/usr/local/bin/vip-up"]
//	}
//	vrrp_sync_group "G" { group = ["VI_1", "VI_2"] }
//
// This file holds the output types and the first layer (syntax and types);
// vrrp_build.go checks meaning and builds the vrrp.Config values.

// Block types of the VRRP part.
const (
	blockVRRPInstance  = "vrrp_instance"
	blockVRRPScript    = "vrrp_script"
	blockVRRPSyncGroup = "vrrp_sync_group"
	blockAuth          = "authentication"
	blockVIP           = "vip"
	blockTrack         = "track"
	blockVRoute        = "virtual_routes"
	blockVRule         = "virtual_rules"
)

// VRRP is the VRRP part of a configuration: the virtual routers `lvsctl
// run` runs to move VIPs between directors, what they track and who is
// told about their transitions. It is empty when the file has none.
type VRRP struct {
	Instances []VRRPInstance  // in file order
	Scripts   []VRRPScript    // every vrrp_script, in file order; only tracked ones run
	Groups    []VRRPSyncGroup // in file order
	// Static is the static_ipaddress, static_routes and static_rules
	// blocks: installed by `lvsctl run` whatever the VRRP state (static.go).
	Static vrrp.Static
}

// Prefixes of the names of tracked objects in vrrp.Config.Track: a
// vrrp_script, an interface's link state or a virtual_server's quorum. The
// name follows the prefix: "script:chk_haproxy", "interface:eth1",
// "virtual_server:web".
const (
	TrackScript        = "script:"
	TrackInterface     = "interface:"
	TrackVirtualServer = "virtual_server:"
	// TrackFile is a track_file: the path follows; its number, not an up
	// or down state, moves the priority (vrrp.Track.Valued).
	TrackFile = "file:"
	// TrackProcess is a track_process: up while a process of that name
	// runs (its comm, or the base name of its argv[0]).
	TrackProcess = "process:"
)

// VRRPInstance is one vrrp_instance block.
type VRRPInstance struct {
	// Config is the instance as package vrrp takes it, with every default
	// filled in (Version, Priority, AdvertInterval, GARPRepeat, GARPDelay).
	// Its Track names start with TrackScript, TrackInterface or
	// TrackVirtualServer. OnTransition, Logger and Clock are the caller's.
	Config vrrp.Config
	// SyncGroup is the vrrp_sync_group the instance belongs to, if any.
	SyncGroup string
	Notify    VRRPNotify
	// SMTPAlert is the instance's smtp_alert, nil when absent: see
	// AlertEmail.ForVRRP.
	SMTPAlert *bool
}

// VRRPNotify are the notify hooks of an instance or a sync group.
type VRRPNotify struct {
	Master, Backup, Fault, Stop *Hook
	// Any is the generic notify hook: it runs after the specific one on
	// every transition, with keepalived's four arguments appended: INSTANCE
	// or GROUP, the name, the new state and the priority.
	Any *Hook
}

// VRRPScript is one vrrp_script block: a program whose exit status (0 is
// up) the instances tracking it follow.
type VRRPScript struct {
	Name     string
	Argv     []string
	Interval time.Duration // between the starts of two runs; default 1 s
	Timeout  time.Duration // a run taking longer fails; default: Interval
	// Weight is the default weight of the instances tracking it
	// (keepalived semantics; 0: down is FAULT).
	Weight int
	Rise   int // consecutive successes to go up; default 1
	Fall   int // consecutive failures to go down; default 1
	// InitFail starts the script down; otherwise its first result decides.
	InitFail bool
}

// VRRPSyncGroup is one vrrp_sync_group block: instances that fail over
// together.
type VRRPSyncGroup struct {
	Name      string
	Instances []string // in the order written
	Notify    VRRPNotify
	// TrackingWeight keeps the tracking weights of the members
	// (sync_group_tracking_weight); by default they are 0, as in
	// keepalived, so that tracking only ever faults the whole group.
	TrackingWeight bool
}

var vrrpInstanceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "interface"},
		{Name: "virtual_router_id"},
		{Name: "version"},
		{Name: "priority"},
		{Name: "advert_interval"},
		{Name: "nopreempt"},
		{Name: "preempt_delay"},
		{Name: "virtual_ipaddress"},
		{Name: "virtual_ipaddress_excluded"},
		{Name: "unicast_src_ip"},
		{Name: "unicast_peer"},
		{Name: "garp_master_delay"},
		{Name: "garp_master_repeat"},
		{Name: "vrrp_startup_delay"},
		{Name: "garp_master_refresh"},
		{Name: "garp_master_refresh_repeat"},
		{Name: "state"},
		{Name: "accept"},
		{Name: "no_accept"},
		{Name: "strict_mode"},
		{Name: "use_vmac"},
		{Name: "vmac_xmit_base"},
		{Name: "track_script"},
		{Name: "track_interface"},
		{Name: "track_virtual_server"},
		{Name: "track_file"},
		{Name: "track_process"},
		{Name: "notify_master"},
		{Name: "notify_backup"},
		{Name: "notify_fault"},
		{Name: "notify_stop"},
		{Name: "notify"},
		{Name: attrSMTPAlert}, // alert.go
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockAuth},
		{Type: blockVIP},
		{Type: blockTrack},
		{Type: blockVRoute},
		{Type: blockVRule},
	},
}

var vrrpRouteSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "to", Required: true}, {Name: "via"}, {Name: "src"}, {Name: "dev"},
		{Name: "metric"}, {Name: "table"}, {Name: "scope"}, {Name: "blackhole"},
	},
}

var vrrpRuleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "from"}, {Name: "to"}, {Name: "iif"}, {Name: "oif"},
		{Name: "priority"}, {Name: "table", Required: true},
	},
}

var vrrpAuthSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "password"}},
}

var vrrpVIPSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "address"}, {Name: "label"}, {Name: "dev"}, {Name: "scope"}, {Name: "brd"}, {Name: "excluded"}},
}

var vrrpTrackSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "script"},
		{Name: "interface"},
		{Name: "virtual_server"},
		{Name: "file"},
		{Name: "process"},
		{Name: "weight"},
	},
}

var vrrpScriptSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "command"},
		{Name: "interval"},
		{Name: "timeout"},
		{Name: "weight"},
		{Name: "rise"},
		{Name: "fall"},
		{Name: "init_fail"},
	},
}

var vrrpGroupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "group"},
		{Name: "notify_master"},
		{Name: "notify_backup"},
		{Name: "notify_fault"},
		{Name: "notify_stop"},
		{Name: "notify"},
		{Name: "sync_group_tracking_weight"},
	},
}

// keepalivedHints explain keepalived keywords that lvsctl spells another
// way, or does without, when they show up as unsupported arguments.
var keepalivedHints = map[string]string{
	"advert_int":          `lvsctl calls it advert_interval: a number of seconds (1, 0.1) or a duration string ("100ms").`,
	"auth_type":           `Write authentication { type = "pass"  password = "..." } (VRRPv2 only).`,
	"auth_pass":           `Write authentication { type = "pass"  password = "..." } (VRRPv2 only).`,
	"mcast_src_ip":        "unicast_src_ip sets the adverts' source address in multicast mode too.",
	"preempt":             "Preemption is the default; nopreempt = true turns it off.",
	"vrrp_version":        "lvsctl calls it version (2 or 3), per instance.",
	"virtual_ipaddresses": "lvsctl calls it virtual_ipaddress.",
	"unicast_peers":       "lvsctl calls it unicast_peer: a list of addresses.",
	"label":               `A VIP with a label is a block: vip { address = "10.0.0.100/24"  label = "eth0:vip" }.`,
}

// vrrpSyntax is the VRRP part of a file as written.
type vrrpSyntax struct {
	Instances []*vrrpInstanceSyntax
	Scripts   []*vrrpScriptSyntax
	Groups    []*vrrpGroupSyntax
	// The static_ipaddress, static_routes and static_rules blocks
	// (static.go).
	StaticAddrs  []*vipSyntax
	StaticRoutes []*routeSyntax
	StaticRules  []*ruleSyntax
}

type strList = attr[[]*attr[string]]

// vrrpInstanceSyntax is one vrrp_instance block as written.
type vrrpInstanceSyntax struct {
	Name      string
	NameRange hcl.Range
	DefRange  hcl.Range

	Interface      *attr[string]
	VRID           *attr[*big.Float]
	Version        *attr[*big.Float]
	Priority       *attr[*big.Float]
	AdvertInterval *attr[cty.Value]
	NoPreempt      *attr[bool]
	PreemptDelay   *attr[cty.Value]
	VIPList        *strList
	VIPs           []*vipSyntax // vip blocks
	ExcludedList   *strList
	Routes         []*routeSyntax
	Rules          []*ruleSyntax
	Auth           *authSyntax
	ExtraAuth      []*authSyntax // duplicates, reported
	UnicastSrcIP   *attr[string]
	UnicastPeers   *strList
	GARPDelay      *attr[cty.Value]
	GARPRepeat     *attr[*big.Float]
	GARPRefresh    *attr[cty.Value]
	StartupDelay   *attr[cty.Value]
	GARPRefreshRep *attr[*big.Float]
	State          *attr[string]
	Accept         *attr[bool]
	NoAccept       *attr[bool]
	StrictMode     *attr[bool]
	UseVMAC        *attr[cty.Value] // true, or the macvlan's name
	VMACXmitBase   *attr[bool]

	TrackScript        *strList
	TrackInterface     *strList
	TrackVirtualServer *strList
	TrackFile          *strList
	TrackProcess       *strList
	Tracks             []*trackSyntax // track blocks

	Notify    notifySyntax
	SMTPAlert *bool // alert.go
}

type notifySyntax struct {
	Master, Backup, Fault, Stop, Any *strList
}

type authSyntax struct {
	DefRange hcl.Range
	Type     *attr[string]
	Password *attr[string]
}

type vipSyntax struct {
	DefRange hcl.Range
	Address  *attr[string]
	Label    *attr[string]
	Dev      *attr[string]
	Scope    *attr[cty.Value]
	Brd      *attr[string]
	Excluded *attr[bool]
}

type routeSyntax struct {
	DefRange          hcl.Range
	To, Via, Src, Dev *attr[string]
	Metric, Table     *attr[*big.Float]
	Scope             *attr[cty.Value]
	Blackhole         *attr[bool]
}

type ruleSyntax struct {
	DefRange           hcl.Range
	From, To, IIF, OIF *attr[string]
	Priority, Table    *attr[*big.Float]
}

type trackSyntax struct {
	DefRange      hcl.Range
	Script        *attr[string]
	Interface     *attr[string]
	VirtualServer *attr[string]
	File          *attr[string]
	Process       *attr[string]
	Weight        *attr[*big.Float]
}

type vrrpScriptSyntax struct {
	Name      string
	NameRange hcl.Range
	DefRange  hcl.Range

	Command  *strList
	Interval *attr[cty.Value]
	Timeout  *attr[cty.Value]
	Weight   *attr[*big.Float]
	Rise     *attr[*big.Float]
	Fall     *attr[*big.Float]
	InitFail *attr[bool]
}

type vrrpGroupSyntax struct {
	Name      string
	NameRange hcl.Range
	DefRange  hcl.Range

	Group          *strList
	Notify         notifySyntax
	TrackingWeight *attr[bool]
}

// vrrpBlock decodes one top-level VRRP block into v.
func (d *decoder) vrrpBlock(v *vrrpSyntax, b *hcl.Block) {
	switch b.Type {
	case blockVRRPInstance:
		v.Instances = append(v.Instances, d.vrrpInstance(b))
	case blockVRRPScript:
		v.Scripts = append(v.Scripts, d.vrrpScript(b))
	case blockVRRPSyncGroup:
		v.Groups = append(v.Groups, d.vrrpGroup(b))
	case blockStaticAddress:
		v.StaticAddrs = append(v.StaticAddrs, d.staticAddress(b)) // static.go
	case blockStaticRoutes:
		v.StaticRoutes = append(v.StaticRoutes, d.route(b))
	case blockStaticRules:
		v.StaticRules = append(v.StaticRules, d.rule(b))
	}
}

// vrrpContent is Body.Content with keepalived's spellings explained.
func (d *decoder) vrrpContent(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	content, diags := body.Content(schema)
	for _, diag := range diags {
		if diag.Summary != "Unsupported argument" && diag.Summary != "Unsupported block type" {
			continue
		}
		for kw, hint := range keepalivedHints {
			if strings.Contains(diag.Detail, `"`+kw+`"`) {
				diag.Detail += " " + hint
				break
			}
		}
	}
	d.diags = append(d.diags, diags...)
	return content
}

func (d *decoder) notify(a hcl.Attributes) notifySyntax {
	return notifySyntax{
		Master: d.argv(a["notify_master"]),
		Backup: d.argv(a["notify_backup"]),
		Fault:  d.argv(a["notify_fault"]),
		Stop:   d.argv(a["notify_stop"]),
		Any:    d.argv(a["notify"]),
	}
}

func (d *decoder) vrrpInstance(b *hcl.Block) *vrrpInstanceSyntax {
	s := &vrrpInstanceSyntax{Name: b.Labels[0], NameRange: b.LabelRanges[0], DefRange: b.DefRange}
	content := d.vrrpContent(b.Body, vrrpInstanceSchema)
	a := content.Attributes
	s.Interface = decodeString(d, a["interface"])
	s.SMTPAlert = smtpAlert(d, a[attrSMTPAlert])
	s.VRID = decodeNumber(d, a["virtual_router_id"])
	s.Version = decodeNumber(d, a["version"])
	s.Priority = decodeNumber(d, a["priority"])
	s.AdvertInterval = d.raw(a["advert_interval"])
	s.NoPreempt = decodeBool(d, a["nopreempt"])
	s.PreemptDelay = d.raw(a["preempt_delay"])
	s.VIPList = d.stringList(a["virtual_ipaddress"])
	s.ExcludedList = d.stringList(a["virtual_ipaddress_excluded"])
	s.UnicastSrcIP = decodeString(d, a["unicast_src_ip"])
	s.UnicastPeers = d.stringList(a["unicast_peer"])
	s.GARPDelay = d.raw(a["garp_master_delay"])
	s.GARPRepeat = decodeNumber(d, a["garp_master_repeat"])
	s.GARPRefresh = d.raw(a["garp_master_refresh"])
	s.StartupDelay = d.raw(a["vrrp_startup_delay"])
	s.GARPRefreshRep = decodeNumber(d, a["garp_master_refresh_repeat"])
	s.State = decodeString(d, a["state"])
	s.Accept = decodeBool(d, a["accept"])
	s.NoAccept = decodeBool(d, a["no_accept"])
	s.StrictMode = decodeBool(d, a["strict_mode"])
	s.UseVMAC = d.raw(a["use_vmac"])
	s.VMACXmitBase = decodeBool(d, a["vmac_xmit_base"])
	s.TrackScript = d.stringList(a["track_script"])
	s.TrackInterface = d.stringList(a["track_interface"])
	s.TrackVirtualServer = d.stringList(a["track_virtual_server"])
	s.TrackFile = d.stringList(a["track_file"])
	s.TrackProcess = d.stringList(a["track_process"])
	s.Notify = d.notify(a)
	for _, blk := range content.Blocks {
		switch blk.Type {
		case blockAuth:
			bc := d.vrrpContent(blk.Body, vrrpAuthSchema)
			auth := &authSyntax{
				DefRange: blk.DefRange,
				Type:     decodeString(d, bc.Attributes["type"]),
				Password: decodeString(d, bc.Attributes["password"]),
			}
			if s.Auth == nil {
				s.Auth = auth
			} else {
				s.ExtraAuth = append(s.ExtraAuth, auth)
			}
		case blockVIP:
			bc := d.vrrpContent(blk.Body, vrrpVIPSchema)
			s.VIPs = append(s.VIPs, &vipSyntax{
				DefRange: blk.DefRange,
				Address:  decodeString(d, bc.Attributes["address"]),
				Label:    decodeString(d, bc.Attributes["label"]),
				Dev:      decodeString(d, bc.Attributes["dev"]),
				Scope:    d.raw(bc.Attributes["scope"]),
				Brd:      decodeString(d, bc.Attributes["brd"]),
				Excluded: decodeBool(d, bc.Attributes["excluded"]),
			})
		case blockVRoute:
			s.Routes = append(s.Routes, d.route(blk))
		case blockVRule:
			s.Rules = append(s.Rules, d.rule(blk))
		case blockTrack:
			bc := d.vrrpContent(blk.Body, vrrpTrackSchema)
			s.Tracks = append(s.Tracks, &trackSyntax{
				DefRange:      blk.DefRange,
				Script:        decodeString(d, bc.Attributes["script"]),
				Interface:     decodeString(d, bc.Attributes["interface"]),
				VirtualServer: decodeString(d, bc.Attributes["virtual_server"]),
				File:          decodeString(d, bc.Attributes["file"]),
				Process:       decodeString(d, bc.Attributes["process"]),
				Weight:        decodeNumber(d, bc.Attributes["weight"]),
			})
		}
	}
	return s
}

// route decodes a virtual_routes or static_routes block.
func (d *decoder) route(blk *hcl.Block) *routeSyntax {
	a := d.vrrpContent(blk.Body, vrrpRouteSchema).Attributes
	return &routeSyntax{
		DefRange: blk.DefRange,
		To:       decodeString(d, a["to"]), Via: decodeString(d, a["via"]),
		Src: decodeString(d, a["src"]), Dev: decodeString(d, a["dev"]),
		Metric: decodeNumber(d, a["metric"]), Table: decodeNumber(d, a["table"]),
		Scope: d.raw(a["scope"]), Blackhole: decodeBool(d, a["blackhole"]),
	}
}

// rule decodes a virtual_rules or static_rules block.
func (d *decoder) rule(blk *hcl.Block) *ruleSyntax {
	a := d.vrrpContent(blk.Body, vrrpRuleSchema).Attributes
	return &ruleSyntax{
		DefRange: blk.DefRange,
		From:     decodeString(d, a["from"]), To: decodeString(d, a["to"]),
		IIF: decodeString(d, a["iif"]), OIF: decodeString(d, a["oif"]),
		Priority: decodeNumber(d, a["priority"]), Table: decodeNumber(d, a["table"]),
	}
}

func (d *decoder) vrrpScript(b *hcl.Block) *vrrpScriptSyntax {
	s := &vrrpScriptSyntax{Name: b.Labels[0], NameRange: b.LabelRanges[0], DefRange: b.DefRange}
	a := d.vrrpContent(b.Body, vrrpScriptSchema).Attributes
	s.Command = d.argv(a["command"])
	s.Interval = d.raw(a["interval"])
	s.Timeout = d.raw(a["timeout"])
	s.Weight = decodeNumber(d, a["weight"])
	s.Rise = decodeNumber(d, a["rise"])
	s.Fall = decodeNumber(d, a["fall"])
	s.InitFail = decodeBool(d, a["init_fail"])
	return s
}

func (d *decoder) vrrpGroup(b *hcl.Block) *vrrpGroupSyntax {
	g := &vrrpGroupSyntax{Name: b.Labels[0], NameRange: b.LabelRanges[0], DefRange: b.DefRange}
	a := d.vrrpContent(b.Body, vrrpGroupSchema).Attributes
	g.Group = d.stringList(a["group"])
	g.Notify = d.notify(a)
	g.TrackingWeight = decodeBool(d, a["sync_group_tracking_weight"])
	return g
}
