package hcl_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/realserver"
)

// A cluster in one file: the director's services and the backends' side.
const clusterDR = `
virtual_server "web" {
  address    = "10.0.3.100"
  port       = 80
  forwarding = "dr"
  real_server { address = "10.0.3.11" }
  real_server { address = "10.0.3.12" }
}
virtual_server "web6" {
  address    = "2001:db8::100"
  port       = 80
  forwarding = "dr"
  real_server { address = "2001:db8::11" }
}
virtual_server "admin" {
  address = "10.0.9.1"
  port    = 443
  real_server { address = "10.0.3.11" } # NAT: not a VIP of the backends
}
%s
`

func TestRealServerBlock(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want *realserver.Config
	}{
		{"absent", `virtual_server "a" {
  address = "10.0.0.1"
  port    = 80
}`, nil},
		{"explicit", `realserver {
  mode = "tun"
  vips = ["192.0.2.10", "192.0.2.11"]
  tunnel = "ipip"
}`, &realserver.Config{Mode: realserver.TUN, VIPs: []netip.Addr{addr("192.0.2.10"), addr("192.0.2.11")}}},
		{"everything from the services", `
virtual_server "web" {
  address    = "10.0.3.100"
  port       = 80
  forwarding = "dr"
  real_server { address = "10.0.3.11" }
}
virtual_server "web-tls" {
  address    = "10.0.3.100"
  port       = 443
  forwarding = "dr"
  real_server { address = "10.0.3.11" }
}
virtual_server "web6" {
  address = "2001:db8::100"
  port    = 80
  real_server {
    address    = "2001:db8::11"
    forwarding = "dr"
  }
}
virtual_server "nat" {
  address = "10.0.9.1"
  port    = 80
  real_server { address = "10.0.3.11" }
}
realserver {}`, &realserver.Config{Mode: realserver.DR, VIPs: []netip.Addr{addr("10.0.3.100"), addr("2001:db8::100")}}},
		{"mode given, VIPs of that mode", `
virtual_server "a" {
  address    = "10.0.3.100"
  port       = 80
  forwarding = "dr"
  real_server { address = "10.0.3.11" }
}
virtual_server "b" {
  address    = "10.0.6.100"
  port       = 80
  forwarding = "tun"
  real_server { address = "10.0.7.2" }
}
realserver { mode = "tun" }`, &realserver.Config{Mode: realserver.TUN, VIPs: []netip.Addr{addr("10.0.6.100")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(tt.src), "test.hcl")
			require.Empty(t, diags, "%s", render(t, files, diags))
			assert.Equal(t, tt.want, cfg.RealServer)
		})
	}
}

