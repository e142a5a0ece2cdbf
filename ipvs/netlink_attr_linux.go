package ipvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"strings"
	"time"

	"github.com/mdlayher/netlink"
)

// This file turns domain values into the IPVS family's netlink attributes
// and back, without a socket. Byte orders follow the kernel
// (net/netfilter/ipvs/ip_vs_ctl.c) and match what ipvsadm 1.31 sends byte for
// byte (see netlink_linux_test.go):
//
//   - u16/u32 attributes (AF, PROTOCOL, FWMARK, FLAGS, TIMEOUT, WEIGHT, ...)
//     are in host byte order;
//   - ports (SVC_ATTR_PORT, DEST_ATTR_PORT, DEST_ATTR_TUN_PORT) are be16;
//   - addresses are a union nf_inet_addr: 16 bytes, an IPv4 address in the
//     first 4;
//   - SVC_ATTR_NETMASK is read by the kernel as a raw __be32: for IPv4 it is
//     the netmask in network byte order (255.255.255.0 is ff ff ff 00), for
//     IPv6 the prefix length as a host-order u32 (the kernel checks 1..128).

// attrTypeMask clears NLA_F_NESTED and NLA_F_NET_BYTEORDER from a type.
const attrTypeMask = ^uint16(netlink.Nested | netlink.NetByteOrder)

// parseAttrs splits b into attributes with their flag bits cleared.
func parseAttrs(b []byte) ([]netlink.Attribute, error) {
	return parseAttrsInto(make([]netlink.Attribute, 0, 16), b)
}

// parseAttrsInto is parseAttrs appending to dst, so that hot decoders can
// pass an array on their stack. Unlike netlink.UnmarshalAttributes it does
// not copy: each attribute's Data aliases b, and decoders must copy what
// they keep (they decode into values at once).
func parseAttrsInto(dst []netlink.Attribute, b []byte) ([]netlink.Attribute, error) {
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, errors.New("invalid attribute; length too short or too large")
		}
		l := int(binary.NativeEndian.Uint16(b))
		if l < 4 || l > len(b) {
			return nil, errors.New("invalid attribute; length too short or too large")
		}
		dst = append(dst, netlink.Attribute{
			Length: uint16(l),
			Type:   binary.NativeEndian.Uint16(b[2:]) & attrTypeMask,
			Data:   b[4:l:l],
		})
		next := (l + 3) &^ 3
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
	}
	return dst, nil
}

func attrData(b []byte, typ uint16) ([]byte, bool, error) {
	var arr [24]netlink.Attribute
	as, err := parseAttrsInto(arr[:0], b)
	if err != nil {
		return nil, false, err
	}
	for _, a := range as {
		if a.Type == typ {
			return a.Data, true, nil
		}
	}
	return nil, false, nil
}

func attrLen(a netlink.Attribute, n int) error {
	if len(a.Data) != n {
		return fmt.Errorf("attribute %d has %d bytes, want %d", a.Type, len(a.Data), n)
	}
	return nil
}

func getU8(a netlink.Attribute) (uint8, error) {
	if err := attrLen(a, 1); err != nil {
		return 0, err
	}
	return a.Data[0], nil
}

func getU16(a netlink.Attribute) (uint16, error) {
	if err := attrLen(a, 2); err != nil {
		return 0, err
	}
	return binary.NativeEndian.Uint16(a.Data), nil
}

func getBE16(a netlink.Attribute) (uint16, error) {
	if err := attrLen(a, 2); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(a.Data), nil
}

func getU32(a netlink.Attribute) (uint32, error) {
	if err := attrLen(a, 4); err != nil {
		return 0, err
	}
	return binary.NativeEndian.Uint32(a.Data), nil
}

