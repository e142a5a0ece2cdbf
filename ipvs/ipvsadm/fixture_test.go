package ipvsadm

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/ipvs"
)

// fixture is a kernel table (in the kernel's order) and the rest of the
// state ipvsadm can list. The tests print it with this package and, where
// ipvsadm and a C compiler exist, have the real ipvsadm 1.31 list the same
// state through the LD_PRELOAD shim in ipvs/internal/testdata, which
// answers its netlink requests with the messages the kernel would send.
type fixture struct {
	info     ipvs.Info
	services []ipvs.ListedService
	conns    string // /proc/net/ip_vs_conn
	timeouts ipvs.Timeouts
	daemons  []ipvs.SyncDaemon
	hosts    map[netip.Addr]string // the only host names there are
}

// testResolver names hosts from a map and services from
// testdata/services, as ipvsadm does under the shim with IPVSADM_HOSTS and
// IPVSADM_SERVICES.
type testResolver struct {
	hosts map[netip.Addr]string
	SystemResolver
}

func (r *testResolver) HostName(a netip.Addr) (string, bool) {
	n, ok := r.hosts[a]
	return n, ok
}

func (r *testResolver) HostAddr(name string) (netip.Addr, bool) {
	for a, n := range r.hosts {
		if n == name && a.Is4() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func key(t testing.TB, s string) ipvs.ServiceKey {
	t.Helper()
	k, err := ipvs.ParseServiceKey(s)
	require.NoError(t, err)
	return k
}

type svcOpt func(*ipvs.ListedService)

func svc(t testing.TB, k string, sched ipvs.Scheduler, opts ...svcOpt) ipvs.ListedService {
	s := ipvs.ListedService{}
	s.Service.Key = key(t, k)
	s.Service.Scheduler = sched
	s.Service.PersistenceMask = s.Service.Key.Family.Bits()
	for _, o := range opts {
		o(&s)
	}
	return s
}

func persist(secs int, mask string) svcOpt {
	return func(s *ipvs.ListedService) {
		s.Service.Persistence = time.Duration(secs) * time.Second
		if mask == "" {
			return
		}
		if s.Service.Key.Family == ipvs.IPv6 {
			fmt.Sscan(mask, &s.Service.PersistenceMask)
			return
		}
		s.Netmask = netip.MustParseAddr(mask)
	}
}

func flags(f ipvs.SchedFlags) svcOpt { return func(s *ipvs.ListedService) { s.Service.SchedFlags = f } }
func ops() svcOpt                    { return func(s *ipvs.ListedService) { s.Service.OnePacket = true } }
func pe(name string) svcOpt          { return func(s *ipvs.ListedService) { s.PEName = name } }
func stats(st ipvs.Stats) svcOpt     { return func(s *ipvs.ListedService) { s.Stats = st } }

func reals(rs ...ipvs.RealStatus) svcOpt {
	return func(s *ipvs.ListedService) {
		s.Reals = append(s.Reals, rs...)
		for _, r := range rs {
			s.Service.RealServers = append(s.Service.RealServers, r.Real)
		}
	}
}

func real(addrPort string, fwd ipvs.Forwarding, weight uint32) ipvs.RealStatus {
	ap := netip.MustParseAddrPort(addrPort)
	return ipvs.RealStatus{Real: ipvs.RealServer{Addr: ap.Addr(), Port: ap.Port(), Forwarding: fwd, Weight: weight}}
}

func (f *fixture) write(t *testing.T, dir string) (replies, service, conns string) {
	t.Helper()
	var all, one strings.Builder
	for i, s := range f.services {
		line := fmt.Sprintf("%d - %s\n", 4, hexOf(t, encodeKernelService(t, s)))
		all.WriteString(line)
		if i == 0 {
			one.WriteString(line)
		}
		for _, r := range s.Reals {
			line := fmt.Sprintf("%d %s %s\n", 8, hexOf(t, encodeGetDestRequest(t, s.Service.Key)),
				hexOf(t, encodeKernelDest(t, r)))
			all.WriteString(line)
			one.WriteString(line)
		}
	}
	to := netlink.NewAttributeEncoder()
	to.Uint32(4, uint32(f.timeouts.TCP/time.Second))
	to.Uint32(5, uint32(f.timeouts.TCPFin/time.Second))
	to.Uint32(6, uint32(f.timeouts.UDP/time.Second))
	b, err := to.Encode()
	require.NoError(t, err)
	all.WriteString(fmt.Sprintf("13 - %s\n", hexOf(t, b)))
	for _, d := range f.daemons {
		all.WriteString(fmt.Sprintf("11 - %s\n", hexOf(t, encodeKernelDaemon(t, d))))
	}
	var hosts strings.Builder
	for a, n := range f.hosts {
		fmt.Fprintf(&hosts, "%s %s\n", a, n)
	}
	writeFile(t, dir+"/hosts", hosts.String())
	replies, service, conns = dir+"/replies", dir+"/replies-one", dir+"/ip_vs_conn"
	writeFile(t, replies, all.String())
	writeFile(t, service, one.String())
	writeFile(t, conns, f.conns)
	return replies, service, conns
}

func hexOf(t *testing.T, b []byte) string { return hex.EncodeToString(b) }

func nested(t testing.TB, typ uint16, fn func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	ae.Nested(typ, func(n *netlink.AttributeEncoder) error { fn(n); return nil })
	b, err := ae.Encode()
	require.NoError(t, err)
	return b
}

func addr16(a netip.Addr, f ipvs.Family) []byte {
	b := make([]byte, 16)
	if f == ipvs.IPv4 {
		v := a.Unmap().As4()
		copy(b, v[:])
	} else {
		v := a.As16()
		copy(b, v[:])
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// putStats writes ip_vs_genl_fill_stats (32-bit counters and rates, 64-bit
// bytes) or ip_vs_genl_fill_stats64.
func putStats(ae *netlink.AttributeEncoder, typ uint16, st ipvs.Stats, wide bool) {
	ae.Nested(typ, func(n *netlink.AttributeEncoder) error {
		put := func(t uint16, v uint64, u64 bool) {
			if u64 || wide {
				n.Uint64(t, v)
			} else {
				n.Uint32(t, uint32(v))
			}
		}
		put(1, st.Conns, false)
		put(2, st.InPkts, false)
		put(3, st.OutPkts, false)
		put(4, st.InBytes, true)
		put(5, st.OutBytes, true)
		put(6, st.CPS, false)
		put(7, st.InPPS, false)
		put(8, st.OutPPS, false)
		put(9, st.InBPS, false)
		put(10, st.OutBPS, false)
		return nil
	})
}

// encodeKernelService is ip_vs_genl_fill_service (Linux 6.1).
func encodeKernelService(t testing.TB, s ipvs.ListedService) []byte {
	k := s.Service.Key
	return nested(t, 1, func(ae *netlink.AttributeEncoder) {
		ae.Uint16(1, uint16(k.Family))
		if k.IsFWMark() {
			ae.Uint32(5, k.FWMark)
		} else {
			ae.Uint16(2, uint16(k.Protocol))
			ae.Bytes(3, addr16(k.Addr, k.Family))
			ae.Bytes(4, be16(k.Port))
		}
		ae.String(6, string(s.Service.Scheduler))
		if s.PEName != "" {
			ae.String(11, s.PEName)
		}
		fl := uint32(s.Service.SchedFlags) | 0x2 // HASHED, as the kernel has it
		if s.Service.Persistence > 0 {
			fl |= 0x1
		}
		if s.Service.OnePacket {
			fl |= 0x4
		}
		ae.Bytes(7, binary.NativeEndian.AppendUint32(binary.NativeEndian.AppendUint32(nil, fl), ^uint32(0)))
		ae.Uint32(8, uint32(s.Service.Persistence/time.Second))
		if k.Family == ipvs.IPv6 {
			ae.Uint32(9, uint32(s.Service.PersistenceMask))
		} else {
			m := s.PersistenceNetmask().As4()
			ae.Bytes(9, m[:])
		}
		putStats(ae, 10, s.Stats, false)
		putStats(ae, 12, s.Stats, true)
	})
}

// encodeKernelDest is ip_vs_genl_fill_dest (Linux 6.1).
func encodeKernelDest(t testing.TB, rs ipvs.RealStatus) []byte {
	r := rs.Real
	f := ipvs.FamilyOf(r.Addr)
	return nested(t, 2, func(ae *netlink.AttributeEncoder) {
		ae.Bytes(1, addr16(r.Addr, f))
		ae.Bytes(2, be16(r.Port))
		ae.Uint32(3, uint32(r.Forwarding))
		ae.Uint32(4, r.Weight)
		ae.Uint8(13, uint8(r.Tunnel.Type))
		ae.Bytes(14, be16(r.Tunnel.Port))
		ae.Uint16(15, uint16(r.Tunnel.Checksum))
		ae.Uint32(5, r.UpperThreshold)
		ae.Uint32(6, r.LowerThreshold)
		ae.Uint32(7, rs.ActiveConns)
		ae.Uint32(8, rs.InactiveConns)
		ae.Uint32(9, rs.PersistentConns)
		ae.Uint16(11, uint16(f))
		putStats(ae, 10, rs.Stats, false)
		putStats(ae, 12, rs.Stats, true)
	})
}

// encodeGetDestRequest is the attributes of ipvsadm's GET_DEST request for
// the service with key k (libipvs ipvs_get_dests).
func encodeGetDestRequest(t testing.TB, k ipvs.ServiceKey) []byte {
	return nested(t, 1, func(ae *netlink.AttributeEncoder) {
		ae.Uint16(1, uint16(k.Family))
		if k.IsFWMark() {
			ae.Uint32(5, k.FWMark)
			return
		}
		ae.Uint16(2, uint16(k.Protocol))
		ae.Bytes(3, addr16(k.Addr, k.Family))
		ae.Bytes(4, be16(k.Port))
	})
}

// encodeKernelDaemon is ip_vs_genl_fill_daemon.
func encodeKernelDaemon(t testing.TB, d ipvs.SyncDaemon) []byte {
	return nested(t, 3, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(1, uint32(d.State))
		ae.String(2, d.Interface)
		ae.Uint32(3, d.SyncID)
		ae.Uint16(4, d.MaxLen)
		ae.Uint16(7, d.Port)
		ae.Uint8(8, d.TTL)
		if d.Group.Is4() {
			v := d.Group.As4()
			ae.Bytes(5, v[:])
		} else if d.Group.IsValid() {
			v := d.Group.As16()
			ae.Bytes(6, v[:])
		}
	})
}

// mixedFixture has a bit of everything ipvsadm prints differently.
func mixedFixture(t testing.TB) fixture {
	big := ipvs.Stats{Conns: 123456789012, InPkts: 99999999, OutPkts: 100000000, InBytes: 999999999999999,
		OutBytes: 123456789012345678, CPS: 5, InPPS: 1000000000, OutPPS: 99999999999, InBPS: 100000000000000, OutBPS: 7}
	huge := ipvs.RealStatus{Real: ipvs.RealServer{Addr: netip.MustParseAddr("10.1.0.9"), Port: 80, Forwarding: ipvs.NAT, Weight: 2147483647},
		Stats: ipvs.Stats{Conns: 1<<32 + 5, InPkts: 1<<33 + 123456789, OutPkts: 4294967295, InBytes: 1 << 40, OutBytes: 1<<44 + 1,
			CPS: 1<<32 + 3, InPPS: 123456789, OutPPS: 1 << 35, InBPS: 1<<32 + 999999999, OutBPS: 100000000},
		ActiveConns: 4000000000, InactiveConns: 12, PersistentConns: 7}
	thresh := real("10.1.0.10:8080", ipvs.NAT, 0)
	thresh.Real.UpperThreshold, thresh.Real.LowerThreshold = 1000, 10
	gue := real("10.2.0.1:443", ipvs.Tunnel, 3)
	gue.Real.Tunnel = ipvs.TunnelConfig{Type: ipvs.GUE, Port: 6080, Checksum: ipvs.Checksum}
	gueRem := real("10.2.0.2:443", ipvs.Tunnel, 3)
	gueRem.Real.Tunnel = ipvs.TunnelConfig{Type: ipvs.GUE, Port: 65535, Checksum: ipvs.RemoteChecksum}
	gre := real("[2001:db8:2::1]:443", ipvs.Tunnel, 1)
	gre.Real.Tunnel = ipvs.TunnelConfig{Type: ipvs.GRE, Checksum: ipvs.Checksum}
	greNo := real("10.2.0.3:443", ipvs.Tunnel, 1)
	greNo.Real.Tunnel = ipvs.TunnelConfig{Type: ipvs.GRE}
	local := real("127.0.0.1:80", ipvs.Local, 1)
	bypass := real("10.1.0.11:80", 4, 1) // no name in ipvsadm: "(null)"
	negWeight := real("10.1.0.12:80", ipvs.DR, 4294967295)
	return fixture{
		info: ipvs.Info{Version: 0x010201, ConnTableSize: 4096},
		services: []ipvs.ListedService{
			svc(t, "TCP 192.168.0.1:80", "rr", stats(big), reals(huge, thresh, local, bypass, negWeight,
				real("192.168.1.2:80", ipvs.NAT, 1), real("10.1.0.1:80", ipvs.NAT, 1), real("10.1.0.1:79", ipvs.NAT, 1))),
			svc(t, "TCP 10.0.0.1:443", "wlc", persist(600, "255.255.255.0"), reals(gue, gueRem, gre, greNo,
				real("10.2.0.4:443", ipvs.Tunnel, 1))),
			svc(t, "TCP 10.0.0.1:80", "sh", flags(ipvs.SchedFlag1|ipvs.SchedFlag2)),
			svc(t, "UDP 10.0.0.1:53", "mh", flags(ipvs.SchedFlag2), ops(), reals(real("10.3.0.1:53", ipvs.NAT, 5))),
			svc(t, "UDP 10.0.0.1:5060", "rr", persist(60, ""), pe("sip")),
			svc(t, "SCTP 10.0.0.2:3868", "sed", reals(real("10.3.0.2:3868", ipvs.DR, 1))),
			svc(t, "TCP 172.16.0.1:0", "lc", persist(300, "255.0.255.0")),
			svc(t, "TCP 100.64.0.1:8080", "sh", flags(ipvs.SchedFlag3)),
			svc(t, "TCP 1.2.3.4:65535", "wrr", flags(ipvs.SchedFlag1|ipvs.SchedFlag3), persist(1, "0.0.0.0")),
			svc(t, "TCP [2001:db8::1]:80", "wrr", persist(3600, "64"), reals(
				real("[2001:db8:1::2]:8080", ipvs.NAT, 10), real("[2001:db8:1::1]:8080", ipvs.NAT, 20),
				real("10.9.9.9:80", ipvs.Tunnel, 1))),
			svc(t, "UDP [fd00::1]:53", "dh", ops()),
			mapped(svc(t, "TCP [2001:db8::5]:80", "rr"), "::ffff:10.0.0.5"),
			svc(t, "TCP [::10.0.0.6]:80", "rr"),
			svc(t, "TCP [2001:db8:1234:5678:9abc:def0:1234:5678]:65535", "lblcr", persist(86400, "128"),
				reals(real("[2001:db8:1234:5678:9abc:def0:1234:5679]:65535", ipvs.DR, 1))),
			svc(t, "FWM 7 ipv4", "rr", persist(300, "255.255.0.0"), reals(real("10.4.0.1:0", ipvs.DR, 1), real("10.4.0.2:0", ipvs.DR, 0))),
			svc(t, "FWM 1 ipv4", "fo"),
			svc(t, "FWM 4000000000 ipv4", "ovf", reals(real("10.4.0.3:0", ipvs.DR, 1))),
			svc(t, "FWM 2147483649 ipv4", "nq"),
			svc(t, "FWM 8 ipv6", "mh", flags(ipvs.SchedFlag1), persist(120, "48"), reals(real("[2001:db8:4::1]:0", ipvs.DR, 1))),
		},
		conns: "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" +
			"TCP 0A000102 D431 0A000164 0050 0A00020B 0050 TIME_WAIT        95\n" +
			"TCP 0A000102 D432 0A000164 0050 0A00020C 0050 ESTABLISHED    899\n" +
			"UDP 0A000102 8235 0A000164 0035 0A00020B 0035 UDP              299\n" +
			"TCP 2001:0db8:0000:0000:0000:0000:0000:0002 C350 2001:0db8:0000:0000:0000:0000:0000:0001 0050 2001:0db8:0001:0000:0000:0000:0000:0001 1F90 SYN_RECV          59\n" +
			"TCP 2001:0db8:0000:0000:0000:0000:0000:0002 C351 2001:0db8:0000:0000:0000:0000:0000:0001 0050 0A090909 0050 FIN_WAIT        6000\n" +
			"UDP 0A000102 13C4 0A000001 13C4 0A00030B 13C4 UDP              179 sip 3848276298220188511@pbx.example\n" +
			"SCTP 0A000102 0EFC 0A000002 0F1C 0A000302 0F1C ESTABLISHED      3\n",
		timeouts: ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
		daemons: []ipvs.SyncDaemon{
			{State: ipvs.SyncMaster, Interface: "eth0", SyncID: 5, MaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1},
			{State: ipvs.SyncBackup, Interface: "eth1", SyncID: 0, MaxLen: 1472, Group: netip.MustParseAddr("ff02::1:2"), Port: 9000, TTL: 3},
		},
	}
}

// mapped gives an IPv6 service another address, such as a v4-mapped one
// (which ipvs.ParseServiceKey would read as IPv4).
func mapped(s ipvs.ListedService, addr string) ipvs.ListedService {
	s.Service.Key.Addr = netip.MustParseAddr(addr)
	return s
}

// namesFixture has host and service names of every length that ipvsadm
// cuts: 28 bytes for an IPv4 real server, 33 for an IPv4 service line, 59
// for any address:port.
func namesFixture(t testing.TB) fixture {
	f := fixture{info: ipvs.Info{Version: 0x010201, ConnTableSize: 4096}}
	f.hosts = map[netip.Addr]string{
		netip.MustParseAddr("10.0.0.1"):     "www.example.com",
		netip.MustParseAddr("10.0.0.2"):     "a-rather-long-service-host-name.example.org",
		netip.MustParseAddr("10.0.1.1"):     "be1.example.com",
		netip.MustParseAddr("10.0.1.2"):     "backend-number-two.dc1.example.com",
		netip.MustParseAddr("10.0.1.3"):     "backend-with-a-name-far-longer-than-sixty-characters.dc1.example.com",
		netip.MustParseAddr("2001:db8::1"):  "v6.example.com",
		netip.MustParseAddr("2001:db8::10"): "v6-backend-with-a-long-name-that-ipvsadm-cuts.example.com",
		netip.MustParseAddr("10.0.1.100"):   "vip.example.com",
		netip.MustParseAddr("10.0.2.11"):    "be1.example.com",
	}
	f.services = []ipvs.ListedService{
		svc(t, "TCP 10.0.0.1:80", "rr", reals(real("10.0.1.1:80", ipvs.NAT, 1), real("10.0.1.2:8080", ipvs.NAT, 1),
			real("10.0.1.3:443", ipvs.NAT, 1), real("10.0.1.4:65000", ipvs.NAT, 1), real("[2001:db8::10]:80", ipvs.Tunnel, 1))),
		svc(t, "TCP 10.0.0.2:443", "wlc", reals(real("10.0.1.2:443", ipvs.DR, 1))),
		svc(t, "UDP 10.0.0.1:53", "rr", reals(real("10.0.1.1:53", ipvs.NAT, 1))),
		svc(t, "SCTP 10.0.0.1:3868", "rr"),
		svc(t, "UDP 10.0.0.2:5060", "rr"),
		svc(t, "TCP 10.0.0.9:65000", "rr"),
		svc(t, "TCP [2001:db8::1]:443", "rr", reals(real("[2001:db8::10]:443", ipvs.NAT, 1), real("[2001:db8::11]:22", ipvs.NAT, 1))),
		svc(t, "FWM 3 ipv4", "rr", reals(real("10.0.1.3:0", ipvs.DR, 1))),
	}
	f.conns = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" +
		"TCP 0A000102 D431 0A000164 0050 0A00020B 0050 TIME_WAIT        95\n" +
		"UDP 0A000102 D431 0A000164 0035 0A000103 0035 UDP              95\n" +
		"TCP 20010DB8000000000000000000000002 C350 20010db8:0000:0000:0000:0000:0000:0000:0001 01BB 2001:0db8:0000:0000:0000:0000:0000:0010 01BB ESTABLISHED     59\n"
	return f
}

// randomFixture is a large table in a shuffled kernel order, with addresses
// spread over the whole space so that ipvsadm's non-transitive comparison
// matters, many duplicates in the high words, and real servers of both
// families.
func randomFixture(t testing.TB, services, realsPer int, seed uint64) fixture {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	f := fixture{info: ipvs.Info{Version: 0x010201, ConnTableSize: 4096}}
	seen := map[string]bool{}
	v4 := func() netip.Addr {
		return netip.AddrFrom4([4]byte{byte(rng.IntN(4) * 64), byte(rng.IntN(3)), 0, byte(rng.IntN(4))})
	}
	v6 := func() netip.Addr {
		var b [16]byte
		b[0] = byte(rng.IntN(4) * 64)
		b[3] = byte(rng.IntN(2))
		b[7] = byte(rng.IntN(2) * 128)
		b[15] = byte(rng.IntN(3))
		return netip.AddrFrom16(b)
	}
	for len(f.services) < services {
		var k ipvs.ServiceKey
		switch rng.IntN(6) {
		case 0:
			k = ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: []uint32{1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0x80000001}[rng.IntN(6)]}
		case 1:
			k = ipvs.ServiceKey{Family: ipvs.IPv6, Protocol: ipvs.Protocol([]int{6, 17}[rng.IntN(2)]), Addr: v6(), Port: uint16(rng.IntN(3) * 30000)}
		default:
			k = ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.Protocol([]int{6, 17, 132}[rng.IntN(3)]), Addr: v4(), Port: uint16(rng.IntN(3) * 30000)}
		}
		if seen[k.String()] {
			continue
		}
		seen[k.String()] = true
		s := ipvs.ListedService{}
		s.Service.Key, s.Service.Scheduler = k, "wlc"
		s.Service.PersistenceMask = k.Family.Bits()
		s.Stats.Conns = rng.Uint64() >> rng.IntN(64)
		rseen := map[netip.AddrPort]bool{}
		for len(s.Reals) < rng.IntN(realsPer+1) {
			a := v4()
			fwd := ipvs.NAT
			if k.Family == ipvs.IPv6 {
				a = v6()
			}
			if rng.IntN(5) == 0 {
				a, fwd = v6(), ipvs.Tunnel
			}
			ap := netip.AddrPortFrom(a, uint16(rng.IntN(2)*40000))
			if rseen[ap] {
				continue
			}
			rseen[ap] = true
			r := ipvs.RealStatus{Real: ipvs.RealServer{Addr: a, Port: ap.Port(), Forwarding: fwd, Weight: uint32(rng.IntN(100))}}
			s.Reals = append(s.Reals, r)
			s.Service.RealServers = append(s.Service.RealServers, r.Real)
		}
		f.services = append(f.services, s)
	}
	return f
}
