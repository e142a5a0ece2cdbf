package ipvs

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// listFamily is a fake IPVS family for the listing requests: services and
// their real servers in a fixed "kernel order", timeouts, sync daemons.
type listFamily struct {
	t        *testing.T
	services [][]byte            // GET_SERVICE replies (IPVS_CMD_ATTR_SERVICE and its content)
	keys     []ServiceKey        // the key of each
	dests    map[string][][]byte // GET_DEST replies by key
	timeouts []byte
	daemons  [][]byte
}

func (f *listFamily) serve(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
	if nreq.Header.Type == 0 {
		return nil, io.EOF
	}
	reply := func(payloads ...[]byte) ([]genetlink.Message, error) {
		if len(payloads) == 0 {
			return nil, io.EOF
		}
		var out []genetlink.Message
		for _, p := range payloads {
			out = append(out, genetlink.Message{Header: genetlink.Header{Command: greq.Header.Command, Version: 1}, Data: p})
		}
		return out, nil
	}
	dump := nreq.Header.Flags&netlink.Dump != 0
	switch greq.Header.Command {
	case cmdGetService:
		if dump {
			return reply(f.services...)
		}
		st, err := serviceFromMessage(greq.Data)
		require.NoError(f.t, err)
		for i, k := range f.keys {
			if k == st.Service.Key {
				return reply(f.services[i])
			}
		}
		return nil, genltest.Error(int(unix.ESRCH))
	case cmdGetDest:
		st, err := serviceFromMessage(greq.Data)
		require.NoError(f.t, err)
		return reply(f.dests[st.Service.Key.String()]...)
	case cmdGetConfig:
		return reply(f.timeouts)
	case cmdGetDaemon:
		return reply(f.daemons...)
	}
	f.t.Errorf("unexpected command %d", greq.Header.Command)
	return nil, genltest.Error(int(unix.EOPNOTSUPP))
}

func (f *listFamily) open(t *testing.T) *Netlink {
	f.t = t
	n, err := newNetlink(genltest.Dial(genltest.ServeFamily(genetlink.Family{ID: fakeFamilyID, Name: "IPVS", Version: 1}, f.serve)))
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	return n
}

// svcMessage is a GET_SERVICE reply for s with a raw IPv4 netmask and a
// persistence engine, which encodeService cannot express.
func svcMessage(t *testing.T, s VirtualService, mask []byte, pe string) []byte {
	t.Helper()
	b, err := encodeService(s, true)
	require.NoError(t, err)
	as, err := netlink.UnmarshalAttributes(b)
	require.NoError(t, err)
	for i := range as {
		if as[i].Type == svcAttrNetmask && mask != nil {
			as[i].Data = mask
		}
	}
	if pe != "" {
		as = append(as, netlink.Attribute{Type: svcAttrPEName, Data: append([]byte(pe), 0)})
	}
	nested, err := netlink.MarshalAttributes(as)
	require.NoError(t, err)
	return nlAttr(t, cmdAttrService, nested)
}

func destMessage(t *testing.T, r RealServer) []byte {
	t.Helper()
	b, err := encodeDest(r, true)
	require.NoError(t, err)
	return nlAttr(t, cmdAttrDest, b)
}

