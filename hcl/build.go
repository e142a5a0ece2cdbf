package hcl

import (
	"fmt"
	"math"
	"math/big"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/lvsctl/lvsctl/ipvs"
)

// This file is the second layer: it checks the syntax structs of decode.go
// and builds ipvs values from them. It reports every problem it finds and
// keeps going; a value that failed a check is marked unknown so that checks
// depending on it are skipped instead of piling up follow-on errors.

// builder collects diagnostics while building.
type builder struct {
	diags hcl.Diagnostics
	opts  Options // how files and programs outside the file are checked
	// resolved are the host names resolved (resolve.go).
	resolved []Resolved
}

func (b *builder) errorAt(subject hcl.Range, context *hcl.Range, summary, detail string, args ...any) {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	b.diags = append(b.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  subject.Ptr(),
		Context:  context,
	})
}

// build validates f and returns its services in file order, with their
// pools.
func build(f *fileSyntax, opts Options) ([]ipvs.VirtualService, []Pool, []Source, []Resolved, hcl.Diagnostics) {
	b := &builder{opts: opts}
	names := make(map[string]*serviceSyntax)
	type keyDef struct {
		name  string
		where hcl.Range
	}
	keys := make(map[ipvs.ServiceKey]keyDef)
	services := make([]ipvs.VirtualService, 0, len(f.Services))
	pools := make([]Pool, 0, len(f.Services))
	sources := make([]Source, 0, len(f.Services))
	for _, s := range f.Services {
		if prev, dup := names[s.Name]; dup {
			b.errorAt(s.NameRange, prev.NameRange.Ptr(), "Duplicate virtual_server name",
				"A virtual_server named %q is already defined at %s. Names identify services in plans and logs, so each must be unique.",
				s.Name, posString(prev.NameRange))
		} else {
			names[s.Name] = s
		}
		vs, pool, keyRange, keyOK := b.service(s)
		if keyOK {
			if prev, dup := keys[vs.Key]; dup {
				b.errorAt(keyRange, prev.where.Ptr(), "Duplicate virtual service",
					"%s is already defined by virtual_server %q, first defined at %s. The kernel identifies a virtual service by protocol, address and port (or by firewall mark and family), so each can be configured once.",
					vs.Key, prev.name, posString(prev.where))
			} else {
				keys[vs.Key] = keyDef{name: s.Name, where: keyRange}
			}
		}
		services = append(services, vs)
		pools = append(pools, pool)
		sources = append(sources, sourceOf(s))
	}
	return services, pools, sources, sortResolved(b.resolved), b.diags
}

// Source is where a virtual service's settings are written, for what is
// found wrong with them after decoding (the running kernel lacks a
// scheduler or a tunnel type: see lvsctl plan).
type Source struct {
	// Block is the virtual_server block's header.
	Block hcl.Range
	// Scheduler is the scheduler's value; nil when not written (the
	// default).
	Scheduler *hcl.Range
	// RealTunnels is, parallel to the service's real servers, the tunnel
	// type value each takes (its own tunnel block's, else the service's),
	// nil when none is written (IP-in-IP).
	RealTunnels []*hcl.Range
	// SorryTunnel is the same for the sorry server.
	SorryTunnel *hcl.Range
}

func sourceOf(s *serviceSyntax) Source {
	src := Source{Block: s.DefRange}
	if s.Scheduler != nil {
		src.Scheduler = s.Scheduler.Value.Ptr()
	}
	tunnelType := func(r *realSyntax) *hcl.Range {
		switch {
		case r.Tunnel != nil && r.Tunnel.Type != nil:
			return r.Tunnel.Type.Value.Ptr()
		case r.Tunnel == nil && s.Tunnel != nil && s.Tunnel.Type != nil:
			return s.Tunnel.Type.Value.Ptr()
		}
		return nil
	}
	src.RealTunnels = make([]*hcl.Range, len(s.RealServers))
	for i, r := range s.RealServers {
		src.RealTunnels[i] = tunnelType(r)
	}
	if s.Sorry != nil {
		src.SorryTunnel = tunnelType(s.Sorry)
	}
	return src
}

