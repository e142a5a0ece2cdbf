package kaimport

import (
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/vrrp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// use_vmac and vmac_xmit_base translate, IPv6 too; what lvsctl does
// differently (another MAC) is a warning that says so.
func TestUseVMACImport(t *testing.T) {
	tests := []struct {
		name      string
		lines     string
		vips      string
		wantVMAC  bool
		wantName  string
		wantXmit  bool
		wantDiags []string
	}{
		{name: "bare", lines: "use_vmac", vips: "10.0.0.1/24 label vrrp.51:a", wantVMAC: true},
		{name: "named", lines: "use_vmac vmac51", vips: "10.0.0.1/24", wantVMAC: true, wantName: "vmac51"},
		{name: "xmit base", lines: "use_vmac\n    vmac_xmit_base", vips: "10.0.0.1/24", wantVMAC: true, wantXmit: true},
		{name: "own MAC", lines: "use_vmac vmac51 02:00:00:00:00:01", vips: "10.0.0.1/24", wantVMAC: true, wantName: "vmac51",
			wantDiags: []string{"k.conf:7: warning: use_vmac: lvsctl gives the macvlan the RFC 5798 MAC 00:00:5e:00:01:VRID, not 02:00:00:00:00:01"}},
		{name: "unicast adds xmit base", lines: "use_vmac\n    unicast_peer {\n        10.0.0.3\n    }", vips: "10.0.0.1/24", wantVMAC: true, wantXmit: true,
			wantDiags: []string{"warning: use_vmac: with unicast_peer the adverts must go out of eth0 itself"}},
		{name: "xmit base alone", lines: "vmac_xmit_base", vips: "10.0.0.1/24",
			wantDiags: []string{"note: vmac_xmit_base: without use_vmac there is no macvlan"}},
		{name: "IPv6", lines: "use_vmac", vips: "fd00::1/64", wantVMAC: true},
		{name: "label on the interface", lines: "use_vmac", vips: "10.0.0.1/24 label eth0:a",
			wantDiags: []string{"not translated: the label eth0:a does not start with the interface name vrrp.51"}, wantVMAC: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cfg := importSrc(t, "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        "+
				tt.vips+"\n    }\n    "+tt.lines+"\n}\n")
			require.Len(t, cfg.VRRP.Instances, 1, "%s", res.HCL)
			c := cfg.VRRP.Instances[0].Config
			assert.Equal(t, tt.wantVMAC, c.UseVMAC, "%s", res.HCL)
			assert.Equal(t, tt.wantName, c.VMACName)
			assert.Equal(t, tt.wantXmit, c.VMACXmitBase)
			d := diagLines(res)
			for _, want := range tt.wantDiags {
				assert.Contains(t, d, want)
			}
			if len(tt.wantDiags) == 0 {
				assert.Empty(t, d)
			}
		})
	}
}

// state translates; with state MASTER nopreempt goes, as keepalived drops it.
func TestStateImport(t *testing.T) {
	tests := []struct {
		name, lines string
		want        vrrp.State
		nopreempt   bool
		wantDiag    string
	}{
		{"master", "state MASTER", vrrp.StateMaster, false, ""},
		{"backup", "state backup", vrrp.StateBackup, false, ""},
		{"backup nopreempt", "state BACKUP\n    nopreempt", vrrp.StateBackup, true, ""},
		{"master nopreempt", "state MASTER\n    nopreempt", vrrp.StateMaster, false,
			"k.conf:5: note: nopreempt: keepalived turns nopreempt off when the state is MASTER"},
		{"bad", "state FAULT", vrrp.StateInit, false, "k.conf:4: warning: state: not translated: \"FAULT\" is not MASTER or BACKUP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cfg := importSrc(t, "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    "+tt.lines+"\n    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n")
			require.Len(t, cfg.VRRP.Instances, 1, "%s", res.HCL)
			c := cfg.VRRP.Instances[0].Config
			assert.Equal(t, tt.want, c.InitialState, "%s", res.HCL)
			assert.Equal(t, tt.nopreempt, c.NoPreempt)
			if tt.wantDiag == "" {
				assert.Empty(t, diagLines(res))
			} else {
				assert.Contains(t, diagLines(res), tt.wantDiag)
			}
		})
	}
}

