package realserver

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ChangeKind is what one change did.
type ChangeKind uint8

// Kinds of change, as start and stop report them.
const (
	SetSysctl ChangeKind = iota + 1
	RestoreSysctl
	AddAddress
	RemoveAddress
	CreateLink
	DeleteLink
	LinkUp
	LinkDown
	AddFOU
	DeleteFOU
)

// Change is one change made to the namespace.
type Change struct {
	Kind     ChangeKind
	Sysctl   Sysctl
	From, To string // sysctl values
	Link     string
	Prefix   netip.Prefix
	Port     uint16 // fou
}

func (c Change) String() string {
	switch c.Kind {
	case SetSysctl:
		return fmt.Sprintf("set     %s = %s (was %s)", c.Sysctl, c.To, c.From)
	case RestoreSysctl:
		return fmt.Sprintf("restore %s = %s (was %s)", c.Sysctl, c.To, c.From)
	case AddAddress:
		return fmt.Sprintf("add     %s to %s", c.Prefix, c.Link)
	case RemoveAddress:
		return fmt.Sprintf("remove  %s from %s", c.Prefix, c.Link)
	case CreateLink:
		kind := "ipip"
		if c.Link == GREDevice {
			kind = "gre"
		}
		return fmt.Sprintf("create  %s (%s)", c.Link, kind)
	case DeleteLink:
		return fmt.Sprintf("delete  %s", c.Link)
	case LinkUp:
		return fmt.Sprintf("up      %s", c.Link)
	case LinkDown:
		return fmt.Sprintf("down    %s", c.Link)
	case AddFOU:
		return fmt.Sprintf("open    fou port %d (gue)", c.Port)
	case DeleteFOU:
		return fmt.Sprintf("close   fou port %d", c.Port)
	}
	return fmt.Sprintf("change(%d)", c.Kind)
}

