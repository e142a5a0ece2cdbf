package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Frames that tell the segment where a VIP now lives: a gratuitous ARP for
// IPv4 and an unsolicited neighbour advertisement for IPv6, byte for byte as
// keepalived sends them (testdata/keepalived-*.txt).

const (
	etherTypeARP  = 0x0806
	etherTypeIPv6 = 0x86dd
	arpLen        = 28
	arpRequest    = 1
	arpReply      = 2
)

var (
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	// allNodesMAC is the Ethernet address of ff02::1 (RFC 2464 section 7).
	allNodesMAC = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}
	allNodes    = netip.MustParseAddr("ff02::1")
)

// arpPacket is an ARP packet for IPv4 over Ethernet (RFC 826).
type arpPacket struct {
	Operation uint16
	SenderMAC net.HardwareAddr
	SenderIP  netip.Addr
	TargetMAC net.HardwareAddr
	TargetIP  netip.Addr
}

// gratuitousARP is keepalived's announcement of ip at mac: a broadcast
// request "who-has ip tell ip" with the broadcast target hardware address.
func gratuitousARP(mac net.HardwareAddr, ip netip.Addr) *arpPacket {
	return &arpPacket{Operation: arpRequest, SenderMAC: mac, SenderIP: ip, TargetMAC: broadcastMAC, TargetIP: ip}
}

func (p *arpPacket) MarshalBinary() ([]byte, error) {
	if len(p.SenderMAC) != 6 || len(p.TargetMAC) != 6 || !p.SenderIP.Is4() || !p.TargetIP.Is4() {
		return nil, fmt.Errorf("vrrp: ARP needs Ethernet and IPv4 addresses (have %v %v %v %v)",
			p.SenderMAC, p.SenderIP, p.TargetMAC, p.TargetIP)
	}
	b := make([]byte, 8, arpLen)
	binary.BigEndian.PutUint16(b[0:], 1) // Ethernet
	binary.BigEndian.PutUint16(b[2:], 0x0800)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], p.Operation)
	b = append(b, p.SenderMAC...)
	b = append(b, p.SenderIP.AsSlice()...)
	b = append(b, p.TargetMAC...)
	b = append(b, p.TargetIP.AsSlice()...)
	return b, nil
}

var errNotARP = errors.New("vrrp: not an Ethernet/IPv4 ARP packet")

func (p *arpPacket) UnmarshalBinary(b []byte) error {
	if len(b) < arpLen || binary.BigEndian.Uint16(b) != 1 || binary.BigEndian.Uint16(b[2:]) != 0x0800 || b[4] != 6 || b[5] != 4 {
		return errNotARP
	}
	*p = arpPacket{
		Operation: binary.BigEndian.Uint16(b[6:]),
		SenderMAC: net.HardwareAddr(append([]byte(nil), b[8:14]...)),
		SenderIP:  netip.AddrFrom4([4]byte(b[14:18])),
		TargetMAC: net.HardwareAddr(append([]byte(nil), b[18:24]...)),
		TargetIP:  netip.AddrFrom4([4]byte(b[24:28])),
	}
	return nil
}

// neighborAdvert is an ICMPv6 neighbour advertisement (RFC 4861 section 4.4)
// with the target link-layer address option, inside its IPv6 header.
type neighborAdvert struct {
	Src, Dst   netip.Addr // IPv6 header
	Router     bool
	Solicited  bool
	Override   bool
	Target     netip.Addr
	TargetLink net.HardwareAddr
}

// unsolicitedNA is keepalived's announcement of ip at mac: from ip to all
// nodes, override set, hop limit 255.
func unsolicitedNA(mac net.HardwareAddr, ip netip.Addr) *neighborAdvert {
	return &neighborAdvert{Src: ip, Dst: allNodes, Override: true, Target: ip, TargetLink: mac}
}

const (
	ipv6HeaderLen = 40
	naLen         = 32 // ICMPv6 header, flags, target, one 8-byte option
	icmpv6        = 58
)

// MarshalBinary encodes the IPv6 packet (header and ICMPv6 message, with its
// checksum).
func (na *neighborAdvert) MarshalBinary() ([]byte, error) {
	if !na.Src.Is6() || !na.Dst.Is6() || !na.Target.Is6() || na.Target.Is4In6() || len(na.TargetLink) != 6 {
		return nil, fmt.Errorf("vrrp: neighbour advertisement needs IPv6 and Ethernet addresses (have %v %v %v %v)",
			na.Src, na.Dst, na.Target, na.TargetLink)
	}
	b := make([]byte, ipv6HeaderLen+naLen)
	b[0] = 6 << 4
	binary.BigEndian.PutUint16(b[4:], naLen)
	b[6] = icmpv6
	b[7] = 255
	copy(b[8:], na.Src.AsSlice())
	copy(b[24:], na.Dst.AsSlice())
	m := b[ipv6HeaderLen:]
	m[0] = 136
	if na.Router {
		m[4] |= 0x80
	}
	if na.Solicited {
		m[4] |= 0x40
	}
	if na.Override {
		m[4] |= 0x20
	}
	copy(m[8:], na.Target.AsSlice())
	m[24], m[25] = 2, 1 // target link-layer address, 1 x 8 bytes
	copy(m[26:], na.TargetLink)
	binary.BigEndian.PutUint16(m[2:], fold(pseudoHeaderSum(na.Src, na.Dst, icmpv6, naLen)+sumWords(m)))
	return b, nil
}

var errNotNA = errors.New("vrrp: not an IPv6 neighbour advertisement with a target link-layer address")

func (na *neighborAdvert) UnmarshalBinary(b []byte) error {
	if len(b) < ipv6HeaderLen+naLen || b[0]>>4 != 6 || b[6] != icmpv6 {
		return errNotNA
	}
	m := b[ipv6HeaderLen:]
	if m[0] != 136 || m[1] != 0 || m[24] != 2 || m[25] != 1 {
		return errNotNA
	}
	*na = neighborAdvert{
		Src:        netip.AddrFrom16([16]byte(b[8:24])),
		Dst:        netip.AddrFrom16([16]byte(b[24:40])),
		Router:     m[4]&0x80 != 0,
		Solicited:  m[4]&0x40 != 0,
		Override:   m[4]&0x20 != 0,
		Target:     netip.AddrFrom16([16]byte(m[8:24])),
		TargetLink: net.HardwareAddr(append([]byte(nil), m[26:32]...)),
	}
	return nil
}