// accept, no_accept, strict_mode and the global vrrp_strict translate.
func TestAcceptModeImport(t *testing.T) {
	tests := []struct {
		name, global, lines, vips string
		accept, noAccept, strict  bool
		wantDiag                  string
	}{
		{name: "no_accept", lines: "no_accept", vips: "10.0.0.1", noAccept: true},
		{name: "strict accept", lines: "strict_mode\n    accept\n    version 3", vips: "10.0.0.1", accept: true, strict: true},
		{name: "global strict", global: "global_defs {\n    vrrp_strict\n}\n", vips: "10.0.0.1", strict: true,
			wantDiag: "note: vrrp_strict: translated into strict_mode = true in each vrrp_instance"},
		{name: "global strict, instance off", global: "global_defs {\n    vrrp_strict\n}\n", lines: "strict_mode off", vips: "10.0.0.1",
			wantDiag: "note: vrrp_strict: translated"},
		{name: "strict IPv6 global first", lines: "strict_mode", vips: "fd00::1",
			wantDiag: "warning: strict_mode: not translated: strict mode wants the first IPv6 VIP to be link-local"},
		{name: "both", lines: "accept\n    no_accept", vips: "10.0.0.1",
			wantDiag: "accept and no_accept both set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cfg := importSrc(t, tt.global+"vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    "+tt.lines+"\n    virtual_ipaddress {\n        "+tt.vips+"\n    }\n}\n")
			require.Len(t, cfg.VRRP.Instances, 1, "%s", res.HCL)
			c := cfg.VRRP.Instances[0].Config
			assert.Equal(t, tt.accept, c.Accept, "%s", res.HCL)
			assert.Equal(t, tt.noAccept, c.NoAccept)
			assert.Equal(t, tt.strict, c.Strict)
			if tt.wantDiag == "" {
				assert.Empty(t, diagLines(res))
			} else {
				assert.Contains(t, diagLines(res), tt.wantDiag)
			}
		})
	}
}

// virtual_routes, virtual_rules, virtual_ipaddress_excluded and the VIP
// options dev, scope, brd translate.
func TestRoutesImport(t *testing.T) {
	res, cfg := importSrc(t, `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1/24 brd 10.0.0.127
        172.16.0.1/24 dev eth1 scope link label eth1:v
    }
    virtual_ipaddress_excluded {
        2001:db8::1/64
    }
    virtual_routes {
        src 10.0.0.1 to 192.0.2.0/24 via 10.0.0.254 dev eth0 metric 7
        blackhole 198.51.100.0/24 table 100
        203.0.113.0/24 via 10.0.0.252 or 10.0.0.253
    }
    virtual_rules {
        from 10.0.0.1 table 100 priority 1000
        to 192.0.2.0/24 lookup 100 no_track
    }
}
`)
	require.Len(t, cfg.VRRP.Instances, 1, "%s", res.HCL)
	c := cfg.VRRP.Instances[0].Config
	require.Len(t, c.VIPs, 2, "%s", res.HCL)
	assert.Equal(t, "10.0.0.127", c.VIPs[0].Broadcast.String())
	assert.Equal(t, "eth1", c.VIPs[1].Dev)
	assert.Equal(t, uint8(253), c.VIPs[1].Scope)
	assert.Equal(t, "eth1:v", c.VIPs[1].Label)
	require.Len(t, c.ExcludedVIPs, 1)
	assert.Equal(t, "2001:db8::1/64", c.ExcludedVIPs[0].Prefix.String())
	require.Len(t, c.Routes, 2, "the multipath route is not translated")
	assert.Equal(t, "192.0.2.0/24", c.Routes[0].Dst.String())
	assert.Equal(t, "10.0.0.254", c.Routes[0].Gateway.String())
	assert.Equal(t, "10.0.0.1", c.Routes[0].Src.String())
	assert.Equal(t, 7, c.Routes[0].Metric)
	assert.True(t, c.Routes[1].Blackhole)
	assert.Equal(t, 100, c.Routes[1].Table)
	require.Len(t, c.Rules, 2)
	assert.Equal(t, 1000, c.Rules[0].Priority)
	assert.Equal(t, 100, c.Rules[1].Table)
	d := diagLines(res)
	assert.Contains(t, d, "k.conf:14: warning: 203.0.113.0/24: not translated: lvsctl has no multipath routes (or)")
	assert.Contains(t, d, "k.conf:18: warning: to: no_track is not translated: lvsctl watches this rule")
}

