package vrrp

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// no_accept, as keepalived 2.2.7 does it (nft list ruleset while it runs):
// a table with a set of the VIPs and two chains at priority filter - 1 that
// drop what is addressed to them and what they send:
//
//	table ip keepalived {
//	  set vips { type ipv4_addr; elements = { 10.98.0.100 } }
//	  chain in  { type filter hook input  priority filter - 1; policy accept; ip daddr @vips drop }
//	  chain out { type filter hook output priority filter - 1; policy accept; ip saddr @vips drop }
//	}
//
// lvsctl's table is the instance's own, "lvsctl_vrrp_VRID_IFINDEX", there
// while master, so that instances and a keepalived beside them do not
// touch each other's rules. The nft command runs in the calling thread's
// network namespace.

func (s *linuxSystem) nftTable() (family, name string) {
	family = "ip"
	if s.in.is6 {
		family = "ip6"
	}
	return family, fmt.Sprintf("lvsctl_vrrp_%d_%d", s.in.cfg.VRID, s.ifi.Index)
}

// dropVIPTraffic installs the rules (replacing a stale table).
func (s *linuxSystem) dropVIPTraffic() error {
	fam, name := s.nftTable()
	typ, match := "ipv4_addr", "ip"
	if s.in.is6 {
		typ, match = "ipv6_addr", "ip6"
	}
	var elems []string
	for _, v := range s.in.cfg.VIPs {
		elems = append(elems, v.Prefix.Addr().String())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "table %s %s\ndelete table %s %s\n", fam, name, fam, name)
	fmt.Fprintf(&b, "table %s %s {\n", fam, name)
	fmt.Fprintf(&b, "  set vips { type %s; elements = { %s } }\n", typ, strings.Join(elems, ", "))
	fmt.Fprintf(&b, "  chain in { type filter hook input priority filter - 1; policy accept; %s daddr @vips drop; }\n", match)
	fmt.Fprintf(&b, "  chain out { type filter hook output priority filter - 1; policy accept; %s saddr @vips drop; }\n", match)
	b.WriteString("}\n")
	if err := nft(b.String()); err != nil {
		return fmt.Errorf("no_accept: %w", err)
	}
	return nil
}

// acceptVIPTraffic removes the rules, if there.
func (s *linuxSystem) acceptVIPTraffic() error {
	fam, name := s.nftTable()
	if err := nft(fmt.Sprintf("table %s %s\ndelete table %s %s\n", fam, name, fam, name)); err != nil {
		return fmt.Errorf("no_accept: %w", err)
	}
	return nil
}

func nft(script string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}
