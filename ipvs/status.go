package ipvs

import "fmt"

// Stats are the counters and rate estimates the kernel keeps for a virtual
// service or a real server. Counters are 64-bit on Linux 4.1+; older kernels
// report 32-bit packet and connection counters, which wrap.
type Stats struct {
	Conns    uint64 // connections scheduled
	InPkts   uint64 // packets from clients
	OutPkts  uint64 // packets to clients
	InBytes  uint64 // bytes from clients
	OutBytes uint64 // bytes to clients

	CPS    uint64 // connections per second (estimate)
	InPPS  uint64 // packets per second from clients
	OutPPS uint64 // packets per second to clients
	InBPS  uint64 // bytes per second from clients
	OutBPS uint64 // bytes per second to clients
}

// ServiceStatus is a virtual service as the kernel reports it, with its
// statistics and the status of each real server.
type ServiceStatus struct {
	// Service is the normalized service; Service.RealServers holds the same
	// real servers as Reals, in the same order.
	Service VirtualService
	Stats   Stats
	Reals   []RealStatus
}

// RealStatus is a real server as the kernel reports it.
type RealStatus struct {
	Real  RealServer
	Stats Stats
	// ActiveConns, InactiveConns and PersistentConns are the connection
	// counts ipvsadm shows as ActiveConn, InActConn and (with
	// --persistent-conn) PersistConn.
	ActiveConns     uint32
	InactiveConns   uint32
	PersistentConns uint32
}

// Info is what the kernel says about its IPVS as a whole.
type Info struct {
	// Version is the IPVS version code: 0x010201 is 1.2.1, which every
	// Linux since 2.6.x reports.
	Version uint32
	// ConnTableSize is the number of buckets in the connection hash table
	// (module parameter conn_tab_bits).
	ConnTableSize uint32
}

// VersionString formats the version as ipvsadm does: "v1.2.1".
func (i Info) VersionString() string {
	return fmt.Sprintf("v%d.%d.%d", i.Version>>16&0xff, i.Version>>8&0xff, i.Version&0xff)
}

// String is the first line of ipvsadm's listing:
// "IP Virtual Server version 1.2.1 (size=4096)".
func (i Info) String() string {
	return fmt.Sprintf("IP Virtual Server version %s (size=%d)", i.VersionString()[1:], i.ConnTableSize)
}