// getCounter reads a u32 or u64 statistics counter.
func getCounter(a netlink.Attribute) (uint64, error) {
	switch len(a.Data) {
	case 4:
		return uint64(binary.NativeEndian.Uint32(a.Data)), nil
	case 8:
		return binary.NativeEndian.Uint64(a.Data), nil
	}
	return 0, fmt.Errorf("counter attribute %d has %d bytes, want 4 or 8", a.Type, len(a.Data))
}

// getString reads a NUL-terminated string.
func getString(a netlink.Attribute) string {
	b, _, _ := bytes.Cut(a.Data, []byte{0})
	return string(b)
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// encodeAddr returns a as a union nf_inet_addr of family f, as ipvsadm and
// the kernel send it: 16 bytes, an IPv4 address in the first 4 and zeros
// after. An IPv4 address of an IPv6 service or real server is sent
// v4-mapped.
func encodeAddr(f Family, a netip.Addr) ([]byte, error) {
	b := make([]byte, 16)
	switch {
	case !a.IsValid():
		return nil, errors.New("no address")
	case f == IPv4:
		if !a.Unmap().Is4() {
			return nil, fmt.Errorf("address %s is not %s", a, f)
		}
		v4 := a.Unmap().As4()
		copy(b, v4[:])
	case f == IPv6:
		v6 := a.As16()
		copy(b, v6[:])
	default:
		return nil, fmt.Errorf("unsupported address family %d", f)
	}
	return b, nil
}

// decodeAddr reads a union nf_inet_addr of family f. The kernel always sends
// 16 bytes; an IPv4 address needs only the first 4.
func decodeAddr(f Family, b []byte) (netip.Addr, error) {
	switch f {
	case IPv4:
		if len(b) >= 4 {
			return netip.AddrFrom4([4]byte(b[:4])), nil
		}
	case IPv6:
		if len(b) >= 16 {
			return netip.AddrFrom16([16]byte(b[:16])), nil
		}
	default:
		return netip.Addr{}, fmt.Errorf("unsupported address family %d", f)
	}
	return netip.Addr{}, fmt.Errorf("%s address has %d bytes", f, len(b))
}

// encodeNetmask encodes a persistence prefix length as IPVS_SVC_ATTR_NETMASK.
func encodeNetmask(f Family, plen int) ([]byte, error) {
	if plen < 0 || plen > f.Bits() || (f == IPv6 && plen == 0) {
		return nil, fmt.Errorf("persistence mask /%d is out of range for %s", plen, f)
	}
	if f == IPv6 {
		return binary.NativeEndian.AppendUint32(nil, uint32(plen)), nil
	}
	mask := uint32(math.MaxUint32)
	if plen < 32 {
		mask = ^(mask >> plen)
	}
	return binary.BigEndian.AppendUint32(nil, mask), nil
}

// decodeNetmask reads IPVS_SVC_ATTR_NETMASK as a prefix length. An IPv4
// mask that is not contiguous (ipvsadm accepts any dotted quad) is read as
// its leading ones.
func decodeNetmask(f Family, b []byte) (int, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("netmask has %d bytes, want 4", len(b))
	}
	if f == IPv6 {
		plen := binary.NativeEndian.Uint32(b)
		if plen > 128 {
			return 0, fmt.Errorf("IPv6 persistence prefix length %d is out of range", plen)
		}
		return int(plen), nil
	}
	return bits.LeadingZeros32(^binary.BigEndian.Uint32(b)), nil
}

// encodeServiceKey writes the attributes that identify s: the family, then
// the firewall mark or protocol, address and port. It is all the kernel
// reads for DEL_SERVICE, GET_DEST and the destination commands.
func encodeServiceKey(ae *netlink.AttributeEncoder, k ServiceKey) error {
	if k.Family != IPv4 && k.Family != IPv6 {
		return fmt.Errorf("unsupported address family %d", k.Family)
	}
	ae.Uint16(svcAttrAF, uint16(k.Family))
	if k.IsFWMark() {
		ae.Uint32(svcAttrFWMark, k.FWMark)
		return nil
	}
	if !k.Addr.IsValid() {
		return errors.New("service has neither an address nor a firewall mark")
	}
	addr, err := encodeAddr(k.Family, k.Addr)
	if err != nil {
		return err
	}
	ae.Uint16(svcAttrProtocol, uint16(k.Protocol))
	ae.Bytes(svcAttrAddr, addr)
	ae.Bytes(svcAttrPort, be16(k.Port))
	return nil
}

