package kaimport

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The VRRP part: vrrp_script, vrrp_instance and vrrp_sync_group, in the
// schema of hcl/vrrp.go.

var scriptReasons = map[string]string{
	"user": "lvsctl runs commands as its own user: see the warning at script",
}

func (t *translator) vrrpScript(s *Stmt) *hblock {
	name := s.Arg(0)
	if name == "" || !s.HasBlock {
		t.drop(nil, s, Warning, "a vrrp_script needs a name and a block")
		return nil
	}
	b := newBlock("vrrp_script", name)
	b.src = s
	for _, c := range s.Block {
		switch c.Keyword() {
		case "script":
			t.setCommand(b, c, "command", false, userStmt(s))
		case "interval":
			if f, ok := t.number(b, c, 0, 0, 1<<31, true); ok {
				if f == 0 {
					f = 1 // keepalived's minimum
				}
				b.set("interval", num(f))
			}
		case "timeout":
			if f, ok := t.number(b, c, 0, 1, 1<<31, true); ok {
				b.set("timeout", num(f))
			}
		case "weight":
			if f, ok := t.number(b, c, 0, -253, 253, true); ok {
				b.set("weight", num(f))
				if c.Arg(1) == "reverse" {
					t.partly(b, c, Warning, "lvsctl has no reverse weights: the weight applies when the script fails")
				} else {
					t.extraArgs(b, c, 1)
				}
			}
		case "rise", "fall":
			if f, ok := t.number(b, c, 0, 1, 1<<31, true); ok {
				b.set(c.Keyword(), num(f))
			}
		case "init_fail":
			b.set("init_fail", truth)
		default:
			t.unsupported(b, c, "vrrp_script", scriptReasons)
		}
	}
	if !b.has("command") {
		t.drop(nil, s, Warning, "vrrp_script %s has no (usable) script, so keepalived does not run it", name)
		return nil
	}
	t.scripts[name] = true
	b.lead = hcomment{s.Pos.String()}
	return b
}

// scopeNames are the scopes the vip block and virtual_routes take by name.
var scopeNames = map[string]bool{"global": true, "universe": true, "site": true, "link": true, "host": true, "nowhere": true}

// vrrpRoutes translates virtual_routes lines: [src IP] [to] PREFIX
// [via|gw IP] [dev IF] [scope S] [table T] [metric N], or blackhole PREFIX.
func (t *translator) vrrpRoutes(b *hblock, stmts []*Stmt) {
	for _, r := range stmts {
		if rb := t.routeLine(b, r, "virtual_routes"); rb != nil {
			b.add(rb)
		}
	}
}

// routeLine translates one virtual_routes or static_routes line into a
// block named kind; nil when it does not translate (said in b, or at the
// top level when b is nil).
func (t *translator) routeLine(b *hblock, r *Stmt, kind string) *hblock {
	rb := newBlock(kind)
	bad := ""
	var dropped []string
	noTrack := false
	w := r.Words
	for i := 0; i < len(w) && bad == ""; i++ {
		arg := func() string {
			if i+1 >= len(w) {
				bad = "missing value after " + w[i]
				return ""
			}
			i++
			return w[i]
		}
		switch w[i] {
		case "src":
			rb.set("src", str(arg()))
		case "to":
			rb.set("to", str(arg()))
		case "via", "gw":
			rb.set("via", str(arg()))
		case "dev":
			rb.set("dev", str(arg()))
		case "scope":
			sc := arg()
			if n, err := strconv.Atoi(sc); err == nil {
				rb.set("scope", num(float64(n)))
			} else if scopeNames[sc] {
				rb.set("scope", str(sc))
			} else {
				bad = "unknown scope " + sc
			}
		case "table", "metric", "preference", "priority":
			kw := w[i]
			v := arg()
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				bad = fmt.Sprintf("%s %q is not a number", kw, v)
				break
			}
			if kw != "table" {
				kw = "metric"
			}
			rb.set(kw, num(float64(n)))
		case "blackhole":
			rb.set("blackhole", truth)
		case "no_track":
			noTrack = true
		case "or":
			bad = "lvsctl has no multipath routes (or)"
		default:
			if _, err := netip.ParsePrefix(w[i]); err == nil || strings.Count(w[i], ".") == 3 || strings.Contains(w[i], ":") {
				if !rb.has("to") {
					rb.set("to", str(w[i]))
					continue
				}
			}
			bad = fmt.Sprintf("lvsctl does not translate %q in a route", w[i])
		}
	}
	if bad == "" && !rb.has("to") {
		bad = "a route needs a destination"
	}
	if bad != "" {
		t.drop(b, r, Warning, "%s", bad)
		return nil
	}
	switch {
	case noTrack && kind == "virtual_routes" && rb.has("dev"):
		t.partly(b, r, Warning, "%s", noTrackDiffers("route"))
	case noTrack && kind == "virtual_routes":
		dropped = append(dropped, "no_track (neither keepalived nor lvsctl watches a virtual route without dev)")
	case noTrack && kind == "static_routes" && rb.has("dev"):
		t.partly(b, r, Warning, "%s", staticNoTrackDiffers("route"))
	case noTrack && kind == "static_routes":
		dropped = append(dropped, "no_track (neither keepalived nor lvsctl puts back a static route without dev)")
	case noTrack:
		dropped = append(dropped, "no_track (lvsctl does not watch the route)")
	}
	if len(dropped) > 0 {
		t.partly(b, r, Note, "translated without %s", strings.Join(dropped, ", "))
	}
	return rb
}

