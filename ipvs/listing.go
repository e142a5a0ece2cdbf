package ipvs

import (
	"errors"
	"net/netip"
	"time"
)

// ListedService is a virtual service as a listing shows it: its status,
// plus what the normalized model leaves out but ipvsadm prints.
type ListedService struct {
	ServiceStatus
	// Netmask is an IPv4 service's persistence netmask exactly as the
	// kernel holds it. ipvsadm -M accepts any dotted quad, so it need not
	// be contiguous (Service.PersistenceMask then holds its leading ones).
	// The zero Addr means "the mask of Service.PersistenceMask"; IPv6
	// services use Service.PersistenceMask only.
	Netmask netip.Addr
	// PEName is the persistence engine ("sip"), empty for none.
	PEName string
}

// PersistenceNetmask returns an IPv4 service's persistence netmask: Netmask
// when set, else the mask of Service.PersistenceMask (zero, as in
// VirtualService, meaning all 32 bits).
func (l ListedService) PersistenceNetmask() netip.Addr {
	if l.Netmask.IsValid() {
		return l.Netmask
	}
	p := l.Service.PersistenceMask
	if p <= 0 || p > 32 {
		p = 32
	}
	m := ^uint32(0) << (32 - p)
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// ErrNoService is returned (wrapped) when a service asked for by key does
// not exist.
var ErrNoService = errors.New("no such service")

// Timeouts are the kernel's connection timeouts for IPVS (ipvsadm --set):
// established TCP, TCP after a FIN, and UDP. The kernel keeps whole
// seconds.
type Timeouts struct {
	TCP    time.Duration
	TCPFin time.Duration
	UDP    time.Duration
}

// SyncState is the role of a connection synchronisation daemon.
type SyncState uint32

// Sync daemon roles, with the kernel's IP_VS_STATE_* values.
const (
	SyncMaster SyncState = 1
	SyncBackup SyncState = 2
)

func (s SyncState) String() string {
	switch s {
	case SyncMaster:
		return "master"
	case SyncBackup:
		return "backup"
	}
	return "none"
}

// SyncDaemon is a running connection synchronisation daemon
// (ipvsadm --start-daemon).
type SyncDaemon struct {
	State     SyncState
	Interface string // multicast interface
	SyncID    uint32
	// MaxLen is the maximum sync message payload; zero if the kernel does
	// not say (before Linux 4.3), as are Group, Port and TTL.
	MaxLen uint16
	Group  netip.Addr
	Port   uint16
	TTL    uint8
}
