package realserver

import (
	"fmt"
	"io/fs"
	"net/netip"
	"slices"
	"strings"
)

// fakeSys is an in-memory namespace: links, addresses and
// net.ipv4.conf sysctls, with the kernel behaviour realserver relies on
// (a new link copies `default`, deleting a link drops its sysctls and
// addresses, loading ipip makes tunl0).
type fakeSys struct {
	links   []Link
	sysctls map[Sysctl]string
	id      Identity
	// ipip: "" no support, "module" loading it creates tunl0, "create"
	// tunl0 must be created (fb_tunnels_only_for_init_net).
	ipip string
	// fou: the open GUE receive ports.
	fou []uint16
	// failOn makes the call whose description starts with it fail.
	failOn string
	calls  []string
}

func newFakeSys() *fakeSys {
	f := &fakeSys{
		sysctls: map[Sysctl]string{},
		id:      Identity{BootID: "boot-1", Netns: "cookie:7"},
		ipip:    "module",
	}
	for _, name := range []string{"all", "default"} {
		f.sysctls[Sysctl{name, ArpIgnore}] = "0"
		f.sysctls[Sysctl{name, ArpAnnounce}] = "0"
		f.sysctls[Sysctl{name, RPFilter}] = "0"
	}
	f.addLink(Link{Name: "lo", Up: true, Loopback: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}})
	f.addLink(Link{Name: "eth0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.3.11/24")}})
	return f
}

func (f *fakeSys) addLink(l Link) {
	f.links = append(f.links, l)
	for _, n := range []string{ArpIgnore, ArpAnnounce, RPFilter} {
		f.sysctls[Sysctl{l.Name, n}] = f.sysctls[Sysctl{"default", n}]
	}
}

func (f *fakeSys) call(format string, args ...any) error {
	c := fmt.Sprintf(format, args...)
	f.calls = append(f.calls, c)
	if f.failOn != "" && strings.HasPrefix(c, f.failOn) {
		return fmt.Errorf("injected failure of %q", c)
	}
	return nil
}

// writes returns the calls that changed something.
func (f *fakeSys) writes() []string {
	return slices.DeleteFunc(slices.Clone(f.calls), func(c string) bool {
		return strings.HasPrefix(c, "read") || c == "links" || c == "identity"
	})
}

func (f *fakeSys) linkIndex(name string) int {
	return slices.IndexFunc(f.links, func(l Link) bool { return l.Name == name })
}

func (f *fakeSys) Links() ([]Link, error) {
	if err := f.call("links"); err != nil {
		return nil, err
	}
	out := slices.Clone(f.links)
	for i := range out {
		out[i].Addrs = slices.Clone(out[i].Addrs)
	}
	return out, nil
}

func (f *fakeSys) Sysctl(k Sysctl) (string, error) {
	if err := f.call("read %s", k); err != nil {
		return "", err
	}
	v, ok := f.sysctls[k]
	if !ok {
		return "", fmt.Errorf("read %s: %w", k, fs.ErrNotExist)
	}
	return v + "\n", nil
}

func (f *fakeSys) SetSysctl(k Sysctl, v string) error {
	if err := f.call("set %s=%s", k, v); err != nil {
		return err
	}
	if _, ok := f.sysctls[k]; !ok {
		return fmt.Errorf("set %s: %w", k, fs.ErrNotExist)
	}
	f.sysctls[k] = v
	return nil
}

func (f *fakeSys) AddAddress(link string, p netip.Prefix) error {
	if err := f.call("add %s to %s", p, link); err != nil {
		return err
	}
	i := f.linkIndex(link)
	if i < 0 {
		return fmt.Errorf("no link %s", link)
	}
	if slices.Contains(f.links[i].Addrs, p) {
		return fmt.Errorf("file exists")
	}
	f.links[i].Addrs = append(f.links[i].Addrs, p)
	return nil
}

func (f *fakeSys) DeleteAddress(link string, p netip.Prefix) error {
	if err := f.call("remove %s from %s", p, link); err != nil {
		return err
	}
	i := f.linkIndex(link)
	if i < 0 {
		return fmt.Errorf("no link %s", link)
	}
	j := slices.Index(f.links[i].Addrs, p)
	if j < 0 {
		return fmt.Errorf("cannot assign requested address")
	}
	f.links[i].Addrs = slices.Delete(f.links[i].Addrs, j, j+1)
	return nil
}

func (f *fakeSys) SetLinkUp(link string, up bool) error {
	if err := f.call("up %s %v", link, up); err != nil {
		return err
	}
	i := f.linkIndex(link)
	if i < 0 {
		return fmt.Errorf("no link %s", link)
	}
	f.links[i].Up = up
	return nil
}

func (f *fakeSys) EnsureTunnel(dev string) (bool, error) {
	if err := f.call("ensure tunnel %s", dev); err != nil {
		return false, err
	}
	if f.linkIndex(dev) >= 0 {
		return false, nil
	}
	switch f.ipip {
	case "module":
		f.addLink(Link{Name: dev, NoARP: true})
		return false, nil
	case "create":
		f.addLink(Link{Name: dev, NoARP: true})
		return true, nil
	}
	if dev == GREDevice {
		return false, ErrNoGRE
	}
	return false, ErrNoIPIP
}

func (f *fakeSys) FOUPorts() ([]uint16, error) {
	return slices.Clone(f.fou), f.call("fou list")
}

func (f *fakeSys) AddFOU(port uint16) error {
	if err := f.call("fou add %d", port); err != nil {
		return err
	}
	if slices.Contains(f.fou, port) {
		return fmt.Errorf("fou port %d: file exists", port)
	}
	f.fou = append(f.fou, port)
	return nil
}

func (f *fakeSys) DeleteFOU(port uint16) error {
	if err := f.call("fou del %d", port); err != nil {
		return err
	}
	i := slices.Index(f.fou, port)
	if i < 0 {
		return fmt.Errorf("fou port %d: no such port", port)
	}
	f.fou = slices.Delete(f.fou, i, i+1)
	return nil
}

func (f *fakeSys) DeleteLink(link string) error {
	if err := f.call("delete %s", link); err != nil {
		return err
	}
	i := f.linkIndex(link)
	if i < 0 {
		return fmt.Errorf("no link %s", link)
	}
	f.links = slices.Delete(f.links, i, i+1)
	for k := range f.sysctls {
		if k.Conf == link {
			delete(f.sysctls, k)
		}
	}
	return nil
}

func (f *fakeSys) Identity() (Identity, error) {
	return f.id, f.call("identity")
}

func (f *fakeSys) Close() error { return nil }

// snapshot is the fake's observable state, for before/after comparisons.
func (f *fakeSys) snapshot() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fou %v\n", f.fou)
	for _, l := range f.links {
		fmt.Fprintf(&b, "%s up=%v %v\n", l.Name, l.Up, l.Addrs)
	}
	keys := make([]Sysctl, 0, len(f.sysctls))
	for k := range f.sysctls {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Sysctl) int { return strings.Compare(a.String(), b.String()) })
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, f.sysctls[k])
	}
	return b.String()
}