// noTrackDiffers is the warning for no_track on a VIP, a virtual route with
// dev or a virtual rule: keepalived does not watch it, lvsctl has no
// no_track and watches it (vrrp/watch_linux.go).
func noTrackDiffers(what string) string {
	return "no_track is not translated: lvsctl watches this " + what + ", and if someone deletes it while the instance is MASTER, " +
		"the instance sends a priority-0 advert, goes BACKUP and takes MASTER back after its skew time with the " + what +
		" re-added (keepalived does so only without no_track; with it, it stays MASTER without the " + what + ")"
}

// vrrpRules translates virtual_rules lines: [from PREFIX] [to PREFIX]
// [iif IF] [oif IF] [priority|preference|pref N] table T.
func (t *translator) vrrpRules(b *hblock, stmts []*Stmt) {
	for _, r := range stmts {
		if rb := t.ruleLine(b, r, "virtual_rules"); rb != nil {
			b.add(rb)
		}
	}
}

// ruleLine translates one virtual_rules or static_rules line into a
// block named kind; nil when it does not translate (said in b, or at the
// top level when b is nil).
func (t *translator) ruleLine(b *hblock, r *Stmt, kind string) *hblock {
	rb := newBlock(kind)
	bad := ""
	var dropped []string
	noTrack := false
	w := r.Words
	for i := 0; i < len(w) && bad == ""; i++ {
		arg := func() string {
			if i+1 >= len(w) {
				bad = "missing value after " + w[i]
				return ""
			}
			i++
			return w[i]
		}
		switch w[i] {
		case "from", "to":
			kw := w[i]
			v := arg()
			if v != "all" {
				if _, err := parseAddrOrPrefix(v); err != nil {
					bad = fmt.Sprintf("%q is not an address or prefix (keepalived cannot parse it either)", v)
					break
				}
				rb.set(kw, str(v))
			}
		case "iif", "dev", "oif":
			kw := w[i]       // before arg() moves i
			if kw == "dev" { // ip rule's (and keepalived's) other name of iif
				kw = "iif"
			}
			rb.set(kw, str(arg()))
		case "priority", "preference", "pref", "order", "table", "lookup":
			kw := w[i]
			v := arg()
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				bad = fmt.Sprintf("%s %q is not a number", kw, v)
				break
			}
			if kw == "lookup" {
				kw = "table"
			} else if kw != "table" {
				kw = "priority"
			}
			rb.set(kw, num(float64(n)))
		case "no_track":
			noTrack = true
		default:
			bad = fmt.Sprintf("lvsctl does not translate %q in a rule", w[i])
		}
	}
	switch {
	case bad != "":
	case !rb.has("table"):
		bad = "lvsctl needs a table for a rule"
	case !rb.has("from") && !rb.has("to"):
		bad = "lvsctl needs from or to in a rule"
	}
	if bad != "" {
		t.drop(b, r, Warning, "%s", bad)
		return nil
	}
	switch {
	case noTrack && kind == "virtual_rules":
		t.partly(b, r, Warning, "%s", noTrackDiffers("rule"))
	case noTrack && kind == "static_rules":
		t.partly(b, r, Warning, "%s", staticNoTrackDiffers("rule"))
	case noTrack:
		dropped = append(dropped, "no_track (lvsctl does not watch the rule)")
	}
	if len(dropped) > 0 {
		t.partly(b, r, Note, "translated without %s", strings.Join(dropped, ", "))
	}
	return rb
}

func parseAddrOrPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	return netip.PrefixFrom(a, a.BitLen()), err
}

// vrrpTrackFile resolves an instance's track_file entry "NAME [weight W
// [reverse]]" through the top-level track_file NAME { file "PATH" weight W
// [reverse] init_file ... } into the path and the weight.
func (t *translator) vrrpTrackFile(b *hblock, e *Stmt) (string, int, bool) {
	name := e.Keyword()
	top := t.trackFile(name) // checks.go
	if top == nil {
		t.drop(b, e, Warning, "there is no track_file %s", name)
		return "", 0, false
	}
	path, weight := "", 1
	for _, c := range top.Block {
		switch c.Keyword() {
		case "file":
			path = strings.Trim(c.Arg(0), `"`)
		case "weight":
			w, err := strconv.Atoi(c.Arg(0))
			if err != nil {
				t.drop(b, e, Warning, "track_file %s: weight %q is not a number", name, c.Arg(0))
				return "", 0, false
			}
			if c.Arg(1) == "reverse" {
				w = -w
			}
			weight = w
		case "init_file":
			if v := c.Arg(0); v != "" && v != "0" && v != "overwrite" {
				t.partly(b, e, Warning, "lvsctl does not create %s with %s (init_file): a missing file counts as 0", path, v)
			}
		}
	}
	if !strings.HasPrefix(path, "/") {
		t.drop(b, e, Warning, "track_file %s has no absolute file path", name)
		return "", 0, false
	}
	switch {
	case e.Arg(0) == "":
	case e.Arg(0) == "weight":
		w, err := strconv.Atoi(e.Arg(1))
		if err != nil || w < -253 || w > 253 {
			t.drop(b, e, Warning, "weight %q: lvsctl takes -253..253", e.Arg(1))
			return "", 0, false
		}
		switch e.Arg(2) {
		case "reverse":
			w = -w
		case "", "noreverse", "no_reverse":
		default:
			t.drop(b, e, Warning, "cannot read this tracked file: expected NAME [weight N [reverse]]")
			return "", 0, false
		}
		weight = w
	default:
		t.drop(b, e, Warning, "cannot read this tracked file: expected NAME [weight N [reverse]]")
		return "", 0, false
	}
	if weight < -253 || weight > 253 {
		t.drop(b, e, Warning, "weight %d of track_file %s: lvsctl takes -253..253", weight, name)
		return "", 0, false
	}
	return path, weight, true
}