// encodeService returns the attributes nested in IPVS_CMD_ATTR_SERVICE for
// s: the key only, or with full the whole service as NEW_SERVICE and
// SET_SERVICE need it (ipvsadm's attribute order).
func encodeService(s VirtualService, full bool) ([]byte, error) {
	s = s.Normalize()
	ae := netlink.NewAttributeEncoder()
	if err := encodeServiceKey(ae, s.Key); err != nil {
		return nil, err
	}
	if !full {
		return ae.Encode()
	}
	if len(s.Scheduler) >= schedNameMax || strings.IndexByte(string(s.Scheduler), 0) >= 0 {
		return nil, fmt.Errorf("scheduler name %q is not a valid kernel scheduler name", s.Scheduler)
	}
	var flags uint32
	secs := int64(s.Persistence / time.Second)
	if secs > math.MaxUint32 {
		return nil, fmt.Errorf("persistence timeout %s is too long", s.Persistence)
	}
	if secs > 0 {
		flags |= svcFlagPersistent
	} else {
		secs = 0
	}
	if s.OnePacket {
		flags |= svcFlagOnePacket
	}
	if s.SchedFlags&^SchedFlags(svcFlagSched) != 0 {
		return nil, fmt.Errorf("unknown scheduler flags %#x", uint32(s.SchedFlags&^SchedFlags(svcFlagSched)))
	}
	flags |= uint32(s.SchedFlags)
	mask, err := encodeNetmask(s.Key.Family, s.PersistenceMask)
	if err != nil {
		return nil, err
	}
	ae.String(svcAttrSchedName, string(s.Scheduler))
	// struct ip_vs_flags {flags, mask}: a mask of all ones makes the kernel
	// replace every flag, as ipvsadm does. HASHED is never set here: the
	// kernel owns it.
	ae.Bytes(svcAttrFlags, binary.NativeEndian.AppendUint32(binary.NativeEndian.AppendUint32(nil, flags), math.MaxUint32))
	ae.Uint32(svcAttrTimeout, uint32(secs))
	ae.Bytes(svcAttrNetmask, mask)
	// Without the attribute an edit removes the engine (ip_vs_edit_service).
	if s.PersistenceEngine != "" {
		if len(s.PersistenceEngine) >= peNameMax || strings.IndexByte(s.PersistenceEngine, 0) >= 0 {
			return nil, fmt.Errorf("persistence engine name %q is not a valid kernel name", s.PersistenceEngine)
		}
		ae.String(svcAttrPEName, s.PersistenceEngine)
	}
	return ae.Encode()
}

