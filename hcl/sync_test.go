package hcl_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

const syncInstance = `
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.100/24"]
}
`

func TestSyncDefaults(t *testing.T) {
	cfg, _, diags := lvshcl.Parse([]byte(syncInstance+`
sync {
  interface     = "eth1"
  vrrp_instance = "VI_1"
}`), "t.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	require.NotNil(t, cfg.Sync)
	// keepalived's defaults: the instance's VRID as syncid, port 8848,
	// group 224.0.0.81, TTL 1, the kernel's max length.
	assert.Equal(t, &lvshcl.Sync{VRRPInstance: "VI_1", Daemon: ipvs.SyncDaemon{
		Interface: "eth1", SyncID: 51, Port: 8848, TTL: 1, Group: netip.MustParseAddr("224.0.0.81"),
	}}, cfg.Sync)

	cfg, _, diags = lvshcl.Parse([]byte(syncInstance), "t.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Nil(t, cfg.Sync)
}

func TestSyncFull(t *testing.T) {
	cfg, _, diags := lvshcl.Parse([]byte(syncInstance+`
sync {
  interface      = "eth1"
  vrrp_instance  = "VI_1"
  syncid         = 0
  sync_maxlen    = 1400
  port           = 9000
  ttl            = 4
  group          = "ff02::81"
  sync_threshold = [3, 0]
  sync_version   = 0
  conntrack      = true
}`), "t.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, &lvshcl.Sync{VRRPInstance: "VI_1",
		Daemon: ipvs.SyncDaemon{Interface: "eth1", SyncID: 0, MaxLen: 1400, Port: 9000, TTL: 4, Group: netip.MustParseAddr("ff02::81")},
		Sysctls: []lvshcl.Sysctl{
			{Name: "net.ipv4.vs.sync_threshold", Value: "3\t0"},
			{Name: "net.ipv4.vs.sync_version", Value: "0"},
			{Name: "net.ipv4.vs.conntrack", Value: "1"},
		},
	}, cfg.Sync)
	assert.Equal(t, "/proc/sys/net/ipv4/vs/conntrack", cfg.Sync.Sysctls[2].Path())
}

func TestSyncRejects(t *testing.T) {
	for body, want := range map[string]string{
		`interface = "eth1"`:     `Missing vrrp_instance`,
		`vrrp_instance = "VI_1"`: `"interface" is required`,
		`interface = "eth1:0"` + "\n" + `vrrp_instance = "VI_1"`:                                   "Invalid interface name",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_2"`:                                     `there is no "VI_2"; defined: VI_1`,
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `syncid = 256`:             "syncid must be a whole number from 0 to 255",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `ttl = 0`:                  "ttl must be a whole number from 1 to 255",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `sync_maxlen = 70000`:      "sync_maxlen must be",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `group = "10.0.0.1"`:       "10.0.0.1 is not one",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `group = "x"`:              "Invalid multicast group",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `sync_threshold = [50, 3]`: "Invalid sync_threshold",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `sync_threshold = [3]`:     "Invalid sync_threshold",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `sync_version = 2`:         "sync_version must be",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `conntrack = "maybe"`:      "Incorrect attribute value type",
		`interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"` + "\n" + `lvs_sync_daemon = 1`:      "Unsupported argument",
	} {
		_, _, diags := lvshcl.Parse([]byte(syncInstance+"sync {\n"+body+"\n}\n"), "t.hcl")
		require.True(t, diags.HasErrors(), body)
		assert.Contains(t, diags.Error(), want, body)
	}
	_, _, diags := lvshcl.Parse([]byte(syncInstance+strings.Repeat("sync {\n interface = \"eth1\"\n vrrp_instance = \"VI_1\"\n}\n", 2)), "t.hcl")
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "Duplicate sync block")
}

// TestSyncMode: mode "active-active" runs both daemons without VRRP (no
// vrrp_instance, syncid 0 by default); the default and "vrrp" follow an
// instance. Errors point at the attribute (or the block) that is wrong.
func TestSyncMode(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       *lvshcl.Sync
		err, at    string // summary and file:line:col of the error
	}{
		{name: "active-active", body: `mode = "active-active"` + "\n" + `interface = "eth1"`,
			want: &lvshcl.Sync{Mode: lvshcl.SyncActiveActive, Daemon: ipvs.SyncDaemon{
				Interface: "eth1", SyncID: 0, Port: 8848, TTL: 1, Group: netip.MustParseAddr("224.0.0.81")}}},
		{name: "active-active with syncid", body: `mode = "active-active"` + "\n" + `interface = "eth1"` + "\n" + `syncid = 7`,
			want: &lvshcl.Sync{Mode: lvshcl.SyncActiveActive, Daemon: ipvs.SyncDaemon{
				Interface: "eth1", SyncID: 7, Port: 8848, TTL: 1, Group: netip.MustParseAddr("224.0.0.81")}}},
		{name: "vrrp spelled out", body: `mode = "vrrp"` + "\n" + `interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"`,
			want: &lvshcl.Sync{Mode: lvshcl.SyncVRRP, VRRPInstance: "VI_1", Daemon: ipvs.SyncDaemon{
				Interface: "eth1", SyncID: 51, Port: 8848, TTL: 1, Group: netip.MustParseAddr("224.0.0.81")}}},
		{name: "active-active with an instance", body: `mode = "active-active"` + "\n" + `interface = "eth1"` + "\n" + `vrrp_instance = "VI_1"`,
			err: "vrrp_instance in active-active sync", at: "t.hcl:10:17"},
		{name: "vrrp without an instance", body: `mode = "vrrp"` + "\n" + `interface = "eth1"`,
			err: "Missing vrrp_instance", at: "t.hcl:7:1"},
		{name: "unknown mode", body: `mode = "both"` + "\n" + `interface = "eth1"`,
			err: "Invalid sync mode", at: "t.hcl:8:8"},
		{name: "mode not a string", body: `mode = ["active-active"]` + "\n" + `interface = "eth1"`,
			err: "Incorrect attribute value type", at: "t.hcl:8:8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, diags := lvshcl.Parse([]byte(syncInstance+"sync {\n"+tc.body+"\n}\n"), "t.hcl")
			if tc.err == "" {
				require.False(t, diags.HasErrors(), diags.Error())
				assert.Equal(t, tc.want, cfg.Sync)
				return
			}
			require.True(t, diags.HasErrors())
			require.Len(t, diags, 1, diags.Error())
			assert.Equal(t, tc.err, diags[0].Summary)
			assert.Equal(t, tc.at, fmt.Sprintf("%s:%d:%d", diags[0].Subject.Filename, diags[0].Subject.Start.Line, diags[0].Subject.Start.Column))
		})
	}
}