// vrrpTrackProcess resolves an instance's track_process entry "NAME
// [weight W [reverse]]" through the top-level vrrp_track_process NAME {
// process PROC weight W [reverse] ... } into the process name and weight.
func (t *translator) vrrpTrackProcess(b *hblock, e *Stmt) (string, int, bool) {
	name := e.Keyword()
	var top *Stmt
	for _, s := range t.top {
		if (s.Keyword() == "vrrp_track_process" || s.Keyword() == "track_process") && s.Arg(0) == name {
			top = s
		}
	}
	if top == nil {
		t.drop(b, e, Warning, "there is no vrrp_track_process %s", name)
		return "", 0, false
	}
	proc, weight, reverse := "", 1, false
	for _, c := range top.Block {
		switch kw := c.Keyword(); kw {
		case "process":
			proc = strings.Trim(c.Arg(0), `"`)
			if len(c.Args()) > 1 {
				t.drop(b, e, Warning, "vrrp_track_process %s matches parameters; lvsctl matches the process name only", name)
				return "", 0, false
			}
		case "weight":
			w, err := strconv.Atoi(c.Arg(0))
			if err != nil {
				t.drop(b, e, Warning, "vrrp_track_process %s: weight %q is not a number", name, c.Arg(0))
				return "", 0, false
			}
			weight, reverse = w, c.Arg(1) == "reverse"
		case "quorum":
			if c.Arg(0) != "1" {
				t.drop(b, e, Warning, "vrrp_track_process %s: lvsctl counts a process as up when one runs (quorum 1), not %s", name, c.Arg(0))
				return "", 0, false
			}
		case "delay", "fork_delay", "terminate_delay":
			t.partly(b, e, Warning, "vrrp_track_process %s: lvsctl has no %s: it looks every second", name, kw)
		default:
			t.drop(b, e, Warning, "vrrp_track_process %s: lvsctl does not translate %s", name, kw)
			return "", 0, false
		}
	}
	if proc == "" {
		t.drop(b, e, Warning, "vrrp_track_process %s names no process", name)
		return "", 0, false
	}
	switch {
	case e.Arg(0) == "":
	case e.Arg(0) == "weight":
		w, err := strconv.Atoi(e.Arg(1))
		if err != nil {
			t.drop(b, e, Warning, "cannot read this tracked process: expected NAME [weight N [reverse]]")
			return "", 0, false
		}
		weight, reverse = w, e.Arg(2) == "reverse"
	default:
		t.drop(b, e, Warning, "cannot read this tracked process: expected NAME [weight N [reverse]]")
		return "", 0, false
	}
	if reverse {
		t.drop(b, e, Warning, "lvsctl has no reverse weights")
		return "", 0, false
	}
	if weight < -253 || weight > 253 {
		t.drop(b, e, Warning, "weight %d: lvsctl takes -253..253", weight)
		return "", 0, false
	}
	return proc, weight, true
}

// garpDefaults are global_defs' vrrp_garp_master_delay, _repeat, _refresh,
// _refresh_repeat and vrrp_startup_delay, by the instance keyword they
// default.
type garpDefaults map[string]float64

// garpRange is the range of each, as the instance keyword takes it.
var garpRange = map[string][2]float64{
	"garp_master_delay": {0, 86400}, "garp_master_repeat": {1, 255},
	"garp_master_refresh": {0, 86400}, "garp_master_refresh_repeat": {1, 255},
	"vrrp_startup_delay": {0, 86400},
}

// instanceKeyword is the vrrp_instance keyword a global one defaults.
func instanceKeyword(global string) string {
	if global == "vrrp_startup_delay" {
		return global
	}
	return strings.TrimPrefix(global, "vrrp_")
}

func (g garpDefaults) add(s *Stmt) garpDefaults {
	kw := instanceKeyword(s.Keyword())
	f, err := strconv.ParseFloat(s.Arg(0), 64)
	r := garpRange[kw]
	if err != nil || f < r[0] || f > r[1] || ((kw == "garp_master_refresh" || kw == "vrrp_startup_delay") && f == 0) {
		return g
	}
	if strings.HasSuffix(kw, "repeat") && f != float64(int(f)) {
		return g
	}
	if g == nil {
		g = garpDefaults{}
	}
	g[kw] = f
	return g
}

// globalGARPNote reports a global vrrp_garp_master_* keyword: translated
// into each instance, or not, when its value is out of range.
func (t *translator) globalGARPNote(b *hblock, s *Stmt) {
	kw := instanceKeyword(s.Keyword())
	if _, ok := t.vrrpGARP[kw]; ok {
		t.partly(b, s, Note, "translated into %s of each vrrp_instance that sets none", kw)
		return
	}
	if (kw == "garp_master_refresh" || kw == "vrrp_startup_delay") && s.Arg(0) == "0" {
		t.drop(b, s, Note, "0 is keepalived's default: no refresh")
		return
	}
	r := garpRange[kw]
	t.drop(b, s, Warning, "%q is not a value of %g-%g", s.Arg(0), r[0], r[1])
}

// firstVIPLinkLocal reports whether the instance's first VIP, as the output
// lists them (the list, then the vip blocks), is link-local.
func firstVIPLinkLocal(plain []string, labelled []*hblock) bool {
	text := ""
	switch {
	case len(plain) > 0:
		text = plain[0]
	case len(labelled) > 0:
		v, _ := labelled[0].get("address")
		text = v.AsString()
	}
	text, _, _ = strings.Cut(text, "/")
	a, err := netip.ParseAddr(text)
	return err == nil && a.IsLinkLocalUnicast()
}

