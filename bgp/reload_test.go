package bgp

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPlanReload(t *testing.T) {
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	base := func() Config {
		return Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), HoldTime: 9 * time.Second,
			Neighbors: []Neighbor{
				{Name: "a", Address: a, ASN: 65000},
				{Name: "b", Address: b, ASN: 65000, HoldTime: 3 * time.Second},
			}}
	}
	tests := []struct {
		name        string
		mod         func(*Config)
		remove, add []netip.Addr
		update      []netip.Addr
		reopen      []bool // per update
		restart     string // a RestartRequiredError containing this
	}{
		{name: "unchanged", mod: func(*Config) {}},
		{name: "renamed only", mod: func(c *Config) { c.Neighbors[0].Name = "a2" }},
		{name: "drain time only", mod: func(c *Config) { c.DrainTime = time.Minute }},
		{name: "add", mod: func(c *Config) { c.Neighbors = append(c.Neighbors, Neighbor{Name: "c", Address: c2(c), ASN: 65000}) }, add: []netip.Addr{c}},
		{name: "remove", mod: func(c *Config) { c.Neighbors = c.Neighbors[1:] }, remove: []netip.Addr{a}},
		{name: "hold time in place", mod: func(c *Config) { c.Neighbors[0].HoldTime = 6 * time.Second },
			update: []netip.Addr{a}, reopen: []bool{false}},
		{name: "global hold time reaches only neighbors without their own", mod: func(c *Config) { c.HoldTime = 30 * time.Second },
			update: []netip.Addr{a}, reopen: []bool{false}},
		{name: "idle hold time reaches every neighbor", mod: func(c *Config) { c.IdleHoldTime = 5 * time.Second },
			update: []netip.Addr{a, b}, reopen: []bool{false, false}},
		{name: "bfd restarts the session at the router", mod: func(c *Config) {
			c.Neighbors[1].BFD = &BFD{MinTx: 100 * time.Millisecond, MinRx: 100 * time.Millisecond, Multiplier: 3}
		},
			update: []netip.Addr{b}, reopen: []bool{true}},
		{name: "neighbor asn reopens", mod: func(c *Config) { c.Neighbors[0].ASN = 65100 }, update: []netip.Addr{a}, reopen: []bool{true}},
		{name: "password reopens", mod: func(c *Config) { c.Neighbors[1].Password = "s3cret" }, update: []netip.Addr{b}, reopen: []bool{true}},
		{name: "source address reopens", mod: func(c *Config) { c.Neighbors[0].SourceAddress = netip.MustParseAddr("10.0.0.11") },
			update: []netip.Addr{a}, reopen: []bool{true}},
		{name: "multihop reopens", mod: func(c *Config) { c.Neighbors[0].Multihop = 2 }, update: []netip.Addr{a}, reopen: []bool{true}},
		{name: "address moved is remove and add", mod: func(c *Config) { c.Neighbors[0].Address = c2(c) },
			remove: []netip.Addr{a}, add: []netip.Addr{c}},
		{name: "asn", mod: func(c *Config) { c.ASN = 65002 }, restart: "asn 65001 -> 65002"},
		{name: "router id", mod: func(c *Config) { c.RouterID = netip.MustParseAddr("10.0.0.12") }, restart: "router_id 10.0.0.11 -> 10.0.0.12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := base()
			running := map[netip.Addr]peerSettings{}
			for _, n := range old.Neighbors {
				running[n.Address] = old.settings(n)
			}
			next := base()
			tt.mod(&next)
			p, err := planReload(old.ASN, old.RouterID, running, next)
			if tt.restart != "" {
				var re *RestartRequiredError
				if !errors.Is(err, ErrRestartRequired) || !errors.As(err, &re) || !strings.Contains(err.Error(), tt.restart) {
					t.Fatalf("planReload() = %v, want a RestartRequiredError naming %q", err, tt.restart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var add, upd []netip.Addr
			var reopen []bool
			for _, ps := range p.add {
				add = append(add, ps.Address)
			}
			for _, ps := range p.update {
				upd = append(upd, ps.Address)
				reopen = append(reopen, reopens(running[ps.Address], ps))
			}
			if !slices.Equal(p.remove, tt.remove) || !slices.Equal(add, tt.add) || !slices.Equal(upd, tt.update) || !slices.Equal(reopen, tt.reopen) {
				t.Errorf("plan remove=%v add=%v update=%v reopen=%v, want remove=%v add=%v update=%v reopen=%v",
					p.remove, add, upd, reopen, tt.remove, tt.add, tt.update, tt.reopen)
			}
			if p.empty() != (len(tt.remove)+len(tt.add)+len(tt.update) == 0) {
				t.Errorf("empty() = %v", p.empty())
			}
		})
	}
}

func c2(*Config) netip.Addr { return netip.MustParseAddr("10.0.0.3") }

func TestConfigWarnings(t *testing.T) {
	bfd := &BFD{MinTx: 100 * time.Millisecond, MinRx: 100 * time.Millisecond, Multiplier: 3}
	tests := []struct {
		name string
		n    Neighbor
		want string
	}{
		{"bfd single hop", Neighbor{Name: "r", BFD: bfd}, ""},
		{"multihop without bfd", Neighbor{Name: "r", Multihop: 2}, ""},
		{"bfd with multihop", Neighbor{Name: "r", BFD: bfd, Multihop: 2}, `neighbor "r": bfd with multihop`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := Config{Neighbors: []Neighbor{tt.n}}.Warnings()
			if tt.want == "" {
				if len(w) != 0 {
					t.Errorf("Warnings() = %q, want none", w)
				}
				return
			}
			if len(w) != 1 || !strings.Contains(w[0], tt.want) {
				t.Errorf("Warnings() = %q, want one containing %q", w, tt.want)
			}
		})
	}
}
