package hcl_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

var addr = netip.MustParseAddr

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []ipvs.VirtualService
	}{
		{
			name: "empty file that says so",
			src:  "# nothing yet\nallow_empty = true\n",
			want: []ipvs.VirtualService{},
		},
		{
			name: "IPv4 defaults",
			src: `
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  real_server { address = "10.0.0.1" }
}`,
			want: []ipvs.VirtualService{{
				Name:      "web",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.10"), Port: 80},
				Scheduler: ipvs.DefaultScheduler,
				RealServers: []ipvs.RealServer{
					{Addr: addr("10.0.0.1"), Port: 80, Weight: 1, Forwarding: ipvs.NAT},
				},
			}},
		},
		{
			name: "no real servers",
			src: `
virtual_server "spare" {
  address = "192.0.2.10"
  port    = 443
}`,
			want: []ipvs.VirtualService{{
				Name:      "spare",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.10"), Port: 443},
				Scheduler: ipvs.DefaultScheduler,
			}},
		},
		{
			name: "IPv6 with every service option",
			src: `
virtual_server "dns6" {
  address                 = "2001:db8::53"
  port                    = 53
  protocol                = "UDP"
  scheduler               = "sh"
  scheduler_flags         = ["sh-port", "sh-fallback"]
  forwarding              = "dr"
  persistence_timeout     = "5m"
  persistence_granularity = 64
  one_packet              = true

  real_server {
    address         = "2001:db8::1:53"
    port            = 53
    weight          = 0
    upper_threshold = 1000
    lower_threshold = 750
  }
  real_server {
    address = "2001:db8::2:53"
    weight  = 2147483647
    port    = null
  }
}`,
			want: []ipvs.VirtualService{{
				Name:            "dns6",
				Key:             ipvs.ServiceKey{Family: ipvs.IPv6, Protocol: ipvs.UDP, Addr: addr("2001:db8::53"), Port: 53},
				Scheduler:       "sh",
				SchedFlags:      ipvs.SchedFlag1 | ipvs.SchedFlag2,
				Persistence:     5 * time.Minute,
				PersistenceMask: 64,
				OnePacket:       true,
				RealServers: []ipvs.RealServer{
					{Addr: addr("2001:db8::1:53"), Port: 53, Weight: 0, Forwarding: ipvs.DR, UpperThreshold: 1000, LowerThreshold: 750},
					{Addr: addr("2001:db8::2:53"), Port: 53, Weight: 2147483647, Forwarding: ipvs.DR},
				},
			}},
		},
		{
			name: "fwmark IPv4 inferred from real servers, port 0",
			src: `
virtual_server "marked" {
  fwmark     = 7
  scheduler  = "mh"
  scheduler_flags = ["mh-port"]
  forwarding = "dr"
  one_packet = true
  real_server { address = "10.0.0.1" }
  real_server {
    address = "10.0.0.2"
    port    = 8080
  }
}`,
			want: []ipvs.VirtualService{{
				Name:       "marked",
				Key:        ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 7},
				Scheduler:  "mh",
				SchedFlags: ipvs.SchedFlag2,
				OnePacket:  true,
				RealServers: []ipvs.RealServer{
					{Addr: addr("10.0.0.1"), Port: 0, Weight: 1, Forwarding: ipvs.DR},
					{Addr: addr("10.0.0.2"), Port: 8080, Weight: 1, Forwarding: ipvs.DR},
				},
			}},
		},
		{
			name: "fwmark IPv6 inferred from real servers",
			src: `
virtual_server "marked6" {
  fwmark = 4294967295
  real_server { address = "2001:db8::1" }
  real_server { address = "2001:db8::2" }
}`,
			want: []ipvs.VirtualService{{
				Name:      "marked6",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 4294967295},
				Scheduler: ipvs.DefaultScheduler,
				RealServers: []ipvs.RealServer{
					{Addr: addr("2001:db8::1"), Weight: 1, Forwarding: ipvs.NAT},
					{Addr: addr("2001:db8::2"), Weight: 1, Forwarding: ipvs.NAT},
				},
			}},
		},
		{
			name: "fwmark without real servers is IPv4",
			src: `
virtual_server "empty" {
  fwmark = 1
}`,
			want: []ipvs.VirtualService{{
				Name:      "empty",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 1},
				Scheduler: ipvs.DefaultScheduler,
			}},
		},
		{
			name: "fwmark with mixed real servers is IPv4, other family through a tunnel",
			src: `
virtual_server "mixed" {
  fwmark     = 9
  forwarding = "tun"
  real_server { address = "10.0.0.1" }
  real_server { address = "2001:db8::1" }
}`,
			want: []ipvs.VirtualService{{
				Name:      "mixed",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 9},
				Scheduler: ipvs.DefaultScheduler,
				RealServers: []ipvs.RealServer{
					{Addr: addr("10.0.0.1"), Weight: 1, Forwarding: ipvs.Tunnel},
					{Addr: addr("2001:db8::1"), Weight: 1, Forwarding: ipvs.Tunnel},
				},
			}},
		},
		{
			name: "fwmark with explicit family",
			src: `
virtual_server "v6" {
  fwmark = 10
  family = "ipv6"
  real_server {
    address    = "10.0.0.1"
    forwarding = "tun"
  }
}`,
			want: []ipvs.VirtualService{{
				Name:      "v6",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 10},
				Scheduler: ipvs.DefaultScheduler,
				RealServers: []ipvs.RealServer{
					{Addr: addr("10.0.0.1"), Weight: 1, Forwarding: ipvs.Tunnel},
				},
			}},
		},
		{
			name: "forwarding and tunnel inheritance",
			src: `
virtual_server "tun" {
  address    = "192.0.2.10"
  port       = 80
  forwarding = "tun"
  tunnel {
    type     = "gue"
    port     = 6080
    checksum = "remcsum"
  }

  real_server { address = "10.0.0.1" } # inherits tun and the GUE tunnel
  real_server {                         # own forwarding, no tunnel
    address    = "10.0.0.2"
    forwarding = "dr"
  }
  real_server {                         # own tunnel, replacing the whole block
    address = "10.0.0.3"
    tunnel {
      type     = "gre"
      checksum = "csum"
    }
  }
  real_server {                         # plain ipip
    address = "10.0.0.4"
    tunnel {}
  }
  real_server {                         # IPv6 real server of an IPv4 service
    address = "2001:db8::5"
  }
}`,
			want: []ipvs.VirtualService{{
				Name:      "tun",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.10"), Port: 80},
				Scheduler: ipvs.DefaultScheduler,
				RealServers: []ipvs.RealServer{
					{Addr: addr("10.0.0.1"), Port: 80, Weight: 1, Forwarding: ipvs.Tunnel,
						Tunnel: ipvs.TunnelConfig{Type: ipvs.GUE, Port: 6080, Checksum: ipvs.RemoteChecksum}},
					{Addr: addr("10.0.0.2"), Port: 80, Weight: 1, Forwarding: ipvs.DR},
					{Addr: addr("10.0.0.3"), Port: 80, Weight: 1, Forwarding: ipvs.Tunnel,
						Tunnel: ipvs.TunnelConfig{Type: ipvs.GRE, Checksum: ipvs.Checksum}},
					{Addr: addr("10.0.0.4"), Port: 80, Weight: 1, Forwarding: ipvs.Tunnel},
					{Addr: addr("2001:db8::5"), Port: 80, Weight: 1, Forwarding: ipvs.Tunnel,
						Tunnel: ipvs.TunnelConfig{Type: ipvs.GUE, Port: 6080, Checksum: ipvs.RemoteChecksum}},
				},
			}},
		},
		{
			name: "real server opts into a tunnel",
			src: `
virtual_server "dr" {
  address    = "192.0.2.10"
  port       = 80
  forwarding = "dr"
  real_server { address = "10.0.0.1" }
  real_server {
    address    = "198.51.100.2"
    forwarding = "tun"
  }
}`,
			want: []ipvs.VirtualService{{
				Name:      "dr",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.10"), Port: 80},
				Scheduler: ipvs.DefaultScheduler,
				RealServers: []ipvs.RealServer{
					{Addr: addr("10.0.0.1"), Port: 80, Weight: 1, Forwarding: ipvs.DR},
					{Addr: addr("198.51.100.2"), Port: 80, Weight: 1, Forwarding: ipvs.Tunnel},
				},
			}},
		},
		{
			name: "IPv4-mapped addresses are unmapped",
			src: `
virtual_server "mapped" {
  address = "::ffff:192.0.2.10"
  port    = 80
  real_server { address = "::ffff:10.0.0.1" }
}`,
			want: []ipvs.VirtualService{{
				Name:      "mapped",
				Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.10"), Port: 80},
				Scheduler: ipvs.DefaultScheduler,
				RealServers: []ipvs.RealServer{
					{Addr: addr("10.0.0.1"), Port: 80, Weight: 1},
				},
			}},
		},
		{
			name: "persistence spellings and services in file order",
			src: `
virtual_server "b" {
  address                 = "192.0.2.1"
  port                    = 1
  persistence_timeout     = 60
  persistence_granularity = "255.255.255.0"
}
virtual_server "a" {
  address                 = "192.0.2.1"
  port                    = 2
  persistence_timeout     = "60"
  persistence_granularity = 24
}
virtual_server "c" {
  address                 = "192.0.2.1"
  port                    = 3
  protocol                = "sctp"
  persistence_timeout     = "596h31m23s"
  persistence_granularity = "32"
}
virtual_server "d" {
  address             = "192.0.2.1"
  port                = 4
  persistence_timeout = 0
}`,
			want: []ipvs.VirtualService{
				{Name: "b", Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.1"), Port: 1},
					Scheduler: ipvs.DefaultScheduler, Persistence: time.Minute, PersistenceMask: 24},
				{Name: "a", Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.1"), Port: 2},
					Scheduler: ipvs.DefaultScheduler, Persistence: time.Minute, PersistenceMask: 24},
				{Name: "c", Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.SCTP, Addr: addr("192.0.2.1"), Port: 3},
					Scheduler: ipvs.DefaultScheduler, Persistence: 2147483 * time.Second, PersistenceMask: 32},
				{Name: "d", Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.1"), Port: 4},
					Scheduler: ipvs.DefaultScheduler},
			},
		},
		{
			name: "same address, different protocol or family are different services",
			src: `
virtual_server "tcp" {
  address = "192.0.2.1"
  port    = 53
}
virtual_server "udp" {
  address  = "192.0.2.1"
  port     = 53
  protocol = "udp"
}
virtual_server "m4" {
  fwmark = 5
}
virtual_server "m6" {
  fwmark = 5
  family = "ipv6"
}`,
			want: []ipvs.VirtualService{
				{Name: "tcp", Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.0.2.1"), Port: 53}, Scheduler: ipvs.DefaultScheduler},
				{Name: "udp", Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.UDP, Addr: addr("192.0.2.1"), Port: 53}, Scheduler: ipvs.DefaultScheduler},
				{Name: "m4", Key: ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 5}, Scheduler: ipvs.DefaultScheduler},
				{Name: "m6", Key: ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 5}, Scheduler: ipvs.DefaultScheduler},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(tt.src), "test.hcl")
			require.Empty(t, diags, "%s", render(t, files, diags))
			require.NotNil(t, cfg)
			assert.Equal(t, tt.want, cfg.Services)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "lvs.hcl")
	require.NoError(t, os.WriteFile(name, []byte(`
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
}`), 0o644))
	cfg, files, diags := lvshcl.Load(name)
	require.Empty(t, diags)
	require.Len(t, cfg.Services, 1)
	assert.Equal(t, "TCP 192.0.2.10:80", cfg.Services[0].Key.String())
	assert.Contains(t, files, name)
}

