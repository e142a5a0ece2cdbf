package vrrp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// testLab is a small set of network namespaces joined by one bridge, for the
// host tests (cmd/internal/lab is internal to cmd/, so this is its cut-down
// twin): namespaces named prefix+host, each member's eth0 linked to a port
// of br0 in the bridge namespace. Close removes everything.
type testLab struct {
	prefix  string
	hosts   map[string]netns.NsHandle
	order   []string
	servers []*http.Server
}

func newTestLab(prefix string) *testLab {
	return &testLab{prefix: prefix, hosts: map[string]netns.NsHandle{}}
}

func (l *testLab) nsName(host string) string { return l.prefix + host }

func (l *testLab) addHost(host string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	name := l.nsName(host)
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
	// Loopback up; no IPv6 DAD, so that addresses (link-local ones too)
	// are usable at once.
	for _, key := range []string{"ipv6/conf/all/accept_dad", "ipv6/conf/default/accept_dad"} {
		if err := l.do(host, func() error { return os.WriteFile(filepath.Join("/proc/sys/net", key), []byte("0"), 0o644) }); err != nil {
			return err
		}
	}
	return l.link(host, "lo", func(nl *netlink.Handle, lo netlink.Link) error { return nl.LinkSetUp(lo) })
}

// lan makes bridge br0 in bridgeHost and links each member's eth0 to a port
// named after it, with the addresses given (prefix form).
func (l *testLab) lan(bridgeHost string, members map[string][]string, order ...string) error {
	if err := l.addHost(bridgeHost); err != nil {
		return err
	}
	if err := l.addBridge(bridgeHost, "br0"); err != nil {
		return err
	}
	for _, host := range order {
		if err := l.addHost(host); err != nil {
			return err
		}
		err := l.handle(bridgeHost, func(nl *netlink.Handle) error {
			v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: host}, PeerName: "eth0", PeerNamespace: netlink.NsFd(l.hosts[host])}
			if err := nl.LinkAdd(v); err != nil {
				return fmt.Errorf("veth %s: %w", host, err)
			}
			port, err := nl.LinkByName(host)
			if err != nil {
				return err
			}
			br, err := nl.LinkByName("br0")
			if err != nil {
				return err
			}
			return errors.Join(nl.LinkSetMaster(port, br), nl.LinkSetUp(port))
		})
		if err != nil {
			return err
		}
		for _, a := range members[host] {
			if err := l.addAddr(host, "eth0", a); err != nil {
				return err
			}
		}
		if err := l.setLinkUp(host, "eth0", true); err != nil {
			return err
		}
	}
	return nil
}

func (l *testLab) addBridge(host, name string) error {
	return l.handle(host, func(nl *netlink.Handle) error {
		if err := nl.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
			return fmt.Errorf("%s: bridge %s: %w", host, name, err)
		}
		br, err := nl.LinkByName(name)
		if err != nil {
			return err
		}
		return nl.LinkSetUp(br)
	})
}

func (l *testLab) addAddr(host, dev, prefix string) error {
	return l.link(host, dev, func(nl *netlink.Handle, link netlink.Link) error {
		a, err := netlink.ParseAddr(prefix)
		if err != nil {
			return err
		}
		a.Flags = unix.IFA_F_NODAD
		if err := nl.AddrAdd(link, a); err != nil {
			return fmt.Errorf("%s: add %s to %s: %w", host, prefix, dev, err)
		}
		return nil
	})
}

// setLinkUp sets dev of host administratively up or down. Taking a member's
// bridge port down is a cable pull: the member's eth0 loses carrier.
func (l *testLab) setLinkUp(host, dev string, up bool) error {
	return l.link(host, dev, func(nl *netlink.Handle, link netlink.Link) error {
		if up {
			return nl.LinkSetUp(link)
		}
		return nl.LinkSetDown(link)
	})
}

// setMaster moves dev of host to another bridge (a split without any
// carrier change).
func (l *testLab) setMaster(host, dev, bridge string) error {
	return l.link(host, dev, func(nl *netlink.Handle, link netlink.Link) error {
		br, err := nl.LinkByName(bridge)
		if err != nil {
			return err
		}
		return nl.LinkSetMaster(link, br)
	})
}

func (l *testLab) addrs(host, dev string) ([]net.IP, error) {
	var ips []net.IP
	err := l.link(host, dev, func(nl *netlink.Handle, link netlink.Link) error {
		addrs, err := nl.AddrList(link, netlink.FAMILY_ALL)
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
		return err
	})
	return ips, err
}

func (l *testLab) hardwareAddr(host, dev string) (net.HardwareAddr, error) {
	var mac net.HardwareAddr
	err := l.link(host, dev, func(nl *netlink.Handle, link netlink.Link) error {
		mac = link.Attrs().HardwareAddr
		return nil
	})
	return mac, err
}

func (l *testLab) link(host, dev string, fn func(*netlink.Handle, netlink.Link) error) error {
	return l.handle(host, func(nl *netlink.Handle) error {
		link, err := nl.LinkByName(dev)
		if err != nil {
			return fmt.Errorf("%s: link %s: %w", host, dev, err)
		}
		return fn(nl, link)
	})
}

func (l *testLab) handle(host string, fn func(*netlink.Handle) error) error {
	h, ok := l.hosts[host]
	if !ok {
		return fmt.Errorf("unknown host %s", host)
	}
	nl, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("%s: netlink: %w", host, err)
	}
	defer nl.Close()
	return fn(nl)
}

// do runs fn on a thread inside host's namespace. Sockets made in fn stay in
// that namespace; a Run inside it runs there until it returns.
func (l *testLab) do(host string, fn func() error) error {
	h, ok := l.hosts[host]
	if !ok {
		return fmt.Errorf("unknown host %s", host)
	}
	errc := make(chan error, 1)
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
			errc <- errors.Join(ferr, err) // the thread stays locked and dies
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// command runs name in host's namespace through `ip netns exec`, which
// execs it: the process is name itself, a direct child of the test.
func (l *testLab) command(host, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", l.nsName(host), name}, args...)...)
}

// serveHTTP answers every request to addr in host with body.
func (l *testLab) serveHTTP(host, addr, body string) error {
	var ln net.Listener
	if err := l.do(host, func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }),
		ReadHeaderTimeout: 5 * time.Second,
	}
	l.servers = append(l.servers, srv)
	go srv.Serve(ln)
	return nil
}

// get fetches url over a new connection made in host.
func (l *testLab) get(ctx context.Context, host, url string) (string, error) {
	dial := func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = l.do(host, func() error {
			d := net.Dialer{Timeout: 2 * time.Second}
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	client := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}, Timeout: 3 * time.Second}
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

func (l *testLab) close() error {
	var errs []error
	for _, s := range l.servers {
		s.Close()
	}
	for _, host := range l.order {
		h := l.hosts[host]
		h.Close()
		if err := netns.DeleteNamed(l.nsName(host)); err != nil {
			errs = append(errs, fmt.Errorf("delete namespace %s: %w", l.nsName(host), err))
		}
	}
	l.hosts, l.order = map[string]netns.NsHandle{}, nil
	return errors.Join(errs...)
}
