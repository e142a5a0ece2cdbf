package ipvs

import (
	"context"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestSetTimeoutsAttributes(t *testing.T) {
	f := &daemonFamily{}
	n := f.open(t)
	require.NoError(t, n.SetTimeouts(context.Background(), Timeouts{TCP: 900 * time.Second, UDP: 300 * time.Second}))
	require.Equal(t, []uint8{cmdSetConfig}, f.cmds)
	assert.NotZero(t, f.flags[0]&netlink.Acknowledge)
	as, err := netlink.UnmarshalAttributes(f.data[0])
	require.NoError(t, err)
	for i := range as {
		as[i].Length = 0
	}
	// What ipvsadm 1.31 sends for --set 900 0 300 (host order, little
	// endian here).
	assert.Equal(t, []netlink.Attribute{
		{Type: cmdAttrTimeoutTCP, Data: []byte{0x84, 0x03, 0, 0}},
		{Type: cmdAttrTimeoutTCPFin, Data: []byte{0, 0, 0, 0}},
		{Type: cmdAttrTimeoutUDP, Data: []byte{0x2c, 0x01, 0, 0}},
	}, as)
	tt, err := decodeTimeouts(f.data[0])
	require.NoError(t, err)
	assert.Equal(t, Timeouts{TCP: 900 * time.Second, UDP: 300 * time.Second}, tt, "what GET_CONFIG would read back")
}

func TestSetTimeoutsInvalid(t *testing.T) {
	f := &daemonFamily{}
	n := f.open(t)
	for _, bad := range []Timeouts{{TCP: -time.Second}, {UDP: 1500 * time.Millisecond}, {TCPFin: 1000 * time.Hour}} {
		assert.ErrorContains(t, n.SetTimeouts(context.Background(), bad), "want whole seconds")
	}
	assert.Empty(t, f.cmds, "nothing sent")
	f.errno = unix.EINVAL
	assert.ErrorIs(t, n.SetTimeouts(context.Background(), Timeouts{TCP: time.Second}), unix.EINVAL)
}
