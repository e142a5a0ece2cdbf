package kaimport

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// The LVS part: virtual_server (with virtual_server_group expanded),
// real_server, sorry_server and the checkers.

var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}

var vsReasons = map[string]string{
	"ha_suspend": "lvsctl runs this virtual_server's checks whether or not its address is on this director (keepalived suspends them while the address is absent, as on a VRRP backup, and keeps the last states): the real servers also get the backup director's checks, and its states are current when it takes over",
	"omega":      "lvsctl does not run quorum_down when it stops",
	"hashed":     "note: the kernel hashes every service anyway",
	"weight":     "lvsctl has no weight of a virtual server (keepalived's, for VRRP tracking)",
	"flag-3":     "lvsctl sets only the sh and mh scheduler flags",
}

var realReasons = map[string]string{}

var checkReasons = map[string]string{
	"bind_port":                 "lvsctl sets the source port of tcp, http and https checks only; the kernel chooses this one's",
	"bind_if":                   "lvsctl binds tcp, http and https checks to an interface, not this type (bind_to, an address, is translated)",
	"fwmark":                    "lvsctl does not mark check packets",
	"log_all_failures":          "note: logging only",
	"tls_compliant":             "note: lvsctl's https checks close TLS connections properly anyway",
	"user":                      "lvsctl runs commands as its own user: see the warning at misc_path",
	"regex_stack":               "note: PCRE tuning",
	"protocol":                  "lvsctl's http checks use http_version",
	"dynamic_weight_multiplier": "lvsctl's dynamic weight is the exit status minus 2",
}

// vsKey is one IPVS service key of a virtual_server.
type vsKey struct {
	addr   netip.Addr
	port   int
	fwmark int
	// group and member name the virtual_server_group entry, if any.
	group  string
	member *Stmt
}

func (k vsKey) name(protocol string) string {
	var n string
	switch {
	case k.fwmark > 0:
		n = fmt.Sprintf("fwmark-%d", k.fwmark)
	default:
		n = netip.AddrPortFrom(k.addr, uint16(k.port)).String()
		if protocol != "" && protocol != "tcp" {
			n += "/" + protocol
		}
	}
	if k.group != "" {
		n = k.group + "-" + n
	}
	return n
}

type realSpec struct {
	stmt    *Stmt
	block   *hblock
	port    int
	hasPort bool
	checks  []*hblock // one per checker (an SMTP_CHECK's hosts: one each)
	vhost   string
	inhibit *bool
}

type vsSpec struct {
	stmt     *Stmt
	block    *hblock // attributes and notes, without the key
	protocol string
	protoSet *Stmt
	family   string
	vhost    *Stmt
	inhibit  bool
	reals    []*realSpec
	sorry    *realSpec
	// The statements keepalived may correct when it checks the
	// configuration.
	ops, quorum, hysteresis *Stmt
	// said holds the diagnostics recorded for the spec, which is
	// instantiated once per key.
	said map[string]bool
}

// onceNote records a note about s the first time, and shows it in b each
// time (without the statement).
func (t *translator) onceNote(spec *vsSpec, b *hblock, s *Stmt, msg string) {
	key := fmt.Sprintf("%p|%s", s, msg)
	if !spec.said[key] {
		spec.said[key] = true
		t.record(s, Note, msg)
	}
	b.note(header(s, Note, msg))
}

// once comments s in b (with msg), and records the diagnostic the first
// time only.
func (t *translator) once(spec *vsSpec, b *hblock, s *Stmt, sev Severity, msg string) {
	key := fmt.Sprintf("%p|%s", s, msg)
	if !spec.said[key] {
		spec.said[key] = true
		t.record(s, sev, msg)
	}
	c := hcomment{header(s, sev, msg)}
	if !s.HasBlock {
		c = append(c, stmtLines(s, "")...)
	}
	b.notes = append(b.notes, c)
}

