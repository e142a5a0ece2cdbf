package realserver

import (
	"fmt"
	"net/netip"
)

// Start on a namespace with its kernel defaults (an in-memory one here),
// then Stop: every change is undone, newest first.
func ExampleStart() {
	sys := newFakeSys() // lo and eth0, every sysctl 0
	cfg := Config{Mode: DR, VIPs: []netip.Addr{netip.MustParseAddr("192.168.1.200")}}

	rec, res, _ := Start(sys, cfg, nil)
	for _, c := range res.Changes {
		fmt.Println(c)
	}
	_, res, _ = Start(sys, cfg, rec)
	fmt.Println("again:", len(res.Changes), "changes")
	_, res, _ = Stop(sys, rec)
	for _, c := range res.Changes {
		fmt.Println(c)
	}
	// Output:
	// set     net.ipv4.conf.all.arp_ignore = 1 (was 0)
	// set     net.ipv4.conf.all.arp_announce = 2 (was 0)
	// set     net.ipv4.conf.lo.arp_ignore = 1 (was 0)
	// set     net.ipv4.conf.lo.arp_announce = 2 (was 0)
	// add     192.168.1.200/32 to lo
	// again: 0 changes
	// remove  192.168.1.200/32 from lo
	// restore net.ipv4.conf.lo.arp_announce = 0 (was 2)
	// restore net.ipv4.conf.lo.arp_ignore = 0 (was 1)
	// restore net.ipv4.conf.all.arp_announce = 0 (was 2)
	// restore net.ipv4.conf.all.arp_ignore = 0 (was 1)
}
