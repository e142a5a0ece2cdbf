package lab

import (
	"fmt"
	"net/netip"
)

// Topology names the addresses of a lab built by DRTopology or
// TUNTopology. The hosts are "client", "director" and "be1", "be2", ...
type Topology struct {
	Client   netip.Addr
	Director netip.Addr // the director's own address
	VIP      netip.Addr // on the director's eth0
	Backends []netip.Addr
}

// DRTopology builds an LVS-DR lab: client, director and backends on one L2
// segment, 10.0.3.0/24, a bridge (br0) in a namespace of its own ("switch")
// with one veth per host. The client is 10.0.3.2, the director 10.0.3.1
// with the VIP 10.0.3.100/32 on its eth0 (so it answers ARP for it), the
// backends 10.0.3.11, .12, ... The backends are left as they come: putting
// the VIP on their lo and silencing their ARP for it is the business of
// `lvsctl realserver start`.
func (l *Lab) DRTopology(backends int) (*Topology, error) {
	t := &Topology{
		Client:   netip.MustParseAddr("10.0.3.2"),
		Director: netip.MustParseAddr("10.0.3.1"),
		VIP:      netip.MustParseAddr("10.0.3.100"),
	}
	hosts := []struct {
		name string
		addr netip.Addr
	}{{"client", t.Client}, {"director", t.Director}}
	for i := 1; i <= backends; i++ {
		a := netip.AddrFrom4([4]byte{10, 0, 3, byte(10 + i)})
		t.Backends = append(t.Backends, a)
		hosts = append(hosts, struct {
			name string
			addr netip.Addr
		}{fmt.Sprintf("be%d", i), a})
	}
	if err := l.AddHost("switch"); err != nil {
		return nil, err
	}
	if err := l.AddBridge("switch", "br0", ""); err != nil {
		return nil, err
	}
	for _, h := range hosts {
		if err := l.AddHost(h.name); err != nil {
			return nil, err
		}
		if err := l.Link("switch", h.name, "", h.name, "eth0", h.addr.String()+"/24"); err != nil {
			return nil, err
		}
		if err := l.Enslave("switch", h.name, "br0"); err != nil {
			return nil, err
		}
	}
	if err := l.AddAddr("director", "eth0", t.VIP.String()+"/32"); err != nil {
		return nil, err
	}
	return t, nil
}

// TUNTopology builds an LVS-TUN lab where every host has a subnet of its
// own, joined by a router: the client is 10.0.5.2, the director 10.0.6.2
// with the VIP 10.0.6.100/32 on its eth0, backend i is 10.0.(6+i).2, and
// the router is .1 on each. Everyone's default route is the router. So the
// director reaches the backends only by routing (no shared L2 segment, the
// reason to tunnel), and the backends' replies, sent from the VIP, go
// through the router straight to the client, never back through the
// director. The router does no reverse-path filtering (a backend's replies
// come from the VIP, which lives on the director's subnet).
func (l *Lab) TUNTopology(backends int) (*Topology, error) {
	t := &Topology{
		Client:   netip.MustParseAddr("10.0.5.2"),
		Director: netip.MustParseAddr("10.0.6.2"),
		VIP:      netip.MustParseAddr("10.0.6.100"),
	}
	if err := l.AddHost("router"); err != nil {
		return nil, err
	}
	// default first: new interfaces copy it.
	for _, s := range [][2]string{
		{"net.ipv4.ip_forward", "1"},
		{"net.ipv4.conf.default.rp_filter", "0"},
		{"net.ipv4.conf.all.rp_filter", "0"},
	} {
		if err := l.Sysctl("router", s[0], s[1]); err != nil {
			return nil, err
		}
	}
	attach := func(host string, third byte) (netip.Addr, error) {
		addr := netip.AddrFrom4([4]byte{10, 0, third, 2})
		gw := netip.AddrFrom4([4]byte{10, 0, third, 1})
		if err := l.AddHost(host); err != nil {
			return addr, err
		}
		if err := l.Link("router", host, gw.String()+"/24", host, "eth0", addr.String()+"/24"); err != nil {
			return addr, err
		}
		return addr, l.Route(host, "default", gw.String())
	}
	if _, err := attach("client", 5); err != nil {
		return nil, err
	}
	if _, err := attach("director", 6); err != nil {
		return nil, err
	}
	if err := l.AddAddr("director", "eth0", t.VIP.String()+"/32"); err != nil {
		return nil, err
	}
	for i := 1; i <= backends; i++ {
		a, err := attach(fmt.Sprintf("be%d", i), byte(6+i))
		if err != nil {
			return nil, err
		}
		t.Backends = append(t.Backends, a)
	}
	return t, nil
}