// serviceDefaults is what a real server inherits from its virtual service.
type serviceDefaults struct {
	fwmark bool
	port   uint16
	portOK bool
	fwd    ipvs.Forwarding
	fwdOK  bool
	tunnel ipvs.TunnelConfig
	// fam is the service's family, if famKnown: a host name's address
	// of that family is preferred.
	fam      ipvs.Family
	famKnown bool
}

// realDef is a real server as built, with what is known of it.
type realDef struct {
	syn    *realSyntax
	addrOK bool
	portOK bool
	fwdOK  bool
}

// service builds one virtual service and its pool. It also returns the
// range that names its key (the address or the fwmark) and whether the key
// is fully known.
func (b *builder) service(s *serviceSyntax) (ipvs.VirtualService, Pool, hcl.Range, bool) {
	vs := ipvs.VirtualService{Name: s.Name, Scheduler: ipvs.DefaultScheduler}
	if strings.TrimSpace(s.Name) == "" {
		b.errorAt(s.NameRange, nil, "Invalid virtual_server name",
			"The name of a virtual_server must not be empty: it identifies the service in plans and logs.")
	}

	// The key: address, port and protocol, or fwmark and family.
	var keyRange hcl.Range
	keyOK, famKnown := true, false
	portOK, protoOK := false, false
	isFWMark := s.FWMark != nil
	if isFWMark {
		keyRange = s.FWMark.Value
		for _, c := range []struct {
			present bool
			name    string
			rng     hcl.Range
		}{
			{s.Address != nil, "address", rangeOf(s.Address)},
			{s.Port != nil, "port", rangeOf(s.Port)},
			{s.Protocol != nil, "protocol", rangeOf(s.Protocol)},
		} {
			if c.present {
				b.errorAt(c.rng, s.FWMark.Range.Ptr(), "Conflicting arguments",
					"%s cannot be used together with fwmark. A virtual service is either address, port and protocol, or a firewall mark (with family); remove one or the other.", c.name)
				keyOK = false
			}
		}
		mark, ok := b.whole(s.FWMark, 1, math.MaxUint32, "Invalid fwmark", "fwmark")
		keyOK = keyOK && ok
		vs.Key.FWMark = uint32(mark)
		if s.Family != nil {
			fam, ok := b.family(s.Family)
			vs.Key.Family, famKnown = fam, ok
			keyOK = keyOK && ok
		}
	} else {
		if s.Family != nil {
			b.errorAt(s.Family.Range, nil, "Unexpected family",
				"family only applies to fwmark services. An address service takes its family from its address.")
		}
		switch {
		case s.Address == nil && s.Port == nil:
			b.errorAt(s.DefRange, nil, "Missing virtual service address",
				"A virtual_server needs either address and port (with protocol, default \"tcp\"), or fwmark (with family).")
			keyOK = false
		case s.Address == nil:
			b.errorAt(s.Port.Range, nil, "Missing address",
				"port is set but address is not. Set address to the virtual IP, or use fwmark instead of address and port.")
			keyOK = false
		case s.Port == nil:
			b.errorAt(s.Address.Range, nil, "Missing port",
				"address is set but port is not. Set port to the virtual service's port, from 1 to 65535; use fwmark for services that match every port.")
			keyOK = false
		}
		if s.Address != nil {
			addr, ok := b.ip(s.Address, "The virtual service address")
			vs.Key.Addr, vs.Key.Family, famKnown = addr, ipvs.FamilyOf(addr), ok
			keyOK = keyOK && ok
			keyRange = s.Address.Value
		} else if s.Port != nil {
			keyRange = s.Port.Value
		}
		if s.Port != nil {
			var port int64
			if s.Port.ok() && s.Port.Val.Sign() == 0 {
				b.errorAt(s.Port.Value, nil, "Invalid port",
					"port must be from 1 to 65535. Port 0 would match every port, which IPVS only does for fwmark services: use fwmark for that.")
			} else {
				port, portOK = b.whole(s.Port, 1, math.MaxUint16, "Invalid port", "port")
			}
			vs.Key.Port = uint16(port)
			keyOK = keyOK && portOK
		}
		vs.Key.Protocol, protoOK = ipvs.TCP, true
		if s.Protocol != nil {
			vs.Key.Protocol, protoOK = b.protocol(s.Protocol)
			keyOK = keyOK && protoOK
		}
	}

	// Scheduler and its flags.
	schedOK := s.Scheduler == nil
	if s.Scheduler.ok() {
		sched := ipvs.Scheduler(strings.ToLower(s.Scheduler.Val))
		if sched.Valid() {
			vs.Scheduler, schedOK = sched, true
		} else {
			b.errorAt(s.Scheduler.Value, nil, "Unknown scheduler",
				"%q is not an IPVS scheduler. Valid schedulers: %s.", s.Scheduler.Val, joinSchedulers())
		}
	}
	if s.SchedulerFlags != nil && schedOK {
		for _, f := range s.SchedulerFlags.Val {
			if !f.ok() {
				continue
			}
			flag, err := ipvs.ParseSchedFlag(vs.Scheduler, strings.ToLower(f.Val))
			if err != nil {
				b.errorAt(f.Value, nil, "Invalid scheduler flag",
					"%s. Scheduler flags exist only for sh (sh-fallback, sh-port) and mh (mh-fallback, mh-port).", upperFirst(err.Error()))
				continue
			}
			vs.SchedFlags |= flag
		}
	}

	// Defaults for the real servers.
	def := serviceDefaults{fwmark: isFWMark, port: vs.Key.Port, portOK: portOK, fwd: ipvs.NAT, fwdOK: true, fam: vs.Key.Family, famKnown: famKnown}
	if s.Forwarding != nil {
		def.fwd, def.fwdOK = b.forwarding(s.Forwarding)
	}
	if s.Tunnel != nil {
		def.tunnel, _ = b.tunnel(s.Tunnel)
		if def.fwdOK && def.fwd != ipvs.Tunnel {
			b.errorAt(s.Tunnel.DefRange, nil, "Tunnel block without tunnel forwarding",
				"A tunnel block only applies to forwarding = \"tun\", and this virtual_server's forwarding is %q. Set forwarding = \"tun\" or remove the block; a real server with its own forwarding = \"tun\" takes its own tunnel block.", def.fwd)
		}
	}

	// Real servers.
	reals := make([]realDef, 0, len(s.RealServers))
	seen := make(map[ipvs.RealKey]*realSyntax)
	for _, r := range s.RealServers {
		rs, addrOK, portOK, fwdOK := b.real(r, def, blockRealServer)
		if addrOK && portOK {
			if prev, dup := seen[rs.Key()]; dup {
				b.errorAt(r.Address.Value, prev.Address.Value.Ptr(), "Duplicate real server",
					"Real server %s is already defined in this virtual_server at %s. A real server is identified by address and port; to send it more traffic, raise its weight.",
					rs.Key(), posString(prev.Address.Value))
			} else {
				seen[rs.Key()] = r
			}
		}
		reals = append(reals, realDef{syn: r, addrOK: addrOK, portOK: portOK, fwdOK: fwdOK})
		vs.RealServers = append(vs.RealServers, rs)
	}

	// The sorry server: a real server of its own, kept apart.
	var sorry *ipvs.RealServer
	var sorryDef realDef
	if s.Sorry != nil {
		rs, addrOK, portOK, fwdOK := b.real(s.Sorry, def, blockSorryServer)
		if addrOK && portOK {
			if prev, dup := seen[rs.Key()]; dup {
				b.errorAt(s.Sorry.Address.Value, prev.Address.Value.Ptr(), "Sorry server is a real server",
					"The sorry_server %s is also a real_server of this virtual_server, at %s. The sorry server takes the traffic when no real server is up, so it must be another backend (address and port).",
					rs.Key(), posString(prev.Address.Value))
			}
		}
		sorry, sorryDef = &rs, realDef{syn: s.Sorry, addrOK: addrOK, portOK: portOK, fwdOK: fwdOK}
	}

	// DR and TUN keep the packet's destination port: the kernel stores a
	// real server's other port but never sends a packet to it.
	if !isFWMark && def.portOK {
		b.samePorts(s, vs, reals, sorry, sorryDef)
	}

	// The family of a fwmark service without family: that of its real
	// servers if they agree, else IPv4.
	famWhy := "its address is " + vs.Key.Addr.String()
	if isFWMark {
		famWhy = "set by family"
	}
	if isFWMark && s.Family == nil {
		var fam ipvs.Family
		mixed := false
		for i, r := range reals {
			if !r.addrOK {
				continue
			}
			f := ipvs.FamilyOf(vs.RealServers[i].Addr)
			if fam == 0 {
				fam = f
			} else if f != fam {
				mixed = true
			}
		}
		switch {
		case fam == 0:
			fam, famWhy = ipvs.IPv4, "the default when family is not set and no real server gives one"
		case mixed:
			fam, famWhy = ipvs.IPv4, "the default when family is not set and the real servers' families differ; set family to choose"
		default:
			famWhy = "inferred from the real servers"
		}
		vs.Key.Family, famKnown = fam, true
	}
	if famKnown {
		all := append([]realDef(nil), reals...)
		servers := append([]ipvs.RealServer(nil), vs.RealServers...)
		if sorry != nil {
			all, servers = append(all, sorryDef), append(servers, *sorry)
		}
		for i, r := range all {
			rs := servers[i]
			what := "Real server"
			if r.syn == s.Sorry {
				what = "The sorry server"
			}
			if !r.addrOK || !r.fwdOK || rs.Forwarding == ipvs.Tunnel || ipvs.FamilyOf(rs.Addr) == vs.Key.Family {
				continue
			}
			b.errorAt(r.syn.Address.Value, nil, "Real server address family mismatch",
				"%s %s is %s but the virtual service is %s (%s). The kernel only forwards to a real server of the other family with forwarding = \"tun\" (and not while the connection sync daemon runs).",
				what, rs.Addr, famName(ipvs.FamilyOf(rs.Addr)), famName(vs.Key.Family), famWhy)
		}
	}

	// Persistence.
	persistOK := true
	if s.PersistenceTimeout != nil {
		vs.Persistence, persistOK = b.persistence(s.PersistenceTimeout)
	}
	if g := s.PersistenceGranularity; g != nil {
		if persistOK && vs.Persistence == 0 {
			b.errorAt(g.Range, nil, "Granularity without persistence",
				"persistence_granularity only applies to persistent services; set persistence_timeout to a non-zero time, or remove persistence_granularity.")
		}
		if famKnown && g.ok() {
			vs.PersistenceMask, _ = b.granularity(g, vs.Key.Family)
		}
	}

	// The persistence engine: the kernel has one, sip (ip_vs_pe_sip).
	if pe := s.PersistenceEngine; pe != nil && pe.ok() {
		switch {
		case pe.Val != "sip":
			b.errorAt(pe.Value, nil, "Invalid persistence engine",
				"%q is not a persistence engine. The kernel has one: \"sip\" (connections with the same SIP Call-ID go to the same real server).", pe.Val)
		case persistOK && vs.Persistence == 0:
			b.errorAt(pe.Range, nil, "Persistence engine without persistence",
				"persistence_engine only applies to persistent services; set persistence_timeout to a non-zero time, or remove persistence_engine.")
		default:
			vs.PersistenceEngine = pe.Val
		}
	}

	// One-packet scheduling.
	if s.OnePacket.ok() && s.OnePacket.Val {
		if !isFWMark && protoOK && vs.Key.Protocol != ipvs.UDP {
			b.errorAt(s.OnePacket.Value, nil, "one_packet needs UDP",
				"one_packet schedules each UDP datagram on its own (ipvsadm --ops), so it only applies to udp and fwmark services; this service is %s.", strings.ToLower(vs.Key.Protocol.String()))
		}
		vs.OnePacket = true
	}

	pool := b.pool(s, vs, reals, sorry)
	return vs, pool, keyRange, keyOK && famKnown
}

