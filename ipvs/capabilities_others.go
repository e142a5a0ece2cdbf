//go:build !linux

package ipvs

import "context"

// ProbeCapabilities fails: IPVS needs Linux. The error matches ErrNoIPVS.
func ProbeCapabilities(ctx context.Context, schedulers []Scheduler, tunnels []TunnelType) (Capabilities, error) {
	return Capabilities{}, errNotLinux()
}
