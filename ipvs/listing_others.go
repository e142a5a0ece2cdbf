//go:build !linux

package ipvs

import "context"

// List fails: IPVS needs Linux.
func (n *Netlink) List(ctx context.Context) ([]ListedService, error) { return nil, errNotLinux() }

// ListService fails: IPVS needs Linux.
func (n *Netlink) ListService(ctx context.Context, k ServiceKey) (ListedService, error) {
	return ListedService{}, errNotLinux()
}

// Timeouts fails: IPVS needs Linux.
func (n *Netlink) Timeouts(ctx context.Context) (Timeouts, error) { return Timeouts{}, errNotLinux() }

// SyncDaemons fails: IPVS needs Linux.
func (n *Netlink) SyncDaemons(ctx context.Context) ([]SyncDaemon, error) { return nil, errNotLinux() }

// ConnTableFile is the kernel's text listing of IPVS connections.
const ConnTableFile = "/proc/net/ip_vs_conn"

// ReadConnTable fails: IPVS needs Linux.
func ReadConnTable(netnsPath string) ([]byte, error) { return nil, errNotLinux() }
