package realserver

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func vips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, v := range s {
		out = append(out, netip.MustParseAddr(v))
	}
	return out
}

func changeLines(res *Result) []string {
	var out []string
	for _, c := range res.Changes {
		out = append(out, c.String())
	}
	return out
}

func TestStartDRThenStop(t *testing.T) {
	f := newFakeSys()
	f.sysctls[Sysctl{"all", ArpAnnounce}] = "1" // an odd initial value
	before := f.snapshot()
	cfg := Config{Mode: DR, VIPs: vips("10.0.3.100", "2001:db8::100")}

	rec, res, err := Start(f, cfg, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"set     net.ipv4.conf.all.arp_ignore = 1 (was 0)",
		"set     net.ipv4.conf.all.arp_announce = 2 (was 1)",
		"set     net.ipv4.conf.lo.arp_ignore = 1 (was 0)",
		"set     net.ipv4.conf.lo.arp_announce = 2 (was 0)",
		"add     10.0.3.100/32 to lo",
		"add     2001:db8::100/128 to lo",
	}, changeLines(res), "sysctls before addresses; eth0 is covered by all (max(all, eth0))")
	assert.Equal(t, "0", f.sysctls[Sysctl{"eth0", ArpIgnore}], "eth0's own value is left: the kernel uses max(all, eth0)")
	assert.Equal(t, []SysctlChange{
		{Sysctl{"all", ArpIgnore}, "0", "1"},
		{Sysctl{"all", ArpAnnounce}, "1", "2"},
		{Sysctl{"lo", ArpIgnore}, "0", "1"},
		{Sysctl{"lo", ArpAnnounce}, "0", "2"},
	}, rec.Sysctls)
	assert.Equal(t, []AddressChange{
		{"lo", netip.MustParsePrefix("10.0.3.100/32")},
		{"lo", netip.MustParsePrefix("2001:db8::100/128")},
	}, rec.Addresses)
	assert.Equal(t, f.id, rec.Namespace)

	// Again: nothing to do.
	f.calls = nil
	rec2, res, err := Start(f, cfg, rec)
	require.NoError(t, err)
	assert.Empty(t, res.Changes)
	assert.Empty(t, f.writes())
	assert.Equal(t, rec, rec2)

	f.calls = nil
	left, res, err := Stop(f, rec2)
	require.NoError(t, err)
	assert.Nil(t, left)
	assert.Equal(t, []string{
		"remove  2001:db8::100/128 from lo",
		"remove  10.0.3.100/32 from lo",
		"restore net.ipv4.conf.lo.arp_announce = 0 (was 2)",
		"restore net.ipv4.conf.lo.arp_ignore = 0 (was 1)",
		"restore net.ipv4.conf.all.arp_announce = 1 (was 2)",
		"restore net.ipv4.conf.all.arp_ignore = 0 (was 1)",
	}, changeLines(res), "addresses first, then sysctls, newest first")
	assert.Equal(t, before, f.snapshot())

	_, res, err = Stop(f, nil)
	require.NoError(t, err)
	assert.Empty(t, res.Changes)
}

func TestStartLeavesWhatIsAlreadyRight(t *testing.T) {
	f := newFakeSys()
	f.sysctls[Sysctl{"all", ArpIgnore}] = "2"    // stricter than 1: fine
	f.sysctls[Sysctl{"lo", ArpIgnore}] = "8"     // never reply: fine
	f.sysctls[Sysctl{"eth0", ArpIgnore}] = "3"   // max(all, 3) = 3 answers for the VIP
	f.sysctls[Sysctl{"eth0", ArpAnnounce}] = "5" // above 2 acts as 0
	f.addLink(Link{Name: "eth1", Up: true})
	f.sysctls[Sysctl{"eth1", ArpIgnore}] = "8"
	f.addLink(Link{Name: "gre0", NoARP: true})
	f.sysctls[Sysctl{"gre0", ArpIgnore}] = "5" // no ARP there: irrelevant
	require.NoError(t, f.AddAddress("lo", netip.MustParsePrefix("10.0.3.100/32")))
	before := f.snapshot()
	f.calls = nil

	rec, res, err := Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100", "10.0.3.101")}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"set     net.ipv4.conf.all.arp_announce = 2 (was 0)",
		"set     net.ipv4.conf.lo.arp_announce = 2 (was 0)",
		"set     net.ipv4.conf.eth0.arp_ignore = 1 (was 3)",
		"set     net.ipv4.conf.eth0.arp_announce = 2 (was 5)",
		"add     10.0.3.101/32 to lo",
	}, changeLines(res))
	assert.Contains(t, res.Notes, "10.0.3.100/32 is already on lo and was not added by lvsctl: stop leaves it")
	assert.Len(t, rec.Addresses, 1)

	_, _, err = Stop(f, rec)
	require.NoError(t, err)
	assert.Equal(t, before, f.snapshot(), "stop undoes exactly what start did; the VIP that was there stays")
}