// samePorts reports each DR or TUN real server (and sorry server) of an
// address service whose port differs from the service's. Direct routing
// and tunnelling deliver the client's packet unchanged, so it reaches the
// backend on the service's port whatever port the kernel was given: the
// kernel accepts the other port, ipvsadm lists it, and nothing listens
// where it points. keepalived logs a warning and uses the service's port
// ("If the real server is using DR or TUN, the port of the real server
// must be the same as the port of the virtual server", its ChangeLog);
// lvsctl refuses the file. NAT rewrites the port, so any port is valid
// there; a fwmark service has no port.
func (b *builder) samePorts(s *serviceSyntax, vs ipvs.VirtualService, reals []realDef, sorry *ipvs.RealServer, sorryDef realDef) {
	check := func(r realDef, rs ipvs.RealServer, what string) {
		if !r.portOK || !r.fwdOK || r.syn.Port == nil || rs.Port == vs.Key.Port {
			return
		}
		if rs.Forwarding != ipvs.DR && rs.Forwarding != ipvs.Tunnel {
			return
		}
		var ctx *hcl.Range
		if s.Port != nil {
			ctx = s.Port.Value.Ptr()
		}
		b.errorAt(r.syn.Port.Value, ctx, "Real server port differs from the service port",
			"%s port is %d but the virtual service's is %d (at %s). With forwarding = %q the kernel delivers the client's packet unchanged, to port %d: it accepts another port for the real server and never uses it. The port of a DR or TUN real server must be the same as the port of the virtual server; remove port (it defaults to the service's), or use forwarding = \"nat\" to map the port.",
			what, rs.Port, vs.Key.Port, posString(s.Port.Value), rs.Forwarding, vs.Key.Port)
	}
	for i, r := range reals {
		check(r, vs.RealServers[i], "The real server's")
	}
	if sorry != nil {
		check(sorryDef, *sorry, "The sorry server's")
	}
}