// decodeService reads the attributes nested in IPVS_CMD_ATTR_SERVICE of a
// GET_SERVICE reply into a normalized service (without real servers) and its
// statistics.
func decodeService(b []byte) (ServiceStatus, error) {
	var arr [24]netlink.Attribute
	as, err := parseAttrsInto(arr[:0], b)
	if err != nil {
		return ServiceStatus{}, err
	}
	var (
		st                ServiceStatus
		s                 = &st.Service
		haveAF            bool
		addr, netmask     []byte
		stats32, stats64  []byte
		flags, timeout    uint32
		protocol          uint16
		haveAddr, haveMsk bool
	)
	for _, a := range as {
		var err error
		switch a.Type {
		case svcAttrAF:
			var af uint16
			af, err = getU16(a)
			s.Key.Family, haveAF = Family(af), true
		case svcAttrProtocol:
			protocol, err = getU16(a)
		case svcAttrAddr:
			addr, haveAddr = a.Data, true
		case svcAttrPort:
			s.Key.Port, err = getBE16(a)
		case svcAttrFWMark:
			s.Key.FWMark, err = getU32(a)
		case svcAttrSchedName:
			s.Scheduler = Scheduler(getString(a))
		case svcAttrPEName:
			s.PersistenceEngine = getString(a)
		case svcAttrFlags:
			// struct ip_vs_flags; the mask (all ones in dumps) is not needed.
			if len(a.Data) < 4 {
				err = fmt.Errorf("flags attribute has %d bytes", len(a.Data))
				break
			}
			flags = binary.NativeEndian.Uint32(a.Data)
		case svcAttrTimeout:
			timeout, err = getU32(a)
		case svcAttrNetmask:
			netmask, haveMsk = a.Data, true
		case svcAttrStats:
			stats32 = a.Data
		case svcAttrStats64:
			stats64 = a.Data
		}
		if err != nil {
			return ServiceStatus{}, fmt.Errorf("service: %w", err)
		}
	}
	if !haveAF {
		return ServiceStatus{}, errors.New("service: no address family")
	}
	if s.Key.Family != IPv4 && s.Key.Family != IPv6 {
		return ServiceStatus{}, fmt.Errorf("service: unsupported address family %d", s.Key.Family)
	}
	if s.Key.IsFWMark() {
		s.Key.Port = 0
	} else {
		if !haveAddr {
			return ServiceStatus{}, errors.New("service: neither an address nor a firewall mark")
		}
		if s.Key.Addr, err = decodeAddr(s.Key.Family, addr); err != nil {
			return ServiceStatus{}, fmt.Errorf("service: %w", err)
		}
		s.Key.Addr = s.Key.Addr.Unmap()
		s.Key.Protocol = Protocol(protocol)
	}
	if flags&svcFlagPersistent != 0 {
		s.Persistence = time.Duration(timeout) * time.Second
	}
	s.OnePacket = flags&svcFlagOnePacket != 0
	s.SchedFlags = SchedFlags(flags & svcFlagSched)
	s.PersistenceMask = s.Key.Family.Bits()
	if haveMsk {
		if s.PersistenceMask, err = decodeNetmask(s.Key.Family, netmask); err != nil {
			return ServiceStatus{}, fmt.Errorf("service %s: %w", s.Key, err)
		}
	}
	if st.Stats, err = decodeStatsPair(stats32, stats64); err != nil {
		return ServiceStatus{}, fmt.Errorf("service %s: %w", s.Key, err)
	}
	return st, nil
}

// encodeDest returns the attributes nested in IPVS_CMD_ATTR_DEST for r: the
// identity (family, address, port) only, or with full everything NEW_DEST and
// SET_DEST need. The address family is always sent, so that a real server
// of the other family than its service (tunnel forwarding only) is
// understood; the tunnel attributes are sent for tunnel forwarding only.
func encodeDest(r RealServer, full bool) ([]byte, error) {
	r = normalizeReal(r)
	if !r.Addr.IsValid() {
		return nil, errors.New("real server has no address")
	}
	fam := FamilyOf(r.Addr)
	addr, err := encodeAddr(fam, r.Addr)
	if err != nil {
		return nil, err
	}
	ae := netlink.NewAttributeEncoder()
	ae.Uint16(destAttrAddrFamily, uint16(fam))
	ae.Bytes(destAttrAddr, addr)
	ae.Bytes(destAttrPort, be16(r.Port))
	if !full {
		return ae.Encode()
	}
	if r.Forwarding&^connFwdMask != 0 {
		return nil, fmt.Errorf("unknown forwarding method %d", r.Forwarding)
	}
	ae.Uint32(destAttrFwdMethod, uint32(r.Forwarding))
	ae.Uint32(destAttrWeight, r.Weight)
	if r.Forwarding == Tunnel {
		ae.Uint8(destAttrTunType, uint8(r.Tunnel.Type))
		ae.Bytes(destAttrTunPort, be16(r.Tunnel.Port))
		ae.Uint16(destAttrTunFlags, uint16(r.Tunnel.Checksum))
	}
	ae.Uint32(destAttrUThresh, r.UpperThreshold)
	ae.Uint32(destAttrLThresh, r.LowerThreshold)
	return ae.Encode()
}

