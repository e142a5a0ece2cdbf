package hcl_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// A director pair's file: an LVS service, and the two VIPs of the MMM
// writer/reader pattern in a sync group, tracking HAProxy, a second
// interface and the service's quorum.
const vrrpFull = `
virtual_server "web" {
  address = "10.0.0.100"
  port    = 80
  real_server { address = "10.0.1.1" }
}

vrrp_script "chk_haproxy" {
  command  = ["/usr/bin/killall", "-0", "haproxy"]
  interval = 2
  timeout  = "500ms"
  weight   = -20
  rise     = 3
  fall     = 2
}

vrrp_script "chk_mysql" {
  command   = ["/usr/local/bin/chk_mysql"]
  init_fail = true
}

vrrp_instance "VI_writer" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = 1
  nopreempt         = true
  authentication {
    type     = "PASS"
    password = "s3cret"
  }
  virtual_ipaddress = ["10.0.0.100/24", "10.0.0.102"]
  vip {
    address = "10.0.0.101/24"
    label   = "eth0:vip"
  }
  unicast_src_ip     = "10.0.0.2"
  unicast_peer       = ["10.0.0.3"]
  garp_master_delay  = 0
  garp_master_repeat = 2
  track_script         = ["chk_haproxy"]
  track_virtual_server = ["web"]
  track {
    interface = "eth1"
    weight    = -30
  }
  notify_master = ["/usr/local/bin/vip", "up"]
  notify_backup = ["/usr/local/bin/vip", "down"]
  notify_fault  = ["/usr/local/bin/vip", "fault"]
  notify_stop   = ["/usr/local/bin/vip", "stop"]
  notify        = ["/usr/local/bin/log-vrrp"]
}

vrrp_instance "VI_reader" {
  interface         = "eth0"
  virtual_router_id = 52
  version           = 3
  advert_interval   = "100ms"
  preempt_delay     = 30
  virtual_ipaddress = ["10.0.0.110/24"]
  track { script = "chk_mysql" }
}

vrrp_instance "VI_6" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["2001:db8::100/64"]
  track_interface   = ["eth1"]
}

vrrp_sync_group "mmm" {
  group                      = ["VI_writer", "VI_reader"]
  notify_master              = ["/usr/local/bin/group", "master"]
  notify                     = ["/usr/local/bin/log-vrrp"]
  sync_group_tracking_weight = true
}
`

func hookOf(argv ...string) *lvshcl.Hook {
	return &lvshcl.Hook{Argv: argv, Timeout: lvshcl.DefaultHookTimeout}
}

func TestVRRPFull(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(vrrpFull), "director.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	require.Len(t, cfg.Services, 1)
	assert.Equal(t, lvshcl.VRRP{
		Instances: []lvshcl.VRRPInstance{
			{
				Config: vrrp.Config{
					Name: "VI_writer", Interface: "eth0", VRID: 51, Version: 2, Priority: 150,
					AdvertInterval: time.Second, NoPreempt: true, Password: "s3cret",
					VIPs: []vrrp.VIP{
						{Prefix: netip.MustParsePrefix("10.0.0.100/24")},
						{Prefix: netip.MustParsePrefix("10.0.0.102/32")},
						{Prefix: netip.MustParsePrefix("10.0.0.101/24"), Label: "eth0:vip"},
					},
					SourceAddr:   netip.MustParseAddr("10.0.0.2"),
					UnicastPeers: []netip.Addr{netip.MustParseAddr("10.0.0.3")},
					GARPRepeat:   2,
					GARPDelay:    -1,
					Track: []vrrp.Track{
						{Name: "script:chk_haproxy", Weight: -20},
						{Name: "virtual_server:web"},
						{Name: "interface:eth1", Weight: -30},
					},
				},
				SyncGroup: "mmm",
				Notify: lvshcl.VRRPNotify{
					Master: hookOf("/usr/local/bin/vip", "up"),
					Backup: hookOf("/usr/local/bin/vip", "down"),
					Fault:  hookOf("/usr/local/bin/vip", "fault"),
					Stop:   hookOf("/usr/local/bin/vip", "stop"),
					Any:    hookOf("/usr/local/bin/log-vrrp"),
				},
			},
			{
				Config: vrrp.Config{
					Name: "VI_reader", Interface: "eth0", VRID: 52, Version: 3, Priority: 100,
					AdvertInterval: 100 * time.Millisecond, PreemptDelay: 30 * time.Second,
					VIPs:       []vrrp.VIP{{Prefix: netip.MustParsePrefix("10.0.0.110/24")}},
					GARPRepeat: 5, GARPDelay: 5 * time.Second,
					Track: []vrrp.Track{{Name: "script:chk_mysql"}},
				},
				SyncGroup: "mmm",
			},
			{
				Config: vrrp.Config{
					Name: "VI_6", Interface: "eth0", VRID: 51, Version: 3, Priority: 100,
					AdvertInterval: time.Second,
					VIPs:           []vrrp.VIP{{Prefix: netip.MustParsePrefix("2001:db8::100/64")}},
					GARPRepeat:     5, GARPDelay: 5 * time.Second,
					Track: []vrrp.Track{{Name: "interface:eth1"}},
				},
			},
		},
		Scripts: []lvshcl.VRRPScript{
			{Name: "chk_haproxy", Argv: []string{"/usr/bin/killall", "-0", "haproxy"}, Interval: 2 * time.Second,
				Timeout: 500 * time.Millisecond, Weight: -20, Rise: 3, Fall: 2},
			{Name: "chk_mysql", Argv: []string{"/usr/local/bin/chk_mysql"}, Interval: time.Second, Timeout: time.Second,
				Rise: 1, Fall: 1, InitFail: true},
		},
		Groups: []lvshcl.VRRPSyncGroup{{
			Name:      "mmm",
			Instances: []string{"VI_writer", "VI_reader"},
			Notify: lvshcl.VRRPNotify{
				Master: hookOf("/usr/local/bin/group", "master"),
				Any:    hookOf("/usr/local/bin/log-vrrp"),
			},
			TrackingWeight: true,
		}},
	}, cfg.VRRP)
	for _, in := range cfg.VRRP.Instances {
		_, err := vrrp.New(in.Config)
		assert.NoError(t, err, "package vrrp takes what the file gives")
	}
}

