package vrrp

import "net"

// VirtualMAC is the virtual router MAC address of RFC 5798 section 7.3:
// 00-00-5E-00-01-VRID for IPv4, 00-00-5E-00-02-VRID for IPv6. use_vmac
// gives it to the macvlan interface that holds the VIPs.
func VirtualMAC(vrid uint8, ipv6 bool) net.HardwareAddr {
	fam := byte(1)
	if ipv6 {
		fam = 2
	}
	return net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, fam, vrid}
}
