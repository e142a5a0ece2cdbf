package bgp

import (
	"net/netip"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.1"),
		Neighbors: []Neighbor{{Name: "r1", Address: netip.MustParseAddr("10.0.0.254"), ASN: 65000}}}
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no asn", func(c *Config) { c.ASN = 0 }, "asn must be set"},
		{"ipv6 router id", func(c *Config) { c.RouterID = netip.MustParseAddr("::1") }, "router_id"},
		{"neighbor without asn", func(c *Config) { c.Neighbors[0].ASN = 0 }, `neighbor "r1": asn`},
		{"neighbor without address", func(c *Config) { c.Neighbors[0].Address = netip.Addr{} }, `neighbor "r1": address`},
		{"duplicate address", func(c *Config) {
			c.Neighbors = append(c.Neighbors, Neighbor{Name: "r2", Address: c.Neighbors[0].Address, ASN: 1})
		}, `already used by neighbor "r1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.Neighbors = append([]Neighbor(nil), ok.Neighbors...)
			tt.mod(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"192.0.2.1/32", true},
		{"2001:db8::1/128", true},
		{"192.0.2.0/24", false},
		{"2001:db8::/64", false},
		{"::ffff:192.0.2.1/128", false},
	}
	for _, tt := range tests {
		err := validPrefix(netip.MustParsePrefix(tt.prefix))
		if (err == nil) != tt.ok {
			t.Errorf("validPrefix(%s) = %v, want ok=%v", tt.prefix, err, tt.ok)
		}
	}
	if err := validPrefix(netip.Prefix{}); err == nil {
		t.Error("validPrefix(zero) = nil, want an error")
	}
}

func TestCommunityString(t *testing.T) {
	if got := NewCommunity(65001, 100).String(); got != "65001:100" {
		t.Errorf("got %q", got)
	}
}