func TestNetlinkListKernelOrder(t *testing.T) {
	b := VirtualService{Key: ServiceKey{Family: IPv4, Protocol: TCP, Addr: netip.MustParseAddr("192.168.0.1"), Port: 80}, Scheduler: "rr",
		Persistence: 60 * time.Second}
	a := VirtualService{Key: ServiceKey{Family: IPv4, Protocol: TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 5060}, Scheduler: "rr",
		Persistence: 60 * time.Second}
	r2 := RealServer{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80, Weight: 1}
	r1 := RealServer{Addr: netip.MustParseAddr("10.1.0.1"), Port: 80, Weight: 2}
	f := &listFamily{
		services: [][]byte{svcMessage(t, b, []byte{255, 0, 255, 0}, ""), svcMessage(t, a, nil, "sip")},
		keys:     []ServiceKey{b.Key, a.Key},
		dests:    map[string][][]byte{b.Key.String(): {destMessage(t, r2), destMessage(t, r1)}},
	}
	n := f.open(t)
	listed, err := n.List(context.Background())
	require.NoError(t, err)
	require.Len(t, listed, 2)
	assert.Equal(t, b.Key, listed[0].Service.Key, "the kernel's order")
	assert.Equal(t, netip.MustParseAddr("255.0.255.0"), listed[0].Netmask, "the netmask as the kernel has it")
	assert.Equal(t, 8, listed[0].Service.PersistenceMask, "its leading ones")
	assert.Equal(t, netip.MustParseAddr("255.0.255.0"), listed[0].PersistenceNetmask())
	require.Len(t, listed[0].Reals, 2)
	assert.Equal(t, r2.Addr, listed[0].Reals[0].Real.Addr, "real servers in the kernel's order")
	assert.Equal(t, []RealServer{listed[0].Reals[0].Real, listed[0].Reals[1].Real}, listed[0].Service.RealServers)
	assert.Equal(t, "sip", listed[1].PEName)
	assert.Equal(t, netip.MustParseAddr("255.255.255.255"), listed[1].Netmask)
	assert.NotNil(t, listed[1].Reals, "no real servers is an empty list")

	// Table sorts both.
	table, err := n.Table(context.Background())
	require.NoError(t, err)
	assert.Equal(t, a.Key, table[0].Service.Key)
	assert.Equal(t, r1.Addr, table[1].Reals[0].Real.Addr)
	assert.Equal(t, r1.Addr, table[1].Service.RealServers[0].Addr)

	one, err := n.ListService(context.Background(), b.Key)
	require.NoError(t, err)
	assert.Equal(t, listed[0], one)
	_, err = n.ListService(context.Background(), ServiceKey{Family: IPv4, FWMark: 9})
	assert.ErrorIs(t, err, ErrNoService)
	assert.ErrorIs(t, err, unix.ESRCH)
}

func TestPersistenceNetmask(t *testing.T) {
	for plen, want := range map[int]string{0: "255.255.255.255", 32: "255.255.255.255", 24: "255.255.255.0", 1: "128.0.0.0", 9: "255.128.0.0"} {
		var l ListedService
		l.Service.PersistenceMask = plen
		assert.Equal(t, want, l.PersistenceNetmask().String(), "/%d", plen)
	}
}

func TestNetlinkTimeoutsAndDaemons(t *testing.T) {
	to := netlink.NewAttributeEncoder()
	to.Uint32(cmdAttrTimeoutTCP, 900)
	to.Uint32(cmdAttrTimeoutTCPFin, 120)
	to.Uint32(cmdAttrTimeoutUDP, 300)
	tb, err := to.Encode()
	require.NoError(t, err)
	daemon := func(fn func(ae *netlink.AttributeEncoder)) []byte {
		ae := netlink.NewAttributeEncoder()
		ae.Nested(cmdAttrDaemon, func(n *netlink.AttributeEncoder) error { fn(n); return nil })
		b, err := ae.Encode()
		require.NoError(t, err)
		return b
	}
	f := &listFamily{timeouts: tb, daemons: [][]byte{
		daemon(func(ae *netlink.AttributeEncoder) {
			ae.Uint32(daemonAttrState, 1)
			ae.String(daemonAttrMcastIfn, "eth0")
			ae.Uint32(daemonAttrSyncID, 7)
			ae.Uint16(daemonAttrSyncMaxLen, 1472)
			ae.Uint16(daemonAttrMcastPort, 8848)
			ae.Uint8(daemonAttrMcastTTL, 1)
			ae.Bytes(daemonAttrMcastGroup, []byte{224, 0, 0, 81})
		}),
		daemon(func(ae *netlink.AttributeEncoder) {
			ae.Uint32(daemonAttrState, 2)
			ae.String(daemonAttrMcastIfn, "eth1")
			ae.Uint32(daemonAttrSyncID, 0)
			ae.Bytes(daemonAttrMcastGroup6, netip.MustParseAddr("ff02::81").AsSlice())
		}),
	}}
	n := f.open(t)
	got, err := n.Timeouts(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}, got)
	ds, err := n.SyncDaemons(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []SyncDaemon{
		{State: SyncMaster, Interface: "eth0", SyncID: 7, MaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1},
		{State: SyncBackup, Interface: "eth1", Group: netip.MustParseAddr("ff02::81")},
	}, ds)
	assert.Equal(t, "master", SyncMaster.String())

	_, err = decodeDaemon(nlAttr(t, daemonAttrMcastGroup, []byte{1, 2, 3}))
	assert.Error(t, err, "a 3-byte group")
	_, err = decodeTimeouts(nlAttr(t, cmdAttrTimeoutTCP, []byte{1}))
	assert.Error(t, err)
}

