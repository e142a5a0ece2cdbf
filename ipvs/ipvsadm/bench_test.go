package ipvsadm_test

import (
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/ipvs/ipvsadm"
)

// BenchmarkFormat is the formatter on a table of 2,500 TCP services x 4
// NAT real servers (12,500 objects), in the kernel's order: -Ln (sorted,
// as ipvsadm sorts), -Ln --stats and -S -n.
func BenchmarkFormat(b *testing.B) {
	var table []ipvs.ListedService
	for i := range 2500 {
		s := ipvs.VirtualService{
			Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{10, byte(i >> 12), byte(i >> 4), byte(1 + i&0xf)}), Port: 80},
			Scheduler: "wlc",
		}
		ls := ipvs.ListedService{ServiceStatus: ipvs.ServiceStatus{Stats: ipvs.Stats{Conns: uint64(i), InPkts: 1e6, InBytes: 1e9}}}
		for j := range 4 {
			r := ipvs.RealServer{Addr: netip.AddrFrom4([4]byte{172, byte(16 + j), byte(i >> 8), byte(i)}), Port: 8080, Weight: uint32(j + 1), Forwarding: ipvs.NAT}
			s.RealServers = append(s.RealServers, r)
			ls.Reals = append(ls.Reals, ipvs.RealStatus{Real: r, ActiveConns: uint32(j), Stats: ipvs.Stats{Conns: 12345}})
		}
		ls.Service = s.Normalize()
		table = append(table, ls)
	}
	info := ipvs.Info{Version: 0x010201, ConnTableSize: 4096}
	for _, tc := range []struct {
		name string
		f    func() error
	}{
		{"-Ln", func() error { return ipvsadm.WriteList(io.Discard, info, table, ipvsadm.Options{Numeric: true}) }},
		{"-Ln --stats", func() error {
			return ipvsadm.WriteList(io.Discard, info, table, ipvsadm.Options{Numeric: true, Stats: true})
		}},
		{"-S -n", func() error { return ipvsadm.WriteRules(io.Discard, table, ipvsadm.Options{Numeric: true}) }},
	} {
		b.Run(fmt.Sprintf("%s/objects=12500", tc.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
