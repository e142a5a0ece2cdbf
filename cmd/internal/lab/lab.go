// Package lab builds small networks of Linux network namespaces for tests and
// the demo: hosts joined by veth links, HTTP servers and clients whose
// sockets live inside a namespace. Every namespace, link and server it makes
// is removed by Close, and it never sends a packet outside the namespaces it
// created.
//
// Go schedules goroutines over OS threads, and a network namespace belongs
// to a thread, so code that must run "on" a host goes through Lab.Do, which
// locks a thread, enters the namespace, runs the function and returns. A
// socket stays in the namespace it was created in, so a listener or
// connection made inside Do keeps working after Do returns.
package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/ipvs"
)

// Lab is a set of namespaces named Prefix+host.
type Lab struct {
	prefix  string
	hosts   map[string]netns.NsHandle
	order   []string
	servers []*http.Server
}

// New returns an empty lab whose namespaces are named prefix+host. Callers
// pick a prefix no other test uses.
func New(prefix string) *Lab {
	return &Lab{prefix: prefix, hosts: map[string]netns.NsHandle{}}
}

// NSName is the /run/netns name of host.
func (l *Lab) NSName(host string) string { return l.prefix + host }

// NSPath is the path of host's namespace, for lvsctl's --netns.
func (l *Lab) NSPath(host string) string { return filepath.Join("/run/netns", l.NSName(host)) }

// AddHost creates a namespace for host with its loopback up.
func (l *Lab) AddHost(host string) error {
	if _, ok := l.hosts[host]; ok {
		return fmt.Errorf("host %s exists", host)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	name := l.NSName(host)
	_ = netns.DeleteNamed(name) // a leftover from a killed run
	h, err := netns.NewNamed(name)
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	if err := netns.Set(orig); err != nil {
		return fmt.Errorf("return from namespace %s: %w", name, err)
	}
	l.hosts[host] = h
	l.order = append(l.order, host)
	return l.withHandle(host, func(nl *netlink.Handle) error {
		lo, err := nl.LinkByName("lo")
		if err != nil {
			return err
		}
		return nl.LinkSetUp(lo)
	})
}

// Link joins hosts a and b with a veth pair named ifA (in a) and ifB (in b)
// and gives each end its address (a prefix such as "10.0.1.1/24"; empty for
// none).
func (l *Lab) Link(a, ifA, addrA, b, ifB, addrB string) error {
	ha, hb := l.hosts[a], l.hosts[b]
	if ha == 0 || hb == 0 {
		return fmt.Errorf("link %s-%s: unknown host", a, b)
	}
	err := l.withHandle(a, func(nl *netlink.Handle) error {
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: ifA}, PeerName: ifB, PeerNamespace: netlink.NsFd(hb)}
		if err := nl.LinkAdd(v); err != nil {
			return fmt.Errorf("add veth %s/%s: %w", ifA, ifB, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := l.Up(a, ifA, addrA); err != nil {
		return err
	}
	return l.Up(b, ifB, addrB)
}

// Up brings link dev of host up with the given address (optional).
func (l *Lab) Up(host, dev, addr string) error {
	return l.withHandle(host, func(nl *netlink.Handle) error {
		link, err := nl.LinkByName(dev)
		if err != nil {
			return fmt.Errorf("%s: link %s: %w", host, dev, err)
		}
		if addr != "" {
			a, err := netlink.ParseAddr(addr)
			if err != nil {
				return err
			}
			a.Flags = unix.IFA_F_NODAD // usable at once, even for IPv6
			if err := nl.AddrAdd(link, a); err != nil {
				return fmt.Errorf("%s: add %s to %s: %w", host, addr, dev, err)
			}
		}
		return nl.LinkSetUp(link)
	})
}

// AddBridge creates bridge name in host with an address (optional).
func (l *Lab) AddBridge(host, name, addr string) error {
	err := l.withHandle(host, func(nl *netlink.Handle) error {
		return nl.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}})
	})
	if err != nil {
		return fmt.Errorf("%s: add bridge %s: %w", host, name, err)
	}
	return l.Up(host, name, addr)
}

// Enslave attaches link dev of host to bridge.
func (l *Lab) Enslave(host, dev, bridge string) error {
	return l.withHandle(host, func(nl *netlink.Handle) error {
		link, err := nl.LinkByName(dev)
		if err != nil {
			return err
		}
		br, err := nl.LinkByName(bridge)
		if err != nil {
			return err
		}
		if err := nl.LinkSetMaster(link, br); err != nil {
			return fmt.Errorf("%s: attach %s to %s: %w", host, dev, bridge, err)
		}
		return nil
	})
}

// Down takes link dev of host down: a blackhole for whatever routes over it.
func (l *Lab) Down(host, dev string) error {
	return l.withHandle(host, func(nl *netlink.Handle) error {
		link, err := nl.LinkByName(dev)
		if err != nil {
			return fmt.Errorf("%s: link %s: %w", host, dev, err)
		}
		return nl.LinkSetDown(link)
	})
}

// AddAddr adds an address (prefix form) to link dev of host.
func (l *Lab) AddAddr(host, dev, addr string) error { return l.Up(host, dev, addr) }

// Route adds a route to dst (a prefix, or "default") via gw in host.
func (l *Lab) Route(host, dst, gw string) error {
	return l.withHandle(host, func(nl *netlink.Handle) error {
		g := net.ParseIP(gw)
		r := &netlink.Route{Gw: g}
		if dst != "default" {
			_, n, err := net.ParseCIDR(dst)
			if err != nil {
				return err
			}
			r.Dst = n
		}
		if err := nl.RouteAdd(r); err != nil {
			return fmt.Errorf("%s: route %s via %s: %w", host, dst, gw, err)
		}
		return nil
	})
}

