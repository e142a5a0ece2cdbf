package ipvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// ProbeCapabilities asks the running kernel which of schedulers and
// tunnels it lacks (see Capabilities), in a network namespace of its own:
// the probe's services are never seen in any other namespace and vanish
// with it. As apply would, the probe makes the kernel load the scheduler
// modules it names. It needs CAP_SYS_ADMIN to create the namespace
// (lacking it, the error matches ErrPermission) and CAP_NET_ADMIN for
// IPVS; when it fails, nothing is known, and callers proceed as before.
func ProbeCapabilities(ctx context.Context, schedulers []Scheduler, tunnels []TunnelType) (Capabilities, error) {
	var caps Capabilities
	if len(schedulers) == 0 && len(tunnels) == 0 {
		return caps, nil
	}
	n, err := openScratch(ctx)
	if err != nil {
		return caps, err
	}
	defer closeScratch(n)

	port := uint16(0)
	next := func() ServiceKey {
		port++
		return ServiceKey{Family: IPv4, Protocol: TCP, Addr: probeVIP, Port: port}
	}
	var present Scheduler // one the kernel has, for the tunnel probes
	for _, s := range schedulers {
		_, err := n.Apply(ctx, []Op{{Kind: AddService, Service: VirtualService{Key: next(), Scheduler: s}}})
		switch {
		case err == nil:
			if present == "" {
				present = s
			}
		case errors.Is(err, unix.ENOENT):
			caps.MissingSchedulers = append(caps.MissingSchedulers, s)
		default:
			return Capabilities{}, fmt.Errorf("ipvs: probe scheduler %s: %w", s, err)
		}
	}
	if len(tunnels) == 0 {
		return caps, nil
	}
	if present == "" {
		present = DefaultScheduler
	}
	// The control: an IP-in-IP real server, which every kernel keeps. If
	// it fails, a refusal below would not be about the tunnel type.
	if ok, err := probeTunnel(ctx, n, next(), present, IPIP); err != nil || !ok {
		if err == nil {
			err = errors.New("the kernel did not keep it")
		}
		return Capabilities{}, fmt.Errorf("ipvs: capability probe: an IP-in-IP real server: %w", err)
	}
	for _, t := range tunnels {
		ok, err := probeTunnel(ctx, n, next(), present, t)
		if err != nil {
			return Capabilities{}, fmt.Errorf("ipvs: probe tunnel type %s: %w", t, err)
		}
		if !ok {
			caps.MissingTunnels = append(caps.MissingTunnels, t)
		}
	}
	return caps, nil
}

// closeScratch deletes the probe's services before it lets its namespace
// go. The kernel would remove them itself, but later, in its namespace
// cleanup worker; until then they sit in IPVS's one service hash table for
// all namespaces, and Linux 6.1's /proc/net/ip_vs of another namespace
// (ipvsadm -L, node_exporter) then loses lines when its listing takes more
// than one read (seen in TestVMApplyEverything right after an apply).
func closeScratch(n *Netlink) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if table, err := n.Services(ctx); err == nil && len(table) > 0 {
		_, _ = n.Apply(ctx, Diff(table, nil))
	}
	n.Close()
}

// probeVIP and probeReal are the probe's addresses (TEST-NET-1), in its
// own namespace.
var (
	probeVIP  = netip.AddrFrom4([4]byte{192, 0, 2, 1})
	probeReal = netip.AddrFrom4([4]byte{192, 0, 2, 2})
)

// probeTunnel adds a service with a tunnel real server of type t and
// reads it back: a kernel without t refuses it, or ignores the attribute
// and keeps an IP-in-IP real server.
func probeTunnel(ctx context.Context, n *Netlink, key ServiceKey, sched Scheduler, t TunnelType) (bool, error) {
	tc := TunnelConfig{Type: t}
	if t == GUE {
		tc.Port = 6080
	}
	vs := VirtualService{Key: key, Scheduler: sched}
	rs := RealServer{Addr: probeReal, Port: key.Port, Weight: 1, Forwarding: Tunnel, Tunnel: tc}
	if _, err := n.Apply(ctx, []Op{{Kind: AddService, Service: vs}}); err != nil {
		return false, err
	}
	if _, err := n.Apply(ctx, []Op{{Kind: AddRealServer, Service: vs, Real: rs}}); err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return false, nil
		}
		return false, err
	}
	table, err := n.Services(ctx)
	if err != nil {
		return false, err
	}
	for _, got := range table {
		if got.Key == key {
			return len(got.RealServers) == 1 && got.RealServers[0].Tunnel.Type == t, nil
		}
	}
	return false, fmt.Errorf("the probe's service %s is not in the table", key)
}

// openScratch opens IPVS in a new, empty network namespace. The namespace
// is made on a locked thread that is never unlocked, so the thread ends
// with the goroutine and nothing else runs in it; the namespace lives as
// long as the socket.
func openScratch(ctx context.Context) (*Netlink, error) {
	type result struct {
		n   *Netlink
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread leaves our namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			if errors.Is(err, unix.EPERM) {
				err = explain("ipvs: create a network namespace for the capability probe: permission denied (needs CAP_SYS_ADMIN)", ErrPermission, err)
			} else {
				err = fmt.Errorf("ipvs: create a network namespace for the capability probe: %w", err)
			}
			ch <- result{err: err}
			return
		}
		if err := loopbackUp(); err != nil {
			ch <- result{err: fmt.Errorf("ipvs: capability probe: %w", err)}
			return
		}
		n, err := Open(ctx, "/proc/thread-self/ns/net")
		ch <- result{n, err}
	}()
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.n != nil {
				r.n.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// loopbackUp sets lo up in the calling thread's network namespace. A new
// namespace has no routing table until an interface is up, and without one
// the kernel takes every IPv4 address for a broadcast address and refuses
// it as a real server (EINVAL).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}