func TestRealServerBlockRejects(t *testing.T) {
	tests := []rejection{
		{
			name: "bad mode",
			src: `realserver {
  mode = "nat"
  vips = ["192.0.2.1"]
}`,
			summary: "Invalid realserver mode", detail: `"nat" is not a mode`,
			line: 2, col: 10,
		},
		{
			name:    "no mode to infer",
			src:     `realserver { vips = ["192.0.2.1"] }`,
			summary: "Missing realserver mode", detail: "no virtual_server in this file forwards with either",
			line: 1, col: 1,
		},
		{
			name: "ambiguous mode",
			src: `virtual_server "a" {
  address    = "10.0.3.100"
  port       = 80
  forwarding = "dr"
  real_server { address = "10.0.3.11" }
}
virtual_server "b" {
  address    = "10.0.6.100"
  port       = 80
  forwarding = "tun"
  real_server { address = "10.0.7.2" }
}
realserver {}`,
			summary: "Missing realserver mode", detail: `both with "dr" and with "tun"`,
			line: 13, col: 1,
		},
		{
			name: "no VIPs to take",
			src: `virtual_server "a" {
  address = "10.0.3.100"
  port    = 80
  real_server { address = "10.0.3.11" }
}
realserver { mode = "dr" }`,
			summary: "No VIPs", detail: `forwards to its real servers with "dr"`,
			line: 6, col: 1,
		},
		{
			name: "empty vips",
			src: `realserver {
  mode = "dr"
  vips = []
}`,
			summary: "No VIPs", detail: "vips is empty",
			line: 3, col: 10,
		},
		{
			name: "IPv6 in tun",
			src: `realserver {
  mode = "tun"
  vips = ["192.0.2.1", "2001:db8::1"]
}`,
			summary: "VIP not supported yet", detail: "IPv6 VIPs in tun mode (2001:db8::1) are not supported yet",
			line: 3, col: 24,
		},
		{
			name: "IPv6 service in tun",
			src: `virtual_server "v6" {
  address    = "2001:db8::1"
  port       = 80
  forwarding = "tun"
  real_server { address = "2001:db8::11" }
}
realserver {}`,
			summary: "VIP not supported yet", detail: `virtual_server "v6" (at test.hcl:2:16) has VIP 2001:db8::1`,
			line: 7, col: 1, ctxLine: 2,
		},
		{
			name: "loopback VIP",
			src: `realserver {
  mode = "dr"
  vips = ["127.0.0.2"]
}`,
			summary: "Invalid VIP", detail: "cannot be a loopback address",
			line: 3, col: 11,
		},
		{
			name: "not an address",
			src: `realserver {
  mode = "dr"
  vips = ["web.example"]
}`,
			summary: "Invalid IP address", detail: "A VIP must be an IPv4 or IPv6 address literal",
			line: 3, col: 11,
		},
		{
			name: "duplicate VIP",
			src: `realserver {
  mode = "dr"
  vips = ["192.0.2.1",
          "192.0.2.1"]
}`,
			summary: "Duplicate VIP", detail: "already listed at test.hcl:3:11",
			line: 4, col: 11, ctxLine: 3,
		},
		{
			name: "gue tunnel",
			src: `realserver {
  mode   = "tun"
  vips   = ["192.0.2.1"]
  tunnel = "gue"
}`,
			summary: "Missing tunnel port", detail: "no tun real server of this file uses GUE",
			line: 1, col: 1,
		},
		{
			name: "tunnel in dr",
			src: `realserver {
  mode   = "dr"
  vips   = ["192.0.2.1"]
  tunnel = "ipip"
}`,
			summary: "Tunnel without tun mode", detail: `mode is "dr"`,
			line: 4, col: 3,
		},
		{
			name: "director uses gre",
			src: `virtual_server "a" {
  address    = "10.0.6.100"
  port       = 80
  forwarding = "tun"
  tunnel { type = "gre" }
  real_server { address = "10.0.7.2" }
}
realserver { tunnel = "ipip" }`,
			summary: "Tunnel type mismatch", detail: `encapsulated with gre (at test.hcl:5:19), but this realserver block prepares the ipip receive side. Set tunnel = "gre".`,
			line: 2, col: 16, ctxLine: 5,
		},
		{
			name: "two blocks",
			src: `realserver {
  mode = "dr"
  vips = ["192.0.2.1"]
}
realserver {
  mode = "dr"
}`,
			summary: "Duplicate realserver block", detail: "the first one is at test.hcl:1:1",
			line: 5, col: 1, ctxLine: 1,
		},
		{
			name: "unknown argument",
			src: `realserver {
  mode = "dr"
  vip  = "192.0.2.1"
}`,
			summary: "Unsupported argument", detail: `Did you mean "vips"?`,
			line: 3, col: 3, errors: 2, // and no VIPs
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(tt.src), "test.hcl")
			assert.Nil(t, cfg)
			want := tt.errors
			if want == 0 {
				want = 1
			}
			require.Len(t, errorsOf(diags), want, "%s", render(t, files, diags))
			d := find(diags, tt.summary, tt.line, tt.col)
			require.NotNil(t, d, "no %q at %d:%d in:\n%s", tt.summary, tt.line, tt.col, render(t, files, diags))
			assert.Contains(t, d.Detail, tt.detail)
			if tt.ctxLine != 0 {
				require.NotNil(t, d.Context)
				assert.Equal(t, tt.ctxLine, d.Context.Start.Line)
			}
		})
	}
}

