package realserver

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Status is what a namespace looks like for a configuration: where the
// VIPs are, the sysctls that matter, and the problems that will keep it
// from working.
type Status struct {
	Mode Mode `json:"mode"`
	// Device is where the VIPs belong (lo or tunl0).
	Device       string      `json:"device"`
	DeviceExists bool        `json:"device_exists"`
	DeviceUp     bool        `json:"device_up"`
	VIPs         []VIPStatus `json:"vips"`
	// Sysctls are the settings that decide ARP and reverse-path filtering
	// for the VIPs: `all`, the VIP device and every interface that does
	// ARP, with what the kernel makes of each interface's value.
	Sysctls []SysctlStatus `json:"sysctls,omitempty"`
	// Started is set when an lvsctl realserver start record for this
	// namespace instance exists.
	Started  bool      `json:"started"`
	Problems []Problem `json:"problems"`
	Notes    []string  `json:"notes,omitempty"`
}

// VIPStatus is one VIP.
type VIPStatus struct {
	Addr netip.Addr `json:"addr"`
	// OnDevice is the VIP's prefix on the VIP device, if it is there.
	OnDevice *netip.Prefix `json:"on_device,omitempty"`
	// AlsoOn lists other interfaces that carry it.
	AlsoOn []string `json:"also_on,omitempty"`
	// Added is set when lvsctl added it (stop will remove it).
	Added bool `json:"added"`
}

// SysctlStatus is one sysctl as read.
type SysctlStatus struct {
	Sysctl
	Key   string `json:"key"`
	Value string `json:"value"`
	// Effective is max(all, this interface), what the kernel uses, for
	// interface values.
	Effective *int `json:"effective,omitempty"`
	// Previous is set when lvsctl changed it: the value stop restores.
	Previous *string `json:"previous,omitempty"`
}