// normalizeReal applies VirtualService.Normalize's rules to one real server.
func normalizeReal(r RealServer) RealServer {
	return VirtualService{RealServers: []RealServer{r}}.Normalize().RealServers[0]
}

// decodeDest reads the attributes nested in IPVS_CMD_ATTR_DEST of a GET_DEST
// reply. svc is the family of the service, which is the real server's when
// the kernel (before 3.18) does not say.
func decodeDest(b []byte, svc Family) (RealStatus, error) {
	var arr [24]netlink.Attribute
	as, err := parseAttrsInto(arr[:0], b)
	if err != nil {
		return RealStatus{}, err
	}
	var (
		rs               RealStatus
		r                = &rs.Real
		fam              = svc
		addr             []byte
		haveAddr         bool
		fwd              uint32
		tunType          uint8
		tunPort          uint16
		tunFlags         uint16
		stats32, stats64 []byte
	)
	for _, a := range as {
		var err error
		switch a.Type {
		case destAttrAddr:
			addr, haveAddr = a.Data, true
		case destAttrPort:
			r.Port, err = getBE16(a)
		case destAttrFwdMethod:
			fwd, err = getU32(a)
		case destAttrWeight:
			r.Weight, err = getU32(a)
		case destAttrUThresh:
			r.UpperThreshold, err = getU32(a)
		case destAttrLThresh:
			r.LowerThreshold, err = getU32(a)
		case destAttrActiveConns:
			rs.ActiveConns, err = getU32(a)
		case destAttrInactConns:
			rs.InactiveConns, err = getU32(a)
		case destAttrPersistConns:
			rs.PersistentConns, err = getU32(a)
		case destAttrStats:
			stats32 = a.Data
		case destAttrAddrFamily:
			var af uint16
			af, err = getU16(a)
			fam = Family(af)
		case destAttrStats64:
			stats64 = a.Data
		case destAttrTunType:
			tunType, err = getU8(a)
		case destAttrTunPort:
			tunPort, err = getBE16(a)
		case destAttrTunFlags:
			tunFlags, err = getU16(a)
		}
		if err != nil {
			return RealStatus{}, fmt.Errorf("real server: %w", err)
		}
	}
	if !haveAddr {
		return RealStatus{}, errors.New("real server: no address")
	}
	if r.Addr, err = decodeAddr(fam, addr); err != nil {
		return RealStatus{}, fmt.Errorf("real server: %w", err)
	}
	r.Forwarding = Forwarding(fwd & connFwdMask)
	r.Tunnel = TunnelConfig{Type: TunnelType(tunType), Port: tunPort, Checksum: TunnelChecksum(tunFlags)}
	*r = normalizeReal(*r) // clears what does not apply to the forwarding method
	if rs.Stats, err = decodeStatsPair(stats32, stats64); err != nil {
		return RealStatus{}, fmt.Errorf("real server %s: %w", r.Key(), err)
	}
	return rs, nil
}

// decodeStatsPair decodes the 64-bit statistics when the kernel sent them,
// else the 32-bit ones.
func decodeStatsPair(stats32, stats64 []byte) (Stats, error) {
	if stats64 != nil {
		return decodeStats(stats64)
	}
	if stats32 != nil {
		return decodeStats(stats32)
	}
	return Stats{}, nil
}

