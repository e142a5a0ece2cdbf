package ipvs

import (
	"context"
	"slices"
)

// Capabilities says which of the schedulers and tunnel types a table uses
// the running kernel lacks. The kernel has no call that lists its
// schedulers or encapsulations (GET_INFO gives only the IPVS version,
// 1.2.1 on every kernel since 2.6, and the connection table size), and a
// table of kernel versions is wrong for backports and custom builds, so
// ProbeCapabilities asks the kernel the question apply would: it creates
// the service (and the tunnel real server) in a network namespace of its
// own, which no one else sees and which goes away with its socket.
//
// A scheduler is a module, ip_vs_NAME, built in or loaded on demand when a
// service names it; a kernel without it refuses the service with ENOENT.
// A tunnel type (GUE, Linux 5.2; GRE, 5.3) is an attribute that a kernel
// without it ignores: the real server is created as IP-in-IP, so the
// probe reads it back.
type Capabilities struct {
	// MissingSchedulers are the probed schedulers the kernel refused.
	MissingSchedulers []Scheduler
	// MissingTunnels are the probed tunnel types the kernel did not keep.
	MissingTunnels []TunnelType
}

// HasScheduler reports whether s was not found missing.
func (c Capabilities) HasScheduler(s Scheduler) bool {
	return !slices.Contains(c.MissingSchedulers, s)
}

// HasTunnel reports whether t was not found missing.
func (c Capabilities) HasTunnel(t TunnelType) bool {
	return !slices.Contains(c.MissingTunnels, t)
}

// Prober asks the kernel about the schedulers and tunnel types given:
// ProbeCapabilities, or a fake in tests.
type Prober func(ctx context.Context, schedulers []Scheduler, tunnels []TunnelType) (Capabilities, error)

// Uses lists the distinct schedulers of services (the default when
// unset) and the tunnel types other than IP-in-IP of their tunnel real
// servers: what a probe needs to ask.
func Uses(services []VirtualService) ([]Scheduler, []TunnelType) {
	var scheds []Scheduler
	var tunnels []TunnelType
	for _, vs := range services {
		s := vs.Normalize().Scheduler
		if !slices.Contains(scheds, s) {
			scheds = append(scheds, s)
		}
		for _, rs := range vs.RealServers {
			if rs.Forwarding == Tunnel && rs.Tunnel.Type != IPIP && !slices.Contains(tunnels, rs.Tunnel.Type) {
				tunnels = append(tunnels, rs.Tunnel.Type)
			}
		}
	}
	slices.Sort(scheds)
	slices.Sort(tunnels)
	return scheds, tunnels
}