// rawPair returns a dumper writing to and reading from one end of a
// datagram socket pair, and the other end, which plays the kernel.
func rawPair(t *testing.T) (*dumper, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	require.NoError(t, err)
	require.NoError(t, unix.SetNonblock(fds[0], true))
	f := os.NewFile(uintptr(fds[0]), "dumper")
	t.Cleanup(func() { f.Close(); unix.Close(fds[1]) })
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	return &dumper{rc: rc, buf: make([]byte, 4096), seq: 41}, fds[1]
}

// kernelMsg is one netlink message: header (with seq) and payload.
func kernelMsg(typ uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, 16, 16+len(payload)+3)
	binary.NativeEndian.PutUint32(b[0:], uint32(16+len(payload)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], uint16(netlink.Multi))
	binary.NativeEndian.PutUint32(b[8:], seq)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestDumperRun(t *testing.T) {
	genl := func(s string) []byte { return append([]byte{cmdGetDest, 1, 0, 0}, s...) }
	errMsg := func(e int32) []byte { return binary.NativeEndian.AppendUint32(nil, uint32(e)) }
	for _, tc := range []struct {
		name  string
		grams func(seq uint32) [][]byte
		want  []string
		err   error
	}{
		{"two messages in a datagram, done in the next", func(seq uint32) [][]byte {
			return [][]byte{append(kernelMsg(0x23, seq, genl("a")), kernelMsg(0x23, seq, genl("bc"))...), kernelMsg(unix.NLMSG_DONE, seq, errMsg(0))}
		}, []string{"a", "bc"}, nil},
		{"done in the same datagram", func(seq uint32) [][]byte {
			return [][]byte{append(kernelMsg(0x23, seq, genl("x")), kernelMsg(unix.NLMSG_DONE, seq, errMsg(0))...)}
		}, []string{"x"}, nil},
		{"empty dump", func(seq uint32) [][]byte { return [][]byte{kernelMsg(unix.NLMSG_DONE, seq, errMsg(0))} }, nil, nil},
		{"kernel error", func(seq uint32) [][]byte {
			return [][]byte{kernelMsg(unix.NLMSG_ERROR, seq, errMsg(-int32(unix.EPERM)))}
		}, nil, unix.EPERM},
		{"another request's reply", func(seq uint32) [][]byte { return [][]byte{kernelMsg(0x23, seq-1, genl("old"))} }, nil, errors.New("netlink reply for request")},
		{"too large", func(seq uint32) [][]byte { return [][]byte{kernelMsg(0x23, seq, genl(string(make([]byte, 5000))))} }, nil, errors.New("larger than 4096")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, kernel := rawPair(t)
			attrs := []byte{4, 0, 1, 0}
			go func() {
				req := make([]byte, 128)
				n, _ := unix.Read(kernel, req)
				seq := binary.NativeEndian.Uint32(req[8:])
				if n != 24 || binary.NativeEndian.Uint16(req[4:]) != 0x23 || req[16] != cmdGetDest {
					return
				}
				for _, g := range tc.grams(seq) {
					unix.Write(kernel, g)
				}
			}()
			var got []string
			err := d.run(0x23, cmdGetDest, attrs, func(b []byte) error { got = append(got, string(b)); return nil })
			switch want := tc.err.(type) {
			case nil:
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
			case unix.Errno:
				assert.ErrorIs(t, err, want)
				var oe *netlink.OpError
				assert.ErrorAs(t, err, &oe, "a kernel error, not a broken socket")
			default:
				require.Error(t, err)
				assert.Contains(t, err.Error(), want.Error())
			}
		})
	}
}