// decodeStats reads the attributes nested in a *_STATS or *_STATS64
// attribute. Counters may be u32 or u64; PAD and unknown attributes are
// skipped.
func decodeStats(b []byte) (Stats, error) {
	var arr [24]netlink.Attribute
	as, err := parseAttrsInto(arr[:0], b)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	var s Stats
	for _, a := range as {
		var p *uint64
		switch a.Type {
		case statsAttrConns:
			p = &s.Conns
		case statsAttrInPkts:
			p = &s.InPkts
		case statsAttrOutPkts:
			p = &s.OutPkts
		case statsAttrInBytes:
			p = &s.InBytes
		case statsAttrOutBytes:
			p = &s.OutBytes
		case statsAttrCPS:
			p = &s.CPS
		case statsAttrInPPS:
			p = &s.InPPS
		case statsAttrOutPPS:
			p = &s.OutPPS
		case statsAttrInBPS:
			p = &s.InBPS
		case statsAttrOutBPS:
			p = &s.OutBPS
		default:
			continue
		}
		if *p, err = getCounter(a); err != nil {
			return Stats{}, fmt.Errorf("stats: %w", err)
		}
	}
	return s, nil
}

// encodeOp returns the command and first-level attributes of the request
// that performs op.
func encodeOp(op Op) (uint8, []byte, error) {
	var (
		cmd      uint8
		fullSvc  bool
		dest     bool
		fullDest bool
	)
	switch op.Kind {
	case AddService:
		cmd, fullSvc = cmdNewService, true
	case EditService:
		cmd, fullSvc = cmdSetService, true
	case DeleteService:
		cmd = cmdDelService
	case AddRealServer:
		cmd, dest, fullDest = cmdNewDest, true, true
	case EditRealServer:
		cmd, dest, fullDest = cmdSetDest, true, true
	case DeleteRealServer:
		cmd, dest = cmdDelDest, true
	default:
		return 0, nil, fmt.Errorf("unknown operation %s", op.Kind)
	}
	svc, err := encodeService(op.Service, fullSvc)
	if err != nil {
		return 0, nil, err
	}
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(netlink.Nested|cmdAttrService, svc)
	if dest {
		d, err := encodeDest(op.Real, fullDest)
		if err != nil {
			return 0, nil, err
		}
		ae.Bytes(netlink.Nested|cmdAttrDest, d)
	}
	b, err := ae.Encode()
	return cmd, b, err
}

// encodeGetDests returns the first-level attributes of the GET_DEST dump
// request for the service with key k.
func encodeGetDests(k ServiceKey) ([]byte, error) {
	svc, err := encodeService(VirtualService{Key: k}, false)
	if err != nil {
		return nil, err
	}
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(netlink.Nested|cmdAttrService, svc)
	return ae.Encode()
}

// serviceFromMessage decodes one message of a GET_SERVICE dump.
func serviceFromMessage(b []byte) (ServiceStatus, error) {
	svc, ok, err := attrData(b, cmdAttrService)
	if err != nil {
		return ServiceStatus{}, err
	}
	if !ok {
		return ServiceStatus{}, errors.New("message has no service attribute")
	}
	return decodeService(svc)
}

// destFromMessage decodes one message of a GET_DEST dump.
func destFromMessage(b []byte, svc Family) (RealStatus, error) {
	d, ok, err := attrData(b, cmdAttrDest)
	if err != nil {
		return RealStatus{}, err
	}
	if !ok {
		return RealStatus{}, errors.New("message has no destination attribute")
	}
	return decodeDest(d, svc)
}

// decodeInfo decodes the GET_INFO reply.
func decodeInfo(b []byte) (Info, error) {
	as, err := parseAttrs(b)
	if err != nil {
		return Info{}, err
	}
	var info Info
	for _, a := range as {
		var err error
		switch a.Type {
		case infoAttrVersion:
			info.Version, err = getU32(a)
		case infoAttrConnTabSize:
			info.ConnTableSize, err = getU32(a)
		}
		if err != nil {
			return Info{}, fmt.Errorf("info: %w", err)
		}
	}
	return info, nil
}