func (t *translator) virtualServer(s *Stmt) {
	if !s.HasBlock {
		t.drop(nil, s, Warning, "a virtual_server needs a block")
		return
	}
	var keys []vsKey
	switch {
	case s.Arg(0) == "fwmark":
		n, err := strconv.ParseUint(s.Arg(1), 10, 32)
		if err != nil || n == 0 {
			t.drop(nil, s, Warning, "%q is not a firewall mark (1 to 4294967295)", s.Arg(1))
			return
		}
		keys = []vsKey{{fwmark: int(n)}}
	case s.Arg(0) == "group":
		g := t.vsgs[s.Arg(1)]
		if g == nil {
			t.drop(nil, s, Warning, "there is no virtual_server_group %q", s.Arg(1))
			return
		}
		t.usedVSG[s.Arg(1)] = true
		keys = t.groupKeys(g)
		if len(keys) == 0 {
			t.drop(nil, s, Warning, "virtual_server_group %s has no usable entry", s.Arg(1))
			return
		}
		t.record(s, Note, fmt.Sprintf("lvsctl has no groups: one virtual_server per member of %s (%d), each checking its real servers on its own", s.Arg(1), len(keys)))
	default:
		a, err := netip.ParseAddr(s.Arg(0))
		if err != nil || a.Zone() != "" {
			t.drop(nil, s, Warning, "%q is not an IP address (lvsctl resolves no host names)", s.Arg(0))
			return
		}
		p, err := strconv.Atoi(s.Arg(1))
		if err != nil || p < 1 || p > 65535 {
			t.drop(nil, s, Warning, "%q is not a port (1 to 65535); use fwmark for services on every port", s.Arg(1))
			return
		}
		keys = []vsKey{{addr: a.Unmap(), port: p}}
	}
	spec := t.vsBody(s)
	if len(spec.reals) == 0 {
		t.drop(nil, s, Note, "keepalived ignores a virtual_server without real servers (\"has no real servers - ignoring\"); so does the translation")
		return
	}
	for _, k := range keys {
		t.emitBlock(t.instantiate(spec, k))
	}
}

// groupKeys expands a virtual_server_group into service keys.
func (t *translator) groupKeys(g *Stmt) []vsKey {
	var keys []vsKey
	name := g.Arg(0)
	for _, e := range g.Block {
		if e.Keyword() == "fwmark" {
			n, err := strconv.ParseUint(e.Arg(0), 10, 32)
			if err != nil || n == 0 {
				t.drop(nil, e, Warning, "%q is not a firewall mark", e.Arg(0))
				continue
			}
			keys = append(keys, vsKey{fwmark: int(n), group: name, member: e})
			continue
		}
		addrs, err := addrRange(e.Keyword())
		if err != nil {
			t.drop(nil, e, Warning, "%v", err)
			continue
		}
		p, err := strconv.Atoi(e.Arg(0))
		if err != nil || p < 1 || p > 65535 {
			t.drop(nil, e, Warning, "%q is not a port (1 to 65535)", e.Arg(0))
			continue
		}
		for _, a := range addrs {
			keys = append(keys, vsKey{addr: a, port: p, group: name, member: e})
		}
	}
	return keys
}

const maxRange = 256

// addrRange reads an address or keepalived's range "10.0.0.3-10" (the last
// byte of IPv4, the last group of IPv6).
func addrRange(text string) ([]netip.Addr, error) {
	first, last, isRange := strings.Cut(text, "-")
	a, err := netip.ParseAddr(first)
	if err != nil || a.Zone() != "" {
		return nil, fmt.Errorf("%q is not an address or an address range", text)
	}
	a = a.Unmap()
	if !isRange {
		return []netip.Addr{a}, nil
	}
	base := 10
	if a.Is6() {
		base = 16
	}
	end, err := strconv.ParseUint(last, base, 16)
	b := a.AsSlice()
	var start uint64
	if a.Is4() {
		start = uint64(b[3])
	} else {
		start = uint64(b[14])<<8 | uint64(b[15])
	}
	if err != nil || end < start || (a.Is4() && end > 255) {
		return nil, fmt.Errorf("%q is not an address range", text)
	}
	if end-start >= maxRange {
		return nil, fmt.Errorf("the range %q has more than %d addresses", text, maxRange)
	}
	var out []netip.Addr
	for v := start; v <= end; v++ {
		if a.Is4() {
			b[3] = byte(v)
		} else {
			b[14], b[15] = byte(v>>8), byte(v)
		}
		x, _ := netip.AddrFromSlice(b)
		out = append(out, x)
	}
	return out, nil
}