// useVMAC translates use_vmac [NAME] [MAC] into b and returns the
// macvlan's name (keepalived's default is vrrp.VRID).
func (t *translator) useVMAC(b *hblock, s *Stmt) string {
	name := ""
	args := s.Args()
	if len(args) > 0 {
		if _, err := net.ParseMAC(args[0]); err != nil {
			name, args = args[0], args[1:]
		}
	}
	if len(args) > 0 {
		t.partly(b, s, Warning, "lvsctl gives the macvlan the RFC 5798 MAC 00:00:5e:00:01:VRID, not %s: the clients' ARP entries change once at cut-over", args[0])
	}
	if name == "" {
		b.set("use_vmac", truth)
		v, _ := b.get("virtual_router_id")
		f, _ := v.AsBigFloat().Int64()
		return fmt.Sprintf("vrrp.%d", f)
	}
	b.set("use_vmac", str(name))
	return name
}

var instanceReasons = map[string]string{
	"preempt":                    "note: preemption is lvsctl's default",
	"dont_track_primary":         "lvsctl always tracks the instance's interface",
	"native_ipv6":                "note: the VIPs decide the family in lvsctl, as in keepalived 2.2",
	"use_vmac_addr":              "lvsctl puts every VIP on the instance's own virtual MAC interface",
	"use_ipvlan":                 "lvsctl has no ipvlan interfaces; use_vmac makes a macvlan",
	"skip_check_adv_addr":        "lvsctl always checks the addresses in adverts",
	"check_unicast_src":          "lvsctl does not check the source of unicast adverts",
	"track_bfd":                  "lvsctl has no BFD",
	"notify_master_rx_lower_pri": "lvsctl has no such hook",
	"notify_deleted":             "lvsctl has no such hook",
	"garp_lower_prio_delay":      "lvsctl sends no gratuitous ARPs on adverts of a lower priority",
	"garp_lower_prio_repeat":     "lvsctl sends no gratuitous ARPs on adverts of a lower priority",
	"lower_prio_no_advert":       "lvsctl does not change how it answers lower priorities",
	"higher_prio_send_advert":    "lvsctl does not answer adverts of a higher priority",
	"debug":                      "note: logging only",
	"kernel_rx_buf_size":         "note: socket tuning of keepalived",
	"unicast_ttl":                "lvsctl sends unicast adverts with the standard TTL",
	"unicast_fault_no_peer":      "lvsctl does not fault an instance without peers",
	"promote_secondaries":        "lvsctl does not change the interface's promote_secondaries",
	"track_src_ip":               "lvsctl does not follow the interface's address",
}

// vipOptions are the words after a VIP's address that lvsctl does not
// translate; the value says whether they take an argument.
var vipOptions = map[string]bool{
	"preferred_lft": true, "peer": true, "track_group": true,
	"no_track": false, "home": false, "-nodad": false, "nodad": false, "noprefixroute": false, "autojoin": false,
	"mngtmpaddr": false, "use_vmac": false,
}

// vipSame are the vipOptions that change nothing in lvsctl: keepalived
// applies track_group to static addresses only. no_track differs (see
// noTrackDiffers): lvsctl watches every VIP.
var vipSame = map[string]string{
	"track_group": "track_group (keepalived applies it to static addresses only)",
}

