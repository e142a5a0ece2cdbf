package ipvsadm

import (
	"net/netip"
	"strconv"

	"github.com/lvsctl/lvsctl/ipvs"
)

// appendLargeNum is ipvsadm's print_largenum: a right-aligned counter in 9
// columns, shortened with a K, M, G or T suffix when it does not fit, or
// with exact the whole number in at least 9 columns (one more than its
// length when longer).
func appendLargeNum(b []byte, i uint64, exact bool) []byte {
	if exact {
		s := strconv.FormatUint(i, 10)
		w := 9
		if len(s) > 8 {
			w = len(s) + 1
		}
		return appendRight(b, s, w)
	}
	var (
		v      uint64
		suffix byte
	)
	switch {
	case i < 100000000:
		return appendRight(b, strconv.FormatUint(i, 10), 9)
	case i < 1000000000:
		v, suffix = i/1000, 'K'
	case i < 100000000000:
		v, suffix = i/1000000, 'M'
	case i < 100000000000000:
		v, suffix = i/1000000000, 'G'
	default:
		v, suffix = i/1000000000000, 'T'
	}
	return append(appendRight(b, strconv.FormatUint(v, 10), 8), suffix)
}

// appendRight is printf("%*s", w, s).
func appendRight(b []byte, s string, w int) []byte {
	for n := len(s); n < w; n++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// appendLeft is printf("%-*s", w, s).
func appendLeft(b []byte, s string, w int) []byte {
	b = append(b, s...)
	for n := len(s); n < w; n++ {
		b = append(b, ' ')
	}
	return b
}

// appendUintLeft is printf("%-*u", w, v).
func appendUintLeft(b []byte, v uint64, w int) []byte {
	return appendLeft(b, strconv.FormatUint(v, 10), w)
}

// appendIntLeft is printf("%-*d", w, v).
func appendIntLeft(b []byte, v int64, w int) []byte {
	return appendLeft(b, strconv.FormatInt(v, 10), w)
}

// addrBytes returns a as the union nf_inet_addr ipvsadm holds: 16 bytes, an
// IPv4 address in the first 4. f decides the form: an address of an IPv6
// service is always 16 bytes (a v4 address then v4-mapped).
func addrBytes(f ipvs.Family, a netip.Addr) [16]byte {
	var out [16]byte
	if f == ipvs.IPv6 {
		return a.As16()
	}
	if a.Is4() || a.Is4In6() {
		v4 := a.Unmap().As4()
		copy(out[:], v4[:])
		return out
	}
	return a.As16()
}

// ntop is inet_ntop(af, addr) as glibc 2.36 writes it.
func ntop(f ipvs.Family, a [16]byte) string {
	if f != ipvs.IPv6 {
		return ntop4(a[:4])
	}
	return ntop6(a)
}

func ntop4(b []byte) string {
	buf := make([]byte, 0, 15)
	for i := 0; i < 4; i++ {
		if i > 0 {
			buf = append(buf, '.')
		}
		buf = strconv.AppendUint(buf, uint64(b[i]), 10)
	}
	return string(buf)
}

// ntop6 is glibc's inet_ntop6: the longest run (first on ties) of two or
// more zero words becomes "::"; ::a.b.c.d and ::ffff:a.b.c.d keep the IPv4
// dotted form.
func ntop6(a [16]byte) string {
	var words [8]uint16
	for i := range words {
		words[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i, w := range words {
		if w == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if curBase != -1 {
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	buf := make([]byte, 0, 46)
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				buf = append(buf, ':')
			}
			continue
		}
		if i != 0 {
			buf = append(buf, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)) {
			buf = append(buf, ntop4(a[12:])...)
			break
		}
		buf = strconv.AppendUint(buf, uint64(words[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		buf = append(buf, ':')
	}
	return string(buf)
}

// addrPortMax is the room addrport_to_anyname's 60-byte buffer leaves.
const addrPortMax = 59

// addrPort is ipvsadm's addrport_to_anyname: "ADDR:PORT" (IPv4) or
// "[ADDR]:PORT", with names unless numeric, cut to 59 bytes.
func (o *Options) addrPort(f ipvs.Family, a netip.Addr, port uint16, proto ipvs.Protocol) string {
	raw := addrBytes(f, a)
	buf := make([]byte, 0, 64)
	if f != ipvs.IPv4 {
		buf = append(buf, '[')
	}
	host, named := "", false
	if !o.Numeric && o.Resolver != nil {
		host, named = o.Resolver.HostName(addrFromBytes(f, raw))
	}
	if named {
		buf = append(buf, host...)
	} else {
		buf = append(buf, ntop(f, raw)...)
	}
	if f != ipvs.IPv4 {
		buf = append(buf, ']')
	}
	buf = append(buf, ':')
	svc, named := "", false
	if !o.Numeric && o.Resolver != nil {
		svc, named = o.Resolver.ServiceName(port, proto)
	}
	if named {
		buf = append(buf, svc...)
	} else {
		buf = strconv.AppendUint(buf, uint64(port), 10)
	}
	if len(buf) > addrPortMax {
		buf = buf[:addrPortMax]
	}
	return string(buf)
}

// addrFromBytes is the inverse of addrBytes.
func addrFromBytes(f ipvs.Family, raw [16]byte) netip.Addr {
	if f == ipvs.IPv6 {
		return netip.AddrFrom16(raw)
	}
	return netip.AddrFrom4([4]byte(raw[:4]))
}

// cut is C's s[n] = '\0'.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
