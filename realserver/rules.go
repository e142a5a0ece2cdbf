package realserver

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// The kernel's rules, as realserver applies them.
//
// For each of arp_ignore, arp_announce and rp_filter the kernel uses
// max(net.ipv4.conf.all.X, net.ipv4.conf.DEV.X), where DEV is the interface
// the ARP request (or, for rp_filter, the packet) arrives on, or for
// arp_announce the interface the ARP request is sent from. So:
//
//   - `all` alone decides for every interface whose own value is lower,
//     including interfaces created later. realserver sets arp_ignore=1 and
//     arp_announce=2 there.
//   - An interface's own value wins when it is higher, and a higher value
//     is not always stricter: arp_ignore 3 answers for any address of scope
//     global (the VIP included), 4-7 and above 8 answer everything, and
//     arp_announce above 2 behaves as 0. realserver lowers exactly those
//     interfaces to 1 and 2; all others are left alone.
//   - lo and tunl0, which carry the VIPs, never do ARP, so their values have
//     no effect on the kernel. realserver still sets them to 1 and 2, as
//     every LVS guide does, so that checks of the VIP device agree.
//   - rp_filter: decapsulated TUN packets arrive on tunl0 with the client's
//     address as source, but the route back to the client leaves by another
//     interface, so strict reverse-path filtering (1) drops them. Loose mode
//     (2) accepts them (the route back exists: the replies use it). realserver
//     turns strict (1) into off (0) on `all` and on tunl0 and leaves 0 and 2.
//
// IPv6 needs none of this: the kernel answers neighbour solicitations only
// for addresses on the receiving interface, so a VIP on lo is never
// announced.

// arpIgnoreOK reports whether, with v as effective arp_ignore, the kernel
// ignores ARP requests for an address that is not on the receiving
// interface: 1 (address on that interface), 2 (and in the sender's subnet)
// or 8 (never reply).
func arpIgnoreOK(v int) bool { return v == 1 || v == 2 || v == 8 }

// arpAnnounceOK reports whether, with v as effective arp_announce, the
// kernel never uses the VIP as the source of its own ARP requests: only 2
// ("best local address for the target"); values above 2 act as 0.
func arpAnnounceOK(v int) bool { return v == 2 }

// rpFilterOK reports whether, with v as effective rp_filter, decapsulated
// packets on tunl0 are accepted: anything but strict mode.
func rpFilterOK(v int) bool { return v != 1 }

// The values realserver writes.
const (
	wantArpIgnore   = "1"
	wantArpAnnounce = "2"
	wantRPFilter    = "0"
)

// sysctlWant is one setting realserver manages for a configuration, with
// what it reads now and whether that must change.
type sysctlWant struct {
	key    Sysctl
	cur    string // as read
	target string // what to write when change is set
	change bool
}

// parseSysctl reads an integer sysctl value.
func parseSysctl(k Sysctl, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s: unexpected value %q", k, s)
	}
	return n, nil
}

// readInt reads k as an integer, returning the trimmed text too.
func readInt(sys System, k Sysctl) (int, string, error) {
	s, err := sys.Sysctl(k)
	if err != nil {
		return 0, "", err
	}
	s = strings.TrimSpace(s)
	n, err := parseSysctl(k, s)
	return n, s, err
}

// wants lists the sysctls cfg needs, in the order start writes them: `all`
// first, then the VIP device, then the interfaces that do ARP. links must
// already include the VIP device (tunl0 exists before this is called).
// Only IPv4 VIPs need any.
func wants(sys System, cfg Config, links []Link) ([]sysctlWant, error) {
	if !cfg.hasIPv4() {
		return nil, nil
	}
	var out []sysctlWant
	// own adds k, whose own value must satisfy ok, and returns the value
	// it will have after start.
	own := func(k Sysctl, target string, ok func(int) bool) (int, error) {
		n, s, err := readInt(sys, k)
		if err != nil {
			return 0, err
		}
		w := sysctlWant{key: k, cur: s, target: target, change: !ok(n)}
		out = append(out, w)
		if w.change {
			n, _ = strconv.Atoi(target)
		}
		return n, nil
	}
	// withAll adds k, an interface's own value, which must satisfy ok
	// once the kernel takes the maximum with all's value after start.
	withAll := func(k Sysctl, all int, target string, ok func(int) bool) error {
		n, s, err := readInt(sys, k)
		if err != nil {
			return err
		}
		out = append(out, sysctlWant{key: k, cur: s, target: target, change: !ok(max(all, n))})
		return nil
	}

	dev := cfg.Device()
	allIgnore, err := own(Sysctl{"all", ArpIgnore}, wantArpIgnore, arpIgnoreOK)
	if err != nil {
		return nil, err
	}
	allAnnounce, err := own(Sysctl{"all", ArpAnnounce}, wantArpAnnounce, arpAnnounceOK)
	if err != nil {
		return nil, err
	}
	if _, err := own(Sysctl{dev, ArpIgnore}, wantArpIgnore, arpIgnoreOK); err != nil {
		return nil, err
	}
	if _, err := own(Sysctl{dev, ArpAnnounce}, wantArpAnnounce, arpAnnounceOK); err != nil {
		return nil, err
	}
	if cfg.Mode == TUN {
		for _, conf := range []string{"all", dev} {
			if _, err := own(Sysctl{conf, RPFilter}, wantRPFilter, rpFilterOK); err != nil {
				return nil, err
			}
		}
	}
	for _, l := range links {
		if !l.arp() || l.Name == dev {
			continue
		}
		err := withAll(Sysctl{l.Name, ArpIgnore}, allIgnore, wantArpIgnore, arpIgnoreOK)
		if err == nil {
			err = withAll(Sysctl{l.Name, ArpAnnounce}, allAnnounce, wantArpAnnounce, arpAnnounceOK)
		}
		switch {
		case isNotExist(err):
			// The interface went away meanwhile.
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