func (t *translator) vrrpInstance(s *Stmt) *hblock {
	name := s.Arg(0)
	if name == "" || !s.HasBlock {
		t.drop(nil, s, Warning, "a vrrp_instance needs a name and a block")
		return nil
	}
	b := newBlock("vrrp_instance", name)
	b.src = s
	b.lead = hcomment{s.Pos.String()}
	var (
		iface    string
		version  = t.vrrpVersion
		auth     *Stmt
		vipStmts []*Stmt
		// virtual_ipaddress_excluded, virtual_routes, virtual_rules
		excludedStmts, routeStmts, ruleStmts []*Stmt
		mcastSrc                             *Stmt
		vmac                                 *Stmt  // use_vmac
		vmacName                             string // the macvlan's name, when vmac is set
		xmitBase                             *Stmt  // vmac_xmit_base
		nopreempt                            *Stmt
		strict                               *Stmt // strict_mode on, or nil
		strictOff                            bool  // strict_mode off: global vrrp_strict does not apply
		tracks                               []*Stmt
		trackKind                            []string
	)
	for _, c := range s.Block {
		switch kw := c.Keyword(); kw {
		case "interface":
			iface = c.Arg(0)
			b.set("interface", str(iface))
			t.extraArgs(b, c, 1)
		case "virtual_router_id":
			if f, ok := t.number(b, c, 0, 1, 255, true); ok {
				b.set(kw, num(f))
			}
		case "priority":
			if f, ok := t.number(b, c, 0, 1, 255, true); ok {
				b.set(kw, num(f))
			}
		case "advert_int":
			if f, ok := t.number(b, c, 0, 0.01, 255, false); ok {
				b.set("advert_interval", num(f))
			}
		case "version":
			if f, ok := t.number(b, c, 0, 2, 3, true); ok {
				version = int(f)
			}
		case "nopreempt":
			b.set("nopreempt", truth)
			nopreempt = c
		case "preempt_delay":
			if f, ok := t.number(b, c, 0, 0, 1000, false); ok {
				b.set(kw, num(f))
			}
		case "garp_master_delay":
			if f, ok := t.number(b, c, 0, 0, 86400, false); ok {
				b.set(kw, num(f))
			}
		case "garp_master_repeat", "garp_master_refresh_repeat":
			if f, ok := t.number(b, c, 0, 1, 255, true); ok {
				b.set(kw, num(f))
			}
		case "garp_master_refresh":
			if f, ok := t.number(b, c, 0, 0, 86400, false); ok && f > 0 {
				b.set(kw, num(f))
			}
		case "unicast_src_ip":
			b.set(kw, str(c.Arg(0)))
		case "mcast_src_ip":
			mcastSrc = c
		case "unicast_peer":
			var peers []string
			for _, p := range c.Block {
				peers = append(peers, p.Keyword())
				if len(p.Words) > 1 {
					t.partly(b, p, Warning, "lvsctl sets no per-peer TTL limits")
				}
			}
			if len(peers) == 0 {
				t.drop(b, c, Note, "an empty unicast_peer block: adverts are multicast")
				continue
			}
			b.set(kw, strList(peers))
		case "authentication":
			auth = c
		case "virtual_ipaddress":
			vipStmts = append(vipStmts, c.Block...)
		case "virtual_ipaddress_excluded":
			excludedStmts = append(excludedStmts, c.Block...)
		case "virtual_routes":
			routeStmts = append(routeStmts, c.Block...)
		case "virtual_rules":
			ruleStmts = append(ruleStmts, c.Block...)
		case "track_script", "track_interface", "track_file", "track_process":
			for _, e := range c.Block {
				tracks = append(tracks, e)
				trackKind = append(trackKind, strings.TrimPrefix(kw, "track_"))
			}
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			t.setCommand(b, c, kw, true, nil)
		case "state":
			switch st := strings.ToUpper(c.Arg(0)); st {
			case "MASTER", "BACKUP":
				b.set(kw, str(st))
				t.extraArgs(b, c, 1)
			default:
				t.drop(b, c, Warning, "%q is not MASTER or BACKUP; keepalived starts the instance as backup", c.Arg(0))
			}
		case "accept", "no_accept":
			b.set(kw, truth)
			t.extraArgs(b, c, 0)
		case "strict_mode":
			switch strings.ToLower(c.Arg(0)) {
			case "", "on", "true", "yes":
				strict = c
			case "off", "false", "no":
				strictOff = true
			default:
				t.drop(b, c, Warning, "%q is not on or off", c.Arg(0))
			}
		case "use_vmac":
			vmac = c
		case "vmac_xmit_base":
			xmitBase = c
		case "lvs_sync_daemon_interface":
			// A sync block after the instance (syncDaemon).
		default:
			t.unsupported(b, c, "vrrp_instance", instanceReasons)
		}
	}
	if mcastSrc != nil {
		if b.has("unicast_src_ip") {
			t.drop(b, mcastSrc, Warning, "unicast_src_ip is set too; lvsctl has one source address")
		} else {
			b.set("unicast_src_ip", str(mcastSrc.Arg(0)))
		}
	}
	if iface == "" {
		t.drop(nil, s, Warning, "vrrp_instance %s has no interface", name)
		return nil
	}
	if !b.has("virtual_router_id") {
		t.drop(nil, s, Warning, "vrrp_instance %s has no (valid) virtual_router_id", name)
		return nil
	}
	// global_defs' vrrp_garp_* are the defaults of every instance.
	for kw, v := range t.vrrpGARP {
		if !b.has(kw) {
			b.set(kw, num(v))
		}
	}
	if st, ok := b.get("state"); ok && nopreempt != nil && st.AsString() == "MASTER" {
		b.unset("nopreempt")
		t.drop(b, nopreempt, Note, "keepalived turns nopreempt off when the state is MASTER (\"nopreempt will not work with initial state MASTER\"), and so does lvsctl")
	}
	if vmac != nil {
		vmacName = t.useVMAC(b, vmac)
	}
	switch {
	case xmitBase != nil && vmac == nil:
		t.drop(b, xmitBase, Note, "without use_vmac there is no macvlan: keepalived ignores vmac_xmit_base too")
	case xmitBase != nil:
		b.set("vmac_xmit_base", truth)
	case vmac != nil && b.has("unicast_peer"):
		// keepalived needs vmac_xmit_base for unicast and so does lvsctl.
		b.set("vmac_xmit_base", truth)
		t.partly(b, vmac, Warning, "with unicast_peer the adverts must go out of %s itself: vmac_xmit_base = true is added (keepalived 2.2 requires it)", iface)
	}
	labelDev := iface
	if vmacName != "" {
		labelDev = vmacName
	}

	// VIPs.
	var plain, excludedPlain []string
	var labelled []*hblock
	seen := map[netip.Addr]bool{}
	is6 := false
	addVIPs := func(stmts []*Stmt, excluded bool) {
		for _, v := range stmts {
			text := v.Keyword()
			var a netip.Addr
			var err error
			if strings.Contains(text, "/") {
				var p netip.Prefix
				p, err = netip.ParsePrefix(text)
				a = p.Addr()
			} else {
				a, err = netip.ParseAddr(text)
			}
			if err != nil {
				t.drop(b, v, Warning, "%q is not an address", text)
				continue
			}
			if seen[a] {
				t.drop(b, v, Note, "%s is already a VIP of this instance", a)
				continue
			}
			if owner, ok := t.vipOwner[a]; ok {
				t.drop(b, v, Warning, "%s is already a VIP of vrrp_instance %s", a, owner)
				continue
			}
			opts := map[string]string{}
			var dropped, noted []string
			bad, noTrack := false, false
			for i := 1; i < len(v.Words); i++ {
				w := v.Words[i]
				switch w {
				case "dev", "label", "scope", "brd", "broadcast":
					if i+1 >= len(v.Words) {
						bad = true
						break
					}
					if w == "broadcast" {
						w = "brd"
					}
					opts[w] = v.Words[i+1]
					i++
				default:
					takes, known := vipOptions[w]
					if !known {
						bad = true
						break
					}
					if same, ok := vipSame[w]; ok {
						noted = append(noted, same)
					} else if w == "no_track" {
						noTrack = true
					} else {
						dropped = append(dropped, w)
					}
					if takes {
						i++
					}
				}
			}
			dev := labelDev
			if d := opts["dev"]; d != "" && d != iface {
				dev = d
			} else {
				delete(opts, "dev")
			}
			if _, named := scopeNames[opts["scope"]]; opts["scope"] != "" && !named {
				if n, err := strconv.Atoi(opts["scope"]); err != nil || n < 0 || n > 255 {
					bad = true
				}
			}
			if brd := opts["brd"]; brd != "" {
				if ba, err := netip.ParseAddr(brd); err != nil || !ba.Is4() || !a.Is4() {
					// keepalived's "brd +" and "brd -" compute it: the kernel's default.
					delete(opts, "brd")
					dropped = append(dropped, "brd "+brd)
				}
			}
			switch {
			case bad:
				t.drop(b, v, Warning, "cannot read this VIP's options")
				continue
			case opts["label"] != "" && !strings.HasPrefix(opts["label"], dev):
				t.drop(b, v, Warning, "the label %s does not start with the interface name %s, which the kernel requires", opts["label"], dev)
				continue
			}
			if len(dropped) > 0 {
				t.partly(b, v, Warning, "the VIP is translated without %s", strings.Join(dropped, ", "))
			}
			if noTrack {
				t.partly(b, v, Warning, "%s", noTrackDiffers("VIP"))
			}
			if len(noted) > 0 {
				t.partly(b, v, Note, "translated without %s", strings.Join(noted, ", "))
			}
			seen[a] = true
			t.vipOwner[a] = name
			if a.Is6() && !excluded {
				is6 = true
			}
			switch {
			case len(opts) > 0:
				vb := newBlock("vip")
				vb.set("address", str(text))
				for _, k := range []string{"dev", "label", "brd"} {
					if opts[k] != "" {
						vb.set(k, str(opts[k]))
					}
				}
				if sc := opts["scope"]; sc != "" {
					if n, err := strconv.Atoi(sc); err == nil {
						vb.set("scope", num(float64(n)))
					} else {
						vb.set("scope", str(sc))
					}
				}
				if excluded {
					vb.set("excluded", truth)
				}
				labelled = append(labelled, vb)
			case excluded:
				excludedPlain = append(excludedPlain, text)
			default:
				plain = append(plain, text)
			}
		}
	}
	addVIPs(vipStmts, false)
	addVIPs(excludedStmts, true)
	if len(plain) > 0 {
		b.set("virtual_ipaddress", strList(plain))
	}
	if len(excludedPlain) > 0 {
		b.set("virtual_ipaddress_excluded", strList(excludedPlain))
	}
	b.blocks = append(b.blocks, labelled...)
	t.vrrpRoutes(b, routeStmts)
	t.vrrpRules(b, ruleStmts)

	if strict != nil || (t.vrrpStrict != nil && !strictOff) {
		at := strict
		if at == nil {
			at = t.vrrpStrict
		}
		switch {
		case len(plain)+len(labelled) == 0:
			t.drop(b, at, Warning, "strict mode needs a VIP: keepalived refuses this instance")
		case is6 && !firstVIPLinkLocal(plain, labelled):
			t.drop(b, at, Warning, "strict mode wants the first IPv6 VIP to be link-local (RFC 5798)")
		default:
			b.set("strict_mode", truth)
		}
	}
	if b.has("accept") && b.has("no_accept") {
		b.unset("accept")
		b.unset("no_accept")
		t.partly(b, s, Warning, "accept and no_accept both set: lvsctl refuses both, the import keeps neither (accept mode, unless strict)")
	}
	if version != 0 {
		b.set("version", num(float64(version)))
	}
	if auth != nil {
		t.authentication(b, auth, version == 3 || (version == 0 && is6))
	}

	// Tracking: plain names in lists, names with a weight in track blocks.
	lists := map[string][]string{}
	seenFiles := map[string]bool{}
	for i, e := range tracks {
		kind := trackKind[i]
		target := e.Keyword()
		if kind == "process" {
			if proc, w, ok := t.vrrpTrackProcess(b, e); ok {
				if seenFiles["process:"+proc] {
					t.drop(b, e, Warning, "process %s is already tracked by this instance", proc)
					continue
				}
				seenFiles["process:"+proc] = true
				if w == 1 {
					lists["process"] = append(lists["process"], proc)
				} else {
					tb := newBlock("track")
					tb.set("process", str(proc))
					tb.set("weight", num(float64(w)))
					b.add(tb)
				}
			}
			continue
		}
		if kind == "file" {
			if path, w, ok := t.vrrpTrackFile(b, e); ok {
				if seenFiles[path] {
					t.drop(b, e, Warning, "%s is already tracked by this instance", path)
					continue
				}
				seenFiles[path] = true
				if w == 1 {
					lists["file"] = append(lists["file"], path)
				} else {
					tb := newBlock("track")
					tb.set("file", str(path))
					tb.set("weight", num(float64(w)))
					b.add(tb)
				}
			}
			continue
		}
		if kind == "script" && !t.scripts[target] {
			t.drop(b, e, Warning, "vrrp_script %s is not in the output (missing, or not translated)", target)
			continue
		}
		if e.Arg(0) == "" {
			lists[kind] = append(lists[kind], target)
			continue
		}
		if e.Arg(0) != "weight" {
			t.drop(b, e, Warning, "cannot read this tracked %s: expected NAME [weight N]", kind)
			continue
		}
		f, ok := t.number(b, &Stmt{Pos: e.Pos, Words: e.Words[1:], Raw: e.Raw}, 0, -253, 253, true)
		if !ok {
			continue
		}
		if e.Arg(2) == "reverse" {
			t.partly(b, e, Warning, "lvsctl has no reverse weights: the weight applies when the %s is down", kind)
		}
		tb := newBlock("track")
		tb.set(kind, str(target))
		tb.set("weight", num(f))
		b.add(tb)
	}
	for _, kind := range []string{"script", "interface", "file", "process"} {
		if l := lists[kind]; len(l) > 0 {
			b.set("track_"+kind, strList(l))
		}
	}
	// track blocks after the vip blocks.
	slices.SortStableFunc(b.blocks, func(x, y *hblock) int { return blockRank(x.typ) - blockRank(y.typ) })
	t.instances[name] = true
	return b
}

