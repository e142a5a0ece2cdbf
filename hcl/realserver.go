package hcl

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/realserver"
)

// The realserver block describes the backends' side of DR and TUN, so
// that one file serves the whole cluster: the director runs `lvsctl apply`
// on it (which ignores this block), each backend runs
// `lvsctl realserver start -f` on it (which ignores nothing: the whole file
// is validated). Both attributes default from the virtual services:
//
//	realserver {
//	  mode   = "dr"                 # or "tun"; default: the one forwarding
//	                                # method (dr or tun) the file's real servers use
//	  vips   = ["192.168.1.200"]    # default: the addresses of the virtual
//	                                # services with a real server in that mode
//	  tunnel = "ipip"               # tun only: ipip (tunl0), gue (a fou port
//	                                # feeding tunl0) or gre (gre0); default: the
//	                                # one the file's tun real servers use, else ipip
//	  tunnel_port = 6080            # gue only; default: the file's gue port
//	}

const blockRealServerSetup = "realserver"

var realServerSetupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "mode"},
		{Name: "vips"},
		{Name: "tunnel"},
		{Name: "tunnel_port"},
	},
}

// realServerSetupSyntax is the realserver block as written.
type realServerSetupSyntax struct {
	DefRange hcl.Range

	Mode       *attr[string]
	VIPs       *attr[[]*attr[string]]
	Tunnel     *attr[string]
	TunnelPort *attr[*big.Float]
}

// realServerSetup decodes a realserver block; prev is an earlier one,
// which makes this one a duplicate.
func (d *decoder) realServerSetup(b *hcl.Block, prev *realServerSetupSyntax) *realServerSetupSyntax {
	r := &realServerSetupSyntax{DefRange: b.DefRange}
	content, diags := b.Body.Content(realServerSetupSchema)
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	r.Mode = decodeString(d, a["mode"])
	r.VIPs = d.stringList(a["vips"])
	r.Tunnel = decodeString(d, a["tunnel"])
	r.TunnelPort = decodeNumber(d, a["tunnel_port"])
	if prev != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate realserver block",
			Detail:   "A file has at most one realserver block (every backend that runs `lvsctl realserver start -f` on this file gets the same VIPs); the first one is at " + posString(prev.DefRange) + ".",
			Subject:  b.DefRange.Ptr(),
			Context:  prev.DefRange.Ptr(),
		})
		return prev
	}
	return r
}

