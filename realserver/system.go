package realserver

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// System is one network namespace as realserver sees it: its links and
// addresses (netlink) and its IPv4 interface sysctls (/proc/sys/net, read
// and written from inside the namespace). Open returns the real one; tests
// use an in-memory fake.
type System interface {
	// Links lists the interfaces with their flags and addresses.
	Links() ([]Link, error)
	// Sysctl reads one sysctl. A missing one (no such interface) is an
	// error matching fs.ErrNotExist.
	Sysctl(k Sysctl) (string, error)
	// SetSysctl writes one sysctl.
	SetSysctl(k Sysctl, value string) error
	// AddAddress adds p to link (IFA_F_NODAD, scope global).
	AddAddress(link string, p netip.Prefix) error
	// DeleteAddress removes p from link.
	DeleteAddress(link string, p netip.Prefix) error
	// SetLinkUp brings link up or down.
	SetLinkUp(link string, up bool) error
	// EnsureTunnel makes the catch-all tunnel device dev exist: tunl0
	// (IP-in-IP, module ipip) or gre0 (GRE, module ip_gre), loading the
	// module if needed. created is true only when it had to create the
	// device itself (the module's own device appears by itself in every
	// namespace, unless net.core.fb_tunnels_only_for_init_net says
	// otherwise). The error matches ErrNoIPIP (ErrNoGRE) when the kernel
	// cannot.
	EnsureTunnel(dev string) (created bool, err error)
	// FOUPorts lists the IPv4 fou receive ports in GUE mode.
	FOUPorts() ([]uint16, error)
	// AddFOU opens an IPv4 fou receive port in GUE mode (module fou).
	AddFOU(port uint16) error
	// DeleteFOU closes one.
	DeleteFOU(port uint16) error
	// DeleteLink deletes a link created by EnsureTunnel.
	DeleteLink(link string) error
	// Identity names this namespace instance in this boot.
	Identity() (Identity, error)
	// Close releases the namespace.
	Close() error
}

// ErrNoIPIP means the kernel has no IP-in-IP support (module ipip missing
// and not loadable, or CONFIG_NET_IPIP not set), so TUN cannot work.
var ErrNoIPIP = errors.New("the kernel has no IP-in-IP (ipip) support, so tunl0 cannot be created (try: modprobe ipip; it needs CONFIG_NET_IPIP)")

// ErrNoGRE means the kernel has no GRE support (module ip_gre), so a GRE
// backend cannot receive.
var ErrNoGRE = errors.New("the kernel has no GRE (ip_gre) support, so gre0 cannot be created (try: modprobe ip_gre; it needs CONFIG_NET_IPGRE)")

// ErrNoFOU means the kernel has no foo-over-UDP support (module fou), so a
// GUE backend cannot receive.
var ErrNoFOU = errors.New("the kernel has no foo-over-UDP (fou) support, so the GUE receive port cannot be opened (try: modprobe fou; it needs CONFIG_NET_FOU)")

// ErrPermission means the caller lacks the privileges to change the
// namespace.
var ErrPermission = errors.New("permission denied: preparing a real server needs root (CAP_NET_ADMIN, and CAP_SYS_ADMIN for --netns)")

// Link is one interface.
type Link struct {
	Name     string
	Up       bool
	Loopback bool
	// NoARP is set for devices that never send or answer ARP (lo, tunl0,
	// other tunnels); their arp_* sysctls have no effect.
	NoARP bool
	Addrs []netip.Prefix
}

// arp reports whether the kernel does ARP on l.
func (l Link) arp() bool { return !l.Loopback && !l.NoARP }

// has reports whether a is one of l's addresses, and with which prefix.
func (l Link) has(a netip.Addr) (netip.Prefix, bool) {
	for _, p := range l.Addrs {
		if p.Addr().Unmap() == a.Unmap() {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

func findLink(links []Link, name string) (Link, bool) {
	i := slices.IndexFunc(links, func(l Link) bool { return l.Name == name })
	if i < 0 {
		return Link{}, false
	}
	return links[i], true
}

// Sysctl names one IPv4 interface setting: net.ipv4.conf.<Conf>.<Name>,
// where Conf is an interface name, "all" or "default".
type Sysctl struct {
	Conf string `json:"conf"`
	Name string `json:"name"`
}

// The settings realserver manages.
const (
	ArpIgnore   = "arp_ignore"
	ArpAnnounce = "arp_announce"
	RPFilter    = "rp_filter"
)

// String is the sysctl(8) name; dots in an interface name become slashes,
// as sysctl writes them.
func (k Sysctl) String() string {
	return "net.ipv4.conf." + strings.ReplaceAll(k.Conf, ".", "/") + "." + k.Name
}

// Path is the file under /proc/sys.
func (k Sysctl) Path() string {
	return "/proc/sys/net/ipv4/conf/" + k.Conf + "/" + k.Name
}

// check rejects keys that are not ours or that would escape
// /proc/sys/net/ipv4/conf (a record file is input too).
func (k Sysctl) check() error {
	switch k.Name {
	case ArpIgnore, ArpAnnounce, RPFilter:
	default:
		return fmt.Errorf("sysctl %q is not one realserver manages", k.Name)
	}
	if k.Conf == "" || k.Conf == "." || k.Conf == ".." || strings.ContainsAny(k.Conf, "/\x00") || len(k.Conf) > 15 {
		return fmt.Errorf("%q is not an interface name", k.Conf)
	}
	return nil
}

// Identity tells one namespace instance in one boot from another, so that
// a record left by an earlier boot, or by a namespace since deleted and
// made again under the same name, is not mistaken for the current state.
type Identity struct {
	BootID string `json:"boot_id"`
	// Netns is the namespace cookie ("cookie:N", unique per boot, Linux
	// 5.14+) or, on older kernels, its inode ("inode:N", reused).
	Netns string `json:"netns"`
}