func blockRank(typ string) int {
	switch typ {
	case "authentication":
		return 0
	case "vip":
		return 1
	case "track":
		return 2
	}
	return 3
}

// authentication translates an authentication block into b.
func (t *translator) authentication(b *hblock, s *Stmt, v3 bool) {
	if v3 {
		t.drop(b, s, Note, "VRRPv3 has no authentication; keepalived sends none either")
		return
	}
	var typ, pass *Stmt
	for _, c := range s.Block {
		switch c.Keyword() {
		case "auth_type":
			typ = c
		case "auth_pass":
			pass = c
		default:
			t.drop(b, c, Warning, "unknown keyword %q in authentication (keepalived 2.2 ignores it too)", c.Keyword())
		}
	}
	switch {
	case typ == nil || pass == nil:
		t.drop(b, s, Warning, "authentication needs auth_type and auth_pass; keepalived sends no authentication without them")
		return
	case strings.ToUpper(typ.Arg(0)) == "AH":
		t.drop(b, s, Warning, "lvsctl does not support IPsec AH authentication (RFC 3768 removed it): the other routers must send none, or PASS")
		return
	case strings.ToUpper(typ.Arg(0)) != "PASS":
		t.drop(b, s, Warning, "unknown auth_type %q", typ.Arg(0))
		return
	}
	pw := pass.Arg(0)
	if pw == "" {
		t.drop(b, s, Warning, "auth_pass is empty")
		return
	}
	ab := newBlock("authentication")
	if len(pw) > 8 {
		t.record(pass, Note, "keepalived sends only the first 8 characters of the password; so does the translation")
		ab.note(header(pass, Note, "keepalived sends only the first 8 characters of the password; so does the translation"))
		pw = pw[:8]
	}
	ab.set("password", str(pw))
	b.blocks = append([]*hblock{ab}, b.blocks...)
}