// vsBody translates the body of a virtual_server, once for every key it
// has.
func (t *translator) vsBody(s *Stmt) *vsSpec {
	spec := &vsSpec{stmt: s, block: newBlock("virtual_server"), protocol: "tcp", said: map[string]bool{}}
	b := spec.block
	type flagAt struct {
		s     *Stmt
		sched string // the scheduler when the flag was read
	}
	var flags []flagAt
	var sorryMethod, peStmt *Stmt
	scheduler := "wlc"
	for _, c := range s.Block {
		switch kw := c.Keyword(); kw {
		case "delay_loop", "delay_before_retry", "connect_timeout":
			if f, ok := t.duration(b, c, false); ok {
				b.set(kw, num(f))
			}
		case "warmup":
			if f, ok := t.duration(b, c, true); ok {
				b.set(kw, num(f))
			}
		case "retry":
			if f, ok := t.number(b, c, 0, 0, 1<<31, true); ok {
				b.set(kw, num(f))
			}
		case "lb_algo", "lvs_sched":
			a := strings.ToLower(c.Arg(0))
			if !slices.Contains(schedulers, a) {
				t.drop(b, c, Warning, "unknown scheduler %q", c.Arg(0))
				continue
			}
			scheduler = a
			b.set("scheduler", str(a))
		case "lb_kind", "lvs_method":
			if f, ok := t.forwarding(b, c); ok {
				b.set("forwarding", str(f))
			}
		case "persistence_timeout":
			f := 360.0 // keepalived's default for a bare persistence_timeout
			if z, err := strconv.ParseFloat(c.Arg(0), 64); err == nil && z == 0 {
				// keepalived 2.2 rejects 0 (its range starts at 1) and
				// keeps what it had: no persistence, unless an earlier
				// persistence_timeout or a persistence_granularity set
				// one. So does the translation, silently.
				continue
			}
			if c.Arg(0) != "" {
				var ok bool
				if f, ok = t.number(b, c, 0, 1, 2147483647, true); !ok {
					continue
				}
			}
			b.set(kw, num(f))
		case "persistence_granularity":
			g := c.Arg(0)
			if strings.Contains(g, ".") || strings.Contains(g, ":") {
				b.set(kw, str(g))
			} else if f, ok := t.number(b, c, 0, 1, 128, true); ok {
				b.set(kw, num(f))
			}
		case "protocol":
			p := strings.ToLower(c.Arg(0))
			if p != "tcp" && p != "udp" && p != "sctp" {
				t.drop(b, c, Warning, "unknown protocol %q", c.Arg(0))
				continue
			}
			spec.protocol, spec.protoSet = p, c
		case "ip_family":
			switch c.Arg(0) {
			case "inet":
				spec.family = "ipv4"
			case "inet6":
				spec.family = "ipv6"
			default:
				t.drop(b, c, Warning, "unknown address family %q", c.Arg(0))
			}
		case "ops":
			b.set("one_packet", truth)
			spec.ops = c
		case "sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1", "flag-2":
			flags = append(flags, flagAt{c, scheduler})
		case "inhibit_on_failure":
			if v, ok := t.flag(b, c); ok {
				spec.inhibit = v
			}
		case "alpha":
			if v, ok := t.flag(b, c); ok && v {
				b.set("alpha", truth)
			}
		case "quorum":
			if f, ok := t.number(b, c, 0, 0, 2147483647, true); ok {
				if f < 1 {
					f = 1 // as keepalived
				}
				b.set(kw, num(f))
				spec.quorum = c
			}
		case "hysteresis":
			if f, ok := t.number(b, c, 0, 0, 2147483647, true); ok {
				b.set(kw, num(f))
				spec.hysteresis = c
			}
		case "quorum_up", "quorum_down":
			t.setCommand(b, c, kw, true, nil)
		case "virtualhost":
			spec.vhost = c
		case "real_server":
			rs := t.realServer(b, c, "real_server")
			if rs == nil {
				continue
			}
			if slices.ContainsFunc(spec.reals, func(o *realSpec) bool { return o.same(rs) }) {
				t.drop(b, c, Note, "real server %s is already in this virtual_server: keepalived removes the second one", strings.Join(c.Args(), " "))
				continue
			}
			spec.reals = append(spec.reals, rs)
		case "sorry_server":
			if spec.sorry != nil {
				t.drop(b, c, Warning, "a second sorry_server; keepalived replaces the first, lvsctl keeps the first")
				continue
			}
			spec.sorry = t.realServer(b, c, "sorry_server")
		case "sorry_server_lvs_method":
			sorryMethod = c
		case "persistence_engine":
			peStmt = c
		case "sorry_server_inhibit":
			// keepalived sets it on the sorry server already read.
			if spec.sorry == nil {
				t.drop(b, c, Note, "keepalived ignores sorry_server_inhibit before or without sorry_server (\"Ignoring sorry_server inhibit used before or without sorry_server\"), and so does the translation")
				continue
			}
			b.set(kw, truth)
		default:
			t.unsupported(b, c, "virtual_server", vsReasons)
		}
	}
	if sorryMethod != nil {
		switch {
		case spec.sorry == nil:
			t.drop(b, sorryMethod, Warning, "there is no sorry_server")
		default:
			if f, ok := t.forwarding(b, sorryMethod); ok {
				spec.sorry.block.set("forwarding", str(f))
			}
		}
	}
	if b.has("persistence_granularity") && !b.has("persistence_timeout") {
		b.set("persistence_timeout", num(360)) // keepalived's default
	}
	if peStmt != nil {
		switch pe := peStmt.Arg(0); {
		case pe != "sip":
			t.drop(b, peStmt, Warning, "the kernel has one persistence engine, sip; keepalived asks for %q and the kernel refuses the service (no such engine)", pe)
		case !b.has("persistence_timeout"):
			t.drop(b, peStmt, Note, "the service is not persistent: keepalived sets the engine, which the kernel uses only for persistent services; the translation leaves it out")
		default:
			b.set("persistence_engine", str(pe))
			t.extraArgs(b, peStmt, 1)
		}
	}
	// Scheduler flags.
	var sf []string
	for _, f := range flags {
		c, kw := f.s, f.s.Keyword()
		switch {
		case kw == "flag-1" && (scheduler == "sh" || scheduler == "mh"):
			kw = scheduler + "-fallback"
		case kw == "flag-2" && (scheduler == "sh" || scheduler == "mh"):
			kw = scheduler + "-port"
		case strings.HasPrefix(kw, "flag-"):
			t.drop(b, c, Warning, "%s only means something to the sh and mh schedulers", kw)
			continue
		case !strings.HasPrefix(kw, f.sched+"-"):
			// keepalived checks the scheduler when it reads the flag.
			t.drop(b, c, Note, "keepalived ignores %s unless lb_algo %s comes before it", kw, kw[:2])
			continue
		case !strings.HasPrefix(kw, scheduler+"-"):
			t.drop(b, c, Warning, "%s only applies to the %s scheduler, and lb_algo is %s", kw, kw[:2], scheduler)
			continue
		}
		if !slices.Contains(sf, kw) {
			sf = append(sf, kw)
		}
	}
	if len(sf) > 0 {
		b.set("scheduler_flags", strList(sf))
	}
	return spec
}