// garp_master_refresh translates, and the global vrrp_garp_master_* are
// the defaults of every instance.
func TestGARPImport(t *testing.T) {
	res, cfg := importSrc(t, `global_defs {
    vrrp_garp_master_refresh 60
    vrrp_garp_master_repeat 3
    vrrp_startup_delay 30
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    garp_master_refresh_repeat 2
    virtual_ipaddress {
        10.0.0.1
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    garp_master_refresh 10
    garp_master_repeat 1
    virtual_ipaddress {
        10.0.0.2
    }
}
`)
	require.Len(t, cfg.VRRP.Instances, 2, "%s", res.HCL)
	c1, c2 := cfg.VRRP.Instances[0].Config, cfg.VRRP.Instances[1].Config
	assert.Equal(t, time.Minute, c1.GARPRefresh, "%s", res.HCL)
	assert.Equal(t, 2, c1.GARPRefreshRepeat)
	assert.Equal(t, 3, c1.GARPRepeat)
	assert.Equal(t, 30*time.Second, c1.StartupDelay)
	assert.Equal(t, 30*time.Second, c2.StartupDelay)
	assert.Equal(t, 10*time.Second, c2.GARPRefresh, "the instance's own wins")
	assert.Equal(t, 1, c2.GARPRepeat)
	assert.Contains(t, diagLines(res), "k.conf:2: note: vrrp_garp_master_refresh: translated into garp_master_refresh of each vrrp_instance that sets none")
}

// track_file resolves through the top-level block: path, weight, reverse.
func TestTrackFileImport(t *testing.T) {
	res, cfg := importSrc(t, `track_file tf_a {
    file "/run/a"
}
track_file tf_b {
    file "/run/b"
    weight 5 reverse
    init_file 3
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1
    }
    track_file {
        tf_a
        tf_b
        tf_a weight 20
        tf_missing
    }
}
`)
	require.Len(t, cfg.VRRP.Instances, 1, "%s", res.HCL)
	assert.Equal(t, []vrrp.Track{
		{Name: "file:/run/a", Weight: 1, Valued: true},
		{Name: "file:/run/b", Weight: -5, Valued: true},
	}, cfg.VRRP.Instances[0].Config.Track, "%s", res.HCL)
	d := diagLines(res)
	assert.Contains(t, d, "warning: tf_b: lvsctl does not create /run/b with 3 (init_file)")
	assert.Contains(t, d, "warning: tf_missing: not translated: there is no track_file tf_missing")
	assert.Contains(t, d, "warning: tf_a: not translated: /run/a is already tracked by this instance")
}

// track_process resolves through the top-level vrrp_track_process.
func TestTrackProcessImport(t *testing.T) {
	res, cfg := importSrc(t, `vrrp_track_process tp_haproxy {
    process haproxy
    weight -20
}
vrrp_track_process tp_nginx {
    process nginx
}
vrrp_track_process tp_quorum {
    process worker
    quorum 4
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1
    }
    track_process {
        tp_haproxy
        tp_nginx
        tp_quorum
    }
}
`)
	require.Len(t, cfg.VRRP.Instances, 1, "%s", res.HCL)
	assert.Equal(t, []vrrp.Track{
		{Name: "process:nginx", Weight: 1},
		{Name: "process:haproxy", Weight: -20},
	}, cfg.VRRP.Instances[0].Config.Track, "%s", res.HCL)
	assert.Contains(t, diagLines(res), "lvsctl counts a process as up when one runs (quorum 1), not 4")
}