var groupReasons = map[string]string{
	"smtp_alert":              "lvsctl mails the state changes of each vrrp_instance, not of sync groups: set smtp_alert in every member instead",
	"track_script":            "lvsctl tracks in each vrrp_instance, not in sync groups: track in every member instead",
	"track_interface":         "lvsctl tracks in each vrrp_instance, not in sync groups: track in every member instead",
	"track_file":              "lvsctl tracks in each vrrp_instance, not in sync groups: track in every member instead",
	"track_process":           "lvsctl tracks in each vrrp_instance, not in sync groups: track in every member instead",
	"track_bfd":               "lvsctl has no BFD",
	"notify_priority_changes": "lvsctl has no notify FIFO; use notify hooks",
}

func (t *translator) syncGroup(s *Stmt, grouped map[string]bool) *hblock {
	name := s.Arg(0)
	if name == "" || !s.HasBlock {
		t.drop(nil, s, Warning, "a vrrp_sync_group needs a name and a block")
		return nil
	}
	b := newBlock("vrrp_sync_group", name)
	b.src = s
	b.lead = hcomment{s.Pos.String()}
	var members []string
	for _, c := range s.Block {
		switch kw := c.Keyword(); kw {
		case "group":
			for _, m := range c.Block {
				for _, n := range m.Words {
					switch {
					case !t.instances[n]:
						t.drop(b, m, Warning, "vrrp_instance %s is not in the output (missing, or not translated)", n)
					case grouped[n]:
						t.drop(b, m, Warning, "vrrp_instance %s is already in another sync group", n)
					case slices.Contains(members, n):
					default:
						members = append(members, n)
					}
				}
			}
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			t.setCommand(b, c, kw, true, nil)
		case "global_tracking", "sync_group_tracking_weight":
			b.set("sync_group_tracking_weight", truth)
		default:
			if _, ok := groupReasons[kw]; !ok && !c.HasBlock && len(c.Words) == 1 && t.instances[kw] {
				t.drop(b, c, Warning, "keepalived 2.x ignores an instance name here (members go in group { }); it is not a member")
				continue
			}
			t.unsupported(b, c, "vrrp_sync_group", groupReasons)
		}
	}
	if len(members) == 0 {
		t.drop(nil, s, Warning, "vrrp_sync_group %s has no member that is in the output", name)
		return nil
	}
	for _, m := range members {
		grouped[m] = true
	}
	b.set("group", strList(members))
	return b
}

