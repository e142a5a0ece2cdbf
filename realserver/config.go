package realserver

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Mode is how the director forwards to this real server, which decides
// where the VIPs go.
type Mode uint8

// Forwarding modes a real server can be prepared for.
const (
	// DR (direct routing): the director rewrites only the destination MAC,
	// so packets for the VIP arrive on a real NIC; the VIP lives on lo.
	DR Mode = iota + 1
	// TUN (IP-in-IP tunnelling): the director encapsulates packets for the
	// VIP to the real server's own address; they are decapsulated on tunl0,
	// where the VIP lives.
	TUN
)

// ParseMode parses "dr" or "tun" (any case).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "dr":
		return DR, nil
	case "tun":
		return TUN, nil
	}
	return 0, fmt.Errorf("unknown mode %q (want dr or tun)", s)
}

func (m Mode) String() string {
	switch m {
	case DR:
		return "dr"
	case TUN:
		return "tun"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) {
	if m != DR && m != TUN {
		return nil, fmt.Errorf("invalid mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	*m = v
	return err
}

// Device is the interface that carries the VIPs in this mode.
func (m Mode) Device() string {
	if m == TUN {
		return TunnelDevice
	}
	return "lo"
}

// TunnelDevice is the ipip module's catch-all tunnel device. It accepts
// IP-in-IP packets from any source to any local address, which is what the
// director sends in TUN mode (and what a GUE receive port hands on).
const TunnelDevice = "tunl0"

// GREDevice is the ip_gre module's catch-all device: it accepts GRE
// packets from any source to any local address, the director's GRE
// encapsulation (Linux 5.3+).
const GREDevice = "gre0"

// Tunnel is the encapsulation the director uses in TUN mode, which decides
// the receive side.
type Tunnel string

// Tunnel types. IPIP is the default (the empty value means it too).
const (
	IPIP Tunnel = "ipip"
	// GUE: IP-in-IP inside UDP (Linux 5.2+ on the director). The real
	// server needs a fou receive port in GUE mode, which hands the inner
	// IP-in-IP packet to tunl0.
	GUE Tunnel = "gue"
	// GRE: the director's GRE encapsulation (Linux 5.3+), received on
	// gre0.
	GRE Tunnel = "gre"
)

// ParseTunnel parses "ipip", "gue" or "gre" (any case).
func ParseTunnel(s string) (Tunnel, error) {
	switch t := Tunnel(strings.ToLower(s)); t {
	case IPIP, GUE, GRE:
		return t, nil
	}
	return "", fmt.Errorf("unknown tunnel type %q (want ipip, gue or gre)", s)
}

// Config is what a real server needs: its forwarding mode and the VIPs it
// must accept traffic for; in TUN mode, the tunnel type and for GUE the
// UDP port the director sends to.
type Config struct {
	Mode    Mode         `json:"mode"`
	VIPs    []netip.Addr `json:"vips"`
	Tunnel  Tunnel       `json:"tunnel,omitempty"`
	GUEPort uint16       `json:"gue_port,omitempty"`
}

// Device is the interface that carries the VIPs: lo in DR mode, tunl0 in
// TUN mode with IP-in-IP or GUE, gre0 with GRE.
func (c Config) Device() string {
	if c.Mode == TUN && c.Tunnel == GRE {
		return GREDevice
	}
	return c.Mode.Device()
}

// ErrUnsupported marks setups lvsctl cannot prepare yet (IPv6 VIPs in TUN
// mode).
var ErrUnsupported = errors.New("not supported yet")

// CheckVIP reports why addr cannot be a VIP of a real server in mode, or
// nil. The messages are full sentences for users.
func CheckVIP(addr netip.Addr, mode Mode) error {
	switch {
	case !addr.IsValid():
		return errors.New("the VIP is not an IP address")
	case addr.Zone() != "":
		return fmt.Errorf("the VIP %s must not have an IPv6 zone: a VIP is a global address", addr)
	case addr.Unmap().IsUnspecified():
		return fmt.Errorf("the VIP cannot be the unspecified address %s", addr)
	case addr.Unmap().IsLoopback():
		return fmt.Errorf("the VIP cannot be a loopback address (%s): the director sends real traffic to it", addr)
	case addr.IsMulticast():
		return fmt.Errorf("the VIP cannot be a multicast address (%s)", addr)
	case addr.Unmap().IsLinkLocalUnicast():
		return fmt.Errorf("the VIP cannot be a link-local address (%s): it must be routable to the director", addr)
	case mode == TUN && !addr.Unmap().Is4():
		return fmt.Errorf("IPv6 VIPs in tun mode (%s) are %w: they arrive IPv6-in-IPv6 on ip6tnl0, which lvsctl does not prepare; use dr for IPv6 services", addr, ErrUnsupported)
	}
	return nil
}

// Validate checks a Config built from flags; the HCL decoder makes the
// same checks with source positions. It reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Mode != DR && c.Mode != TUN {
		errs = append(errs, fmt.Errorf("mode must be dr or tun"))
	}
	if len(c.VIPs) == 0 {
		errs = append(errs, errors.New("no VIPs: give at least one (--vip ADDR, or vips in the realserver block)"))
	}
	switch {
	case c.Tunnel != "" && c.Mode != TUN:
		errs = append(errs, errors.New("a tunnel type only applies to mode tun"))
	case c.Tunnel != "" && c.Tunnel != IPIP && c.Tunnel != GUE && c.Tunnel != GRE:
		errs = append(errs, fmt.Errorf("unknown tunnel type %q (want ipip, gue or gre)", c.Tunnel))
	case c.Tunnel == GUE && c.GUEPort == 0:
		errs = append(errs, errors.New("gue needs the UDP port the director sends to (the tunnel port of its virtual services)"))
	case c.Tunnel != GUE && c.GUEPort != 0:
		errs = append(errs, errors.New("a tunnel port only applies to gue"))
	}
	seen := make(map[netip.Addr]bool)
	for _, v := range c.VIPs {
		if err := CheckVIP(v, c.Mode); err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[v.Unmap()] {
			errs = append(errs, fmt.Errorf("the VIP %s is given twice", v))
		}
		seen[v.Unmap()] = true
	}
	return errors.Join(errs...)
}

// normalize returns c with unmapped, de-duplicated VIPs in the order given.
func (c Config) normalize() Config {
	out := Config{Mode: c.Mode, Tunnel: c.Tunnel, GUEPort: c.GUEPort}
	if out.Tunnel == IPIP {
		out.Tunnel = "" // the default, as records before GUE and GRE have it
	}
	seen := make(map[netip.Addr]bool)
	for _, v := range c.VIPs {
		v = v.Unmap()
		if !seen[v] {
			seen[v] = true
			out.VIPs = append(out.VIPs, v)
		}
	}
	return out
}

// hasIPv4 reports whether any VIP is IPv4: only those need ARP sysctls.
func (c Config) hasIPv4() bool {
	for _, v := range c.VIPs {
		if v.Unmap().Is4() {
			return true
		}
	}
	return false
}

// hostPrefix is addr as a single-host prefix: /32 or /128.
func hostPrefix(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen())
}
