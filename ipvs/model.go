package ipvs

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Family is an address family of a virtual service or real server.
type Family uint16

// Address families, with the kernel's AF_* values.
const (
	IPv4 Family = 2  // AF_INET
	IPv6 Family = 10 // AF_INET6
)

// FamilyOf returns the family of a.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() || a.Is4In6() {
		return IPv4
	}
	return IPv6
}

// Bits is the address length in bits: 32 or 128.
func (f Family) Bits() int {
	if f == IPv6 {
		return 128
	}
	return 32
}

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "family(" + strconv.Itoa(int(f)) + ")"
}

// Protocol is the transport protocol of an address/port virtual service.
type Protocol uint16

// Transport protocols, with their IP protocol numbers.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

// ParseProtocol parses "tcp", "udp" or "sctp" (any case).
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	case "sctp":
		return SCTP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want tcp, udp or sctp)", s)
}

// Name is the lowercase name ParseProtocol reads ("tcp", "udp", "sctp"),
// or "" for a protocol IPVS does not know.
func (p Protocol) Name() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case SCTP:
		return "sctp"
	}
	return ""
}

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// Scheduler is the name of a kernel IPVS scheduling algorithm (ip_vs_NAME).
type Scheduler string

// Schedulers lists every scheduler Linux has ever shipped. Which ones a given
// kernel has is only known when it is asked to use one; "twos" needs 6.2+.
var schedulers = []Scheduler{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}

// Schedulers returns the names of all schedulers Linux knows, in a fixed order.
func Schedulers() []Scheduler { return slices.Clone(schedulers) }

// DefaultScheduler is what ipvsadm and keepalived use when none is given.
const DefaultScheduler Scheduler = "wlc"

// Valid reports whether s names a Linux IPVS scheduler.
func (s Scheduler) Valid() bool { return slices.Contains(schedulers, s) }

// SchedFlags are the scheduler-specific service flags. Their meaning depends
// on the scheduler: sh and mh both define flag 1 as "fallback" and flag 2 as
// "port" (hash the source port too).
type SchedFlags uint32

// Scheduler flags, with the kernel's IP_VS_SVC_F_SCHED* values.
const (
	SchedFlag1 SchedFlags = 0x08 // sh-fallback, mh-fallback
	SchedFlag2 SchedFlags = 0x10 // sh-port, mh-port
	SchedFlag3 SchedFlags = 0x20 // unused by current schedulers
)

// SchedFlagNames maps the ipvsadm names of scheduler flags to their bits, per
// scheduler. A scheduler absent from the map takes no flags.
var schedFlagNames = map[Scheduler]map[string]SchedFlags{
	"sh": {"sh-fallback": SchedFlag1, "sh-port": SchedFlag2},
	"mh": {"mh-fallback": SchedFlag1, "mh-port": SchedFlag2},
}

// ParseSchedFlag returns the bit for the flag name (as ipvsadm spells it,
// e.g. "sh-port") for scheduler s.
func ParseSchedFlag(s Scheduler, name string) (SchedFlags, error) {
	if f, ok := schedFlagNames[s][name]; ok {
		return f, nil
	}
	var valid []string
	for _, m := range schedFlagNames {
		for n := range m {
			if n == name {
				return 0, fmt.Errorf("scheduler flag %q needs the %s scheduler, not %s", name, strings.SplitN(n, "-", 2)[0], s)
			}
		}
	}
	for n := range schedFlagNames[s] {
		valid = append(valid, n)
	}
	slices.Sort(valid)
	if len(valid) == 0 {
		return 0, fmt.Errorf("scheduler %s takes no flags (got %q)", s, name)
	}
	return 0, fmt.Errorf("unknown flag %q for scheduler %s (want %s)", name, s, strings.Join(valid, ", "))
}

// Names returns the ipvsadm names of the flags in f for scheduler s, in bit order.
func (f SchedFlags) Names(s Scheduler) []string {
	var out []string
	for _, bit := range []SchedFlags{SchedFlag1, SchedFlag2, SchedFlag3} {
		if f&bit == 0 {
			continue
		}
		name := fmt.Sprintf("flag-%d", bitIndex(bit))
		for n, b := range schedFlagNames[s] {
			if b == bit {
				name = n
			}
		}
		out = append(out, name)
	}
	return out
}

func bitIndex(b SchedFlags) int {
	switch b {
	case SchedFlag1:
		return 1
	case SchedFlag2:
		return 2
	}
	return 3
}

// Forwarding is how packets reach a real server.
type Forwarding uint8

// Forwarding methods, with the kernel's IP_VS_CONN_F_* values.
const (
	NAT    Forwarding = 0 // masquerading (Masq)
	Local  Forwarding = 1 // local node (Local); the kernel picks it for local addresses
	Tunnel Forwarding = 2 // IP-in-IP or GUE/GRE tunnel (Tunnel)
	DR     Forwarding = 3 // direct routing (Route)
)

