package hcl_test

import (
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
		`interface = "eth1"`:     `"vrrp_instance" is required`,
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