func TestRealServerBlockWarnings(t *testing.T) {
	src := `virtual_server "web" {
  address = "10.0.3.100"
  port    = 80
  real_server { address = "10.0.3.11" }
}
realserver {
  mode = "dr"
  vips = ["10.0.3.100", "10.0.3.200"]
}`
	cfg, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
	require.False(t, diags.HasErrors(), "%s", render(t, files, diags))
	require.Len(t, diags, 2, "%s", render(t, files, diags))
	assert.Equal(t, hcl.DiagWarning, diags[0].Severity)
	assert.Equal(t, "VIP not forwarded in this mode", diags[0].Summary)
	assert.Equal(t, 8, diags[0].Subject.Start.Line)
	assert.Equal(t, 11, diags[0].Subject.Start.Column)
	assert.Equal(t, "VIP of no virtual service", diags[1].Summary)
	assert.Equal(t, 25, diags[1].Subject.Start.Column)
	assert.Equal(t, &realserver.Config{Mode: realserver.DR, VIPs: []netip.Addr{addr("10.0.3.100"), addr("10.0.3.200")}}, cfg.RealServer)
}

// Every error of the block at once, together with those of the services.
func TestRealServerBlockEveryError(t *testing.T) {
	src := `virtual_server "web" {
  address = "10.0.3.100"
  port    = 0
}
realserver {
  mode   = "tun"
  vips   = ["10.0.3.100", "::1", "bogus", "10.0.3.100"]
  tunnel = "vxlan"
  extra  = 1
}`
	cfg, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
	assert.Nil(t, cfg)
	t.Log("\n" + render(t, files, diags))
	var got []string
	for _, d := range errorsOf(diags) {
		got = append(got, d.Summary)
	}
	assert.Equal(t, []string{
		"Invalid port",
		"Invalid VIP",          // ::1
		"Invalid IP address",   // bogus
		"Duplicate VIP",        // 10.0.3.100 again
		"Invalid tunnel type",  // vxlan
		"Unsupported argument", // extra
	}, got)
}

// The cluster example: the director's file is the backends' file.
func TestRealServerClusterFile(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(fmt.Sprintf(clusterDR, "realserver {}")), "cluster.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	assert.Len(t, cfg.Services, 3)
	assert.Equal(t, &realserver.Config{Mode: realserver.DR, VIPs: []netip.Addr{addr("10.0.3.100"), addr("2001:db8::100")}}, cfg.RealServer)
}

// TestRealServerTunnelFromServices: the realserver block of a cluster file
// takes the tunnel type (and GUE's port) from the file's tun real servers,
// or as written.
func TestRealServerTunnelFromServices(t *testing.T) {
	svc := func(tunnel string) string {
		return `virtual_server "a" {
  address    = "10.0.6.100"
  port       = 80
  forwarding = "tun"
  ` + tunnel + `
  real_server { address = "10.0.7.2" }
}
`
	}
	tests := []struct {
		name, src string
		want      realserver.Config
	}{
		{"ipip", svc("") + `realserver {}`, realserver.Config{Mode: realserver.TUN}},
		{"gre", svc(`tunnel { type = "gre" }`) + `realserver {}`, realserver.Config{Mode: realserver.TUN, Tunnel: realserver.GRE}},
		{"gue", svc(`tunnel {
    type = "gue"
    port = 6080
  }`) + `realserver {}`, realserver.Config{Mode: realserver.TUN, Tunnel: realserver.GUE, GUEPort: 6080}},
		{"gue written", `realserver {
  mode        = "tun"
  vips        = ["10.0.6.100"]
  tunnel      = "gue"
  tunnel_port = 5555
}`, realserver.Config{Mode: realserver.TUN, Tunnel: realserver.GUE, GUEPort: 5555}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(tt.src), "test.hcl")
			require.False(t, diags.HasErrors(), "%s", render(t, files, diags))
			tt.want.VIPs = []netip.Addr{addr("10.0.6.100")}
			assert.Equal(t, &tt.want, cfg.RealServer)
		})
	}
	_, _, diags := lvshcl.Parse([]byte(svc(`tunnel {
    type = "gue"
    port = 6080
  }`)+`realserver { tunnel_port = 7000 }`), "test.hcl")
	require.True(t, diags.HasErrors())
	assert.Equal(t, "Tunnel port mismatch", errorsOf(diags)[0].Summary)
}