func (t *translator) forwarding(b *hblock, c *Stmt) (string, bool) {
	switch strings.ToUpper(c.Arg(0)) {
	case "NAT":
		return "nat", true
	case "DR":
		return "dr", true
	case "TUN":
		return "tun", true
	}
	t.drop(b, c, Warning, "unknown forwarding method %q (NAT, DR or TUN)", c.Arg(0))
	return "", false
}

var checkKinds = map[string]string{"TCP_CHECK": "tcp", "HTTP_GET": "http", "SSL_GET": "https", "MISC_CHECK": "exec",
	"PING_CHECK": "ping", "UDP_CHECK": "udp", "DNS_CHECK": "dns", "SMTP_CHECK": "smtp", "FILE_CHECK": "file", "BFD_CHECK": "bfd"} // the last six: checks.go

// realServer translates a real_server or sorry_server statement of the
// virtual_server block vs.
func (t *translator) realServer(vs *hblock, s *Stmt, typ string) *realSpec {
	a, err := netip.ParseAddr(s.Arg(0))
	if err != nil || a.Zone() != "" {
		// keepalived 2.2 reads it with inet_pton (inet_stosockaddr), not
		// getaddrinfo: a host name is skipped, so lvsctl's host names
		// (address = "NAME") would change what runs.
		t.drop(vs, s, Note, "%q is not an IP address: keepalived skips the %s (\"Invalid %s ip address/port - skipping\"), and so does the translation", s.Arg(0), typ, strings.ReplaceAll(typ, "_", " "))
		return nil
	}
	rs := &realSpec{stmt: s, block: newBlock(typ)}
	b := rs.block
	b.set("address", str(a.Unmap().String()))
	if s.Arg(1) != "" {
		p, err := strconv.Atoi(s.Arg(1))
		if err != nil || p < 0 || p > 65535 {
			t.drop(vs, s, Warning, "%q is not a port", s.Arg(1))
			return nil
		}
		rs.port, rs.hasPort = p, true
	}
	if typ == "sorry_server" {
		if s.HasBlock {
			for _, c := range s.Block {
				t.drop(b, c, Warning, "a sorry_server has no block in keepalived")
			}
		}
		return rs
	}
	type timing struct {
		a *hattr
		s *Stmt
	}
	var times []timing
	var vhost *Stmt
	var tunnel *hblock
	tun := func() *hblock {
		if tunnel == nil {
			tunnel = newBlock("tunnel")
		}
		return tunnel
	}
	for _, c := range s.Block {
		switch kw := c.Keyword(); kw {
		case "weight":
			if f, ok := t.number(b, c, 0, 0, 2147483647, true); ok {
				b.set(kw, num(f))
			}
		case "lvs_method":
			if f, ok := t.forwarding(b, c); ok {
				b.set("forwarding", str(f))
			}
		case "uthreshold", "lthreshold":
			if f, ok := t.number(b, c, 0, 0, 4294967295, true); ok {
				b.set(map[string]string{"uthreshold": "upper_threshold", "lthreshold": "lower_threshold"}[kw], num(f))
			}
		case "inhibit_on_failure":
			if v, ok := t.flag(b, c); ok {
				rs.inhibit = &v
			}
		case "notify_up", "notify_down":
			t.setCommand(b, c, kw, true, nil)
		case "alpha":
			if v, ok := t.flag(b, c); ok && v {
				times = append(times, timing{&hattr{"alpha", truth}, c})
			}
		case "retry":
			if f, ok := t.number(b, c, 0, 0, 1<<31, true); ok {
				times = append(times, timing{&hattr{kw, num(f)}, c})
			}
		case "delay_before_retry", "delay_loop", "connect_timeout":
			if f, ok := t.duration(b, c, false); ok {
				times = append(times, timing{&hattr{kw, num(f)}, c})
			}
		case "warmup":
			if f, ok := t.duration(b, c, true); ok {
				times = append(times, timing{&hattr{kw, num(f)}, c})
			}
		case "virtualhost":
			rs.vhost, vhost = c.Arg(0), c
		case "tunnel_type":
			switch v := strings.ToLower(c.Arg(0)); v {
			case "ipip", "gue", "gre":
				tun().set("type", str(v))
			default:
				t.drop(b, c, Warning, "unknown tunnel type %q", c.Arg(0))
			}
		case "tunnel_port":
			if f, ok := t.number(b, c, 0, 1, 65535, true); ok {
				tun().set("port", num(f))
			}
		case "tunnel_nocsum", "tunnel_csum", "tunnel_remcsum":
			tun().set("checksum", str(strings.TrimPrefix(kw, "tunnel_")))
		case "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "PING_CHECK", "UDP_CHECK", "DNS_CHECK", "SMTP_CHECK", "FILE_CHECK", "BFD_CHECK":
			// Several checkers: several checks, all needed, as in keepalived.
			rs.checks = append(rs.checks, t.check(c, checkKinds[kw])...)
		default:
			t.unsupported(b, c, "real_server", realReasons)
		}
	}
	if tunnel != nil {
		if t := tunnel; t.has("type") || t.has("port") || t.has("checksum") {
			b.add(tunnel)
		}
	}
	if vhost != nil && !slices.ContainsFunc(rs.checks, isHTTP) {
		t.drop(b, vhost, Note, "virtualhost has no effect on a real server without an http or https check")
	}
	for _, tm := range times {
		if len(rs.checks) == 0 {
			t.drop(b, tm.s, Note, "%s has no effect on a real server without a check", tm.a.name)
			continue
		}
		for _, cb := range rs.checks {
			if !cb.has(tm.a.name) {
				// The check's own value wins, as in keepalived.
				cb.set(tm.a.name, tm.a.val)
			}
		}
	}
	return rs
}