// A VRRP-only file (keepalived --vrrp in front of HAProxy) is valid and has
// no virtual services.
func TestVRRPOnly(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.168.1.200/24"]
}`), "vrrp.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	assert.Empty(t, cfg.Services)
	require.Len(t, cfg.VRRP.Instances, 1)
	c := cfg.VRRP.Instances[0].Config
	assert.Equal(t, vrrp.Config{
		Name: "VI_1", Interface: "eth0", VRID: 51, Version: 2, Priority: 100, AdvertInterval: time.Second,
		VIPs: []vrrp.VIP{{Prefix: netip.MustParsePrefix("192.168.1.200/24")}}, GARPRepeat: 5, GARPDelay: 5 * time.Second,
	}, c, "keepalived's defaults, filled in")
}

func TestVRRPUseVMAC(t *testing.T) {
	for _, tc := range []struct {
		name, attrs string
		wantName    string
		xmitBase    bool
		vip         string
	}{
		{"default name", "use_vmac = true", "", false, "192.168.1.200/24"},
		{"named", `use_vmac = "vmac51"`, "vmac51", false, "192.168.1.200/24"},
		{"xmit base", "use_vmac = true\n  vmac_xmit_base = true", "", true, "192.168.1.200/24"},
		{"off", "use_vmac = false", "", false, "192.168.1.200/24"},
		{"IPv6", "use_vmac = true", "", false, "fd00::1/64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(`
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["`+tc.vip+`"]
  `+tc.attrs+`
}`), "vrrp.hcl")
			require.Empty(t, diags, "%s", render(t, files, diags))
			c := cfg.VRRP.Instances[0].Config
			assert.Equal(t, tc.name != "off", c.UseVMAC)
			assert.Equal(t, tc.wantName, c.VMACName)
			assert.Equal(t, tc.xmitBase, c.VMACXmitBase)
		})
	}
}

func TestVRRPState(t *testing.T) {
	for _, tc := range []struct {
		name, attrs   string
		want          vrrp.State
		nopreempt     bool
		warningAtLine int
	}{
		{"none", "", vrrp.StateInit, false, 0},
		{"master", `state = "MASTER"`, vrrp.StateMaster, false, 0},
		{"backup, any case", `state = "backup"`, vrrp.StateBackup, false, 0},
		{"backup keeps nopreempt", "state = \"BACKUP\"\n  nopreempt = true", vrrp.StateBackup, true, 0},
		{"master clears nopreempt", "state = \"MASTER\"\n  nopreempt = true", vrrp.StateMaster, false, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(`
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.168.1.200/24"]
  `+tc.attrs+`
}`), "vrrp.hcl")
			require.False(t, diags.HasErrors(), "%s", render(t, files, diags))
			c := cfg.VRRP.Instances[0].Config
			assert.Equal(t, tc.want, c.InitialState)
			assert.Equal(t, tc.nopreempt, c.NoPreempt)
			if tc.warningAtLine == 0 {
				assert.Empty(t, diags)
				return
			}
			require.Len(t, diags, 1)
			assert.Equal(t, "nopreempt with state MASTER", diags[0].Summary)
			assert.Equal(t, tc.warningAtLine, diags[0].Subject.Start.Line)
		})
	}
}

func TestVRRPAcceptMode(t *testing.T) {
	for _, tc := range []struct {
		name, attrs              string
		accept, noAccept, strict bool
		warnings                 []string
	}{
		{"default", "", false, false, false, nil},
		{"no_accept", "no_accept = true", false, true, false, nil},
		{"strict v3 accept", "strict_mode = true\n  version = 3\n  accept = true", true, false, true, nil},
		{"strict resets", "strict_mode = true\n  accept = true\n  state = \"MASTER\"\n  preempt_delay = 5\n  authentication { password = \"x\" }",
			false, false, true, []string{"Authentication ignored in strict mode", "preempt_delay ignored in strict mode", "state MASTER ignored in strict mode", "accept ignored with VRRPv2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(`
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.168.1.200/24"]
  `+tc.attrs+`
}`), "vrrp.hcl")
			require.False(t, diags.HasErrors(), "%s", render(t, files, diags))
			c := cfg.VRRP.Instances[0].Config
			assert.Equal(t, tc.accept, c.Accept)
			assert.Equal(t, tc.noAccept, c.NoAccept)
			assert.Equal(t, tc.strict, c.Strict)
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
				require.NotNil(t, d.Subject, d.Summary)
			}
			assert.ElementsMatch(t, tc.warnings, got)
			if tc.strict {
				assert.Empty(t, c.Password)
				assert.Zero(t, c.PreemptDelay)
				assert.Equal(t, vrrp.StateInit, c.InitialState)
			}
		})
	}
}

func TestVRRPRoutesAndExcluded(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`
vrrp_instance "VI_1" {
  interface                  = "eth0"
  virtual_router_id          = 51
  virtual_ipaddress          = ["10.0.0.100/24"]
  virtual_ipaddress_excluded = ["2001:db8::100/64"]
  vip {
    address  = "172.16.0.1/24"
    dev      = "eth1"
    label    = "eth1:x"
    scope    = "link"
    brd      = "172.16.0.127"
    excluded = true
  }
  virtual_routes {
    to     = "192.0.2.0/24"
    via    = "10.0.0.1"
    src    = "10.0.0.100"
    metric = 5
    table  = 100
  }
  virtual_routes {
    to        = "198.51.100.0/24"
    blackhole = true
  }
  virtual_rules {
    from     = "10.0.0.100"
    table    = 100
    priority = 1000
    iif      = "eth0"
  }
}`), "vrrp.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	c := cfg.VRRP.Instances[0].Config
	assert.Equal(t, []vrrp.VIP{{Prefix: netip.MustParsePrefix("10.0.0.100/24")}}, c.VIPs)
	assert.Equal(t, []vrrp.VIP{
		{Prefix: netip.MustParsePrefix("2001:db8::100/64")},
		{Prefix: netip.MustParsePrefix("172.16.0.1/24"), Dev: "eth1", Label: "eth1:x", Scope: 253, Broadcast: netip.MustParseAddr("172.16.0.127")},
	}, c.ExcludedVIPs)
	assert.Equal(t, []vrrp.Route{
		{Dst: netip.MustParsePrefix("192.0.2.0/24"), Gateway: netip.MustParseAddr("10.0.0.1"), Src: netip.MustParseAddr("10.0.0.100"), Metric: 5, Table: 100},
		{Dst: netip.MustParsePrefix("198.51.100.0/24"), Blackhole: true},
	}, c.Routes)
	assert.Equal(t, []vrrp.Rule{{From: netip.MustParsePrefix("10.0.0.100/32"), Table: 100, Priority: 1000, IIF: "eth0"}}, c.Rules)
}

func TestVRRPGARPRefresh(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`
vrrp_instance "VI_1" {
  interface                  = "eth0"
  virtual_router_id          = 51
  virtual_ipaddress          = ["192.168.1.200/24"]
  garp_master_refresh        = 60
  garp_master_refresh_repeat = 2
  vrrp_startup_delay         = "30s"
}`), "vrrp.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	c := cfg.VRRP.Instances[0].Config
	assert.Equal(t, time.Minute, c.GARPRefresh)
	assert.Equal(t, 2, c.GARPRefreshRepeat)
	assert.Equal(t, 30*time.Second, c.StartupDelay)
}

func TestVRRPTrackFile(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.168.1.200/24"]
  track_file        = ["/run/a"]
  track_process     = ["haproxy"]
  track {
    file   = "/run/b"
    weight = -10
  }
  track {
    process = "nginx"
    weight  = -20
  }
}`), "vrrp.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	assert.Equal(t, []vrrp.Track{
		{Name: lvshcl.TrackFile + "/run/a", Weight: 1, Valued: true},
		{Name: lvshcl.TrackProcess + "haproxy", Weight: 1},
		{Name: lvshcl.TrackFile + "/run/b", Weight: -10, Valued: true},
		{Name: lvshcl.TrackProcess + "nginx", Weight: -20},
	}, cfg.VRRP.Instances[0].Config.Track)
}