// real builds one real server (or the sorry server: block names which),
// with what it inherits from def. It reports whether its address, port and
// forwarding are known.
func (b *builder) real(r *realSyntax, def serviceDefaults, block string) (rs ipvs.RealServer, addrOK, portOK, fwdOK bool) {
	if r.Address == nil {
		summary := "Missing real server address"
		if block == blockSorryServer {
			summary = "Missing sorry server address"
		}
		b.errorAt(r.DefRange, nil, summary,
			"Every %s needs address = \"IP\", the IPv4 or IPv6 address of the backend.", block)
	} else {
		what := "A real server address"
		if block == blockSorryServer {
			what = "The sorry server address"
		}
		rs.Addr, addrOK = b.realAddr(r.Address, what, def.fam, def.famKnown) // resolve.go
	}

	switch {
	case r.Port != nil && !def.fwmark && r.Port.ok() && r.Port.Val.Sign() == 0:
		b.errorAt(r.Port.Value, nil, "Invalid port",
			"port 0 means \"the packet's own destination port\", which only fwmark services have. Leave port out to use the virtual service's port.")
	case r.Port != nil:
		lo := int64(1)
		if def.fwmark {
			lo = 0
		}
		port, ok := b.whole(r.Port, lo, math.MaxUint16, "Invalid port", "port")
		rs.Port, portOK = uint16(port), ok
	case def.fwmark:
		rs.Port, portOK = 0, true
	default:
		rs.Port, portOK = def.port, def.portOK
	}

	rs.Weight = 1
	if r.Weight != nil {
		w, _ := b.whole(r.Weight, 0, math.MaxInt32, "Invalid weight", "weight")
		rs.Weight = uint32(w)
	}

	rs.Forwarding, fwdOK = def.fwd, def.fwdOK
	if r.Forwarding != nil {
		rs.Forwarding, fwdOK = b.forwarding(r.Forwarding)
	}
	if r.Tunnel != nil {
		rs.Tunnel, _ = b.tunnel(r.Tunnel)
		if fwdOK && rs.Forwarding != ipvs.Tunnel {
			b.errorAt(r.Tunnel.DefRange, nil, "Tunnel block without tunnel forwarding",
				"A tunnel block only applies to forwarding = \"tun\", and this %s's forwarding is %q. Set forwarding = \"tun\" or remove the block.", strings.ReplaceAll(block, "_", " "), rs.Forwarding)
		}
	} else {
		rs.Tunnel = def.tunnel
	}
	if rs.Forwarding != ipvs.Tunnel {
		rs.Tunnel = ipvs.TunnelConfig{}
	}

	var upper, lower int64
	upperOK, lowerOK := true, true
	if r.UpperThreshold != nil {
		upper, upperOK = b.whole(r.UpperThreshold, 0, math.MaxUint32, "Invalid upper_threshold", "upper_threshold")
	}
	if r.LowerThreshold != nil {
		lower, lowerOK = b.whole(r.LowerThreshold, 0, math.MaxUint32, "Invalid lower_threshold", "lower_threshold")
	}
	if upperOK && lowerOK && lower > 0 {
		switch {
		case upper == 0:
			b.errorAt(r.LowerThreshold.Value, nil, "lower_threshold without upper_threshold",
				"lower_threshold is the connection count at which an overloaded real server takes new connections again, so it needs upper_threshold (the count at which it stops). Set upper_threshold above %d, or remove lower_threshold.", lower)
		case lower > upper:
			b.errorAt(r.LowerThreshold.Value, r.UpperThreshold.Value.Ptr(), "lower_threshold above upper_threshold",
				"lower_threshold (%d) must not be greater than upper_threshold (%d).", lower, upper)
		}
	}
	rs.UpperThreshold, rs.LowerThreshold = uint32(upper), uint32(lower)
	return rs, addrOK, portOK, fwdOK
}