// isHTTP reports whether check block b is an http or https check.
func isHTTP(b *hblock) bool { return b.labels[0] == "http" || b.labels[0] == "https" }

// check translates a checker block into check blocks of kind: one, none
// for a checker keepalived ignores, or one per host of an SMTP_CHECK.
func (t *translator) check(s *Stmt, kind string) []*hblock {
	b := newBlock("check", kind)
	for _, c := range s.Block {
		switch kw := c.Keyword(); {
		case kw == "connect_ip" && kind != "exec":
			b.set(kw, str(c.Arg(0)))
		case kw == "connect_port" && kind != "exec":
			if f, ok := t.number(b, c, 0, 1, 65535, true); ok {
				b.set(kw, num(f))
			}
		case kw == "bindto" && kind != "exec":
			b.set("bind_to", str(c.Arg(0)))
		case kw == "bind_port" && (kind == "tcp" || kind == "http" || kind == "https"):
			if f, ok := t.number(b, c, 0, 1, 65535, true); ok {
				b.set(kw, num(f))
			}
		case kw == "bind_if" && (kind == "tcp" || kind == "http" || kind == "https"):
			b.set(kw, str(c.Arg(0)))
		case kw == "connect_timeout" || kw == "delay_before_retry" || kw == "delay_loop":
			if f, ok := t.duration(b, c, false); ok {
				b.set(kw, num(f))
			}
		case kw == "warmup":
			if f, ok := t.duration(b, c, true); ok {
				b.set(kw, num(f))
			}
		case kw == "retry" || kw == "nb_get_retry":
			if f, ok := t.number(b, c, 0, 0, 1<<31, true); ok {
				b.set("retry", num(f))
			}
		case kw == "alpha":
			if v, ok := t.flag(b, c); ok && v {
				b.set("alpha", truth)
			}
		case kw == "url" && (kind == "http" || kind == "https"):
			if u := t.url(b, c); u != nil {
				b.add(u)
			}
		case kw == "virtualhost" && (kind == "http" || kind == "https"):
			b.set("virtualhost", str(c.Arg(0)))
		case kw == "http_protocol" && (kind == "http" || kind == "https"):
			switch c.Arg(0) {
			case "1.0", "1.1":
				b.set("http_version", str(c.Arg(0)))
			case "1.0C", "1.0K":
				b.set("http_version", str("1.0"))
				t.partly(b, c, Warning, "lvsctl's HTTP/1.0 requests carry no Connection header")
			default:
				t.drop(b, c, Warning, "unknown http_protocol %q", c.Arg(0))
			}
		case kw == "enable_sni" && kind == "https":
			// lvsctl sends the virtualhost as SNI by default.
		case kw == "misc_path" && kind == "exec":
			t.setCommand(b, c, "command", false, userStmt(s))
		case kw == "misc_timeout" && kind == "exec":
			if f, ok := t.duration(b, c, false); ok {
				b.set("timeout", num(f))
			}
		case kw == "misc_dynamic" && kind == "exec":
			b.set("dynamic_weight", truth)
		case t.moreCheckOption(b, s, c, kind): // checks.go
		default:
			t.unsupported(b, c, s.Keyword(), checkReasons)
		}
	}
	if kind == "exec" && !b.has("command") {
		t.drop(b, s, Warning, "MISC_CHECK without a (usable) misc_path; keepalived ignores the checker")
		return nil
	}
	if kind == "https" && !slices.ContainsFunc(s.Block, func(c *Stmt) bool { return c.Keyword() == "enable_sni" }) {
		b.noSNI = s // instantiate: said where a virtualhost applies
	}
	return t.finishCheck(s, b, kind) // checks.go
}