// Result is what start or stop did: the changes in order, and notes about
// what it left alone and why.
type Result struct {
	Changes []Change
	Notes   []string
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Start prepares the namespace behind sys for cfg. rec is the record of an
// earlier start (nil if none); Start returns the new record, which the
// caller saves even when err is not nil (it then describes what is still
// in place).
//
// Start converges: what is already right is left alone and not recorded,
// what a previous start did and cfg no longer needs is undone (a VIP taken
// out of the configuration, the rp_filter of a former tun setup), and a
// second Start with the same cfg changes nothing. The order avoids a
// window in which the host answers ARP for a VIP: sysctls first, then
// links, then addresses. If a step fails, the steps of this run are undone.
func Start(sys System, cfg Config, rec *Record) (*Record, *Result, error) {
	if err := cfg.Validate(); err != nil {
		return rec, nil, err
	}
	cfg = cfg.normalize()
	res := &Result{}
	id, err := sys.Identity()
	if err != nil {
		return rec, nil, err
	}
	if rec != nil && rec.Namespace != id {
		res.note("the record was made in an earlier boot or another instance of this namespace; nothing of it is in place any more, starting afresh")
		rec = nil
	}
	if rec == nil {
		rec = &Record{Version: recordVersion, Namespace: id}
	} else {
		rec = rec.clone()
	}
	rec.Config = cfg
	dev := cfg.Device()

	// The tunnel device first: its sysctls only exist once it does.
	var tunnelCreated bool
	if cfg.Mode == TUN {
		before, err := sys.Links()
		if err != nil {
			return rec, res, err
		}
		if _, ok := findLink(before, dev); !ok {
			created, err := sys.EnsureTunnel(dev)
			if err != nil {
				return rec, res, err
			}
			tunnelCreated = created
			if !created {
				module := "ipip"
				if dev == GREDevice {
					module = "ip_gre"
				}
				res.note("%s appeared when the kernel loaded the %s module; it stays after stop (the module's own device cannot be deleted)", dev, module)
			}
		}
	}

	links, err := sys.Links()
	if err != nil {
		return rec, res, err
	}
	ws, err := wants(sys, cfg, links)
	if err != nil {
		return rec, res, err
	}
	wantAddr := make(map[AddressChange]bool)
	for _, v := range cfg.VIPs {
		wantAddr[AddressChange{Link: dev, Prefix: hostPrefix(v)}] = true
	}
	wantKey := make(map[Sysctl]bool)
	for _, w := range ws {
		wantKey[w.key] = true
	}

	// Undo what an earlier start did that cfg no longer needs.
	stale := selector{
		address: func(a AddressChange) bool { return !wantAddr[a] },
		sysctl:  func(s SysctlChange) bool { return !wantKey[s.Sysctl] },
		link:    func(l LinkChange) bool { return cfg.Mode != TUN || l.Name != dev },
		fou:     func(p uint16) bool { return cfg.Tunnel != GUE || p != cfg.GUEPort },
	}
	if err := undo(sys, rec, stale, res); err != nil {
		return rec, res, err
	}
	if tunnelCreated {
		if i, ok := rec.link(dev); ok {
			rec.Links[i] = LinkChange{Name: dev, Created: true}
		} else {
			rec.Links = append(rec.Links, LinkChange{Name: dev, Created: true})
		}
		res.Changes = append(res.Changes, Change{Kind: CreateLink, Link: dev})
	}

	// Forward changes of this run, undone in reverse if one fails.
	snapshot := rec.clone()
	mark := len(res.Changes)
	fail := func(err error) (*Record, *Result, error) {
		done := slices.Clone(res.Changes[mark:])
		res.Changes = res.Changes[:mark]
		rec = snapshot
		var errs []error
		for i := len(done) - 1; i >= 0; i-- {
			c := done[i]
			if uerr := revert(sys, c); uerr != nil {
				errs = append(errs, fmt.Errorf("undo %q: %w", c, uerr))
				recordForward(rec, c) // still in place: keep it recorded
			}
		}
		if tunnelCreated {
			if uerr := sys.DeleteLink(dev); uerr != nil {
				errs = append(errs, fmt.Errorf("delete %s: %w", dev, uerr))
			} else {
				if i, ok := rec.link(dev); ok {
					rec.Links = slices.Delete(rec.Links, i, i+1)
				}
				res.Changes = append(res.Changes, Change{Kind: DeleteLink, Link: dev})
			}
		}
		if len(errs) > 0 {
			return rec, res, errors.Join(append([]error{err}, errs...)...)
		}
		return rec, res, fmt.Errorf("%w (the changes of this run were undone)", err)
	}

	for _, w := range ws {
		if !w.change {
			continue
		}
		if err := sys.SetSysctl(w.key, w.target); err != nil {
			return fail(fmt.Errorf("set %s=%s: %w", w.key, w.target, err))
		}
		c := Change{Kind: SetSysctl, Sysctl: w.key, From: w.cur, To: w.target}
		res.Changes = append(res.Changes, c)
		recordForward(rec, c)
	}
	if cfg.Mode == TUN {
		l, ok := findLink(links, dev)
		if !ok {
			return fail(fmt.Errorf("%s vanished", dev))
		}
		if !l.Up {
			if err := sys.SetLinkUp(dev, true); err != nil {
				return fail(fmt.Errorf("bring %s up: %w", dev, err))
			}
			c := Change{Kind: LinkUp, Link: dev}
			res.Changes = append(res.Changes, c)
			recordForward(rec, c)
		}
	}
	for _, v := range cfg.VIPs {
		for _, l := range links {
			if _, ok := l.has(v); ok && l.arp() {
				res.note("VIP %s is also on %s, a real interface: this host answers for it there and takes traffic meant for the director; remove it from %s (lvsctl does not touch addresses it did not add)", v, l.Name, l.Name)
			}
		}
	}
	if cfg.Mode == TUN && cfg.Tunnel == GUE {
		ports, err := sys.FOUPorts()
		if err != nil {
			return fail(err)
		}
		if !slices.Contains(ports, cfg.GUEPort) {
			if err := sys.AddFOU(cfg.GUEPort); err != nil {
				return fail(fmt.Errorf("open fou port %d: %w", cfg.GUEPort, err))
			}
			c := Change{Kind: AddFOU, Port: cfg.GUEPort}
			res.Changes = append(res.Changes, c)
			recordForward(rec, c)
		} else if !slices.Contains(rec.FOU, cfg.GUEPort) {
			res.note("fou port %d is already open and was not opened by lvsctl: stop leaves it", cfg.GUEPort)
		}
	}
	devLink, _ := findLink(links, dev)
	for _, v := range cfg.VIPs {
		p := hostPrefix(v)
		if have, ok := devLink.has(v); ok {
			if !rec.address(dev, p) {
				res.note("%s is already on %s and was not added by lvsctl: stop leaves it", have, dev)
			}
			continue
		}
		if err := sys.AddAddress(dev, p); err != nil {
			return fail(fmt.Errorf("add %s to %s: %w", p, dev, err))
		}
		c := Change{Kind: AddAddress, Link: dev, Prefix: p}
		res.Changes = append(res.Changes, c)
		recordForward(rec, c)
	}
	return rec, res, nil
}

// Stop undoes everything rec records: it removes the addresses start added
// (if they are still there), restores each sysctl start wrote to the value
// it found (unless someone changed it since; then it is left and noted),
// and brings down or deletes the links it brought up or created. It
// returns what could not be undone (nil when everything was), for the
// caller to save.
func Stop(sys System, rec *Record) (*Record, *Result, error) {
	res := &Result{}
	if rec == nil {
		return nil, res, nil
	}
	id, err := sys.Identity()
	if err != nil {
		return rec, res, err
	}
	if rec.Namespace != id {
		res.note("the record was made in an earlier boot or another instance of this namespace; nothing of it is in place any more")
		return nil, res, nil
	}
	rec = rec.clone()
	all := selector{
		address: func(AddressChange) bool { return true },
		sysctl:  func(SysctlChange) bool { return true },
		link:    func(LinkChange) bool { return true },
		fou:     func(uint16) bool { return true },
	}
	err = undo(sys, rec, all, res)
	if rec.Empty() {
		return nil, res, err
	}
	return rec, res, err
}

// selector picks the record entries undo works on.
type selector struct {
	address func(AddressChange) bool
	sysctl  func(SysctlChange) bool
	link    func(LinkChange) bool
	fou     func(uint16) bool
}

// undo undoes the selected entries of rec, addresses first (so that no VIP
// is ever up without its ARP settings), then sysctls, then links, and
// drops from rec the entries it settled. Failures leave their entries in
// rec and are returned together.
func undo(sys System, rec *Record, sel selector, res *Result) error {
	var errs []error
	links, err := sys.Links()
	if err != nil {
		return err
	}
	// Addresses, newest first.
	for i := len(rec.Addresses) - 1; i >= 0; i-- {
		a := rec.Addresses[i]
		if !sel.address(a) {
			continue
		}
		l, ok := findLink(links, a.Link)
		if _, has := l.has(a.Prefix.Addr()); ok && has {
			if err := sys.DeleteAddress(a.Link, a.Prefix); err != nil {
				errs = append(errs, fmt.Errorf("remove %s from %s: %w", a.Prefix, a.Link, err))
				continue
			}
			res.Changes = append(res.Changes, Change{Kind: RemoveAddress, Link: a.Link, Prefix: a.Prefix})
		} else {
			res.note("%s is no longer on %s: nothing to remove", a.Prefix, a.Link)
		}
		rec.Addresses = slices.Delete(rec.Addresses, i, i+1)
	}
	// Sysctls, newest first; those of a link about to be deleted go with it.
	deleting := func(name string) bool {
		i, ok := rec.link(name)
		return ok && rec.Links[i].Created && sel.link(rec.Links[i])
	}
	for i := len(rec.Sysctls) - 1; i >= 0; i-- {
		s := rec.Sysctls[i]
		if !sel.sysctl(s) {
			continue
		}
		if deleting(s.Conf) {
			rec.Sysctls = slices.Delete(rec.Sysctls, i, i+1)
			continue
		}
		cur, err := sys.Sysctl(s.Sysctl)
		switch {
		case isNotExist(err):
			res.note("%s no longer exists (interface %s is gone): nothing to restore", s.Sysctl, s.Conf)
		case err != nil:
			errs = append(errs, err)
			continue
		case !sameValue(cur, s.Set):
			res.note("%s is %s, not the %s lvsctl set: changed since start, left as is (it was %s before start)", s.Sysctl, strings.TrimSpace(cur), s.Set, s.Previous)
		default:
			if err := sys.SetSysctl(s.Sysctl, s.Previous); err != nil {
				errs = append(errs, fmt.Errorf("restore %s=%s: %w", s.Sysctl, s.Previous, err))
				continue
			}
			res.Changes = append(res.Changes, Change{Kind: RestoreSysctl, Sysctl: s.Sysctl, From: strings.TrimSpace(cur), To: s.Previous})
		}
		rec.Sysctls = slices.Delete(rec.Sysctls, i, i+1)
	}
	// GUE receive ports, before the device they feed.
	if len(rec.FOU) > 0 {
		open, err := sys.FOUPorts()
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for i := len(rec.FOU) - 1; i >= 0; i-- {
			p := rec.FOU[i]
			if !sel.fou(p) {
				continue
			}
			if slices.Contains(open, p) {
				if err := sys.DeleteFOU(p); err != nil {
					errs = append(errs, fmt.Errorf("close fou port %d: %w", p, err))
					continue
				}
				res.Changes = append(res.Changes, Change{Kind: DeleteFOU, Port: p})
			} else {
				res.note("fou port %d is no longer open: nothing to close", p)
			}
			rec.FOU = slices.Delete(rec.FOU, i, i+1)
		}
	}
	// Links.
	for i := len(rec.Links) - 1; i >= 0; i-- {
		lc := rec.Links[i]
		if !sel.link(lc) {
			continue
		}
		l, exists := findLink(links, lc.Name)
		switch {
		case !exists:
			res.note("%s is gone: nothing to undo", lc.Name)
		case lc.Created:
			if err := sys.DeleteLink(lc.Name); err != nil {
				errs = append(errs, fmt.Errorf("delete %s: %w", lc.Name, err))
				continue
			}
			res.Changes = append(res.Changes, Change{Kind: DeleteLink, Link: lc.Name})
		case lc.SetUp && l.Up:
			if err := sys.SetLinkUp(lc.Name, false); err != nil {
				errs = append(errs, fmt.Errorf("bring %s down: %w", lc.Name, err))
				continue
			}
			res.Changes = append(res.Changes, Change{Kind: LinkDown, Link: lc.Name})
		}
		rec.Links = slices.Delete(rec.Links, i, i+1)
	}
	return errors.Join(errs...)
}

// recordForward adds a forward change of start to rec. A sysctl already
// recorded keeps the value found by the first start: that is the one stop
// must restore.
func recordForward(rec *Record, c Change) {
	switch c.Kind {
	case SetSysctl:
		if i, ok := rec.sysctl(c.Sysctl); ok {
			rec.Sysctls[i].Set = c.To
			return
		}
		rec.Sysctls = append(rec.Sysctls, SysctlChange{Sysctl: c.Sysctl, Previous: c.From, Set: c.To})
	case AddAddress:
		if !rec.address(c.Link, c.Prefix) {
			rec.Addresses = append(rec.Addresses, AddressChange{Link: c.Link, Prefix: c.Prefix})
		}
	case LinkUp:
		if i, ok := rec.link(c.Link); ok {
			rec.Links[i].SetUp = true
			return
		}
		rec.Links = append(rec.Links, LinkChange{Name: c.Link, SetUp: true})
	case AddFOU:
		if !slices.Contains(rec.FOU, c.Port) {
			rec.FOU = append(rec.FOU, c.Port)
		}
	}
}

// revert undoes one forward change of a failed start.
func revert(sys System, c Change) error {
	switch c.Kind {
	case SetSysctl:
		return sys.SetSysctl(c.Sysctl, c.From)
	case AddAddress:
		return sys.DeleteAddress(c.Link, c.Prefix)
	case LinkUp:
		return sys.SetLinkUp(c.Link, false)
	case AddFOU:
		return sys.DeleteFOU(c.Port)
	}
	return nil
}

// sameValue compares sysctl values as the kernel would print them.
func sameValue(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == b {
		return true
	}
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	return errA == nil && errB == nil && x == y
}