// tunnel builds a tunnel block and reports whether it is valid.
func (b *builder) tunnel(t *tunnelSyntax) (ipvs.TunnelConfig, bool) {
	var tc ipvs.TunnelConfig
	ok, typeOK := true, true
	if t.Type != nil {
		typeOK = t.Type.ok()
		if typeOK {
			typ, err := ipvs.ParseTunnelType(t.Type.Val)
			if err != nil {
				b.errorAt(t.Type.Value, nil, "Invalid tunnel type",
					"%q is not a tunnel type. type must be \"ipip\" (the default, IP-in-IP), \"gue\" (UDP encapsulation, Linux 5.2+) or \"gre\" (Linux 5.3+).", t.Type.Val)
				typeOK = false
			}
			tc.Type = typ
		}
		ok = typeOK
	}

	switch {
	case t.Port != nil && typeOK && tc.Type != ipvs.GUE:
		b.errorAt(t.Port.Range, nil, "Unexpected tunnel port",
			"port is the UDP destination port of GUE encapsulation; a %q tunnel has no port. Remove it, or set type = \"gue\".", tc.Type)
		ok = false
	case t.Port != nil:
		port, pok := b.whole(t.Port, 1, math.MaxUint16, "Invalid tunnel port", "port")
		tc.Port = uint16(port)
		ok = ok && pok
	case typeOK && tc.Type == ipvs.GUE:
		b.errorAt(t.DefRange, nil, "Missing tunnel port",
			"A \"gue\" tunnel encapsulates packets in UDP: set port to the UDP port on which the real servers decapsulate (their fou/gue receive port).")
		ok = false
	}

	if t.Checksum != nil {
		switch {
		case typeOK && tc.Type == ipvs.IPIP:
			b.errorAt(t.Checksum.Range, nil, "Unexpected tunnel checksum",
				"IP-in-IP encapsulation has no checksum option; checksum applies to \"gue\" and \"gre\" tunnels. Remove it, or set type.")
			ok = false
		case t.Checksum.ok():
			cs, err := ipvs.ParseTunnelChecksum(t.Checksum.Val)
			if err != nil || t.Checksum.Val == "" {
				b.errorAt(t.Checksum.Value, nil, "Invalid tunnel checksum",
					"%q is not a checksum mode. checksum must be \"nocsum\" (the default), \"csum\" or \"remcsum\" (gue only).", t.Checksum.Val)
				ok = false
				break
			}
			if cs == ipvs.RemoteChecksum && typeOK && tc.Type != ipvs.GUE {
				b.errorAt(t.Checksum.Value, nil, "Invalid tunnel checksum",
					"Remote checksum offload (\"remcsum\") exists only for \"gue\" tunnels; a %q tunnel takes \"nocsum\" or \"csum\".", tc.Type)
				ok = false
			}
			tc.Checksum = cs
		default:
			ok = false
		}
	}
	return tc, ok
}