func TestLoadMissingFile(t *testing.T) {
	cfg, _, diags := lvshcl.Load(filepath.Join(t.TempDir(), "nope.hcl"))
	assert.Nil(t, cfg)
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "nope.hcl")
}

func TestSyntaxError(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte("virtual_server \"a\" {\n  port = \n}\n"), "test.hcl")
	assert.Nil(t, cfg)
	require.True(t, diags.HasErrors())
	assert.Contains(t, files, "test.hcl", "files must be returned to render syntax errors")
	assert.Equal(t, 2, diags[0].Subject.Start.Line)
}

func TestWriteDiagnostics(t *testing.T) {
	src := `virtual_server "web" {
  address   = "192.0.2.10"
  port      = 80
  scheduler = "fastest"
}
virtual_server "web2" {
  address = "192.0.2.10"
  port    = 80
}
`
	cfg, files, diags := lvshcl.Parse([]byte(src), "lvs.hcl")
	require.Nil(t, cfg)
	require.Len(t, diags, 2)

	var out bytes.Buffer
	require.NoError(t, lvshcl.WriteDiagnostics(&out, files, diags))
	got := out.String()
	t.Log("\n" + got)

	// FILE:LINE:COL: severity and summary, the detail, the block, the
	// numbered source line and the offending range marked.
	assert.True(t, strings.HasPrefix(got, "lvs.hcl:4:15: Error: Unknown scheduler\n"), got)
	assert.Contains(t, got, "lvs.hcl:4:15: Error: Unknown scheduler\n"+
		"  \"fastest\" is not an IPVS scheduler. Valid schedulers: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos.\n"+
		"  in virtual_server \"web\":\n"+
		"    4 |   scheduler = \"fastest\"\n"+
		"      |               ^^^^^^^^^\n\n")
	assert.Contains(t, got, "lvs.hcl:7:13: Error: Duplicate virtual service\n"+
		"  TCP 192.0.2.10:80 is already defined by virtual_server \"web\", first defined at lvs.hcl:2:15.")
	assert.Contains(t, got, "  in virtual_server \"web2\":\n"+
		"    7 |   address = \"192.0.2.10\"\n"+
		"      |             ^^^^^^^^^^^^\n\n")
	// The first definition is named in the detail, not dumped as a
	// snippet running from line 2 to line 7.
	assert.NotContains(t, got, "    3 |")
}

// render formats diags for test failure messages.
func render(t *testing.T, files lvshcl.Files, diags hcl.Diagnostics) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, lvshcl.WriteDiagnostics(&b, files, diags))
	return b.String()
}
