package hcl_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// bgpService is a DR service fit for ECMP: mh with mh-port.
const bgpService = `
virtual_server "web" {
  address         = "192.0.2.10"
  port            = 80
  scheduler       = "mh"
  scheduler_flags = ["mh-port"]
  real_server {
    address    = "10.1.0.1"
    forwarding = "dr"
  }
}
vrrp_script "chk_local" {
  command = ["/bin/true"]
}
`

func TestBGPFull(t *testing.T) {
	cfg, _, diags := lvshcl.Parse([]byte(bgpService+`
bgp {
  asn            = 4200000001
  router_id      = "10.0.0.11"
  hold_time      = 9
  idle_hold_time = "2s"
  drain_time     = "500ms"
  vip_interface  = "lo"
  sloppy_tcp     = true
  sloppy_sctp    = true
  neighbor "tor1" {
    address        = "10.0.0.1"
    asn            = 65000
    password       = "s3cret"
    source_address = "10.0.0.11"
    multihop       = 2
    bfd {
      min_tx     = "100ms"
      min_rx     = 0.2
      multiplier = 5
    }
  }
  neighbor "tor2" {
    address   = "2001:db8::1"
    asn       = 65000
    hold_time = 30
  }
  announce "web" {
    vips                 = ["192.0.2.10", "2001:db8::10/128"]
    track_virtual_server = ["web"]
    track_interface      = ["eth0"]
    track_script         = ["chk_local"]
    communities          = ["65001:100", "0:65535"]
    med                  = 10
  }
}`), "t.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Empty(t, diags, "a DR mh+mh-port service behind BGP with sloppy_tcp draws no warning (and BGP runs: no 'not run yet')")
	require.NotNil(t, cfg.BGP)
	med := uint32(10)
	assert.Equal(t, &lvshcl.BGP{
		ASN: 4200000001, RouterID: netip.MustParseAddr("10.0.0.11"),
		HoldTime: 9 * time.Second, IdleHoldTime: 2 * time.Second, DrainTime: 500 * time.Millisecond,
		VIPInterface: "lo", SloppyTCP: true, SloppySCTP: true,
		Neighbors: []lvshcl.BGPNeighbor{
			{Name: "tor1", Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000, Password: "s3cret", HoldTime: 9 * time.Second,
				SourceAddress: netip.MustParseAddr("10.0.0.11"), Multihop: 2,
				BFD: &lvshcl.BGPBFD{MinTx: 100 * time.Millisecond, MinRx: 200 * time.Millisecond, Multiplier: 5}},
			{Name: "tor2", Address: netip.MustParseAddr("2001:db8::1"), ASN: 65000, HoldTime: 30 * time.Second},
		},
		Announces: []lvshcl.BGPAnnounce{{
			Name:               "web",
			VIPs:               []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")},
			TrackVirtualServer: []string{"web"}, TrackInterface: []string{"eth0"}, TrackScript: []string{"chk_local"},
			Communities: []uint32{65001<<16 | 100, 65535}, MED: &med,
		}},
	}, cfg.BGP)
}

func TestBGPDefaults(t *testing.T) {
	cfg, _, diags := lvshcl.Parse([]byte(`
allow_empty = true
bgp {
  asn       = 65001
  router_id = "10.0.0.11"
  neighbor "tor1" {
    address = "10.0.0.1"
    asn     = 65000
    bfd {}
  }
}`), "t.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	require.NotNil(t, cfg.BGP)
	assert.Equal(t, lvshcl.DefaultBGPHoldTime, cfg.BGP.HoldTime)
	assert.Equal(t, lvshcl.DefaultBGPIdleHoldTime, cfg.BGP.IdleHoldTime)
	assert.Equal(t, lvshcl.DefaultBGPDrainTime, cfg.BGP.DrainTime)
	assert.Equal(t, "lvsctl0", cfg.BGP.VIPInterface)
	assert.False(t, cfg.BGP.SloppyTCP || cfg.BGP.SloppySCTP, "sloppy modes are off unless set")
	assert.Equal(t, lvshcl.DefaultBGPHoldTime, cfg.BGP.Neighbors[0].HoldTime)
	assert.Equal(t, &lvshcl.BGPBFD{MinTx: lvshcl.DefaultBFDInterval, MinRx: lvshcl.DefaultBFDInterval, Multiplier: lvshcl.DefaultBFDMultiplier}, cfg.BGP.Neighbors[0].BFD)

	cfg, _, diags = lvshcl.Parse([]byte(bgpService), "t.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Nil(t, cfg.BGP)
}

// at returns "line:col" of where d points.
func at(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return "nowhere"
	}
	return fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
}

func TestBGPRejects(t *testing.T) {
	const head = "bgp {\n  asn = 65001\n  router_id = \"10.0.0.11\"\n"
	nb := func(body string) string {
		return head + "  neighbor \"n\" {\n    address = \"10.0.0.1\"\n    asn = 65000\n    " + body + "\n  }\n}\n"
	}
	an := func(body string) string { return head + "  announce \"a\" {\n    " + body + "\n  }\n}\n" }
	tests := []struct {
		name, src, want, where string // where: the diagnostic's file:line:col
	}{
		{"no asn", "bgp {\n  router_id = \"10.0.0.11\"\n}\n", `"asn" is required`, ""},
		{"asn 0", "bgp {\n  asn = 0\n  router_id = \"10.0.0.11\"\n}\n", "asn must be a whole number from 1 to 4294967295", "t.hcl:2:9"},
		{"router_id v6", "bgp {\n  asn = 1\n  router_id = \"::1\"\n}\n", "Invalid router_id", "t.hcl:3:15"},
		{"hold_time 2", "bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n  hold_time = 2\n}\n", "from 3 to 65535", "t.hcl:4:15"},
		{"hold_time fraction", "bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n  hold_time = 3.5\n}\n", "whole number of seconds", "t.hcl:4:15"},
		{"idle_hold_time 0", "bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n  idle_hold_time = 0\n}\n", "Invalid idle_hold_time", "t.hcl:4:20"},
		{"vip_interface", "bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n  vip_interface = \"a/b\"\n}\n", "Invalid vip_interface", "t.hcl:4:19"},
		{"sloppy_tcp not a bool", "bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n  sloppy_tcp = \"yes please\"\n}\n", "Incorrect attribute value type", "t.hcl:4:16"},
		{"unknown attribute", "bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n  holdtime = 9\n}\n", "Unsupported argument", "t.hcl:4:3"},
		{"two bgp blocks", "bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n}\nbgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n}\n", "Duplicate bgp block", "t.hcl:5:1"},
		{"neighbor bad address", head + "  neighbor \"n\" {\n    address = \"tor1\"\n    asn = 1\n  }\n}\n", "Invalid IP address", "t.hcl:5:15"},
		{"neighbor without asn", head + "  neighbor \"n\" {\n    address = \"10.0.0.1\"\n  }\n}\n", `"asn" is required`, ""},
		{"source family", nb(`source_address = "2001:db8::2"`), "not of the neighbor's family", "t.hcl:7:22"},
		{"multihop 0", nb(`multihop = 0`), "multihop must be a whole number from 1 to 255", "t.hcl:7:16"},
		{"password too long", nb(`password = "` + strings.Repeat("x", 81) + `"`), "1 to 80 bytes", "t.hcl:7:16"},
		{"bfd multiplier", nb(`bfd { multiplier = 0 }`), "multiplier must be", "t.hcl:7:24"},
		{"bfd interval", nb(`bfd { min_tx = "100us" }`), "Invalid min_tx", "t.hcl:7:20"},
		{"two bfd", nb("bfd {}\n    bfd {}"), "Duplicate bfd block", "t.hcl:8:5"},
		{"duplicate neighbor address", head + "  neighbor \"a\" {\n    address = \"10.0.0.1\"\n    asn = 1\n  }\n  neighbor \"b\" {\n    address = \"10.0.0.1\"\n    asn = 1\n  }\n}\n", "Duplicate neighbor address", "t.hcl:9:15"},
		{"duplicate neighbor name", head + "  neighbor \"a\" {\n    address = \"10.0.0.1\"\n    asn = 1\n  }\n  neighbor \"a\" {\n    address = \"10.0.0.2\"\n    asn = 1\n  }\n}\n", "Duplicate neighbor", "t.hcl:8:12"},
		{"announce without vips", an(`med = 1`), `"vips" is required`, ""},
		{"vip is a subnet", an(`vips = ["192.0.2.0/24"]`), "Invalid VIP", "t.hcl:5:13"},
		{"vip twice", head + "  announce \"a\" {\n    vips = [\"192.0.2.1\"]\n  }\n  announce \"b\" {\n    vips = [\"192.0.2.1/32\"]\n  }\n}\n", "VIP announced twice", "t.hcl:8:13"},
		{"unknown virtual_server", an("vips = [\"192.0.2.1\"]\n    track_virtual_server = [\"nope\"]"), `there is no "nope"`, "t.hcl:6:29"},
		{"unknown script", an("vips = [\"192.0.2.1\"]\n    track_script = [\"nope\"]"), "Unknown vrrp_script", "t.hcl:6:21"},
		{"bad interface", an("vips = [\"192.0.2.1\"]\n    track_interface = [\"eth0:1\"]"), "Invalid interface name", "t.hcl:6:24"},
		{"bad community", an("vips = [\"192.0.2.1\"]\n    communities = [\"65536:1\"]"), "Invalid community", "t.hcl:6:20"},
		{"med negative", an("vips = [\"192.0.2.1\"]\n    med = -1"), "med must be a whole number", "t.hcl:6:11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := lvshcl.Parse([]byte(tt.src), "t.hcl")
			require.True(t, diags.HasErrors(), "want an error")
			for _, d := range diags {
				if d.Severity == hcl.DiagError && strings.Contains(d.Summary+": "+d.Detail, tt.want) {
					if tt.where != "" {
						assert.Equal(t, tt.where, at(d), "%s: %s", d.Summary, d.Detail)
					}
					return
				}
			}
			t.Fatalf("no error containing %q in:\n%s", tt.want, diags.Error())
		})
	}
}

// TestBGPAgainstServicesAndVRRP: a VIP is VRRP's or BGP's, NAT cannot sit
// behind ECMP (errors); inconsistent scheduling across directors is warned of.
func TestBGPAgainstServicesAndVRRP(t *testing.T) {
	service := func(sched, flags, fwd, extra string) string {
		s := "virtual_server \"web\" {\n  address = \"192.0.2.10\"\n  port = 80\n"
		if sched != "" {
			s += "  scheduler = \"" + sched + "\"\n"
		}
		if flags != "" {
			s += "  scheduler_flags = [\"" + flags + "\"]\n"
		}
		return s + extra + "  real_server {\n    address = \"10.1.0.1\"\n    forwarding = \"" + fwd + "\"\n  }\n}\n"
	}
	bgpBlock := func(vip string) string {
		return "bgp {\n  asn = 65001\n  router_id = \"10.0.0.11\"\n  sloppy_tcp = true\n  neighbor \"n\" {\n    address = \"10.0.0.1\"\n    asn = 65000\n  }\n  announce \"a\" {\n    vips = [\"" + vip + "\"]\n  }\n}\n"
	}
	vrrp := "vrrp_instance \"VI_1\" {\n  interface = \"eth0\"\n  virtual_router_id = 51\n  virtual_ipaddress = [\"192.0.2.10/24\"]\n}\n"
	noSloppy := func(vip string) string { return strings.Replace(bgpBlock(vip), "  sloppy_tcp = true\n", "", 1) }
	sync := "vrrp_instance \"VI_2\" {\n  interface = \"eth0\"\n  virtual_router_id = 52\n  virtual_ipaddress = [\"10.9.9.9\"]\n}\nsync {\n  interface = \"eth1\"\n  vrrp_instance = \"VI_2\"\n}\n"
	tests := []struct {
		name     string
		before   string // the configuration before the bgp block
		vip      string
		block    func(string) string // nil: bgpBlock
		severity hcl.DiagnosticSeverity
		want     string // "" : no diagnostic at all
		onScheds bool   // the diagnostic points at the scheduler, not at the vips value
	}{
		{"dr mh mh-port: clean", service("mh", "mh-port", "dr", ""), "192.0.2.10", nil, 0, "", false},
		{"sh: clean", service("sh", "", "tun", ""), "192.0.2.10", nil, 0, "", false},
		{"VIP held by VRRP", vrrp + service("mh", "mh-port", "dr", ""), "192.0.2.10", nil, hcl.DiagError, `vrrp_instance "VI_1"`, false},
		{"NAT behind BGP", service("mh", "mh-port", "nat", ""), "192.0.2.10", nil, hcl.DiagError, "NAT behind BGP", false},
		{"NAT on a service not announced", service("rr", "", "nat", ""), "192.0.2.99", nil, 0, "", false},
		{"rr", service("rr", "", "dr", ""), "192.0.2.10", nil, hcl.DiagWarning, "Scheduler not consistent", true},
		{"default scheduler", service("", "", "dr", ""), "192.0.2.10", nil, hcl.DiagWarning, `scheduler "wlc"`, false},
		{"mh without mh-port", service("mh", "mh-fallback", "dr", ""), "192.0.2.10", nil, hcl.DiagWarning, "mh without mh-port", true},
		{"persistence without sync", service("mh", "mh-port", "dr", "  persistence_timeout = 300\n"), "192.0.2.10", nil, hcl.DiagWarning, "Persistence without sync", false},
		{"mh without sloppy_tcp", service("mh", "mh-port", "dr", ""), "192.0.2.10", noSloppy, hcl.DiagWarning, "Announced service without sloppy_tcp", true},
		{"sh without sloppy_tcp", service("sh", "", "dr", ""), "192.0.2.10", noSloppy, hcl.DiagWarning, "without sloppy_tcp", true},
		{"rr without sloppy_tcp: only the scheduler warning", service("rr", "", "dr", ""), "192.0.2.10", noSloppy, hcl.DiagWarning, "Scheduler not consistent", true},
		{"persistence with sync", sync + service("mh", "mh-port", "dr", "  persistence_timeout = 300\n"), "192.0.2.10", nil, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			block := bgpBlock
			if tt.block != nil {
				block = tt.block
			}
			src := tt.before + block(tt.vip)
			_, _, diags := lvshcl.Parse([]byte(src), "t.hcl")
			if tt.want == "" {
				assert.Empty(t, diags, "%s", diags.Error())
				return
			}
			var found *hcl.Diagnostic
			for _, d := range diags {
				if strings.Contains(d.Summary+": "+d.Detail, tt.want) {
					found = d
				}
			}
			require.NotNil(t, found, "no diagnostic containing %q in: %v", tt.want, diags)
			assert.Equal(t, tt.severity, found.Severity)
			switch {
			case tt.onScheds:
				assert.Equal(t, posOf(src, "scheduler = ", len("scheduler = ")), at(found))
			case tt.severity == hcl.DiagError:
				assert.Equal(t, posOf(src, "vips = [", len("vips = [")), at(found))
			default:
				assert.Equal(t, posOf(src, `virtual_server "web"`, 0), at(found), "at the virtual_server block")
			}
		})
	}
}