// ParseForwarding parses "nat", "dr" or "tun" (keepalived's NAT, DR, TUN).
func ParseForwarding(s string) (Forwarding, error) {
	switch strings.ToLower(s) {
	case "nat", "masq":
		return NAT, nil
	case "dr", "route":
		return DR, nil
	case "tun", "tunnel":
		return Tunnel, nil
	}
	return 0, fmt.Errorf("unknown forwarding %q (want nat, dr or tun)", s)
}

func (f Forwarding) String() string {
	switch f {
	case NAT:
		return "nat"
	case Local:
		return "local"
	case Tunnel:
		return "tun"
	case DR:
		return "dr"
	}
	return "fwd(" + strconv.Itoa(int(f)) + ")"
}

// TunnelType is the encapsulation of a Tunnel real server (Linux 5.2+ for GUE, 5.3+ for GRE).
type TunnelType uint8

// Tunnel types, with the kernel's IP_VS_CONN_F_TUNNEL_TYPE_* values.
const (
	IPIP TunnelType = 0
	GUE  TunnelType = 1
	GRE  TunnelType = 2
)

// ParseTunnelType parses "ipip", "gue" or "gre".
func ParseTunnelType(s string) (TunnelType, error) {
	switch strings.ToLower(s) {
	case "ipip":
		return IPIP, nil
	case "gue":
		return GUE, nil
	case "gre":
		return GRE, nil
	}
	return 0, fmt.Errorf("unknown tunnel type %q (want ipip, gue or gre)", s)
}

func (t TunnelType) String() string {
	switch t {
	case IPIP:
		return "ipip"
	case GUE:
		return "gue"
	case GRE:
		return "gre"
	}
	return "tuntype(" + strconv.Itoa(int(t)) + ")"
}

// TunnelChecksum selects the checksum of GUE/GRE encapsulation.
type TunnelChecksum uint16

// Tunnel checksum modes, with the kernel's IP_VS_TUNNEL_ENCAP_FLAG_* values.
const (
	NoChecksum     TunnelChecksum = 0
	Checksum       TunnelChecksum = 1 << 0 // csum
	RemoteChecksum TunnelChecksum = 1 << 1 // remcsum, GUE only
)

// ParseTunnelChecksum parses "nocsum", "csum" or "remcsum".
func ParseTunnelChecksum(s string) (TunnelChecksum, error) {
	switch strings.ToLower(s) {
	case "nocsum", "":
		return NoChecksum, nil
	case "csum":
		return Checksum, nil
	case "remcsum":
		return RemoteChecksum, nil
	}
	return 0, fmt.Errorf("unknown tunnel checksum %q (want nocsum, csum or remcsum)", s)
}

func (c TunnelChecksum) String() string {
	switch c {
	case NoChecksum:
		return "nocsum"
	case Checksum:
		return "csum"
	case RemoteChecksum:
		return "remcsum"
	}
	return "csum(" + strconv.Itoa(int(c)) + ")"
}

// TunnelConfig is the encapsulation of a Tunnel real server. The zero value is
// plain IP-in-IP.
type TunnelConfig struct {
	Type     TunnelType
	Port     uint16 // destination UDP port, GUE only
	Checksum TunnelChecksum
}

func (t TunnelConfig) String() string {
	switch t.Type {
	case GUE:
		return fmt.Sprintf("gue port %d %s", t.Port, t.Checksum)
	case GRE:
		return "gre " + t.Checksum.String()
	}
	return t.Type.String()
}

// ServiceKey identifies a virtual service in the kernel: either
// protocol+address+port, or a firewall mark and a family.
type ServiceKey struct {
	Family   Family
	Protocol Protocol   // zero for a fwmark service
	Addr     netip.Addr // invalid for a fwmark service
	Port     uint16
	FWMark   uint32 // non-zero for a fwmark service
}

// IsFWMark reports whether k names a firewall-mark service.
func (k ServiceKey) IsFWMark() bool { return k.FWMark != 0 }

// String formats k as "TCP 10.0.0.1:80", "UDP [2001:db8::1]:53" or
// "FWM 7 ipv4"; ParseServiceKey reads it back.
func (k ServiceKey) String() string {
	if k.IsFWMark() {
		return fmt.Sprintf("FWM %d %s", k.FWMark, k.Family)
	}
	return k.Protocol.String() + " " + netip.AddrPortFrom(k.Addr, k.Port).String()
}