func TestVRRPWarnings(t *testing.T) {
	src := `vrrp_script "unused" {
  command = ["/bin/true"]
}
vrrp_script "chk" {
  command = ["/bin/true"]
  weight  = 10
}
vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  track_script      = ["chk"]
  track {
    interface = "eth1"
    weight    = -5
  }
}
vrrp_instance "B" {
  interface         = "eth0"
  virtual_router_id = 2
  nopreempt         = true
  preempt_delay     = 5
}
vrrp_instance "O" {
  interface         = "eth0"
  virtual_router_id = 3
  priority          = 255
  virtual_ipaddress = ["10.0.0.3"]
  track {
    script = "chk"
  }
}
vrrp_sync_group "G" {
  group = ["A"]
}
`
	cfg, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
	require.False(t, diags.HasErrors(), "%s", render(t, files, diags))
	t.Log("\n" + render(t, files, diags))
	type w struct {
		summary   string
		line, col int
	}
	var got []w
	for _, d := range diags {
		assert.Equal(t, hcl.DiagWarning, d.Severity)
		got = append(got, w{d.Summary, d.Subject.Start.Line, d.Subject.Start.Column})
	}
	assert.Equal(t, []w{
		{"Unused vrrp_script", 1, 13},
		{"Tracking weight ignored in a sync group", 12, 24}, // chk's weight 10, by reference
		{"Tracking weight ignored in a sync group", 15, 17}, // the track block's own weight
		{"Instance without VIPs", 18, 1},
		{"preempt_delay without preemption", 22, 3},
		{"Tracking weight of the address owner", 29, 3},
		{"Sync group of one instance", 34, 11},
	}, got)
	require.NotNil(t, cfg)
	assert.Equal(t, []vrrp.Track{{Name: "script:chk"}, {Name: "interface:eth1"}}, cfg.VRRP.Instances[0].Config.Track,
		"weights in a sync group are 0, as in keepalived")
	assert.Equal(t, []vrrp.Track{{Name: "script:chk", Weight: 10}}, cfg.VRRP.Instances[2].Config.Track)
}

