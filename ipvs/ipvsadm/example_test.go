package ipvsadm_test

import (
	"net/netip"
	"os"
	"time"

	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/ipvs/ipvsadm"
)

func exampleTable() []ipvs.ListedService {
	web := ipvs.ListedService{}
	web.Service = ipvs.VirtualService{
		Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("192.168.0.10"), Port: 80},
		Scheduler: "wrr", Persistence: 300 * time.Second, PersistenceMask: 24,
	}
	web.Stats = ipvs.Stats{Conns: 1234567890, InPkts: 99999999, OutPkts: 100000000, InBytes: 5 << 40, OutBytes: 7 << 30}
	for i, a := range []string{"10.0.0.12", "10.0.0.11"} {
		r := ipvs.RealStatus{Real: ipvs.RealServer{Addr: netip.MustParseAddr(a), Port: 8080, Weight: uint32(i + 1)}}
		r.Stats.Conns = 617283945
		web.Reals = append(web.Reals, r)
		web.Service.RealServers = append(web.Service.RealServers, r.Real)
	}
	dns := ipvs.ListedService{}
	dns.Service = ipvs.VirtualService{
		Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.UDP, Addr: netip.MustParseAddr("10.0.0.53"), Port: 53},
		Scheduler: "mh", SchedFlags: ipvs.SchedFlag2, OnePacket: true,
	}
	return []ipvs.ListedService{web, dns} // in the kernel's order
}

// ipvsadm sorts 192.168.0.10 before 10.0.0.53 (it compares addresses by
// wrapping subtraction), shortens large counters and cuts nothing here.
func ExampleWriteList() {
	info := ipvs.Info{Version: 0x010201, ConnTableSize: 4096}
	ipvsadm.WriteList(os.Stdout, info, exampleTable(), ipvsadm.Options{Numeric: true, Stats: true})
	// Output:
	// IP Virtual Server version 1.2.1 (size=4096)
	// Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
	//   -> RemoteAddress:Port
	// TCP  192.168.0.10:80                 1234M 99999999  100000K    5497G    7516M
	//   -> 10.0.0.11:8080                617283K        0        0        0        0
	//   -> 10.0.0.12:8080                617283K        0        0        0        0
	// UDP  10.0.0.53:53                        0        0        0        0        0
}

func ExampleWriteRules() {
	ipvsadm.WriteRules(os.Stdout, exampleTable(), ipvsadm.Options{Numeric: true})
	// Output:
	// -A -t 192.168.0.10:80 -s wrr -p 300 -M 255.255.255.0
	// -a -t 192.168.0.10:80 -r 10.0.0.11:8080 -m -w 2
	// -a -t 192.168.0.10:80 -r 10.0.0.12:8080 -m -w 1
	// -A -u 10.0.0.53:53 -s mh -o -b mh-port
}