// ip parses an IP address literal. IPv4-mapped IPv6 addresses are unmapped
// to IPv4, as the kernel and ipvs treat them.
func (b *builder) ip(a *attr[string], what string) (netip.Addr, bool) {
	if !a.ok() {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(a.Val)
	switch {
	case err != nil:
		b.errorAt(a.Value, nil, "Invalid IP address",
			"%s must be an IPv4 or IPv6 address literal such as 192.0.2.10 or 2001:db8::10; host names are not resolved. %q is not one: %v.", what, a.Val, err)
		return netip.Addr{}, false
	case addr.Zone() != "":
		b.errorAt(a.Value, nil, "Invalid IP address",
			"%s must not have an IPv6 zone (%q): IPVS addresses are not scoped to an interface. Use a global address.", what, "%"+addr.Zone())
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	if addr.IsUnspecified() {
		b.errorAt(a.Value, nil, "Invalid IP address",
			"%s cannot be the unspecified address %s.", what, addr)
		return netip.Addr{}, false
	}
	return addr, true
}

// whole checks that a is a whole number from lo to hi.
func (b *builder) whole(a *attr[*big.Float], lo, hi int64, summary, name string) (int64, bool) {
	if !a.ok() {
		return 0, false
	}
	if n, ok := wholeIn(a.Val, lo, hi); ok {
		return n, true
	}
	b.errorAt(a.Value, nil, summary, "%s must be a whole number from %d to %d; got %s.", name, lo, hi, formatNumber(a.Val))
	return 0, false
}

// wholeIn is f as an int64 if it is a whole number from lo to hi. A whole
// number beyond int64 is not Exact, and beyond lo or hi as they are int64s.
func wholeIn(f *big.Float, lo, hi int64) (int64, bool) {
	if !f.IsInt() {
		return 0, false
	}
	n, acc := f.Int64()
	if acc != big.Exact || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// formatNumber shows f as the user would write it. Numbers beyond float64
// are not converted to decimal, which takes time in their exponent.
func formatNumber(f *big.Float) string {
	if f.IsInt() && f.MantExp(nil) <= 64 {
		return f.Text('f', 0)
	}
	if x, _ := f.Float64(); !math.IsInf(x, 0) && (x != 0 || f.Sign() == 0) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return "a number beyond float64 range"
}

func (b *builder) protocol(a *attr[string]) (ipvs.Protocol, bool) {
	if !a.ok() {
		return 0, false
	}
	p, err := ipvs.ParseProtocol(a.Val)
	if err != nil {
		b.errorAt(a.Value, nil, "Invalid protocol",
			"%q is not a protocol. protocol must be \"tcp\" (the default), \"udp\" or \"sctp\"; for other protocols or several at once, use fwmark.", a.Val)
		return 0, false
	}
	return p, true
}

func (b *builder) family(a *attr[string]) (ipvs.Family, bool) {
	if !a.ok() {
		return 0, false
	}
	switch strings.ToLower(a.Val) {
	case "ipv4":
		return ipvs.IPv4, true
	case "ipv6":
		return ipvs.IPv6, true
	}
	b.errorAt(a.Value, nil, "Invalid family", "%q is not an address family. family must be \"ipv4\" or \"ipv6\".", a.Val)
	return 0, false
}

func (b *builder) forwarding(a *attr[string]) (ipvs.Forwarding, bool) {
	if !a.ok() {
		return 0, false
	}
	f, err := ipvs.ParseForwarding(a.Val)
	if err != nil {
		b.errorAt(a.Value, nil, "Invalid forwarding",
			"%q is not a forwarding method. forwarding must be \"nat\" (masquerading, the default), \"dr\" (direct routing) or \"tun\" (tunnelling).", a.Val)
		return 0, false
	}
	return f, true
}

// maxPersistence is the longest persistence timeout, in whole seconds.
const maxPersistence = math.MaxInt32 * time.Second

const persistenceHelp = "persistence_timeout takes a number of seconds (60) or a duration string (\"5m\", \"1h30m\"): a whole number of seconds from 0 (not persistent) to 2147483647."

// persistence interprets persistence_timeout.
func (b *builder) persistence(a *attr[cty.Value]) (time.Duration, bool) {
	if !a.ok() {
		return 0, false
	}
	v := a.Val
	switch v.Type() {
	case cty.Number:
		secs, ok := wholeIn(v.AsBigFloat(), 0, math.MaxInt32)
		if !ok {
			b.errorAt(a.Value, nil, "Invalid persistence_timeout", "%s Got %s.", persistenceHelp, formatNumber(v.AsBigFloat()))
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	case cty.String:
		s := v.AsString()
		d, err := time.ParseDuration(s)
		if err != nil {
			// A number in a string counts as seconds, as HCL converts it.
			if n, cerr := convert.Convert(v, cty.Number); cerr == nil {
				return b.persistence(&attr[cty.Value]{Val: n, Name: a.Name, Range: a.Range, Value: a.Value})
			}
			b.errorAt(a.Value, nil, "Invalid persistence_timeout", "%q is not a duration. %s", s, persistenceHelp)
			return 0, false
		}
		if d < 0 || d > maxPersistence || d%time.Second != 0 {
			b.errorAt(a.Value, nil, "Invalid persistence_timeout", "%s Got %q.", persistenceHelp, s)
			return 0, false
		}
		return d, true
	}
	b.errorAt(a.Value, nil, "Incorrect attribute value type",
		"Inappropriate value for attribute \"persistence_timeout\": number or string required.")
	return 0, false
}

// granularity interprets persistence_granularity for a service of family
// fam, as a prefix length.
func (b *builder) granularity(a *attr[cty.Value], fam ipvs.Family) (int, bool) {
	v := a.Val
	prefix := func(f *big.Float) (int, bool) {
		n, ok := wholeIn(f, 1, int64(fam.Bits()))
		if !ok {
			b.errorAt(a.Value, nil, "Invalid persistence_granularity",
				"As a prefix length, persistence_granularity must be a whole number from 1 to %d for an %s service; got %s.", fam.Bits(), famName(fam), formatNumber(f))
		}
		return int(n), ok
	}
	switch v.Type() {
	case cty.Number:
		return prefix(v.AsBigFloat())
	case cty.String:
		s := v.AsString()
		if mask, err := netip.ParseAddr(s); err == nil {
			if fam != ipvs.IPv4 || !mask.Is4() {
				hint := " (64 groups clients by /64)"
				if fam == ipvs.IPv4 {
					hint = ", or as a dotted IPv4 netmask"
				}
				b.errorAt(a.Value, nil, "Invalid persistence_granularity",
					"%q is not a netmask for an %s service. Write persistence_granularity as a prefix length from 1 to %d%s.",
					s, famName(fam), fam.Bits(), hint)
				return 0, false
			}
			ones, bits := net.IPMask(mask.AsSlice()).Size()
			if bits == 0 {
				b.errorAt(a.Value, nil, "Invalid persistence_granularity",
					"%q is not a contiguous netmask: its one bits must all come before its zero bits, as in 255.255.255.0.", s)
				return 0, false
			}
			if ones == 0 {
				b.errorAt(a.Value, nil, "Invalid persistence_granularity",
					"Netmask %s would put every client in one group; the mask must have from 1 to 32 one bits.", s)
				return 0, false
			}
			return ones, true
		}
		if n, err := convert.Convert(v, cty.Number); err == nil {
			return prefix(n.AsBigFloat())
		}
		b.errorAt(a.Value, nil, "Invalid persistence_granularity",
			"%q is neither a netmask nor a prefix length. persistence_granularity is a dotted IPv4 netmask (\"255.255.255.0\") or a prefix length (24, or 64 for IPv6).", s)
		return 0, false
	}
	b.errorAt(a.Value, nil, "Incorrect attribute value type",
		"Inappropriate value for attribute \"persistence_granularity\": number or string required.")
	return 0, false
}

// rangeOf returns the range of a possibly absent attribute.
func rangeOf[T any](a *attr[T]) hcl.Range {
	if a == nil {
		return hcl.Range{}
	}
	return a.Range
}

// posString formats the start of r as diagnostics do: "file.hcl:3:14".
func posString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func famName(f ipvs.Family) string {
	if f == ipvs.IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

func joinSchedulers() string {
	var names []string
	for _, s := range ipvs.Schedulers() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