var urlReasons = checkReasons

// url translates a url block.
func (t *translator) url(check *hblock, s *Stmt) *hblock {
	u := newBlock("url")
	for _, c := range s.Block {
		switch kw := c.Keyword(); kw {
		case "path":
			p := c.Arg(0)
			if !strings.HasPrefix(p, "/") {
				t.drop(u, c, Warning, "lvsctl's path starts with /")
				continue
			}
			u.set("path", str(p))
		case "digest":
			d := strings.ToLower(c.Arg(0))
			if _, err := hex.DecodeString(d); err != nil || len(d) != 32 {
				t.drop(u, c, Warning, "%q is not an MD5 digest (32 hex digits)", c.Arg(0))
				continue
			}
			u.set("digest", str(d))
		case "status_code":
			codes, ok := statusCodes(c.Args())
			if !ok {
				t.drop(u, c, Warning, "cannot read these status codes")
				continue
			}
			if n, err := strconv.Atoi(codes); err == nil {
				u.set("status", num(float64(n)))
			} else {
				u.set("status", str(codes))
			}
		case "regex":
			if _, err := regexp.Compile(c.Arg(0)); err != nil {
				t.drop(u, c, Warning, "Go's regular expressions (RE2) cannot compile it: %v", err)
				continue
			}
			u.set("regex", str(c.Arg(0)))
		case "virtualhost":
			u.set("virtualhost", str(c.Arg(0)))
		default:
			if !t.moreURLOption(u, c) { // checks.go
				t.unsupported(u, c, "url", urlReasons)
			}
		}
	}
	if !u.has("path") {
		t.drop(check, s, Warning, "a url without a (usable) path")
		return nil
	}
	return t.finishURL(s, u) // checks.go
}