// Problem is a reason the setup will not work.
type Problem struct {
	// Code is stable, for scripts: vip-missing, vip-prefix, vip-on-nic,
	// arp-ignore, arp-announce, tunnel-missing, tunnel-down, rp-filter,
	// fou-missing.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Inspect reads the namespace and checks it against cfg. rec, if not nil,
// is the namespace's start record: it tells what lvsctl changed.
func Inspect(sys System, cfg Config, rec *Record) (*Status, error) {
	cfg = cfg.normalize()
	st := &Status{Mode: cfg.Mode, Device: cfg.Device(), Problems: []Problem{}}
	if rec != nil {
		id, err := sys.Identity()
		if err != nil {
			return nil, err
		}
		if rec.Namespace == id {
			st.Started = true
		} else {
			st.Notes = append(st.Notes, "the record is from an earlier boot or another instance of this namespace and describes nothing in place")
			rec = nil
		}
	}
	if rec == nil {
		rec = &Record{}
	}
	problem := func(code, format string, args ...any) {
		st.Problems = append(st.Problems, Problem{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	links, err := sys.Links()
	if err != nil {
		return nil, err
	}
	dev, devOK := findLink(links, st.Device)
	st.DeviceExists, st.DeviceUp = devOK, dev.Up

	if cfg.Mode == TUN {
		kind := "IP-in-IP"
		if cfg.Tunnel == GRE {
			kind = "GRE"
		}
		switch {
		case !devOK:
			problem("tunnel-missing", "%s does not exist: %s packets from the director are not decapsulated (lvsctl realserver start loads the module and brings it up)", st.Device, kind)
		case !dev.Up:
			problem("tunnel-down", "%s is down: %s packets from the director are dropped", st.Device, kind)
		}
		if cfg.Tunnel == GUE {
			ports, err := sys.FOUPorts()
			if err != nil {
				return nil, err
			}
			if !slices.Contains(ports, cfg.GUEPort) {
				problem("fou-missing", "no GUE receive port %d (ip fou): the director's GUE packets to that port are refused (lvsctl realserver start opens it)", cfg.GUEPort)
			}
		}
	}

	for _, v := range cfg.VIPs {
		vs := VIPStatus{Addr: v}
		if p, ok := dev.has(v); devOK && ok {
			vs.OnDevice = &p
			vs.Added = rec.address(st.Device, p)
			if p.Bits() != v.BitLen() {
				problem("vip-prefix", "%s is on %s as %s: the whole %s then counts as local to this host; a VIP must be /%d", v, st.Device, p, p.Masked(), v.BitLen())
			}
		} else {
			problem("vip-missing", "VIP %s is not on %s: the kernel drops the packets the director forwards to it", v, st.Device)
		}
		for _, l := range links {
			if _, ok := l.has(v); ok && l.Name != st.Device {
				vs.AlsoOn = append(vs.AlsoOn, l.Name)
				if l.arp() {
					what := "ARP"
					if !v.Is4() {
						what = "neighbour solicitations"
					}
					problem("vip-on-nic", "VIP %s is also on %s, a real interface: this host answers %s for it and takes traffic meant for the director", v, l.Name, what)
				}
			}
		}
		st.VIPs = append(st.VIPs, vs)
	}

	if !cfg.hasIPv4() {
		return st, nil
	}
	read := func(k Sysctl) (SysctlStatus, int, bool) {
		n, s, err := readInt(sys, k)
		if err != nil {
			return SysctlStatus{}, 0, false
		}
		ss := SysctlStatus{Sysctl: k, Key: k.String(), Value: s}
		if i, ok := rec.sysctl(k); ok {
			prev := rec.Sysctls[i].Previous
			ss.Previous = &prev
		}
		return ss, n, true
	}
	type setting struct {
		name string
		ok   func(int) bool
		bad  func(l string, all, own, eff int) (string, string)
	}
	settings := []setting{
		{ArpIgnore, arpIgnoreOK, func(l string, all, own, eff int) (string, string) {
			return "arp-ignore", fmt.Sprintf("%s answers ARP requests for addresses it does not carry itself (arp_ignore = max(all %d, %s %d) = %d): it answers for the VIP and takes traffic meant for the director; it needs 1 (lvsctl realserver start sets it)", l, all, l, own, eff)
		}},
		{ArpAnnounce, arpAnnounceOK, func(l string, all, own, eff int) (string, string) {
			return "arp-announce", fmt.Sprintf("%s may use the VIP as the source of its own ARP requests (arp_announce = max(all %d, %s %d) = %d), teaching neighbours that the VIP is here; it needs 2 (lvsctl realserver start sets it)", l, all, l, own, eff)
		}},
	}
	if cfg.Mode == TUN {
		settings = append(settings, setting{RPFilter, rpFilterOK, func(l string, all, own, eff int) (string, string) {
			return "rp-filter", fmt.Sprintf("strict reverse-path filtering on %s (rp_filter = max(all %d, %s %d) = %d) drops decapsulated packets: their source, the client, is not routed via %s; it needs 0 or 2 (lvsctl realserver start sets 0)", l, all, l, own, eff, l)
		}})
	}
	for _, s := range settings {
		all, allVal, ok := read(Sysctl{"all", s.name})
		if !ok {
			continue
		}
		st.Sysctls = append(st.Sysctls, all)
		for _, l := range links {
			check := l.arp()
			if s.name == RPFilter {
				check = l.Name == st.Device
			}
			show := check || l.Name == st.Device
			if !show {
				continue
			}
			own, ownVal, ok := read(Sysctl{l.Name, s.name})
			if !ok {
				continue
			}
			eff := max(allVal, ownVal)
			own.Effective = &eff
			st.Sysctls = append(st.Sysctls, own)
			if check && !s.ok(eff) {
				code, msg := s.bad(l.Name, allVal, ownVal, eff)
				problem(code, "%s", msg)
			}
		}
	}
	for _, c := range rec.Sysctls {
		cur, err := sys.Sysctl(c.Sysctl)
		if err == nil && !sameValue(cur, c.Set) {
			st.Notes = append(st.Notes, fmt.Sprintf("%s is %s, not the %s lvsctl set: changed since start", c.Sysctl, strings.TrimSpace(cur), c.Set))
		}
	}
	return st, nil
}