// The IPVS connection sync daemon: global_defs' lvs_sync_daemon, or the
// deprecated lvs_sync_daemon_interface of a vrrp_instance, becomes the sync
// block. keepalived takes the first of them in the files' order and
// ignores the others; it starts no daemon without a VRRP instance.

// findSyncDaemon returns the statement keepalived takes (nil if none), with
// the vrrp_instance that holds it for lvs_sync_daemon_interface.
func findSyncDaemon(stmts []*Stmt) (s, inst *Stmt) {
	for _, top := range stmts {
		switch top.Keyword() {
		case "global_defs":
			for _, c := range top.Block {
				if c.Keyword() == "lvs_sync_daemon" && c.Arg(0) != "" {
					return c, nil
				}
			}
		case "vrrp_instance":
			for _, c := range top.Block {
				if c.Keyword() == "lvs_sync_daemon_interface" && c.Arg(0) != "" {
					return c, top
				}
			}
		}
	}
	return nil, nil
}

// syncDaemon translates s, a lvs_sync_daemon or lvs_sync_daemon_interface
// statement, into a sync block; b is where the statement's notes go. It
// returns nil when there is no daemon to run.
func (t *translator) syncDaemon(b *hblock, s *Stmt) *hblock {
	if s.Arg(0) == "" {
		t.drop(b, s, Note, "%s needs an interface: keepalived ignores it, and so does the translation", s.Keyword())
		return nil
	}
	if s != t.syncStmt {
		t.drop(b, s, Note, "keepalived runs one sync daemon and takes the first setting, at %s: it ignores this one, and so does the translation", t.syncStmt.Pos)
		return nil
	}
	sb := newBlock("sync")
	sb.lead = hcomment{s.Pos.String()}
	iface := s.Arg(0)
	if len(iface) >= 16 {
		t.drop(b, s, Note, "interface name %q is too long: keepalived ignores the setting and runs no sync daemon; neither does the translation", iface)
		return nil
	}
	sb.set("interface", str(iface))
	if s.Keyword() == "lvs_sync_daemon_interface" {
		t.extraArgs(b, s, 1)
		// keepalived sets the instance directly and the syncid to 0 (not
		// the instance's virtual_router_id, as with lvs_sync_daemon).
		sb.set("vrrp_instance", str(t.syncInst.Arg(0)))
		sb.set("syncid", num(0))
		t.partly(sb, s, Note, "deprecated in keepalived (which says to use global_defs' lvs_sync_daemon): translated to the sync block, with syncid 0 as keepalived sets it")
		return t.syncInstance(b, s, sb, t.syncInst.Arg(0))
	}
	args := s.Args()
	var inst string
	for i := 1; i < len(args); i++ {
		opt := args[i]
		val, hasVal := "", i+1 < len(args)
		if hasVal {
			val = args[i+1]
		}
		bad := func(msg string) {
			t.partly(sb, s, Note, "%s: keepalived ignores it, and so does the translation", msg)
		}
		number := func(name, attr string, lo, hi int) {
			n, err := strconv.Atoi(val)
			switch {
			case !hasVal:
				bad(fmt.Sprintf("no value for %s", opt))
			case err != nil || n < lo || n > hi:
				bad(fmt.Sprintf("%s %q is not a whole number from %d to %d", opt, val, lo, hi))
			default:
				sb.set(attr, num(float64(n)))
			}
		}
		switch {
		case opt == "inst":
			if inst == "" {
				inst = val
			}
			i++
		case opt == "id":
			number("id", "syncid", 0, 255)
			i++
		case opt == "maxlen":
			number("maxlen", "sync_maxlen", 1, 65535-20-8)
			i++
		case opt == "port":
			number("port", "port", 1, 65535)
			i++
		case opt == "ttl":
			number("ttl", "ttl", 1, 255)
			i++
		case opt == "group":
			g, err := netip.ParseAddr(val)
			if !hasVal || err != nil || !g.IsMulticast() {
				bad(fmt.Sprintf("group %q is not a multicast address", val))
			} else {
				sb.set("group", str(g.String()))
			}
			i++
		case i == 1:
			// lvs_sync_daemon IFACE INSTANCE [SYNCID], the older form.
			inst = opt
		case i == 2:
			if n, err := strconv.Atoi(opt); err == nil && n >= 0 && n <= 255 {
				sb.set("syncid", num(float64(n)))
			} else {
				t.partly(sb, s, Note, "syncid %q is not a whole number from 0 to 255: keepalived uses the instance's virtual_router_id, and so does the translation", opt)
			}
		default:
			t.partly(sb, s, Note, "unknown option %q of lvs_sync_daemon: keepalived ignores it, and so does the translation", opt)
		}
	}
	if inst == "" {
		t.drop(b, s, Note, "no vrrp_instance: keepalived starts no sync daemon without one, and neither does the translation")
		return nil
	}
	sb.set("vrrp_instance", str(inst))
	return t.syncInstance(b, s, sb, inst)
}

// syncInstance finishes sb, the sync block following instance inst.
func (t *translator) syncInstance(b *hblock, s *Stmt, sb *hblock, inst string) *hblock {
	switch {
	case t.instances[inst]:
		return sb
	case !t.allInstances[inst]:
		t.drop(b, s, Note, "there is no vrrp_instance %s: keepalived clears the sync daemon's settings (\"Unable to find vrrp instance\") and runs none; neither does the translation", inst)
	default:
		t.drop(b, s, Warning, "vrrp_instance %s is not translated, and lvsctl's sync block follows an instance: keepalived runs a sync daemon, lvsctl will not", inst)
	}
	return nil
}
