package realserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGUE: a GUE backend gets the IP-in-IP setup on tunl0 plus a fou
// receive port, closed again at stop (unless it was open before).
func TestGUE(t *testing.T) {
	cfg := Config{Mode: TUN, Tunnel: GUE, GUEPort: 6080, VIPs: vips("10.0.6.100")}
	t.Run("opened and closed", func(t *testing.T) {
		f := newFakeSys()
		before := f.snapshot()
		rec, res, err := Start(f, cfg, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{
			"set     net.ipv4.conf.all.arp_ignore = 1 (was 0)",
			"set     net.ipv4.conf.all.arp_announce = 2 (was 0)",
			"set     net.ipv4.conf.tunl0.arp_ignore = 1 (was 0)",
			"set     net.ipv4.conf.tunl0.arp_announce = 2 (was 0)",
			"up      tunl0",
			"open    fou port 6080 (gue)",
			"add     10.0.6.100/32 to tunl0",
		}, changeLines(res))
		assert.Equal(t, []uint16{6080}, rec.FOU)
		st, err := Inspect(f, cfg, rec)
		require.NoError(t, err)
		assert.Empty(t, st.Problems)

		_, res, err = Start(f, cfg, rec)
		require.NoError(t, err)
		assert.Empty(t, res.Changes, "a second start changes nothing")

		rec, res, err = Stop(f, rec)
		require.NoError(t, err)
		assert.Contains(t, changeLines(res), "close   fou port 6080")
		assert.True(t, rec.Empty())
		f2 := newFakeSys()
		f2.addLink(Link{Name: TunnelDevice, NoARP: true}) // the module's tunl0 stays
		assert.Equal(t, f2.snapshot(), f.snapshot())
		_ = before
	})
	t.Run("already open: left at stop", func(t *testing.T) {
		f := newFakeSys()
		f.fou = []uint16{6080}
		rec, res, err := Start(f, cfg, nil)
		require.NoError(t, err)
		assert.NotContains(t, changeLines(res), "open    fou port 6080 (gue)")
		assert.Contains(t, res.Notes, "fou port 6080 is already open and was not opened by lvsctl: stop leaves it")
		_, _, err = Stop(f, rec)
		require.NoError(t, err)
		assert.Equal(t, []uint16{6080}, f.fou)
	})
	t.Run("port changed", func(t *testing.T) {
		f := newFakeSys()
		rec, _, err := Start(f, cfg, nil)
		require.NoError(t, err)
		cfg2 := cfg
		cfg2.GUEPort = 7000
		rec, res, err := Start(f, cfg2, rec)
		require.NoError(t, err)
		assert.Contains(t, changeLines(res), "close   fou port 6080")
		assert.Contains(t, changeLines(res), "open    fou port 7000 (gue)")
		assert.Equal(t, []uint16{7000}, rec.FOU)
		assert.Equal(t, []uint16{7000}, f.fou)
	})
	t.Run("failure undoes the port", func(t *testing.T) {
		f := newFakeSys()
		f.failOn = "add 10.0.6.100"
		rec, _, err := Start(f, cfg, nil)
		require.Error(t, err)
		assert.Empty(t, f.fou)
		assert.Empty(t, rec.FOU)
	})
	t.Run("status: port missing", func(t *testing.T) {
		f := newFakeSys()
		rec, _, err := Start(f, cfg, nil)
		require.NoError(t, err)
		require.NoError(t, f.DeleteFOU(6080))
		st, err := Inspect(f, cfg, rec)
		require.NoError(t, err)
		require.Len(t, st.Problems, 1)
		assert.Equal(t, "fou-missing", st.Problems[0].Code)
		_ = rec
	})
}

// TestGRE: a GRE backend gets its VIPs on gre0 with rp_filter off.
func TestGRE(t *testing.T) {
	f := newFakeSys()
	f.sysctls[Sysctl{"default", RPFilter}] = "1"
	cfg := Config{Mode: TUN, Tunnel: GRE, VIPs: vips("10.0.6.100")}
	rec, res, err := Start(f, cfg, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"set     net.ipv4.conf.all.arp_ignore = 1 (was 0)",
		"set     net.ipv4.conf.all.arp_announce = 2 (was 0)",
		"set     net.ipv4.conf.gre0.arp_ignore = 1 (was 0)",
		"set     net.ipv4.conf.gre0.arp_announce = 2 (was 0)",
		"set     net.ipv4.conf.gre0.rp_filter = 0 (was 1)",
		"up      gre0",
		"add     10.0.6.100/32 to gre0",
	}, changeLines(res))
	assert.Equal(t, GREDevice, cfg.Device())
	_, _, err = Stop(f, rec)
	require.NoError(t, err)
	assert.Equal(t, "1", f.sysctls[Sysctl{GREDevice, RPFilter}])

	f = newFakeSys()
	f.ipip = ""
	_, _, err = Start(f, cfg, nil)
	assert.ErrorIs(t, err, ErrNoGRE)
}

func TestTunnelConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Mode: DR, Tunnel: GRE, VIPs: vips("10.0.0.1")}, "a tunnel type only applies to mode tun"},
		{Config{Mode: TUN, Tunnel: GUE, VIPs: vips("10.0.0.1")}, "gue needs the UDP port"},
		{Config{Mode: TUN, Tunnel: GRE, GUEPort: 5, VIPs: vips("10.0.0.1")}, "a tunnel port only applies to gue"},
		{Config{Mode: TUN, Tunnel: "vxlan", VIPs: vips("10.0.0.1")}, `unknown tunnel type "vxlan"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.ErrorContains(t, tt.cfg.Validate(), tt.want)
		})
	}
	assert.NoError(t, Config{Mode: TUN, Tunnel: GUE, GUEPort: 6080, VIPs: vips("10.0.0.1")}.Validate())
}