// ParseServiceKey parses the form written by ServiceKey.String.
func ParseServiceKey(s string) (ServiceKey, error) {
	f := strings.Fields(s)
	if len(f) == 3 && strings.EqualFold(f[0], "FWM") {
		mark, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil || mark == 0 {
			return ServiceKey{}, fmt.Errorf("parse service %q: bad firewall mark", s)
		}
		fam := IPv4
		switch f[2] {
		case "ipv4":
		case "ipv6":
			fam = IPv6
		default:
			return ServiceKey{}, fmt.Errorf("parse service %q: bad family", s)
		}
		return ServiceKey{Family: fam, FWMark: uint32(mark)}, nil
	}
	if len(f) != 2 {
		return ServiceKey{}, fmt.Errorf("parse service %q: want \"PROTO ADDR:PORT\" or \"FWM MARK FAMILY\"", s)
	}
	p, err := ParseProtocol(f[0])
	if err != nil {
		return ServiceKey{}, fmt.Errorf("parse service %q: %w", s, err)
	}
	ap, err := netip.ParseAddrPort(f[1])
	if err != nil {
		return ServiceKey{}, fmt.Errorf("parse service %q: %w", s, err)
	}
	a := ap.Addr().Unmap()
	return ServiceKey{Family: FamilyOf(a), Protocol: p, Addr: a, Port: ap.Port()}, nil
}

// MarshalText implements encoding.TextMarshaler.
func (k ServiceKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *ServiceKey) UnmarshalText(b []byte) error {
	v, err := ParseServiceKey(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Compare orders keys as ipvsadm sorts them: by firewall mark (address
// services have none, so they come first), then family, protocol, address
// and port.
func (k ServiceKey) Compare(o ServiceKey) int {
	return cmp.Or(
		cmp.Compare(k.FWMark, o.FWMark),
		cmp.Compare(k.Family, o.Family),
		cmp.Compare(k.Protocol, o.Protocol),
		k.Addr.Compare(o.Addr),
		cmp.Compare(k.Port, o.Port),
	)
}

// VirtualService is one IPVS virtual service and its real servers.
type VirtualService struct {
	// Name is the config's name for the service; the kernel does not store
	// it and Diff ignores it.
	Name string

	Key        ServiceKey
	Scheduler  Scheduler
	SchedFlags SchedFlags

	// Persistence is the persistence timeout; zero means not persistent.
	// The kernel keeps whole seconds.
	Persistence time.Duration
	// PersistenceMask is the persistence granularity as a prefix length
	// (netmask 255.255.255.0 is 24). Zero means the full address length.
	PersistenceMask int
	// PersistenceEngine is the persistence engine ("sip": connections of
	// one SIP Call-ID go to one real server; ipvsadm --pe), empty for none.
	// It applies to persistent services.
	PersistenceEngine string
	// OnePacket schedules each UDP datagram on its own (ipvsadm --ops).
	OnePacket bool

	RealServers []RealServer
}

// RealKey identifies a real server within its virtual service.
type RealKey struct {
	Addr netip.Addr
	Port uint16
}

func (k RealKey) String() string { return netip.AddrPortFrom(k.Addr, k.Port).String() }

// Compare orders real servers by address, then port.
func (k RealKey) Compare(o RealKey) int {
	return cmp.Or(k.Addr.Compare(o.Addr), cmp.Compare(k.Port, o.Port))
}

// RealServer is one destination of a virtual service.
type RealServer struct {
	Addr netip.Addr
	Port uint16
	// Weight is 0 (no new connections) to math.MaxInt32.
	Weight     uint32
	Forwarding Forwarding
	// Tunnel is the encapsulation when Forwarding is Tunnel; zero otherwise.
	Tunnel TunnelConfig
	// UpperThreshold and LowerThreshold bound connections; zero is no limit.
	UpperThreshold uint32
	LowerThreshold uint32
}

// Key returns the identity of r within its service.
func (r RealServer) Key() RealKey { return RealKey{Addr: r.Addr, Port: r.Port} }

// normalize returns k as Normalize leaves it: address unmapped, family set.
// It is all that reading a service's identity needs.
func (k ServiceKey) normalize() ServiceKey {
	k.Addr = k.Addr.Unmap()
	if k.Family == 0 {
		k.Family = FamilyOf(k.Addr)
	}
	return k
}

// Normalize returns s in the form the kernel reports it: addresses unmapped,
// real servers sorted, defaults made explicit and fields that do not apply
// cleared. Diff compares normalized values.
func (s VirtualService) Normalize() VirtualService {
	n := s
	n.Key = s.Key.normalize()
	if n.Scheduler == "" {
		n.Scheduler = DefaultScheduler
	}
	n.Persistence = n.Persistence.Truncate(time.Second)
	if n.PersistenceMask == 0 {
		n.PersistenceMask = n.Key.Family.Bits()
	}
	n.RealServers = make([]RealServer, len(s.RealServers))
	for i, r := range s.RealServers {
		r.Addr = r.Addr.Unmap()
		if r.Forwarding != Tunnel {
			r.Tunnel = TunnelConfig{}
		}
		if r.Tunnel.Type != GUE {
			r.Tunnel.Port = 0
		}
		if r.Tunnel.Type == IPIP {
			r.Tunnel.Checksum = NoChecksum
		}
		n.RealServers[i] = r
	}
	slices.SortFunc(n.RealServers, func(a, b RealServer) int { return a.Key().Compare(b.Key()) })
	return n
}
