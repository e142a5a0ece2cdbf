package ipvsadm

import (
	"encoding/binary"

	"github.com/lvsctl/lvsctl/ipvs"
)

// svcSortKey holds what libipvs's ipvs_cmp_services compares.
type svcSortKey struct {
	fwmark uint32
	af     uint16
	proto  uint16
	addr   [16]byte
	port   uint16
}

func serviceSortKey(k ipvs.ServiceKey) svcSortKey {
	s := svcSortKey{fwmark: k.FWMark, af: uint16(k.Family)}
	if !k.IsFWMark() {
		s.proto, s.addr, s.port = uint16(k.Protocol), addrBytes(k.Family, k.Addr), k.Port
	}
	return s
}

func word(a *[16]byte, i int) uint32 { return binary.BigEndian.Uint32(a[4*i:]) }

// cmpServices is ipvs_cmp_services from libipvs 1.31, including its int
// arithmetic: marks and address words are compared by the sign of their
// 32-bit wrapping difference, which is not a total order (10.0.0.1 sorts
// after 192.168.0.1, 0.0.0.1 after 128.0.0.2 ...).
func cmpServices(a, b *svcSortKey) int32 {
	if r := int32(a.fwmark - b.fwmark); r != 0 {
		return r
	}
	if r := int32(a.af) - int32(b.af); r != 0 {
		return r
	}
	if r := int32(a.proto) - int32(b.proto); r != 0 {
		return r
	}
	var r int32
	if a.af == uint16(ipvs.IPv6) {
		for i := 0; r == 0 && i < 4; i++ {
			r = int32(word(&a.addr, i) - word(&b.addr, i))
		}
	} else {
		r = int32(word(&a.addr, 0) - word(&b.addr, 0))
	}
	if r != 0 {
		return r
	}
	return int32(a.port) - int32(b.port)
}

// destSortKey holds what ipvs_cmp_dests compares.
type destSortKey struct {
	af   uint16
	addr [16]byte
	port uint16
}

func realSortKey(r ipvs.RealServer) destSortKey {
	f := ipvs.FamilyOf(r.Addr)
	return destSortKey{af: uint16(f), addr: addrBytes(f, r.Addr), port: r.Port}
}

// cmpDests is ipvs_cmp_dests from libipvs 1.31: the first operand's family
// decides how many address words count.
func cmpDests(a, b *destSortKey) int32 {
	var r int32
	if a.af == uint16(ipvs.IPv6) {
		for i := 0; r == 0 && i < 4; i++ {
			r = int32(word(&a.addr, i) - word(&b.addr, i))
		}
	} else {
		r = int32(word(&a.addr, 0) - word(&b.addr, 0))
	}
	if r != 0 {
		return r
	}
	return int32(a.port) - int32(b.port)
}

// msort sorts idx as glibc 2.36's qsort does for the arrays ipvsadm sorts
// (msort_with_tmp: a stable top-down merge sort that splits n into n/2 and
// n-n/2 and takes from the left run while cmp <= 0). With ipvsadm's
// comparators, which are not transitive, only the same algorithm gives the
// same order.
func msort(idx []int, cmp func(a, b int) int32) {
	tmp := make([]int, len(idx))
	msortRec(idx, tmp, cmp)
}

func msortRec(b, tmp []int, cmp func(a, b int) int32) {
	n := len(b)
	if n <= 1 {
		return
	}
	n1 := n / 2
	b1, b2 := b[:n1], b[n1:]
	msortRec(b1, tmp, cmp)
	msortRec(b2, tmp, cmp)
	i, j, k := 0, 0, 0
	for i < len(b1) && j < len(b2) {
		if cmp(b1[i], b2[j]) <= 0 {
			tmp[k] = b1[i]
			i++
		} else {
			tmp[k] = b2[j]
			j++
		}
		k++
	}
	k += copy(tmp[k:], b1[i:])
	copy(b, tmp[:k])
}

// SortServices returns the services in the order ipvsadm lists them. The
// input is the kernel's order (ipvs.Netlink.List): because ipvsadm's
// comparison is not a total order, the result depends on it.
func SortServices(services []ipvs.ListedService) []ipvs.ListedService {
	keys := make([]svcSortKey, len(services))
	idx := make([]int, len(services))
	for i, s := range services {
		keys[i] = serviceSortKey(s.Service.Key)
		idx[i] = i
	}
	msort(idx, func(a, b int) int32 { return cmpServices(&keys[a], &keys[b]) })
	out := make([]ipvs.ListedService, len(services))
	for i, j := range idx {
		out[i] = services[j]
	}
	return out
}

// SortReals returns the real servers in the order ipvsadm lists them,
// given in the kernel's order.
func SortReals(reals []ipvs.RealStatus) []ipvs.RealStatus {
	keys := make([]destSortKey, len(reals))
	idx := make([]int, len(reals))
	for i, r := range reals {
		keys[i] = realSortKey(r.Real)
		idx[i] = i
	}
	msort(idx, func(a, b int) int32 { return cmpDests(&keys[a], &keys[b]) })
	out := make([]ipvs.RealStatus, len(reals))
	for i, j := range idx {
		out[i] = reals[j]
	}
	return out
}
