package ipvsadm

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/ipvs"
)

// Resolver is what ipvsadm asks the C library: names for addresses and
// ports when listing, and addresses and ports for names when parsing a
// service argument.
type Resolver interface {
	// HostName is gethostbyaddr: the host's name, or false.
	HostName(a netip.Addr) (string, bool)
	// ServiceName is getservbyport: the service name of port for proto,
	// or false.
	ServiceName(port uint16, proto ipvs.Protocol) (string, bool)
	// HostAddr is gethostbyname for IPv4: the first address, or false.
	HostAddr(name string) (netip.Addr, bool)
	// ServicePort is getservbyname: the port of a service name or alias
	// for proto, or false.
	ServicePort(name string, proto ipvs.Protocol) (uint16, bool)
}

// SystemResolver answers like glibc does for ipvsadm on a typical system:
// host names through Go's resolver (/etc/hosts, then DNS, in the order
// /etc/nsswitch.conf gives), service names from /etc/services (the first
// line with the port and protocol, as nss_files reads it). It does not
// consult other NSS modules (LDAP, mDNS, nss-resolve). Answers are cached
// for its lifetime.
type SystemResolver struct {
	// ServicesFile is the services database; empty means /etc/services.
	ServicesFile string
	// Timeout bounds each host lookup; zero means 10 s.
	Timeout time.Duration

	once     sync.Once
	services []servicesEntry
	mu       sync.Mutex
	names    map[netip.Addr]string
}

type servicesEntry struct {
	name    string
	aliases []string
	port    uint16
	proto   string
}

var _ Resolver = (*SystemResolver)(nil)

func (r *SystemResolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return 10 * time.Second
}

// HostName looks a up with Go's resolver and returns the first name
// without its trailing dot.
func (r *SystemResolver) HostName(a netip.Addr) (string, bool) {
	r.mu.Lock()
	if r.names == nil {
		r.names = map[netip.Addr]string{}
	}
	name, ok := r.names[a]
	r.mu.Unlock()
	if ok {
		return name, name != ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout())
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(ctx, a.String())
	if err == nil && len(names) > 0 {
		name = strings.TrimSuffix(names[0], ".")
	}
	r.mu.Lock()
	r.names[a] = name
	r.mu.Unlock()
	return name, name != ""
}

// HostAddr returns the first IPv4 address of name.
func (r *SystemResolver) HostAddr(name string) (netip.Addr, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout())
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", name)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, false
	}
	return addrs[0].Unmap(), true
}

func (r *SystemResolver) load() {
	r.once.Do(func() {
		path := r.ServicesFile
		if path == "" {
			path = "/etc/services"
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		r.services = parseServices(b)
	})
}

// ServiceName is getservbyport over /etc/services.
func (r *SystemResolver) ServiceName(port uint16, proto ipvs.Protocol) (string, bool) {
	pn := proto.Name()
	if pn == "" {
		return "", false
	}
	r.load()
	for _, e := range r.services {
		if e.port == port && e.proto == pn {
			return e.name, true
		}
	}
	return "", false
}

// ServicePort is getservbyname over /etc/services.
func (r *SystemResolver) ServicePort(name string, proto ipvs.Protocol) (uint16, bool) {
	pn := proto.Name()
	if pn == "" {
		return 0, false
	}
	r.load()
	for _, e := range r.services {
		if e.proto != pn {
			continue
		}
		if e.name == name {
			return e.port, true
		}
		for _, a := range e.aliases {
			if a == name {
				return e.port, true
			}
		}
	}
	return 0, false
}

// parseServices reads a services(5) file: "name port/protocol aliases...",
// "#" to the end of a line is a comment. Malformed lines are skipped, as
// nss_files skips them.
func parseServices(b []byte) []servicesEntry {
	var out []servicesEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		portStr, proto, ok := strings.Cut(f[1], "/")
		if !ok || proto == "" {
			continue
		}
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil {
			continue
		}
		out = append(out, servicesEntry{name: f[0], aliases: f[2:], port: uint16(port), proto: proto})
	}
	return out
}