const vrrpBase = `virtual_server "web" {
  address = "10.0.0.100"
  port    = 80
}
`

func TestVRRPRejects(t *testing.T) {
	tests := []rejection{
		{
			name: "missing interface and vrid",
			src: `vrrp_instance "A" {
  virtual_ipaddress = ["10.0.0.1"]
}`,
			summary: "Missing interface", detail: "the interface its adverts go out of",
			line: 1, col: 1, errors: 2,
		},
		{
			name: "missing vrid",
			src: `vrrp_instance "A" {
  interface = "eth0"
}`,
			summary: "Missing virtual_router_id", detail: "from 1 to 255",
			line: 1, col: 1,
		},
		{
			name: "vrid out of range",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 256
}`,
			summary: "Invalid virtual_router_id", detail: "from 1 to 255; got 256",
			line: 3, col: 23,
		},
		{
			name: "interface name too long",
			src: `vrrp_instance "A" {
  interface         = "a-very-long-interface"
  virtual_router_id = 1
}`,
			summary: "Invalid interface name", detail: "1 to 15 characters",
			line: 2, col: 23,
		},
		{
			name: "interface alias",
			src: `vrrp_instance "A" {
  interface         = "eth0:1"
  virtual_router_id = 1
}`,
			summary: "Invalid interface name", detail: "an alias such as eth0:1 is a label of eth0",
			line: 2, col: 23,
		},
		{
			name: "empty name",
			src: `vrrp_instance "" {
  interface         = "eth0"
  virtual_router_id = 1
}`,
			summary: "Invalid vrrp_instance name", detail: "must not be empty",
			line: 1, col: 15,
		},
		{
			name: "duplicate instance name",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
}
vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 2
}`,
			summary: "Duplicate vrrp_instance name", detail: "already defined at test.hcl:1:15",
			line: 5, col: 15, ctxLine: 1,
		},
		{
			name: "duplicate VRID on an interface",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.1"]
}
vrrp_instance "B" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.2"]
}`,
			summary: "Duplicate virtual_router_id", detail: `vrrp_instance "A" already uses virtual_router_id 51 on eth0 for IPv4`,
			line: 8, col: 23, ctxLine: 3,
		},
		{
			name: "duplicate VRID with a shared unicast peer",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 51
  unicast_peer      = ["10.0.0.3", "10.0.0.4"]
}
vrrp_instance "B" {
  interface         = "eth0"
  virtual_router_id = 51
  unicast_peer      = ["10.0.0.4"]
}`,
			summary: "Duplicate virtual_router_id", detail: "Each virtual router on a segment needs its own VRID",
			line: 8, col: 23, ctxLine: 3,
		},
		{
			name: "VIP of two instances",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.1/24"]
}
vrrp_instance "B" {
  interface         = "eth1"
  virtual_router_id = 52
  virtual_ipaddress = ["10.0.0.2", "10.0.0.1"]
}`,
			summary: "VIP of two instances", detail: `10.0.0.1 is already a VIP of vrrp_instance "A"`,
			line: 9, col: 36, ctxLine: 4,
		},
		{
			name: "invalid VIP",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1/24", "10.0.0.300"]
}`,
			summary: "Invalid VIP", detail: `"10.0.0.300" is not an address`,
			line: 4, col: 39,
		},
		{
			name: "multicast VIP",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["224.0.0.18"]
}`,
			summary: "Invalid VIP", detail: "224.0.0.18 cannot be a VIP",
			line: 4, col: 24,
		},
		{
			name: "VIP prefix length 0",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1/0"]
}`,
			summary: "Invalid VIP", detail: "prefix length 0",
			line: 4, col: 24,
		},
		{
			name: "duplicate VIP",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1/24"]
  vip { address = "10.0.0.1/32" }
}`,
			summary: "Duplicate VIP", detail: "already listed at test.hcl:4:24",
			line: 5, col: 19, ctxLine: 4,
		},
		{
			name: "VIP families mixed",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  version           = 3
  virtual_ipaddress = ["10.0.0.1", "2001:db8::1"]
}`,
			summary: "VIP address family mismatch", detail: "2001:db8::1/128 is IPv6 but the instance's first VIP (at test.hcl:5:24) is IPv4",
			line: 5, col: 36, ctxLine: 5,
		},
		{
			name: "v2 with IPv6",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  version           = 2
  virtual_ipaddress = ["2001:db8::1/64"]
}`,
			summary: "VRRPv2 has no IPv6", detail: "only VRRPv3 carries",
			line: 4, col: 23, ctxLine: 5,
		},
		{
			name: "version 4",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  version           = 4
}`,
			summary: "Invalid version", detail: "must be 2 (VRRPv2, RFC 3768) or 3",
			line: 4, col: 23,
		},
		{
			name: "password on v3",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  version           = 3
  authentication {
    password = "s3cret"
  }
}`,
			summary: "Authentication with VRRPv3", detail: "RFC 5798 removed authentication",
			line: 5, col: 3, ctxLine: 4,
		},
		{
			name: "password on an IPv6 instance",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["2001:db8::1"]
  authentication {
    password = "s3cret"
  }
}`,
			summary: "Authentication with VRRPv3", detail: "this instance is VRRPv3 (IPv6)",
			line: 5, col: 3,
		},
		{
			name: "password too long",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  authentication {
    password = "0123456789"
  }
}`,
			summary: "Password too long", detail: `keepalived silently sends only the first 8: write those`,
			line: 5, col: 16,
		},
		{
			name: "missing password",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  authentication {
    type = "pass"
  }
}`,
			summary: "Missing password", detail: "up to 8 characters",
			line: 4, col: 3,
		},
		{
			name: "AH authentication",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  authentication {
    type     = "ah"
    password = "x"
  }
}`,
			summary: "Authentication type not supported", detail: "RFC 3768 removed it",
			line: 5, col: 16,
		},
		{
			name: "two authentication blocks",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  authentication { password = "a" }
  authentication { password = "b" }
}`,
			summary: "Duplicate authentication block", detail: "the first one is at test.hcl:4:3",
			line: 5, col: 3, ctxLine: 4,
		},
		{
			name: "v2 sub-second interval",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  advert_interval   = 0.5
}`,
			summary: "Invalid advert_interval", detail: "VRRPv2 advertises in whole seconds, from 1 to 255; got 500ms",
			line: 4, col: 23,
		},
		{
			name: "v3 interval not in hundredths",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  version           = 3
  advert_interval   = "15ms"
}`,
			summary: "Invalid advert_interval", detail: "hundredths of a second, from 0.01 to 40.95 s; got 15ms",
			line: 5, col: 23,
		},
		{
			name: "v3 interval too long",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  version           = 3
  advert_interval   = 41
}`,
			summary: "Invalid advert_interval", detail: "got 41s",
			line: 5, col: 23,
		},
		{
			name: "zero interval",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  advert_interval   = 0
}`,
			summary: "Invalid advert_interval", detail: "more than 0",
			line: 4, col: 23,
		},
		{
			name: "priority 0",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  priority          = 0
}`,
			summary: "Invalid priority", detail: "from 1 to 255; got 0",
			line: 4, col: 23,
		},
		{
			name: "preempt_delay too long",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  preempt_delay     = "20m"
}`,
			summary: "Invalid preempt_delay", detail: "at most 1000 seconds",
			line: 4, col: 23,
		},
		{
			name: "garp_master_repeat 0",
			src: `vrrp_instance "A" {
  interface          = "eth0"
  virtual_router_id  = 1
  garp_master_repeat = 0
}`,
			summary: "Invalid garp_master_repeat", detail: "from 1 to 255",
			line: 4, col: 24,
		},
		{
			name: "label on IPv6",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  vip {
    address = "2001:db8::1"
    label   = "eth0:v6"
  }
}`,
			summary: "Label on an IPv6 VIP", detail: "IPv4 only",
			line: 6, col: 5,
		},
		{
			name: "label of another interface",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  vip {
    address = "10.0.0.1/24"
    label   = "eth1:vip"
  }
}`,
			summary: "Invalid label", detail: `"eth1:vip" does not start with "eth0"`,
			line: 6, col: 15,
		},
		{
			name: "vip block without address",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  vip { label = "eth0:x" }
}`,
			summary: "Missing VIP address", detail: "needs address",
			line: 4, col: 3,
		},
		{
			name: "unicast_src_ip of another family",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  unicast_src_ip    = "2001:db8::2"
}`,
			summary: "unicast_src_ip family mismatch", detail: "is IPv6 but this instance is IPv4",
			line: 5, col: 23, ctxLine: 4,
		},
		{
			name: "IPv6 multicast source not link-local",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["2001:db8::1"]
  unicast_src_ip    = "2001:db8::2"
}`,
			summary: "Invalid unicast_src_ip", detail: "link-local",
			line: 5, col: 23,
		},
		{
			name: "peer is ourselves",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  unicast_src_ip    = "10.0.0.2"
  unicast_peer      = ["10.0.0.3", "10.0.0.2"]
}`,
			summary: "unicast_peer is our own address", detail: "this router's unicast_src_ip",
			line: 5, col: 36, ctxLine: 4,
		},
		{
			name: "duplicate peer",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  unicast_peer      = ["10.0.0.3", "10.0.0.3"]
}`,
			summary: "Duplicate unicast_peer", detail: "already listed at test.hcl:4:24",
			line: 4, col: 36, ctxLine: 4,
		},
		{
			name: "peer of another family",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  unicast_peer      = ["fe80::1"]
}`,
			summary: "unicast_peer family mismatch", detail: "fe80::1 is IPv6 but this instance is IPv4",
			line: 5, col: 24, ctxLine: 4,
		},
		{
			name: "peer host name",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  unicast_peer      = ["peer.example"]
}`,
			summary: "Invalid IP address", detail: "host names are not resolved",
			line: 4, col: 24,
		},
		{
			name: "unknown script",
			src: `vrrp_script "chk_a" {
  command = ["/bin/true"]
}
vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  track_script      = ["chk_a", "chk_b"]
}`,
			summary: "Unknown vrrp_script", detail: `No vrrp_script named "chk_b" is defined; defined: chk_a.`,
			line: 7, col: 33,
		},
		{
			name: "unknown virtual_server",
			src: vrrpBase + `vrrp_instance "A" {
  interface            = "eth0"
  virtual_router_id    = 1
  track_virtual_server = ["db"]
}`,
			summary: "Unknown virtual_server", detail: `No virtual_server named "db" is defined; defined: web.`,
			line: 8, col: 27,
		},
		{
			name: "unknown virtual_server in a track block",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  track {
    virtual_server = "db"
    weight         = -50
  }
}`,
			summary: "Unknown virtual_server", detail: "(there are none)",
			line: 5, col: 22,
		},
		{
			name: "invalid tracked interface",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  track_interface   = ["eth1", "bond0/1"]
}`,
			summary: "Invalid interface name", detail: `"bond0/1"`,
			line: 4, col: 32,
		},
		{
			name: "duplicate track",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  track_interface   = ["eth1"]
  track {
    interface = "eth1"
    weight    = -10
  }
}`,
			summary: "Duplicate track", detail: `interface "eth1" is already tracked by this instance at test.hcl:4:24`,
			line: 5, col: 3, ctxLine: 4,
		},
		{
			name: "track block with two objects",
			src: `vrrp_script "chk" {
  command = ["/bin/true"]
}
vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  track {
    script    = "chk"
    interface = "eth1"
  }
}`,
			summary: "Conflicting arguments", detail: "already has script",
			line: 9, col: 5, ctxLine: 8,
		},
		{
			name: "empty track block",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  track { weight = 5 }
}`,
			summary: "Missing tracked object", detail: "names one object",
			line: 4, col: 3,
		},
		{
			name: "track weight out of range",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  track {
    interface = "eth1"
    weight    = -254
  }
}`,
			summary: "Invalid weight", detail: "from -253 to 253",
			line: 6, col: 17,
		},
		{
			name: "notify as a string",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  notify_master     = "/etc/keepalived/master.sh"
}`,
			summary: "Incorrect attribute value type", detail: "run without a shell",
			line: 4, col: 23,
		},
		{
			name: "empty notify",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  notify            = []
}`,
			summary: "Invalid notify", detail: "must not be empty",
			line: 4, col: 23,
		},
		{
			name: "keepalived's advert_int",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  advert_int        = 1
}`,
			summary: "Unsupported argument", detail: "lvsctl calls it advert_interval",
			line: 4, col: 3,
		},
		// vrrp_script.
		{
			name: "script without command",
			src: `vrrp_script "chk" {
  interval = 2
}`,
			summary: "Missing command", detail: "run without a shell",
			line: 1, col: 1, errors: 1,
		},
		{
			name: "script weight out of range",
			src: `vrrp_script "chk" {
  command = ["/bin/true"]
  weight  = 254
}`,
			summary: "Invalid weight", detail: "from -253 to 253; got 254",
			line: 3, col: 13,
		},
		{
			name: "script rise 0",
			src: `vrrp_script "chk" {
  command = ["/bin/true"]
  rise    = 0
}`,
			summary: "Invalid rise", detail: "from 1",
			line: 3, col: 13,
		},
		{
			name: "script bad interval",
			src: `vrrp_script "chk" {
  command  = ["/bin/true"]
  interval = "soon"
}`,
			summary: "Invalid interval", detail: `"soon" is not a duration`,
			line: 3, col: 14,
		},
		{
			name: "duplicate script",
			src: `vrrp_script "chk" {
  command = ["/bin/true"]
}
vrrp_script "chk" {
  command = ["/bin/false"]
}`,
			summary: "Duplicate vrrp_script name", detail: "already defined at test.hcl:1:13",
			line: 4, col: 13, ctxLine: 1,
		},
		// vrrp_sync_group.
		{
			name: "unknown instance in a group",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
}
vrrp_sync_group "G" {
  group = ["A", "B"]
}`,
			summary: "Unknown vrrp_instance", detail: `No vrrp_instance named "B" is defined; defined: A.`,
			line: 6, col: 17,
		},
		{
			name: "instance in two groups",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
}
vrrp_instance "B" {
  interface         = "eth0"
  virtual_router_id = 2
}
vrrp_sync_group "G1" {
  group = ["A", "B"]
}
vrrp_sync_group "G2" {
  group = ["B"]
}`,
			summary: "Instance in two sync groups", detail: `already a member of vrrp_sync_group "G1"`,
			line: 13, col: 12, ctxLine: 10,
		},
		{
			name: "member twice",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
}
vrrp_sync_group "G" {
  group = ["A", "A"]
}`,
			summary: "Duplicate sync group member", detail: "already listed at test.hcl:6:12",
			line: 6, col: 17, ctxLine: 6,
		},
		{
			name: "group without members",
			src: `vrrp_sync_group "G" {
  group = []
}`,
			summary: "Empty sync group", detail: "at least one",
			line: 2, col: 11,
		},
		{
			name: "group without group",
			src: `vrrp_sync_group "G" {
  notify = ["/bin/true"]
}`,
			summary: "Missing group", detail: "fail over together",
			line: 1, col: 1,
		},
		{
			name: "duplicate group",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
}
vrrp_sync_group "G" {
  group = ["A"]
}
vrrp_sync_group "G" {
  group = []
}`,
			summary: "Duplicate vrrp_sync_group name", detail: "already defined at test.hcl:5:17",
			line: 8, col: 17, ctxLine: 5, errors: 2,
		},
		{
			name: "accept and no_accept",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  accept            = true
  no_accept         = true
}`,
			summary: "accept and no_accept", detail: "contradict",
			line: 6, col: 3, ctxLine: 5,
		},
		{
			name: "strict without VIPs",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  strict_mode       = true
}`,
			summary: "strict_mode without VIPs", detail: "at least one virtual_ipaddress",
			line: 4, col: 3,
		},
		{
			name: "bad scope",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  vip {
    address = "10.0.0.1"
    scope   = "galaxy"
  }
}`,
			summary: "Invalid scope", detail: "global, site, link",
			line: 6, col: 15,
		},
		{
			name: "route via of the other family",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  virtual_routes {
    to  = "192.0.2.0/24"
    via = "2001:db8::1"
  }
}`,
			summary: "Invalid via", detail: "destination's family",
			line: 7, col: 11,
		},
		{
			name: "rule without from or to",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  virtual_rules {
    table = 100
  }
}`,
			summary: "Rule without from or to", detail: "needs from or to",
			line: 5, col: 3,
		},
		{
			name: "state FAULT",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  state             = "FAULT"
}`,
			summary: "Invalid state", detail: `"MASTER" or "BACKUP"`,
			line: 4, col: 23,
		},
		{
			name: "use_vmac of a wrong type",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  use_vmac          = 1
}`,
			summary: "Invalid use_vmac", detail: "got a number",
			line: 4, col: 23,
		},
		{
			name: "use_vmac name too long",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  use_vmac          = "a-very-long-vmac-name"
}`,
			summary: "Invalid interface name", detail: "1 to 15 characters",
			line: 4, col: 23,
		},
		{
			name: "vmac_xmit_base alone",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  vmac_xmit_base    = true
}`,
			summary: "vmac_xmit_base without use_vmac", detail: "set use_vmac = true",
			line: 4, col: 3,
		},
		{
			name: "use_vmac with unicast peers",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  use_vmac          = true
  unicast_peer      = ["10.0.0.3"]
}`,
			summary: "use_vmac with unicast_peer", detail: "vmac_xmit_base = true",
			line: 4, col: 23, ctxLine: 5,
		},
		{
			name: "label on the interface with use_vmac",
			src: `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 7
  use_vmac          = true
  vip {
    address = "10.0.0.1/24"
    label   = "eth0:vip"
  }
}`,
			summary: "Invalid label", detail: `does not start with "vrrp.7"`,
			line: 7, col: 15,
		},
		{
			name: "instance without a name label",
			src: `vrrp_instance {
  interface = "eth0"
}`,
			summary: "Missing name for vrrp_instance", detail: "",
			line: 1, col: 15,
		},
	}
	runRejections(t, tests)
}

// Every error of the VRRP blocks at once, in file order, together with the
// services'.
func TestVRRPReportsEveryError(t *testing.T) {
	src := `virtual_server "web" {
  address = "10.0.0.100"
  port    = 0
}
vrrp_script "chk" {
  command = []
  fall    = 0
}
vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 51
  version           = 3
  advert_interval   = "15ms"
  authentication { password = "x" }
  virtual_ipaddress = ["10.0.0.1", "bogus"]
  track_script      = ["nope"]
  colour            = "blue"
}
vrrp_instance "B" {
  interface         = "eth0"
  virtual_router_id = 51
  version           = 3
  virtual_ipaddress = ["10.0.0.1"]
}
vrrp_sync_group "G" {
  group = ["A", "C"]
}
`
	want := []struct {
		line    int
		summary string
	}{
		{3, "Invalid port"},
		{5, "Unused vrrp_script"}, // a warning: nothing valid tracks it
		{6, "Invalid command"},
		{7, "Invalid fall"},
		{13, "Invalid advert_interval"},
		{14, "Authentication with VRRPv3"},
		{15, "Invalid VIP"},
		{16, "Unknown vrrp_script"},
		{17, "Unsupported argument"},
		{21, "Duplicate virtual_router_id"},
		{23, "VIP of two instances"},
		{26, "Unknown vrrp_instance"},
	}
	cfg, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
	assert.Nil(t, cfg)
	t.Log("\n" + render(t, files, diags))
	require.Len(t, diags, len(want))
	for i, w := range want {
		assert.Equal(t, w.summary, diags[i].Summary, "diagnostic %d", i)
		assert.Equal(t, w.line, diags[i].Subject.Start.Line, "diagnostic %d (%s)", i, diags[i].Summary)
	}
}

func TestVRRPTestdata(t *testing.T) {
	cfg, files, diags := lvshcl.Load("../testdata/mycat-dr-vrrp.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	require.Len(t, cfg.VRRP.Instances, 1)
	in := cfg.VRRP.Instances[0]
	assert.Equal(t, vrrp.Config{
		Name: "VI_MYCAT", Interface: "eth0", VRID: 51, Version: 2, Priority: 150, AdvertInterval: time.Second,
		Password:     "s3cret",
		VIPs:         []vrrp.VIP{{Prefix: netip.MustParsePrefix("192.168.1.200/24"), Label: "eth0:vip"}},
		SourceAddr:   netip.MustParseAddr("192.168.1.11"),
		UnicastPeers: []netip.Addr{netip.MustParseAddr("192.168.1.12")},
		GARPRepeat:   5, GARPDelay: 5 * time.Second,
		Track: []vrrp.Track{{Name: "virtual_server:mycat"}},
	}, in.Config)
	assert.Equal(t, hookOf("/usr/local/bin/vip-notify", "master"), in.Notify.Master)
}
