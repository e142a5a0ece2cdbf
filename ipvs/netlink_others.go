//go:build !linux

package ipvs

import (
	"context"
	"runtime"
)

// Netlink is the kernel's IPVS table. IPVS is a Linux feature: on this
// system Open always fails.
type Netlink struct{}

var _ Kernel = (*Netlink)(nil)

func errNotLinux() error {
	return explain("IPVS needs Linux; this is "+runtime.GOOS, ErrNoIPVS)
}

// Open fails: IPVS needs Linux. The error matches ErrNoIPVS.
func Open(ctx context.Context, netnsPath string) (*Netlink, error) { return nil, errNotLinux() }

// Services fails: IPVS needs Linux.
func (n *Netlink) Services(ctx context.Context) ([]VirtualService, error) { return nil, errNotLinux() }

// Table fails: IPVS needs Linux.
func (n *Netlink) Table(ctx context.Context) ([]ServiceStatus, error) { return nil, errNotLinux() }

// Info fails: IPVS needs Linux.
func (n *Netlink) Info(ctx context.Context) (Info, error) { return Info{}, errNotLinux() }

// Apply fails: IPVS needs Linux.
func (n *Netlink) Apply(ctx context.Context, ops []Op) (int, error) { return 0, errNotLinux() }

// SetTimeouts fails: IPVS needs Linux.
func (n *Netlink) SetTimeouts(ctx context.Context, t Timeouts) error { return errNotLinux() }

// Close does nothing.
func (n *Netlink) Close() error { return nil }
