package ipvs

import (
	"context"
	"net/netip"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// daemonFamily is a fake IPVS family that records NEW_DAEMON and DEL_DAEMON
// requests and answers with errno (0: success).
type daemonFamily struct {
	cmds  []uint8
	data  [][]byte
	flags []netlink.HeaderFlags
	errno unix.Errno
}

func (f *daemonFamily) open(t *testing.T) *Netlink {
	n, err := newNetlink(genltest.Dial(genltest.ServeFamily(genetlink.Family{ID: fakeFamilyID, Name: "IPVS", Version: 1},
		func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
			if nreq.Header.Type == 0 {
				return nil, nil
			}
			f.cmds = append(f.cmds, greq.Header.Command)
			f.data = append(f.data, greq.Data)
			f.flags = append(f.flags, nreq.Header.Flags)
			if f.errno != 0 {
				return nil, genltest.Error(int(f.errno))
			}
			return nil, nil
		})))
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	return n
}

// daemonAttrs decodes (host order: these tests assume little endian) the nested daemon attributes of a request, flags
// included, and checks the nesting.
func daemonAttrs(t *testing.T, b []byte) []netlink.Attribute {
	t.Helper()
	outer, err := netlink.UnmarshalAttributes(b)
	require.NoError(t, err)
	require.Len(t, outer, 1)
	assert.Equal(t, uint16(netlink.Nested|cmdAttrDaemon), outer[0].Type)
	inner, err := netlink.UnmarshalAttributes(outer[0].Data)
	require.NoError(t, err)
	for i := range inner {
		inner[i].Length = 0
	}
	return inner
}

func TestStartSyncDaemonAttributes(t *testing.T) {
	f := &daemonFamily{}
	n := f.open(t)
	ctx := context.Background()
	d := SyncDaemon{State: SyncMaster, Interface: "eth0", SyncID: 51, MaxLen: 1400,
		Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 2}
	require.NoError(t, n.StartSyncDaemon(ctx, d))
	require.Equal(t, []uint8{cmdNewDaemon}, f.cmds)
	assert.NotZero(t, f.flags[0]&netlink.Acknowledge)
	// What ipvsadm 1.31 sends for
	// --start-daemon master --mcast-interface eth0 --syncid 51
	// --sync-maxlen 1400 --mcast-port 8848 --mcast-ttl 2 --mcast-group 224.0.0.81.
	assert.Equal(t, []netlink.Attribute{
		{Type: daemonAttrState, Data: []byte{1, 0, 0, 0}},
		{Type: daemonAttrMcastIfn, Data: []byte("eth0\x00")},
		{Type: daemonAttrSyncID, Data: []byte{51, 0, 0, 0}},
		{Type: daemonAttrSyncMaxLen, Data: []byte{0x78, 0x05}},
		{Type: daemonAttrMcastPort, Data: []byte{0x90, 0x22}},
		{Type: daemonAttrMcastTTL, Data: []byte{2}},
		{Type: daemonAttrMcastGroup, Data: []byte{224, 0, 0, 81}},
	}, daemonAttrs(t, f.data[0]))
	// What the kernel would list is what was asked.
	outer, err := netlink.UnmarshalAttributes(f.data[0])
	require.NoError(t, err)
	got, err := decodeDaemon(outer[0].Data)
	require.NoError(t, err)
	assert.Equal(t, d, got)

	// Defaults are left to the kernel; an IPv6 group goes as GROUP6.
	require.NoError(t, n.StartSyncDaemon(ctx, SyncDaemon{State: SyncBackup, Interface: "eth1",
		Group: netip.MustParseAddr("ff02::81")}))
	assert.Equal(t, []netlink.Attribute{
		{Type: daemonAttrState, Data: []byte{2, 0, 0, 0}},
		{Type: daemonAttrMcastIfn, Data: []byte("eth1\x00")},
		{Type: daemonAttrSyncID, Data: []byte{0, 0, 0, 0}},
		{Type: daemonAttrMcastGroup6, Data: netip.MustParseAddr("ff02::81").AsSlice()},
	}, daemonAttrs(t, f.data[1]))

	require.NoError(t, n.StopSyncDaemon(ctx, SyncBackup))
	assert.Equal(t, uint8(cmdDelDaemon), f.cmds[2])
	assert.Equal(t, []netlink.Attribute{{Type: daemonAttrState, Data: []byte{2, 0, 0, 0}}}, daemonAttrs(t, f.data[2]))
}

func TestSyncDaemonRejected(t *testing.T) {
	ctx := context.Background()
	for _, d := range []SyncDaemon{
		{State: 0, Interface: "eth0"},
		{State: SyncMaster},
		{State: SyncMaster, Interface: "a-very-long-name"},
		{State: SyncMaster, Interface: "eth0", Group: netip.MustParseAddr("10.0.0.1")},
		{State: SyncMaster, Interface: "eth0", Group: netip.MustParseAddr("2001:db8::1")},
	} {
		f := &daemonFamily{}
		assert.Error(t, f.open(t).StartSyncDaemon(ctx, d), "%+v", d)
		assert.Empty(t, f.cmds, "nothing sent for %+v", d)
	}
	f := &daemonFamily{}
	assert.Error(t, f.open(t).StopSyncDaemon(ctx, 3))

	for errno, msg := range map[unix.Errno]string{unix.EEXIST: "already running", unix.ESRCH: "not running", unix.ENODEV: "no such interface"} {
		f := &daemonFamily{errno: errno}
		n := f.open(t)
		err := n.StartSyncDaemon(ctx, SyncDaemon{State: SyncMaster, Interface: "eth0"})
		require.Error(t, err)
		assert.ErrorIs(t, err, errno)
		assert.Contains(t, err.Error(), msg)
		assert.Contains(t, err.Error(), "master sync daemon on eth0")
	}
	f = &daemonFamily{errno: unix.EPERM}
	err := f.open(t).StopSyncDaemon(ctx, SyncMaster)
	assert.ErrorIs(t, err, ErrPermission)
}