// buildRealServerSetup validates the realserver block against the file's
// virtual services (syn.Services and services correspond one to one).
func buildRealServerSetup(syn *fileSyntax, services []ipvs.VirtualService) (*realserver.Config, hcl.Diagnostics) {
	r := syn.RealServerSetup
	b := &builder{}
	cfg := &realserver.Config{}

	// The virtual services' own view: which forwarding each VIP uses.
	type use struct {
		svc  int
		real int
	}
	uses := map[ipvs.Forwarding][]use{}
	for i, s := range services {
		if s.Key.IsFWMark() || !s.Key.Addr.IsValid() {
			continue // a fwmark service has no single VIP
		}
		for j, rs := range s.RealServers {
			uses[rs.Forwarding] = append(uses[rs.Forwarding], use{i, j})
		}
	}

	modeOK := true
	switch {
	case r.Mode.ok():
		m, err := realserver.ParseMode(r.Mode.Val)
		if err != nil {
			b.errorAt(r.Mode.Value, nil, "Invalid realserver mode",
				"%q is not a mode. mode must be \"dr\" (VIPs on lo) or \"tun\" (VIPs on tunl0), as the director's forwarding to this backend; NAT backends need no realserver setup.", r.Mode.Val)
			modeOK = false
		}
		cfg.Mode = m
	case r.Mode != nil:
		modeOK = false
	default:
		dr, tun := len(uses[ipvs.DR]) > 0, len(uses[ipvs.Tunnel]) > 0
		switch {
		case dr && !tun:
			cfg.Mode = realserver.DR
		case tun && !dr:
			cfg.Mode = realserver.TUN
		case dr && tun:
			b.errorAt(r.DefRange, nil, "Missing realserver mode",
				"The file's virtual services forward to real servers both with \"dr\" and with \"tun\", so the mode of these backends is not clear: set mode = \"dr\" or \"tun\".")
			modeOK = false
		default:
			b.errorAt(r.DefRange, nil, "Missing realserver mode",
				"Set mode = \"dr\" or \"tun\": no virtual_server in this file forwards with either, so there is nothing to take it from.")
			modeOK = false
		}
	}

	// The tunnel: as written, or the one of the file's tun real servers.
	tunnelOK := true
	if r.Tunnel != nil && r.Tunnel.ok() {
		t, err := realserver.ParseTunnel(r.Tunnel.Val)
		switch {
		case modeOK && cfg.Mode != realserver.TUN:
			b.errorAt(r.Tunnel.Range, nil, "Tunnel without tun mode",
				"tunnel only applies to mode = \"tun\"; this realserver block's mode is %q. Remove it, or set mode = \"tun\".", cfg.Mode)
			tunnelOK = false
		case err != nil:
			b.errorAt(r.Tunnel.Value, nil, "Invalid tunnel type",
				"%q is not a tunnel type. tunnel must be \"ipip\" (the default, tunl0), \"gue\" (%s) or \"gre\" (%s).", r.Tunnel.Val, receiveSide("gue"), receiveSide("gre"))
			tunnelOK = false
		default:
			cfg.Tunnel = t
		}
	} else if r.Tunnel != nil {
		tunnelOK = false
	} else if modeOK && cfg.Mode == realserver.TUN {
		kinds := map[ipvs.TunnelType]bool{}
		for _, u := range uses[ipvs.Tunnel] {
			kinds[services[u.svc].RealServers[u.real].Tunnel.Type] = true
		}
		if len(kinds) == 1 {
			for k := range kinds {
				cfg.Tunnel = tunnelOf(k)
			}
		}
	}
	if cfg.Tunnel == realserver.IPIP {
		cfg.Tunnel = ""
	}
	if r.TunnelPort != nil {
		if cfg.Tunnel != realserver.GUE {
			if tunnelOK && modeOK {
				b.errorAt(r.TunnelPort.Range, nil, "Tunnel port without gue",
					"tunnel_port is the UDP port of GUE encapsulation; this realserver block's tunnel is %q. Remove it, or set tunnel = \"gue\".", tunnelName(cfg.Tunnel))
			}
		} else if n, ok := b.whole(r.TunnelPort, 1, 65535, "Invalid tunnel port", "tunnel_port"); ok {
			cfg.GUEPort = uint16(n)
		}
	} else if cfg.Tunnel == realserver.GUE {
		ports := map[uint16]bool{}
		for _, u := range uses[ipvs.Tunnel] {
			if t := services[u.svc].RealServers[u.real].Tunnel; t.Type == ipvs.GUE {
				ports[t.Port] = true
			}
		}
		if len(ports) == 1 {
			for p := range ports {
				cfg.GUEPort = p
			}
		} else {
			why := "no tun real server of this file uses GUE, so there is none to take"
			if len(ports) > 1 {
				why = fmt.Sprintf("the tun real servers of this file use %d different GUE ports", len(ports))
			}
			b.errorAt(r.DefRange, nil, "Missing tunnel port",
				"Set tunnel_port, the UDP port the director sends GUE to (the port of its tunnel block): %s.", why)
		}
	}

	// VIPs: as written, or from the virtual services in this mode.
	type vipDef struct {
		where hcl.Range
	}
	defs := map[netip.Addr]vipDef{}
	switch {
	case r.VIPs != nil:
		if len(r.VIPs.Val) == 0 && !r.VIPs.Bad {
			b.errorAt(r.VIPs.Value, nil, "No VIPs",
				"vips is empty. List the virtual IPs this backend must accept traffic for, or remove vips to take them from the virtual services forwarding with this mode.")
		}
		for _, v := range r.VIPs.Val {
			addr, ok := b.ip(v, "A VIP")
			if !ok {
				continue
			}
			if modeOK {
				if err := realserver.CheckVIP(addr, cfg.Mode); err != nil {
					b.errorAt(v.Value, nil, vipSummary(err), "%s.", upperFirst(err.Error()))
					continue
				}
			}
			if prev, dup := defs[addr]; dup {
				b.errorAt(v.Value, prev.where.Ptr(), "Duplicate VIP",
					"VIP %s is already listed at %s.", addr, posString(prev.where))
				continue
			}
			defs[addr] = vipDef{where: v.Value}
			cfg.VIPs = append(cfg.VIPs, addr)
		}
	case modeOK:
		fwd := ipvs.DR
		if cfg.Mode == realserver.TUN {
			fwd = ipvs.Tunnel
		}
		for _, u := range uses[fwd] {
			s := services[u.svc]
			addr := s.Key.Addr
			if _, dup := defs[addr]; dup {
				continue
			}
			defs[addr] = vipDef{where: syn.Services[u.svc].Address.Value}
			if err := realserver.CheckVIP(addr, cfg.Mode); err != nil {
				b.errorAt(r.DefRange, syn.Services[u.svc].Address.Value.Ptr(), vipSummary(err),
					"This realserver block takes its VIPs from the virtual services, and virtual_server %q (at %s) has VIP %s: %s. Set vips to the VIPs to prepare.",
					s.Name, posString(syn.Services[u.svc].Address.Value), addr, err)
				continue
			}
			cfg.VIPs = append(cfg.VIPs, addr)
		}
		if len(cfg.VIPs) == 0 && !b.diags.HasErrors() {
			b.errorAt(r.DefRange, nil, "No VIPs",
				"Set vips: no virtual_server in this file with an address forwards to its real servers with %q, so there are no VIPs to take.", cfg.Mode)
		}
	}

	// What the director does with these VIPs, when this file says.
	if modeOK {
		for _, addr := range cfg.VIPs {
			where := defs[addr].where
			found := false
			for i, s := range services {
				if s.Key.IsFWMark() || s.Key.Addr != addr {
					continue
				}
				found = true
				for j, rs := range s.RealServers {
					if !tunnelOK || cfg.Mode != realserver.TUN || rs.Forwarding != ipvs.Tunnel {
						continue
					}
					at := tunnelRange(syn.Services[i], j)
					switch {
					case tunnelOf(rs.Tunnel.Type) != tunnelOrIPIP(cfg.Tunnel):
						b.errorAt(where, at.Ptr(), "Tunnel type mismatch",
							"virtual_server %q sends to real server %s encapsulated with %s (at %s), but this realserver block prepares the %s receive side. Set tunnel = %q.",
							s.Name, rs.Addr, rs.Tunnel.Type, posString(at), tunnelName(cfg.Tunnel), tunnelOf(rs.Tunnel.Type))
					case cfg.Tunnel == realserver.GUE && rs.Tunnel.Port != cfg.GUEPort && cfg.GUEPort != 0:
						b.errorAt(where, at.Ptr(), "Tunnel port mismatch",
							"virtual_server %q sends to real server %s with GUE to UDP port %d (at %s), but this realserver block opens port %d.",
							s.Name, rs.Addr, rs.Tunnel.Port, posString(at), cfg.GUEPort)
					}
				}
				if len(s.RealServers) > 0 && allOther(s, cfg.Mode) {
					b.diags = append(b.diags, &hcl.Diagnostic{
						Severity: hcl.DiagWarning,
						Summary:  "VIP not forwarded in this mode",
						Detail:   "virtual_server \"" + s.Name + "\" (VIP " + addr.String() + ") forwards to none of its real servers with \"" + cfg.Mode.String() + "\"; a backend prepared in this mode does not get its traffic.",
						Subject:  where.Ptr(),
					})
				}
			}
			if !found && len(services) > 0 && r.VIPs != nil {
				b.diags = append(b.diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning,
					Summary:  "VIP of no virtual service",
					Detail:   "No virtual_server in this file has address " + addr.String() + ". If this file describes the whole cluster, the director will not send traffic for it.",
					Subject:  where.Ptr(),
				})
			}
		}
	}
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	return cfg, b.diags
}

