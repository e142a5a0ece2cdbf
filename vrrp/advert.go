package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Protocol is the IP protocol number of VRRP.
const Protocol = 112

// The multicast groups adverts are sent to (RFC 5798 section 5.1).
var (
	GroupIPv4 = netip.AddrFrom4([4]byte{224, 0, 0, 18})
	GroupIPv6 = netip.MustParseAddr("ff02::12")
)

// AuthType is the VRRPv2 authentication type (RFC 3768 section 5.3.6). VRRPv3
// has no authentication.
type AuthType uint8

// The authentication types of RFC 2338/3768. keepalived's auth_type PASS is
// AuthPassword; AH is not supported (RFC 3768 removed it).
const (
	AuthNone     AuthType = 0
	AuthPassword AuthType = 1
	AuthAH       AuthType = 2
)

func (t AuthType) String() string {
	switch t {
	case AuthNone:
		return "none"
	case AuthPassword:
		return "PASS"
	case AuthAH:
		return "AH"
	}
	return fmt.Sprintf("auth(%d)", uint8(t))
}

// Errors of UnmarshalBinary; the receive path counts them as drop reasons.
var (
	ErrVersion = errors.New("vrrp: unsupported version")
	ErrType    = errors.New("vrrp: not an advertisement")
	ErrLength  = errors.New("vrrp: length does not match the address count")
)

const (
	typeAdvertisement = 1
	headerLen         = 8
	authLen           = 8 // VRRPv2 authentication data
	maxV3Interval     = 0xfff * 10 * time.Millisecond
)

// An Advertisement is a VRRP advertisement: VRRPv2 (RFC 3768, IPv4 only) or
// VRRPv3 (RFC 5798/9568, IPv4 or IPv6). The address family is that of
// Addresses.
type Advertisement struct {
	Version  uint8 // 2 or 3
	VRID     uint8
	Priority uint8 // 0 = the master is leaving, 255 = address owner

	// Interval is the advertisement interval: whole seconds (1-255) in
	// VRRPv2, centiseconds (up to 40.95 s) in VRRPv3.
	Interval time.Duration

	// AuthType and AuthData are VRRPv2's authentication (zero in v3).
	// A PASS password is the first 8 bytes of AuthData, padded with zeros.
	AuthType AuthType
	AuthData [authLen]byte

	Addresses []netip.Addr

	// Checksum is as received; MarshalBinary computes it.
	Checksum uint16

	// Src and Dst are the IP header's addresses. The VRRPv3 checksum
	// covers them (the pseudo-header), so MarshalBinary needs them for v3;
	// UnmarshalBinary leaves them alone (see VerifyChecksum).
	Src, Dst netip.Addr
}

// MarshalBinary encodes a as it goes on the wire, with its checksum.
func (a *Advertisement) MarshalBinary() ([]byte, error) {
	n := len(a.Addresses)
	if n > 255 {
		return nil, fmt.Errorf("vrrp: %d addresses, at most 255 fit an advertisement", n)
	}
	// The family is the wire's: an IPv6 advertisement carries 16-byte
	// addresses, and an IPv4-mapped one (::ffff:a.b.c.d) is one of them.
	// The codec encodes whatever it decodes; which addresses an instance
	// may hold is the instance's rule (New refuses mapped ones).
	is6 := n > 0 && a.Addresses[0].Is6()
	for _, ip := range a.Addresses {
		if !ip.IsValid() || ip.Is6() != is6 {
			return nil, fmt.Errorf("vrrp: address %v: all addresses must be valid and of one family", ip)
		}
	}
	alen := 4
	if is6 {
		alen = 16
	}
	size := headerLen + n*alen
	b := make([]byte, headerLen, size+authLen)
	b[0] = a.Version<<4 | typeAdvertisement
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = uint8(n)
	switch a.Version {
	case 2:
		if is6 {
			return nil, fmt.Errorf("vrrp: VRRPv2 carries IPv4 addresses only")
		}
		if a.Interval%time.Second != 0 || a.Interval < 0 || a.Interval > 255*time.Second {
			return nil, fmt.Errorf("vrrp: VRRPv2 interval %v is not 0-255 whole seconds", a.Interval)
		}
		b[4] = uint8(a.AuthType)
		b[5] = uint8(a.Interval / time.Second)
	case 3:
		if a.Interval%(10*time.Millisecond) != 0 || a.Interval < 0 || a.Interval > maxV3Interval {
			return nil, fmt.Errorf("vrrp: VRRPv3 interval %v is not 0-40.95 s in centiseconds", a.Interval)
		}
		binary.BigEndian.PutUint16(b[4:], uint16(a.Interval/(10*time.Millisecond)))
	default:
		return nil, fmt.Errorf("%w %d", ErrVersion, a.Version)
	}
	for _, ip := range a.Addresses {
		b = append(b, ip.AsSlice()...)
	}
	if a.Version == 2 {
		b = append(b, a.AuthData[:]...)
	} else {
		if !a.Src.IsValid() || !a.Dst.IsValid() || a.Src.Is6() != a.Dst.Is6() || (n > 0 && a.Src.Is6() != is6) {
			return nil, fmt.Errorf("vrrp: VRRPv3 checksum needs Src and Dst of the addresses' family (have %v, %v)", a.Src, a.Dst)
		}
	}
	a.Checksum = checksum(b, a.Version, a.Src, a.Dst)
	binary.BigEndian.PutUint16(b[6:], a.Checksum)
	return b, nil
}