func TestStartFollowsConfigChanges(t *testing.T) {
	f := newFakeSys()
	f.sysctls[Sysctl{"all", RPFilter}] = "1"
	before := f.snapshot()
	rec, _, err := Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100", "10.0.3.101")}, nil)
	require.NoError(t, err)

	// One VIP fewer: only that address goes.
	rec, res, err := Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100")}, rec)
	require.NoError(t, err)
	assert.Equal(t, []string{"remove  10.0.3.101/32 from lo"}, changeLines(res))

	// DR to TUN: off lo, onto tunl0, lo's settings restored.
	rec, res, err = Start(f, Config{Mode: TUN, VIPs: vips("10.0.3.100")}, rec)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"remove  10.0.3.100/32 from lo",
		"restore net.ipv4.conf.lo.arp_announce = 0 (was 2)",
		"restore net.ipv4.conf.lo.arp_ignore = 0 (was 1)",
		"set     net.ipv4.conf.tunl0.arp_ignore = 1 (was 0)",
		"set     net.ipv4.conf.tunl0.arp_announce = 2 (was 0)",
		"set     net.ipv4.conf.all.rp_filter = 0 (was 1)",
		"up      tunl0",
		"add     10.0.3.100/32 to tunl0",
	}, changeLines(res))
	assert.Contains(t, strings.Join(res.Notes, "\n"), "tunl0 appeared when the kernel loaded the ipip module")

	// And back to DR.
	rec, res, err = Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100")}, rec)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"remove  10.0.3.100/32 from tunl0",
		"restore net.ipv4.conf.all.rp_filter = 1 (was 0)",
		"restore net.ipv4.conf.tunl0.arp_announce = 0 (was 2)",
		"restore net.ipv4.conf.tunl0.arp_ignore = 0 (was 1)",
		"down    tunl0",
		"set     net.ipv4.conf.lo.arp_ignore = 1 (was 0)",
		"set     net.ipv4.conf.lo.arp_announce = 2 (was 0)",
		"add     10.0.3.100/32 to lo",
	}, changeLines(res))

	_, _, err = Stop(f, rec)
	require.NoError(t, err)
	// tunl0 stays (the module made it), down, as it came.
	f.links = f.links[:2]
	for k := range f.sysctls {
		if k.Conf == TunnelDevice {
			delete(f.sysctls, k)
		}
	}
	assert.Equal(t, before, f.snapshot())
}

func TestStopLeavesValuesChangedSinceStart(t *testing.T) {
	f := newFakeSys()
	rec, _, err := Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100")}, nil)
	require.NoError(t, err)
	f.sysctls[Sysctl{"all", ArpIgnore}] = "3" // an admin changed it since

	// A second start sets it again but remembers the value before the first.
	rec, res, err := Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100")}, rec)
	require.NoError(t, err)
	assert.Equal(t, []string{"set     net.ipv4.conf.all.arp_ignore = 1 (was 3)"}, changeLines(res))
	i, _ := rec.sysctl(Sysctl{"all", ArpIgnore})
	assert.Equal(t, "0", rec.Sysctls[i].Previous)

	f.sysctls[Sysctl{"all", ArpIgnore}] = "2"
	_, res, err = Stop(f, rec)
	require.NoError(t, err)
	assert.Equal(t, "2", f.sysctls[Sysctl{"all", ArpIgnore}])
	assert.Contains(t, res.Notes, "net.ipv4.conf.all.arp_ignore is 2, not the 1 lvsctl set: changed since start, left as is (it was 0 before start)")
}

func TestStartRollsBackOnFailure(t *testing.T) {
	f := newFakeSys()
	before := f.snapshot()
	f.failOn = "add 10.0.3.101/32"
	rec, res, err := Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100", "10.0.3.101")}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "add 10.0.3.101/32 to lo")
	assert.Contains(t, err.Error(), "undone")
	assert.Empty(t, res.Changes)
	assert.True(t, rec.Empty())
	assert.Equal(t, before, f.snapshot())

	// A failure while undoing keeps that change recorded.
	f.failOn = ""
	rec, _, err = Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100")}, nil)
	require.NoError(t, err)
	f.failOn = "remove 10.0.3.100"
	left, _, err := Stop(f, rec)
	require.Error(t, err)
	assert.Equal(t, []AddressChange{{"lo", netip.MustParsePrefix("10.0.3.100/32")}}, left.Addresses)
	assert.Empty(t, left.Sysctls)
	f.failOn = ""
	left, _, err = Stop(f, left)
	require.NoError(t, err)
	assert.Nil(t, left)
	assert.Equal(t, before, f.snapshot())
}