// statusCodes turns keepalived's status codes ("200-299 400-499 503" or
// "200,301") into lvsctl's string.
func statusCodes(args []string) (string, bool) {
	var parts []string
	for _, a := range args {
		for _, p := range strings.Split(a, ",") {
			if p == "" {
				continue
			}
			lo, hi, isRange := strings.Cut(p, "-")
			l, err1 := strconv.Atoi(lo)
			h, err2 := l, error(nil)
			if isRange {
				h, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || l < 100 || h > 599 || h < l {
				return "", false
			}
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ","), len(parts) > 0
}

// instantiate builds the virtual_server block of one key.
func (t *translator) instantiate(spec *vsSpec, k vsKey) *hblock {
	s := spec.stmt
	b := spec.block.clone()
	name := k.name(spec.protocol)
	for n := 2; t.names[name]; n++ {
		name = fmt.Sprintf("%s#%d", k.name(spec.protocol), n)
	}
	t.names[name] = true
	b.labels = []string{name}
	b.src = s
	b.lead = hcomment{fmt.Sprintf("%s: virtual_server %s", s.Pos, strings.Join(s.Args(), " "))}
	if k.member != nil {
		b.lead = append(b.lead, fmt.Sprintf("%s: member %s of virtual_server_group %s", k.member.Pos, strings.Join(k.member.Words, " "), k.group))
	}
	fwmark := k.fwmark > 0
	if fwmark {
		b.set("fwmark", num(float64(k.fwmark)))
		if spec.family != "" {
			b.set("family", str(spec.family))
		}
		if spec.protoSet != nil {
			t.once(spec, b, spec.protoSet, Note, "a fwmark service has no protocol")
		}
	} else {
		b.set("address", str(k.addr.String()))
		b.set("port", num(float64(k.port)))
		proto := spec.protocol
		if spec.protoSet == nil {
			// keepalived's check of the configuration: "no protocol set -
			// defaulting to UDP", since the kernel takes protocol 0 as UDP.
			proto = "udp"
			t.onceNote(spec, b, s, "keepalived programs a UDP service when protocol is not set (\"no protocol set - defaulting to UDP\"), and so does the translation; for TCP, the keepalived configuration needed protocol TCP")
		}
		if proto != "tcp" {
			b.set("protocol", str(proto))
		}
		if spec.ops != nil && proto != "udp" {
			b.unset("one_packet")
			t.once(spec, b, spec.ops, Note, "one-packet scheduling is for UDP: keepalived resets it for this "+strings.ToUpper(proto)+" service")
		}
	}
	t.services++

	// Real servers.
	var reals []*hblock
	var checks [][]*hblock // each real server's
	inh := map[bool]int{}
	var inhibits []bool
	delayLoop := 60.0
	if v, ok := b.get("delay_loop"); ok {
		delayLoop, _ = v.AsBigFloat().Float64()
	}
	vhostUsed := false
	for _, rs := range spec.reals {
		rb := rs.block.clone()
		t.setPort(spec, rb, rs, k, fwmark)
		var cbs []*hblock
		for _, c := range rs.checks {
			cb := c.clone()
			if p, ok := cb.get("connect_port"); ok && !fwmark {
				if f, _ := p.AsBigFloat().Int64(); int(f) == t.realPort(rs, k) {
					cb.unset("connect_port")
				}
			}
			if isHTTP(cb) {
				vh := rs.vhost
				if vh == "" && spec.vhost != nil {
					vh = spec.vhost.Arg(0)
				}
				if vh != "" && !cb.has("virtualhost") {
					cb.set("virtualhost", str(vh))
					vhostUsed = vhostUsed || rs.vhost == ""
				}
			}
			if cb.noSNI != nil && (cb.has("virtualhost") || slices.ContainsFunc(cb.blocks, func(u *hblock) bool { return u.has("virtualhost") })) {
				t.onceNote(spec, cb, cb.noSNI, "lvsctl sends the virtualhost as the TLS server name (SNI), which keepalived does only with enable_sni: the server sees the same name in SNI and Host")
			}
			if cb.labels[0] == "exec" && !cb.has("timeout") {
				// keepalived 2.2's misc_timeout defaults to the
				// virtual_server's delay_loop, whatever the check's or the
				// real server's (check_misc.c: checker->vs->delay_loop).
				cb.set("timeout", num(delayLoop))
			}
			cbs = append(cbs, cb)
		}
		checks = append(checks, cbs)
		in := spec.inhibit
		if rs.inhibit != nil {
			in = *rs.inhibit
		}
		inh[in]++
		inhibits = append(inhibits, in)
		reals = append(reals, rb)
	}
	if spec.vhost != nil && !vhostUsed {
		t.once(spec, b, spec.vhost, Note, "virtualhost has no effect here: no http or https check of this virtual_server uses it")
	}
	switch {
	case inh[true] > 0 && inh[false] > 0:
		// The service's as written, and each real server that differs.
		if spec.inhibit {
			b.set("inhibit_on_failure", truth)
		}
		for i, rb := range reals {
			if inhibits[i] != spec.inhibit {
				rb.set("inhibit_on_failure", cty.BoolVal(inhibits[i]))
			}
		}
	case inh[true] > 0 || (len(spec.reals) == 0 && spec.inhibit):
		b.set("inhibit_on_failure", truth)
	}

	// keepalived lowers a quorum above the real servers' total weight, and
	// a hysteresis that is not below the quorum.
	if spec.quorum != nil || spec.hysteresis != nil {
		sum := int64(0)
		for _, rb := range reals {
			w := int64(1)
			if v, ok := rb.get("weight"); ok {
				w, _ = v.AsBigFloat().Int64()
			}
			sum += w
		}
		quorum := int64(1)
		if v, ok := b.get("quorum"); ok {
			quorum, _ = v.AsBigFloat().Int64()
		}
		if quorum > sum {
			if sum == 0 {
				b.unset("quorum")
				t.once(spec, b, spec.quorum, Warning, "the real servers' total weight is 0: keepalived lowers the quorum to 0 (always held), which lvsctl does not have")
			} else {
				b.set("quorum", num(float64(sum)))
				t.once(spec, b, spec.quorum, Note, fmt.Sprintf("the quorum exceeds the real servers' total weight: keepalived lowers it to %d, and so does the translation", sum))
			}
			quorum = max(sum, 1)
		}
		if v, ok := b.get("hysteresis"); ok {
			if h, _ := v.AsBigFloat().Int64(); h >= quorum {
				if quorum-1 == 0 {
					b.unset("hysteresis")
				} else {
					b.set("hysteresis", num(float64(quorum-1)))
				}
				t.once(spec, b, spec.hysteresis, Note, fmt.Sprintf("hysteresis must be below the quorum: keepalived sets it to %d, and so does the translation", quorum-1))
			}
		}
	}

	// The same checks on every real server are the checks of the service.
	if len(checks) > 0 && len(checks[0]) > 0 {
		first := renderChecks(checks[0])
		same := true
		for _, c := range checks[1:] {
			if !bytes.Equal(renderChecks(c), first) {
				same = false
				break
			}
		}
		if same {
			for _, cb := range checks[0] {
				b.add(cb)
			}
			checks = make([][]*hblock, len(checks))
		}
	}
	if spec.sorry != nil {
		sb := spec.sorry.block.clone()
		t.setPort(spec, sb, spec.sorry, k, fwmark)
		b.add(sb)
	}
	for i, rb := range reals {
		rb.blocks = append(slices.Clone(checks[i]), rb.blocks...)
		b.add(rb)
	}
	return b
}

// renderChecks renders check blocks cs one after the other.
func renderChecks(cs []*hblock) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, renderBlock(c)...)
	}
	return out
}

