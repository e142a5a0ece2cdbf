package kaimport

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// keepalived's static_ipaddress, static_routes and static_rules blocks:
// one lvsctl block of the same name per line, the address in the vip
// block's attributes, the routes and rules as virtual_routes and
// virtual_rules (vrrp.go).

// staticAddrOptions are the words after a static address that lvsctl does
// not translate; the value says whether they take an argument.
var staticAddrOptions = map[string]bool{
	"preferred_lft": true, "peer": true, "track_group": true,
	"home": false, "-nodad": false, "nodad": false, "noprefixroute": false, "autojoin": false, "mngtmpaddr": false,
}

func (t *translator) static(s *Stmt) {
	if !s.HasBlock {
		t.drop(nil, s, Warning, "%s needs a block", s.Keyword())
		return
	}
	for _, e := range s.Block {
		var b *hblock
		switch s.Keyword() {
		case "static_ipaddress":
			b = t.staticAddress(e)
		case "static_routes":
			b = t.routeLine(nil, e, "static_routes")
			if b != nil && !b.has("via") && !b.has("dev") && !b.has("blackhole") {
				t.drop(nil, e, Warning, "lvsctl needs dev, via or blackhole in a static route: it has no default interface to put it on")
				b = nil
			}
		case "static_rules":
			b = t.ruleLine(nil, e, "static_rules")
		}
		t.noteUnfollowed(b, e, s.Keyword())
		if b != nil {
			b.lead = hcomment{e.Pos.String()}
			t.emitBlock(b)
		}
	}
}

// defaultInterface is global_defs' default_interface, or keepalived's
// DFLT_INT.
func (t *translator) defaultInterface() string {
	dev := "eth0"
	for _, s := range t.top {
		if s.Keyword() != "global_defs" {
			continue
		}
		for _, c := range s.Block {
			if c.Keyword() == "default_interface" && c.Arg(0) != "" {
				dev = c.Arg(0)
			}
		}
	}
	return dev
}

// staticAddress translates one static_ipaddress line: IP[/LEN] [dev IF]
// [brd|broadcast IP] [scope S] [label L] and options lvsctl leaves out.
// keepalived puts an address without dev on default_interface (eth0
// without one), and ignores scope and label on an IPv6 address.
func (t *translator) staticAddress(e *Stmt) *hblock {
	text := e.Keyword()
	p, err := parseAddrOrPrefix(text)
	if err != nil {
		t.drop(nil, e, Warning, "%q is not an address (keepalived skips it too)", text)
		return nil
	}
	a := p.Addr()
	opts := map[string]string{}
	var dropped []string
	noTrack := false
	for i := 1; i < len(e.Words); i++ {
		w := e.Words[i]
		switch w {
		case "dev", "label", "scope", "brd", "broadcast":
			if i+1 >= len(e.Words) {
				t.drop(nil, e, Warning, "missing value after %s", w)
				return nil
			}
			if w == "broadcast" {
				w = "brd"
			}
			opts[w] = e.Words[i+1]
			i++
		case "no_track":
			noTrack = true
		default:
			takes, known := staticAddrOptions[w]
			if !known {
				t.drop(nil, e, Warning, "lvsctl does not translate %q in a static address", w)
				return nil
			}
			if takes {
				if i+1 < len(e.Words) {
					w += " " + e.Words[i+1]
				}
				i++
			}
			dropped = append(dropped, w)
		}
	}
	b := newBlock("static_ipaddress")
	b.set("address", str(text))
	dev := opts["dev"]
	if dev == "" {
		dev = t.defaultInterface()
		t.partly(b, e, Note, "no dev: keepalived puts it on its default interface, %s, and so does dev = %q", dev, dev)
	}
	b.set("dev", str(dev))
	if a.Is6() {
		for _, k := range []string{"label", "scope"} {
			if opts[k] != "" {
				dropped = append(dropped, k+" "+opts[k]+" (keepalived ignores it on an IPv6 address)")
				delete(opts, k)
			}
		}
	}
	if l := opts["label"]; l != "" {
		if !strings.HasPrefix(l, dev) {
			t.drop(nil, e, Warning, "the label %s does not start with the interface name %s, which the kernel requires", l, dev)
			return nil
		}
		b.set("label", str(l))
	}
	if sc := opts["scope"]; sc != "" {
		if n, err := strconv.Atoi(sc); err == nil && n >= 0 && n <= 255 {
			b.set("scope", num(float64(n)))
		} else if scopeNames[sc] {
			b.set("scope", str(sc))
		} else {
			dropped = append(dropped, "scope "+sc+" (keepalived ignores an unknown scope)")
		}
	}
	if brd := opts["brd"]; brd != "" {
		if ba, err := netip.ParseAddr(brd); err == nil && ba.Is4() && a.Is4() {
			b.set("brd", str(brd))
		} else {
			// keepalived's "brd +" and "brd -" compute it: the kernel's default.
			dropped = append(dropped, "brd "+brd)
		}
	}
	if noTrack {
		t.partly(b, e, Warning, "%s", staticNoTrackDiffers("address"))
	}
	if len(dropped) > 0 {
		t.partly(b, e, Warning, "translated without %s", strings.Join(dropped, ", "))
	}
	return b
}