func TestBGPPasswordMasked(t *testing.T) {
	// The password in a diagnostic's own snippet (too long: the error
	// points at it) and in a neighbor with another error.
	long := secret + strings.Repeat("x", 80)
	src0 := "bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n  neighbor \"n\" {\n    address = \"10.0.0.1\"\n    asn = 1\n    password = \"" + long + "\"\n  }\n}\n"
	for _, src := range []string{
		src0,
		"bgp {\n  asn = 1\n  router_id = \"10.0.0.1\"\n  neighbor \"n\" {\n    address = \"10.0.0.1\"\n    password = \"" + secret + "\"\n    asn = 0\n  }\n}\n",
	} {
		assertMasked(t, src)
	}
	// The too-long password's own diagnostic shows its line, masked.
	_, files, diags := lvshcl.Parse([]byte(src0), "t.hcl")
	var b strings.Builder
	require.NoError(t, lvshcl.RenderDiagnostics(context.Background(), &b, files, diags, 0))
	assert.Contains(t, b.String(), "password = ***", "the password line is shown masked:\n%s", b.String())
}

// posOf is "t.hcl:LINE:COL" of the first occurrence of sub in src, plus skip
// bytes on the same line.
func posOf(src, sub string, skip int) string {
	i := strings.Index(src, sub)
	if i < 0 {
		return "absent"
	}
	line := strings.Count(src[:i], "\n") + 1
	col := i - strings.LastIndex(src[:i], "\n") + skip
	return fmt.Sprintf("t.hcl:%d:%d", line, col)
}

// TestBGPOnlyIsNotEmpty: a node that only announces (no virtual_server, no
// vrrp_instance) configures something: no allow_empty needed.
func TestBGPOnlyIsNotEmpty(t *testing.T) {
	cfg, _, diags := lvshcl.Parse([]byte(`
vrrp_script "chk" {
  command = ["/bin/true"]
}
bgp {
  asn           = 65001
  router_id     = "10.0.0.11"
  vip_interface = "lo"
  neighbor "r" {
    address = "10.0.0.1"
    asn     = 65000
  }
  announce "a" {
    vips         = ["192.0.2.10"]
    track_script = ["chk"]
  }
}`), "t.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	assert.False(t, cfg.Empty())
}