// realPort is the port the real server gets in service k.
func (t *translator) realPort(rs *realSpec, k vsKey) int {
	if rs.hasPort {
		return rs.port
	}
	if k.fwmark > 0 {
		return 0
	}
	return k.port
}

// same reports whether two real servers are one for keepalived: the same
// address and port as written.
func (rs *realSpec) same(o *realSpec) bool {
	a, _ := rs.block.get("address")
	b, _ := o.block.get("address")
	return a.Equals(b).True() && rs.port == o.port
}

// setPort sets the port of a real (or sorry) server in service k as
// keepalived does: outside groups, a NAT server without port gets the
// service's, and DR and TUN servers get the service's port (0 for fwmark
// services) whatever is written; in groups, the port stays as written.
func (t *translator) setPort(spec *vsSpec, rb *hblock, rs *realSpec, k vsKey, fwmark bool) {
	fwd := "nat"
	for _, b := range []*hblock{rb, spec.block} {
		if v, ok := b.get("forwarding"); ok {
			fwd = v.AsString()
			break
		}
	}
	port := rs.port
	switch {
	case k.member != nil:
		if !rs.hasPort && !fwmark {
			t.once(spec, rb, rs.stmt, Warning, "no port: in a virtual_server group, keepalived gives the server port 0, which lvsctl only has for fwmark services; lvsctl uses the service's port")
			return
		}
	case fwd == "nat" && !fwmark && port == 0:
		port = k.port
	case fwd != "nat" && fwmark:
		if port != 0 {
			t.once(spec, rb, rs.stmt, Note, fmt.Sprintf("a %s server of a fwmark service has no port: keepalived clears it", strings.ToUpper(fwd)))
		}
		port = 0
	case fwd != "nat":
		if port != 0 && port != k.port {
			t.once(spec, rb, rs.stmt, Note, fmt.Sprintf("%s cannot change ports: keepalived gives the server the service's port %d", strings.ToUpper(fwd), k.port))
		}
		port = k.port
	}
	if (fwmark && port != 0) || (!fwmark && port != k.port) {
		rb.set("port", num(float64(port)))
	}
}
