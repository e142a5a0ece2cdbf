package ipvsadm

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/lvsctl/lvsctl/ipvs"
)

// ParseService reads a service argument as ipvsadm's parse_service does
// for -t, -u and --sctp-service: "ADDR[:PORT]" with ADDR an IPv4 address in
// any form inet_aton accepts or an IPv4 host name, or "[IPV6]:PORT", or a
// bare IPv6 address (no port). PORT is a number or a service name for
// proto. A missing port is 0. r may be nil: then names do not resolve.
//
// ipvsadm's corner cases are kept: an all-digit argument is rejected, and
// "[10.0.0.1]:80" is 10.0.0.1 without a port.
func ParseService(arg string, proto ipvs.Protocol, r Resolver) (ipvs.ServiceKey, error) {
	bad := fmt.Errorf("illegal virtual server address[:port] specified: %q", arg)
	if isDigits(arg) {
		return ipvs.ServiceKey{}, bad
	}
	buf := arg
	var port *string
	if strings.HasPrefix(buf, "[") {
		inner, rest, ok := strings.Cut(buf[1:], "]")
		if !ok || !strings.HasPrefix(rest, ":") {
			return ipvs.ServiceKey{}, bad
		}
		buf = inner
		p := rest[1:]
		port = &p
	}
	k := ipvs.ServiceKey{Protocol: proto}
	if a, ok := inetPton6(buf); ok {
		k.Family, k.Addr = ipvs.IPv6, a
	} else {
		port = nil
		if i := strings.LastIndexByte(buf, ':'); i >= 0 {
			p := buf[i+1:]
			buf, port = buf[:i], &p
		}
		if a, ok := inetAton(buf); ok {
			k.Family, k.Addr = ipvs.IPv4, a
		} else if a, ok := lookupHost(r, buf); ok {
			k.Family, k.Addr = ipvs.IPv4, a
		} else {
			return ipvs.ServiceKey{}, bad
		}
	}
	if port != nil {
		if n, ok := strtol(*port); ok && n >= 0 && n <= math.MaxUint16 {
			k.Port = uint16(n)
		} else if n, ok := lookupPort(r, *port, proto); ok {
			k.Port = n
		} else {
			return ipvs.ServiceKey{}, bad
		}
	}
	return k, nil
}

func lookupHost(r Resolver, name string) (netip.Addr, bool) {
	if r == nil {
		return netip.Addr{}, false
	}
	return r.HostAddr(name)
}

func lookupPort(r Resolver, name string, proto ipvs.Protocol) (uint16, bool) {
	if r == nil {
		return 0, false
	}
	return r.ServicePort(name, proto)
}

// ParseFWMark reads a firewall mark as ipvsadm's parse_fwmark: a decimal
// number from 1 to 4294967295.
func ParseFWMark(arg string) (uint32, error) {
	n, ok := strtol(arg)
	if !ok || n <= 0 || n > math.MaxUint32 {
		return 0, fmt.Errorf("invalid fwmark value `%s' specified", arg)
	}
	return uint32(n), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// strtol is C's strtol(s, &end, 10) that must consume all of s: leading
// white space and a sign are allowed.
func strtol(s string) (int64, bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var n int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n > (math.MaxInt64-9)/10 {
			return 0, false // ERANGE
		}
		n = n*10 + int64(s[i]-'0')
	}
	if i == start || i != len(s) {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// inetPton6 is inet_pton(AF_INET6): no zones, no IPv4 literals.
func inetPton6(s string) (netip.Addr, bool) {
	if !strings.Contains(s, ":") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

var errAton = errors.New("not an IPv4 address")

// inetAton is glibc's inet_aton: one to four parts separated by dots, each
// decimal, octal (leading 0) or hex (0x); the last part fills the remaining
// bytes ("10.1" is 10.0.0.1). Anything after white space is ignored.
func inetAton(s string) (netip.Addr, bool) {
	var parts [4]byte
	np := 0
	i := 0
	var val uint64
	for {
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return netip.Addr{}, false
		}
		v, n, err := strtoul0(s[i:])
		if err != nil || v > math.MaxUint32 {
			return netip.Addr{}, false
		}
		val = v
		i += n
		if i < len(s) && s[i] == '.' {
			if np > 2 || val > 0xff {
				return netip.Addr{}, false
			}
			parts[np] = byte(val)
			np++
			i++
			continue
		}
		break
	}
	if i < len(s) && !isSpace(s[i]) {
		return netip.Addr{}, false
	}
	max := [4]uint64{0xffffffff, 0xffffff, 0xffff, 0xff}
	if val > max[np] {
		return netip.Addr{}, false
	}
	word := uint32(parts[0])<<24 | uint32(parts[1])<<16 | uint32(parts[2])<<8 | uint32(parts[3])
	word |= uint32(val)
	return netip.AddrFrom4([4]byte{byte(word >> 24), byte(word >> 16), byte(word >> 8), byte(word)}), true
}

// strtoul0 is strtoul(s, &end, 0) on a string that starts with a digit:
// the value and how many bytes it used.
func strtoul0(s string) (uint64, int, error) {
	base, i := uint64(10), 0
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hexVal(s[2]) < 16:
		base, i = 16, 2
	case s[0] == '0':
		base = 8
	}
	var v uint64
	start := i
	for ; i < len(s); i++ {
		d := hexVal(s[i])
		if d >= base {
			break
		}
		if v > (math.MaxUint64-d)/base {
			return 0, 0, errAton
		}
		v = v*base + d
	}
	if i == start {
		return 0, 0, errAton
	}
	return v, i, nil
}

func hexVal(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 99
}
