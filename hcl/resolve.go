package hcl

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/ipvs"
)

// A real server or sorry server may give a host name as its address
// (address = "web1.example.com"). It is resolved when the file is loaded,
// by validate, plan, apply and at every start and reload of lvsctl run, and
// IPVS is programmed with the address it had then: a name whose address
// changes is followed at the next reload, not before.

// Resolver returns a host name's addresses, in the resolver's order.
type Resolver func(host string) ([]netip.Addr, error)

// DefaultResolveTimeout bounds one name's resolution by SystemResolver.
const DefaultResolveTimeout = 5 * time.Second

// SystemResolver resolves through the system's resolver (Go's: the hosts
// file, then DNS as /etc/nsswitch.conf and /etc/resolv.conf say), giving
// up on a name after timeout.
func SystemResolver(timeout time.Duration) Resolver {
	return func(host string) ([]netip.Addr, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
}

// Resolved is a host name resolved at load, for the log.
type Resolved struct {
	Host  string
	Addr  netip.Addr
	Range hcl.Range // the address attribute's value
}

// isHostName says whether s is a DNS host name (RFC 1123): labels of
// letters, digits and hyphens, 1 to 63 characters, not starting or ending
// with a hyphen, at most 253 characters, an optional final dot; the last
// label not all digits (10.0.0.256 is a bad address, not a name).
func isHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// realAddr is the address of a real or sorry server: an IP literal (ip),
// or with a resolver a host name, resolved to its first address of the
// service's family fam (when known), else its first address.
func (b *builder) realAddr(a *attr[string], what string, fam ipvs.Family, famKnown bool) (netip.Addr, bool) {
	if !a.ok() || b.opts.Resolve == nil || !isHostName(a.Val) {
		return b.ip(a, what)
	}
	if _, err := netip.ParseAddr(a.Val); err == nil {
		return b.ip(a, what)
	}
	addrs, err := b.opts.Resolve(a.Val)
	if err != nil {
		b.errorAt(a.Value, nil, "Host name does not resolve",
			"%s given by host name is resolved when the file is loaded; %q does not resolve: %v.", what, a.Val, err)
		return netip.Addr{}, false
	}
	var pick netip.Addr
	for _, addr := range addrs {
		addr = addr.Unmap()
		if addr.Zone() != "" || addr.IsUnspecified() {
			continue
		}
		if !pick.IsValid() {
			pick = addr
		}
		if famKnown && ipvs.FamilyOf(addr) == fam {
			pick = addr
			break
		}
	}
	if !pick.IsValid() {
		b.errorAt(a.Value, nil, "Host name does not resolve",
			"%s given by host name is resolved when the file is loaded; %q has no usable address (%s).", what, a.Val, fmt.Sprint(addrs))
		return netip.Addr{}, false
	}
	b.resolved = append(b.resolved, Resolved{Host: a.Val, Addr: pick, Range: a.Value})
	return pick, true
}

// sortResolved puts rs in file order.
func sortResolved(rs []Resolved) []Resolved {
	slices.SortStableFunc(rs, func(a, b Resolved) int {
		return cmp.Or(cmp.Compare(a.Range.Filename, b.Range.Filename), cmp.Compare(a.Range.Start.Byte, b.Range.Start.Byte))
	})
	return rs
}