func TestStaleRecord(t *testing.T) {
	f := newFakeSys()
	rec, _, err := Start(f, Config{Mode: DR, VIPs: vips("10.0.3.100")}, nil)
	require.NoError(t, err)

	// A reboot: the namespace is fresh, the record is not.
	g := newFakeSys()
	g.id.BootID = "boot-2"
	g.sysctls[Sysctl{"all", ArpIgnore}] = "1" // say, from sysctl.conf
	left, res, err := Stop(g, rec)
	require.NoError(t, err)
	assert.Nil(t, left)
	assert.Empty(t, res.Changes)
	assert.Equal(t, "1", g.sysctls[Sysctl{"all", ArpIgnore}], "nothing of the old record is applied")
	require.Len(t, res.Notes, 1)

	rec2, res, err := Start(g, Config{Mode: DR, VIPs: vips("10.0.3.100")}, rec)
	require.NoError(t, err)
	assert.Contains(t, res.Notes[0], "starting afresh")
	_, found := rec2.sysctl(Sysctl{"all", ArpIgnore})
	assert.False(t, found, "already 1 in this boot: not recorded, so stop leaves it")
}

func TestTUN(t *testing.T) {
	t.Run("module", func(t *testing.T) {
		f := newFakeSys()
		f.sysctls[Sysctl{"default", RPFilter}] = "1"
		f.sysctls[Sysctl{"all", RPFilter}] = "2" // loose accepts decapsulated packets
		rec, res, err := Start(f, Config{Mode: TUN, VIPs: vips("10.0.6.100")}, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{
			"set     net.ipv4.conf.all.arp_ignore = 1 (was 0)",
			"set     net.ipv4.conf.all.arp_announce = 2 (was 0)",
			"set     net.ipv4.conf.tunl0.arp_ignore = 1 (was 0)",
			"set     net.ipv4.conf.tunl0.arp_announce = 2 (was 0)",
			"set     net.ipv4.conf.tunl0.rp_filter = 0 (was 1)",
			"up      tunl0",
			"add     10.0.6.100/32 to tunl0",
		}, changeLines(res))
		_, res, err = Stop(f, rec)
		require.NoError(t, err)
		assert.Equal(t, "1", f.sysctls[Sysctl{TunnelDevice, RPFilter}])
		assert.Contains(t, changeLines(res), "down    tunl0")
		assert.GreaterOrEqual(t, f.linkIndex(TunnelDevice), 0, "the module's tunl0 stays")
	})
	t.Run("created", func(t *testing.T) {
		f := newFakeSys()
		f.ipip = "create"
		before := f.snapshot()
		rec, res, err := Start(f, Config{Mode: TUN, VIPs: vips("10.0.6.100")}, nil)
		require.NoError(t, err)
		assert.Equal(t, "create  tunl0 (ipip)", res.Changes[0].String())
		assert.Equal(t, []LinkChange{{Name: TunnelDevice, Created: true, SetUp: true}}, rec.Links)
		_, res, err = Stop(f, rec)
		require.NoError(t, err)
		assert.Equal(t, []string{
			"remove  10.0.6.100/32 from tunl0",
			"restore net.ipv4.conf.all.arp_announce = 0 (was 2)",
			"restore net.ipv4.conf.all.arp_ignore = 0 (was 1)",
			"delete  tunl0",
		}, changeLines(res), "the sysctls of a deleted link go with it")
		assert.Equal(t, before, f.snapshot())
	})
	t.Run("created then failed", func(t *testing.T) {
		f := newFakeSys()
		f.ipip = "create"
		before := f.snapshot()
		f.failOn = "add 10.0.6.100"
		rec, _, err := Start(f, Config{Mode: TUN, VIPs: vips("10.0.6.100")}, nil)
		require.Error(t, err)
		assert.True(t, rec.Empty(), "%+v", rec)
		assert.Equal(t, before, f.snapshot())
	})
	t.Run("no ipip", func(t *testing.T) {
		f := newFakeSys()
		f.ipip = ""
		before := f.snapshot()
		rec, _, err := Start(f, Config{Mode: TUN, VIPs: vips("10.0.6.100")}, nil)
		require.ErrorIs(t, err, ErrNoIPIP)
		assert.True(t, rec.Empty())
		assert.Equal(t, before, f.snapshot())
	})
}

func TestIPv6OnlyNeedsNoSysctls(t *testing.T) {
	f := newFakeSys()
	rec, res, err := Start(f, Config{Mode: DR, VIPs: vips("2001:db8::100")}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"add     2001:db8::100/128 to lo"}, changeLines(res))
	assert.Empty(t, rec.Sysctls)
}

func TestStartValidates(t *testing.T) {
	f := newFakeSys()
	_, _, err := Start(f, Config{Mode: TUN, VIPs: vips("2001:db8::1", "127.0.0.1", "10.0.0.1", "10.0.0.1")}, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrUnsupported))
	for _, want := range []string{"IPv6 VIPs in tun mode", "loopback", "given twice"} {
		assert.Contains(t, err.Error(), want)
	}
	_, _, err = Start(f, Config{Mode: DR}, nil)
	assert.ErrorContains(t, err, "no VIPs")
	assert.Empty(t, f.writes())
}