// Sysctl writes value to /proc/sys/KEY (dots or slashes) inside host.
func (l *Lab) Sysctl(host, key, value string) error {
	p := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
	return l.Do(host, func() error {
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
			return fmt.Errorf("%s: sysctl %s=%s: %w", host, key, value, err)
		}
		return nil
	})
}

// Do runs fn on a thread inside host's namespace.
func (l *Lab) Do(host string, fn func() error) error {
	h, ok := l.hosts[host]
	if !ok {
		return fmt.Errorf("unknown host %s", host)
	}
	errc := make(chan error, 1)
	// A fresh goroutine whose thread is thrown away if it cannot get back
	// to its original namespace.
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(h); err != nil {
			errc <- fmt.Errorf("enter %s: %w", host, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, err) // thread stays locked and dies
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func (l *Lab) withHandle(host string, fn func(*netlink.Handle) error) error {
	nl, err := netlink.NewHandleAt(l.hosts[host], unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("%s: netlink: %w", host, err)
	}
	defer nl.Close()
	return fn(nl)
}

// ServeHTTP starts an HTTP server in host listening on addr ("IP:port")
// that answers every request with body.
func (l *Lab) ServeHTTP(host, addr, body string) error {
	_, err := l.Serve(host, addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, body)
	}))
	return err
}

// Serve starts an HTTP server with handler in host on addr. The returned
// stop closes its listener and connections at once (a backend that dies);
// Close stops it too.
func (l *Lab) Serve(host, addr string, handler http.Handler) (stop func(), err error) {
	var ln net.Listener
	err = l.Do(host, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: listen %s: %w", host, addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	l.servers = append(l.servers, srv)
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// Get fetches url with a new connection made from host and returns the body.
func (l *Lab) Get(ctx context.Context, host, url string) (string, error) {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := l.Do(host, func() error {
			var err error
			d := net.Dialer{Timeout: 5 * time.Second}
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	client := &http.Client{
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true},
		Timeout:   10 * time.Second,
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return string(b), err
}

// Close stops the servers and deletes every namespace the lab made.
func (l *Lab) Close() error {
	var errs []error
	for _, s := range l.servers {
		s.Close()
	}
	for _, host := range l.order {
		l.flushIPVS(host)
		h := l.hosts[host]
		h.Close()
		if err := netns.DeleteNamed(l.NSName(host)); err != nil {
			errs = append(errs, fmt.Errorf("delete namespace %s: %w", l.NSName(host), err))
		}
	}
	l.hosts = map[string]netns.NsHandle{}
	l.order = nil
	return errors.Join(errs...)
}

// flushIPVS deletes the IPVS services in host's namespace, if its kernel
// has IPVS. The kernel would remove them itself, but later, in the
// namespace cleanup worker, and until then they stay in IPVS's one service
// hash table for all namespaces. On Linux 6.1 that shows in another
// namespace's /proc/net/ip_vs: a listing longer than one read lost lines
// while a previous test's namespaces still held services (seen in
// TestVMPipelinedApply after TestVMPackagedUnits). Flushing first keeps
// each test's table to itself.
func (l *Lab) flushIPVS(host string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k, err := ipvs.Open(ctx, l.NSPath(host))
	if err != nil {
		return // no IPVS (the host's kernel), or no namespace
	}
	defer k.Close()
	if svcs, err := k.Services(ctx); err == nil && len(svcs) > 0 {
		_, _ = k.Apply(ctx, ipvs.Diff(svcs, nil))
	}
}

// NATTopology builds the classic LVS-NAT lab: a client on 10.0.1.0/24, a
// director with the VIP (10.0.1.100) on that link and 10.0.2.1 towards the
// backends (on bridge br0), and backends on 10.0.2.0/24 (10.0.2.11, .12,
// ...) that route back through the director. It returns the backends' addresses.
func (l *Lab) NATTopology(backends int) ([]netip.Addr, error) {
	steps := []func() error{
		func() error { return l.AddHost("client") },
		func() error { return l.AddHost("director") },
		func() error { return l.Link("client", "eth0", "10.0.1.2/24", "director", "eth0", "10.0.1.1/24") },
		func() error { return l.AddAddr("director", "eth0", "10.0.1.100/24") },
		func() error { return l.Sysctl("director", "net.ipv4.ip_forward", "1") },
		func() error { return l.Route("client", "default", "10.0.1.1") },
		func() error { return l.AddBridge("director", "br0", "10.0.2.1/24") },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	var addrs []netip.Addr
	for i := 1; i <= backends; i++ {
		host := fmt.Sprintf("be%d", i)
		addr := netip.AddrFrom4([4]byte{10, 0, 2, byte(10 + i)})
		dirIf := fmt.Sprintf("be%d", i)
		if err := l.AddHost(host); err != nil {
			return nil, err
		}
		if err := l.Link("director", dirIf, "", host, "eth0", addr.String()+"/24"); err != nil {
			return nil, err
		}
		if err := l.Enslave("director", dirIf, "br0"); err != nil {
			return nil, err
		}
		if err := l.Route(host, "default", "10.0.2.1"); err != nil {
			return nil, err
		}
		addrs = append(addrs, addr)
	}
	return addrs, nil
}