// staticNoTrackDiffers is the warning for no_track on a static address, a
// static route with dev or a static rule: keepalived then does not put it
// back when someone deletes it; lvsctl has no no_track and always does
// (vrrp.Statics.Watch).
func staticNoTrackDiffers(what string) string {
	return "no_track is not translated: lvsctl puts this static " + what + " back if someone deletes it " +
		"(keepalived does so only without no_track; with it, the " + what + " stays deleted)"
}

// noteUnfollowed notes on a static route with dev or a static rule b
// (translated from line e of block kind) that keepalived 2.2.7 would not
// put it back if someone deleted it, when the file does not make it follow
// such deletions (followsDeletions); lvsctl always does.
func (t *translator) noteUnfollowed(b *hblock, e *Stmt, kind string) {
	if b == nil || slices.Contains(e.Words, "no_track") {
		return
	}
	v6, ok := lineFamily(e.Words)
	if !ok {
		return
	}
	switch {
	case kind == "static_routes" && b.has("dev") && !t.followsDeletions("virtual_routes", "static_routes", v6):
		t.partly(b, e, Note, "lvsctl puts this static route back if someone deletes it; keepalived 2.2.7 would not here: it follows route deletions only when a vrrp_instance has a virtual route with dev (or a static route a track_group) of the same family")
	case kind == "static_rules" && !t.followsDeletions("virtual_rules", "static_rules", v6):
		t.partly(b, e, Note, "lvsctl puts this static rule back if someone deletes it; keepalived 2.2.7 would not here: it follows rule deletions only when a vrrp_instance has a virtual rule (or a static rule a track_group) of the same family")
	}
}

// followsDeletions reports whether keepalived 2.2.7 subscribes to route
// (virtual kind "virtual_routes") or rule ("virtual_rules") deletions of
// the family: when a vrrp_instance has a tracked line of that kind (a
// route with dev, a rule, without no_track), or a line of static kind
// names a track_group (vrrp.c: vrrp_complete_instance,
// process_static_entries, set_extra_netlink_monitoring).
func (t *translator) followsDeletions(virtual, static string, v6 bool) bool {
	same := func(l *Stmt) bool {
		f, ok := lineFamily(l.Words)
		return ok && f == v6
	}
	for _, s := range t.top {
		switch s.Keyword() {
		case "vrrp_instance":
			for _, c := range s.Block {
				if c.Keyword() != virtual {
					continue
				}
				for _, l := range c.Block {
					if same(l) && !slices.Contains(l.Words, "no_track") && (virtual == "virtual_rules" || slices.Contains(l.Words, "dev")) {
						return true
					}
				}
			}
		case static:
			for _, l := range s.Block {
				if same(l) && slices.Contains(l.Words, "track_group") {
					return true
				}
			}
		}
	}
	return false
}

// lineFamily is the family of a route or rule line: its first address
// (true: IPv6).
func lineFamily(words []string) (v6, ok bool) {
	for _, w := range words {
		if p, err := parseAddrOrPrefix(w); err == nil {
			return p.Addr().Is6(), true
		}
	}
	return false, false
}
