package realserver

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func codes(st *Status) []string {
	var out []string
	for _, p := range st.Problems {
		out = append(out, p.Code)
	}
	return out
}

func TestInspectDR(t *testing.T) {
	f := newFakeSys()
	cfg := Config{Mode: DR, VIPs: vips("10.0.3.100", "10.0.3.101")}

	st, err := Inspect(f, cfg, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"vip-missing", "vip-missing", "arp-ignore", "arp-announce"}, codes(st))
	assert.False(t, st.Started)

	rec, _, err := Start(f, cfg, nil)
	require.NoError(t, err)
	st, err = Inspect(f, cfg, rec)
	require.NoError(t, err)
	assert.Empty(t, st.Problems)
	assert.True(t, st.Started)
	require.Len(t, st.VIPs, 2)
	assert.True(t, st.VIPs[0].Added)
	assert.Equal(t, "10.0.3.100/32", st.VIPs[0].OnDevice.String())

	// Things that go wrong afterwards.
	require.NoError(t, f.AddAddress("eth0", netip.MustParsePrefix("10.0.3.100/24")))
	require.NoError(t, f.DeleteAddress("lo", netip.MustParsePrefix("10.0.3.101/32")))
	require.NoError(t, f.AddAddress("lo", netip.MustParsePrefix("10.0.3.101/24")))
	f.sysctls[Sysctl{"eth0", ArpIgnore}] = "3"
	st, err = Inspect(f, cfg, rec)
	require.NoError(t, err)
	assert.Equal(t, []string{"vip-on-nic", "vip-prefix", "arp-ignore"}, codes(st))
	assert.Contains(t, st.Problems[2].Message, "arp_ignore = max(all 1, eth0 3) = 3")
}

func TestInspectTUN(t *testing.T) {
	f := newFakeSys()
	cfg := Config{Mode: TUN, VIPs: vips("10.0.6.100")}
	st, err := Inspect(f, cfg, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"tunnel-missing", "vip-missing", "arp-ignore", "arp-announce"}, codes(st))

	rec, _, err := Start(f, cfg, nil)
	require.NoError(t, err)
	st, err = Inspect(f, cfg, rec)
	require.NoError(t, err)
	assert.Empty(t, st.Problems)

	f.sysctls[Sysctl{"all", RPFilter}] = "1"
	require.NoError(t, f.SetLinkUp(TunnelDevice, false))
	st, err = Inspect(f, cfg, rec)
	require.NoError(t, err)
	assert.Equal(t, []string{"tunnel-down", "rp-filter"}, codes(st))
}

func TestRecordFile(t *testing.T) {
	f := RecordFile{Path: filepath.Join(t.TempDir(), "sub", "realserver.json")}
	r, err := f.Load()
	require.NoError(t, err)
	assert.Nil(t, r)

	rec := &Record{
		Namespace: Identity{BootID: "b", Netns: "cookie:1"},
		Config:    Config{Mode: TUN, VIPs: vips("10.0.6.100")},
		Sysctls:   []SysctlChange{{Sysctl{"all", RPFilter}, "1", "0"}},
		Addresses: []AddressChange{{TunnelDevice, netip.MustParsePrefix("10.0.6.100/32")}},
		Links:     []LinkChange{{Name: TunnelDevice, SetUp: true}},
	}
	require.NoError(t, f.Save(rec))
	got, err := f.Load()
	require.NoError(t, err)
	assert.Equal(t, rec, got)

	require.NoError(t, f.Save(&Record{}))
	r, err = f.Load()
	require.NoError(t, err)
	assert.Nil(t, r, "an empty record removes the file")

	// A record naming a path outside net.ipv4.conf is refused.
	rec.Sysctls[0].Conf = "../../../kernel"
	require.NoError(t, f.Save(rec))
	_, err = f.Load()
	assert.ErrorContains(t, err, "not an interface name")
}