func modeForwarding(m realserver.Mode) ipvs.Forwarding {
	if m == realserver.TUN {
		return ipvs.Tunnel
	}
	return ipvs.DR
}

// allOther reports whether no real server of s forwards in mode m.
func allOther(s ipvs.VirtualService, m realserver.Mode) bool {
	for _, rs := range s.RealServers {
		if rs.Forwarding == modeForwarding(m) {
			return false
		}
	}
	return true
}

// tunnelRange is where real server j of s gets its tunnel type from.
func tunnelRange(s *serviceSyntax, j int) hcl.Range {
	if j < len(s.RealServers) {
		if t := s.RealServers[j].Tunnel; t != nil {
			if t.Type != nil {
				return t.Type.Value
			}
			return t.DefRange
		}
	}
	if s.Tunnel != nil {
		if s.Tunnel.Type != nil {
			return s.Tunnel.Type.Value
		}
		return s.Tunnel.DefRange
	}
	return s.DefRange
}

// receiveSide says what a backend needs to receive tunnel type t.
func receiveSide(t string) string {
	if t == "gue" {
		return "a fou receive port in GUE mode feeding tunl0, where the VIPs go"
	}
	return "the ip_gre module's gre0 device, where the VIPs go"
}

// tunnelOf is the receive side of the director's encapsulation t.
func tunnelOf(t ipvs.TunnelType) realserver.Tunnel {
	switch t {
	case ipvs.GUE:
		return realserver.GUE
	case ipvs.GRE:
		return realserver.GRE
	}
	return realserver.IPIP
}

func tunnelOrIPIP(t realserver.Tunnel) realserver.Tunnel {
	if t == "" {
		return realserver.IPIP
	}
	return t
}

func tunnelName(t realserver.Tunnel) string { return string(tunnelOrIPIP(t)) }

func vipSummary(err error) string {
	if errors.Is(err, realserver.ErrUnsupported) {
		return "VIP not supported yet"
	}
	return "Invalid VIP"
}
