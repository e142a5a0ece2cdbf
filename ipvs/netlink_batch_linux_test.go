package ipvs

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// ack is the kernel's acknowledgement of the request req (its header and
// payload) with errno e (0: success). With tlvs, it carries an extended
// acknowledgement message; with capped, only the request's header.
func ack(req []byte, e int32, msg string, capped bool) []byte {
	flags := uint16(0)
	body := binary.NativeEndian.AppendUint32(nil, uint32(e))
	if e == 0 || capped {
		body = append(body, req[:nlmsgHdrLen]...)
		if e != 0 {
			flags |= uint16(netlink.Capped)
		}
	} else {
		body = append(body, req...)
	}
	if msg != "" {
		flags |= uint16(netlink.AcknowledgeTLVs)
		a := netlink.NewAttributeEncoder()
		a.String(unix.NLMSGERR_ATTR_MSG, msg)
		tlvs, _ := a.Encode()
		body = append(body, tlvs...)
	}
	m := kernelMsg(unix.NLMSG_ERROR, binary.NativeEndian.Uint32(req[8:]), body)
	binary.NativeEndian.PutUint16(m[6:], flags)
	return m
}

// splitRequests splits a datagram of requests.
func splitRequests(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		out = append(out, b[:l])
		b = b[min((l+3)&^3, len(b)):]
	}
	return out
}

func TestExchange(t *testing.T) {
	svc := VirtualService{Key: ServiceKey{Family: IPv4, Protocol: TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}, Scheduler: "rr"}
	var ops []Op
	for i := range 5 {
		ops = append(ops, Op{Kind: AddRealServer, Service: svc, Real: RealServer{Addr: netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}), Port: 80, Weight: 1}})
	}
	for _, tc := range []struct {
		name      string
		acks      func(reqs [][]byte) [][]byte
		fail      int
		later     int
		errno     unix.Errno
		msg       string
		exchErr   string
		wantCount int
	}{
		{name: "all accepted", fail: -1, acks: func(reqs [][]byte) [][]byte {
			var out [][]byte
			for _, r := range reqs {
				out = append(out, ack(r, 0, "", false))
			}
			return out
		}},
		{name: "second rejected, later ones applied or not", fail: 1, later: 2, errno: unix.EEXIST, msg: "dest exists",
			acks: func(reqs [][]byte) [][]byte {
				return [][]byte{ack(reqs[0], 0, "", false), ack(reqs[1], -int32(unix.EEXIST), "dest exists", false),
					ack(reqs[2], 0, "", false), ack(reqs[3], -int32(unix.ESRCH), "", false), ack(reqs[4], 0, "", false)}
			}},
		{name: "capped error ack", fail: 0, later: 0, errno: unix.EINVAL, msg: "bad",
			acks: func(reqs [][]byte) [][]byte {
				out := [][]byte{ack(reqs[0], -int32(unix.EINVAL), "bad", true)}
				for _, r := range reqs[1:] {
					out = append(out, ack(r, -int32(unix.EINVAL), "", true))
				}
				return out
			}},
		{name: "ack out of order", exchErr: "acknowledgement for request", acks: func(reqs [][]byte) [][]byte {
			return [][]byte{ack(reqs[1], 0, "", false)}
		}},
		{name: "not an ack", exchErr: "unexpected netlink message type", acks: func(reqs [][]byte) [][]byte {
			return [][]byte{kernelMsg(0x23, binary.NativeEndian.Uint32(reqs[0][8:]), []byte{1, 1, 0, 0})}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, kernel := rawPair(t)
			req, n, err := d.encodeBatch(0x23, ops)
			require.NoError(t, err)
			require.Equal(t, len(ops), n)
			reqs := splitRequests(req)
			require.Len(t, reqs, len(ops))
			for i, r := range reqs {
				assert.Equal(t, uint16(netlink.Request|netlink.Acknowledge), binary.NativeEndian.Uint16(r[6:]))
				assert.Equal(t, d.first+uint32(i), binary.NativeEndian.Uint32(r[8:]), "consecutive sequence numbers")
			}
			go func() {
				buf := make([]byte, 1<<16)
				if _, err := unix.Read(kernel, buf); err != nil {
					return
				}
				for _, a := range tc.acks(reqs) {
					unix.Write(kernel, a)
				}
			}()
			fail, failErr, later, err := d.exchange(req, n)
			if tc.exchErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.exchErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.fail, fail)
			assert.Equal(t, tc.later, later)
			if tc.fail < 0 {
				assert.NoError(t, failErr)
				return
			}
			assert.True(t, errors.Is(failErr, tc.errno), "%v", failErr)
			var oe *netlink.OpError
			require.ErrorAs(t, failErr, &oe)
			assert.Equal(t, tc.msg, oe.Message)
		})
	}
}

func TestEncodeBatchStopsAtBadOp(t *testing.T) {
	d, _ := rawPair(t)
	ops := []Op{
		{Kind: DeleteService, Service: VirtualService{Key: ServiceKey{Family: IPv4, Protocol: TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}}},
		{Kind: OpKind(99)},
	}
	req, n, err := d.encodeBatch(0x23, ops)
	require.Error(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, splitRequests(req), 1)
}

// BenchmarkCodec is the netlink codec per object: encoding one
// add-real-server request, and decoding a service and a real server as
// the kernel dumps them (captured from Linux 6.1).
func BenchmarkCodec(b *testing.B) {
	svc := VirtualService{Key: ServiceKey{Family: IPv4, Protocol: TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}, Scheduler: "wlc"}
	op := Op{Kind: AddRealServer, Service: svc, Real: RealServer{Addr: netip.MustParseAddr("10.0.1.1"), Port: 8080, Weight: 3}}
	b.Run("encode add real server", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := encodeOp(op); err != nil {
				b.Fatal(err)
			}
		}
	})
	svcMsg, destMsg := unhex(b, kernelService), unhex(b, kernelDestTunnel)
	b.Run("decode service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := serviceFromMessage(svcMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode real server", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := destFromMessage(destMsg, IPv4); err != nil {
				b.Fatal(err)
			}
		}
	})
}