// UnmarshalBinary decodes an advertisement. It checks the version, the type
// and that the length matches the address count, but not the checksum (which
// in v3 needs the IP addresses: see VerifyChecksum). A v3 packet's family
// follows from its length; one with no addresses is taken as IPv4.
func (a *Advertisement) UnmarshalBinary(b []byte) error {
	if len(b) < headerLen {
		return fmt.Errorf("%w: %d bytes", ErrLength, len(b))
	}
	v, t := b[0]>>4, b[0]&0x0f
	if v != 2 && v != 3 {
		return fmt.Errorf("%w %d", ErrVersion, v)
	}
	if t != typeAdvertisement {
		return fmt.Errorf("%w: type %d", ErrType, t)
	}
	n := int(b[3])
	alen := 0
	switch {
	case v == 2 && len(b) == headerLen+4*n+authLen:
		alen = 4
	case v == 3 && len(b) == headerLen+4*n:
		alen = 4
	case v == 3 && len(b) == headerLen+16*n:
		alen = 16
	default:
		return fmt.Errorf("%w: %d bytes for %d addresses", ErrLength, len(b), n)
	}
	*a = Advertisement{
		Version:  v,
		VRID:     b[1],
		Priority: b[2],
		Checksum: binary.BigEndian.Uint16(b[6:]),
		Src:      a.Src,
		Dst:      a.Dst,
	}
	if v == 2 {
		a.AuthType = AuthType(b[4])
		a.Interval = time.Duration(b[5]) * time.Second
		copy(a.AuthData[:], b[headerLen+4*n:])
	} else {
		a.Interval = time.Duration(binary.BigEndian.Uint16(b[4:])&0xfff) * 10 * time.Millisecond
	}
	if n > 0 {
		a.Addresses = make([]netip.Addr, n)
	}
	for i := range n {
		p := b[headerLen+i*alen : headerLen+(i+1)*alen]
		if alen == 4 {
			a.Addresses[i] = netip.AddrFrom4([4]byte(p))
		} else {
			a.Addresses[i] = netip.AddrFrom16([16]byte(p))
		}
	}
	return nil
}

// Password returns the PASS password of a VRRPv2 advertisement (AuthData up
// to the first zero byte).
func (a *Advertisement) Password() string {
	for i, c := range a.AuthData {
		if c == 0 {
			return string(a.AuthData[:i])
		}
	}
	return string(a.AuthData[:])
}

// VerifyChecksum reports whether the encoded advertisement b, received from
// src to dst, has a correct checksum: over the VRRP message alone in v2, with
// the IPv4 or IPv6 pseudo-header in v3 (RFC 5798 section 5.2.8), which is how
// keepalived computes it.
func VerifyChecksum(b []byte, src, dst netip.Addr) bool {
	if len(b) < headerLen {
		return false
	}
	return checksum(b, b[0]>>4, src, dst) == 0
}

// checksum is the Internet checksum (RFC 1071) of b, with the pseudo-header
// of src and dst in front for VRRPv3. Over a message whose checksum field is
// zero it is the value to put there; over a correct message it is zero.
func checksum(b []byte, version uint8, src, dst netip.Addr) uint16 {
	var sum uint32
	if version == 3 {
		sum = pseudoHeaderSum(src, dst, Protocol, len(b))
	}
	return fold(sum + sumWords(b))
}

// pseudoHeaderSum is the sum of the IPv4 (RFC 768) or IPv6 (RFC 8200
// section 8.1) pseudo-header's 16-bit words; they add up the same.
func pseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	return sumWords(src.AsSlice()) + sumWords(dst.AsSlice()) + uint32(proto) +
		uint32(length)>>16 + uint32(length)&0xffff
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func sumWords(b []byte) uint32 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}
