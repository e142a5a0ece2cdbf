package ipvs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Pipelined writes. ipvsadm sends one request and waits for its
// acknowledgement before the next; a table of 50,000 objects is 50,000
// round trips. Apply instead packs a batch of requests into one datagram:
// the kernel handles the messages of a datagram one after another, each
// under the generic netlink lock, and queues one acknowledgement per
// request on the socket, which Apply then reads. The requests and the
// kernel's work are the same; the system calls and context switches are
// one per batch instead of two per object.
//
// The kernel does not stop at a rejected message: the rest of the
// datagram is still processed. Ops after a failed one in the same batch
// may therefore be applied; OpError.Later counts those that were. Ops that
// depend on the failed one (real servers of a service that could not be
// added) fail in turn and are not counted.

const (
	// ackRoom is what one queued acknowledgement may cost the socket's
	// receive buffer (the skb's true size, rounded up generously).
	ackRoom = 2048
	// maxBatch bounds a batch, and so the datagram and the burst of
	// acknowledgements.
	maxBatch = 1024
	minBatch = 16
	// wantRcvBuf is the receive buffer Apply asks for (SO_RCVBUFFORCE,
	// which needs CAP_NET_ADMIN, as programming IPVS does anyway).
	wantRcvBuf = 4 << 20
)

// batchSize sizes batches so that every acknowledgement of one batch fits
// in the socket's receive buffer: an acknowledgement that does not fit is
// dropped by the kernel and the socket reports ENOBUFS.
func (d *dumper) batchSize() int {
	if d.batch > 0 {
		return d.batch
	}
	rcvbuf := 0
	_ = d.rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, wantRcvBuf) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, wantRcvBuf)
		}
		rcvbuf, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	})
	d.batch = min(max(rcvbuf/ackRoom, minBatch), maxBatch)
	return d.batch
}

// applyPipelined is Apply over the raw socket.
func (n *Netlink) applyPipelined(ctx context.Context, ops []Op) (int, error) {
	d := n.dumper
	size := d.batchSize()
	for start := 0; start < len(ops); start += size {
		if err := ctx.Err(); err != nil {
			return start, err
		}
		if n.broken != nil {
			return start, n.broken
		}
		end := min(start+size, len(ops))
		req, sent, encErr := d.encodeBatch(uint16(n.family.ID), ops[start:end])
		var (
			fail, later int
			failErr     error
		)
		err := n.guard(ctx, func() (err error) {
			fail, failErr, later, err = d.exchange(req, sent)
			return err
		})
		if cerr := ctx.Err(); err != nil && cerr != nil && errors.Is(err, cerr) {
			return start, err // interrupted: the batch may or may not be applied
		}
		if err != nil {
			// Lost or garbled acknowledgements: what the batch did is
			// unknown, and so is what the socket still holds.
			n.broken = errBroken
			return start, fmt.Errorf("ipvs: apply %d ops: %w (the table must be read back)", sent, err)
		}
		if fail >= 0 {
			i := start + fail
			return i, &OpError{Op: ops[i], Err: opFailure(ops[i], failErr), Later: later}
		}
		if encErr != nil {
			i := start + sent
			return i, &OpError{Op: ops[i], Err: encErr}
		}
	}
	return len(ops), nil
}

// encodeBatch packs ops into one buffer of netlink messages with
// consecutive sequence numbers. It stops at an op that cannot be encoded,
// returning how many it packed and the encoding error.
func (d *dumper) encodeBatch(family uint16, ops []Op) ([]byte, int, error) {
	b := d.wbuf[:0]
	d.first = d.seq + 1
	for i, op := range ops {
		cmd, attrs, err := encodeOp(op)
		if err != nil {
			d.wbuf = b
			return b, i, err
		}
		d.seq++
		l := nlmsgHdrLen + 4 + len(attrs)
		at := len(b)
		b = append(b, make([]byte, (l+3)&^3)...)
		m := b[at:]
		binary.NativeEndian.PutUint32(m[0:], uint32(l))
		binary.NativeEndian.PutUint16(m[4:], family)
		binary.NativeEndian.PutUint16(m[6:], uint16(netlink.Request|netlink.Acknowledge))
		binary.NativeEndian.PutUint32(m[8:], d.seq)
		m[16], m[17] = cmd, genlVersion
		copy(m[20:], attrs)
	}
	d.wbuf = b
	return b, len(ops), nil
}

// exchange sends one batch of n requests and reads their n
// acknowledgements. fail is the index of the first rejected request (-1:
// none) with the kernel's error, later the number of requests after it
// that the kernel accepted. err means the exchange itself failed.
func (d *dumper) exchange(req []byte, n int) (fail int, failErr error, later int, err error) {
	fail = -1
	if n == 0 {
		return fail, nil, 0, nil
	}
	if err := d.send(req); err != nil {
		return fail, nil, 0, err
	}
	for acked := 0; acked < n; {
		err := d.recv(func(typ uint16, hflags netlink.HeaderFlags, seq uint32, body []byte) error {
			if typ != unix.NLMSG_ERROR {
				return fmt.Errorf("unexpected netlink message type %d in reply to a write", typ)
			}
			if idx := int(seq - d.first); idx != acked {
				return fmt.Errorf("netlink acknowledgement for request %d, want %d", seq, d.first+uint32(acked))
			}
			acked++
			if len(body) < 4 {
				return errors.New("short netlink acknowledgement")
			}
			code := int32(binary.NativeEndian.Uint32(body))
			switch {
			case code == 0 && fail >= 0:
				later++
			case code < 0 && fail < 0:
				fail, failErr = acked-1, ackError(body, hflags, code)
			}
			return nil
		})
		if err == unix.ENOBUFS {
			return -1, nil, 0, errors.New("acknowledgements lost: the socket's receive buffer overflowed")
		}
		if err != nil {
			return -1, nil, 0, err
		}
	}
	return fail, failErr, later, nil
}

// ackError is the error of a rejecting acknowledgement, reported as
// genetlink.Conn.Execute does (errors.Is finds the errno), with the
// kernel's extended-acknowledgement message if there is one. The body is
// struct nlmsgerr: the errno, the request's header and (unless the kernel
// capped it) the request's payload, then the TLVs.
func ackError(body []byte, flags netlink.HeaderFlags, code int32) error {
	oerr := &netlink.OpError{Op: "receive", Err: unix.Errno(-code)}
	if flags&netlink.AcknowledgeTLVs == 0 || len(body) < 4+nlmsgHdrLen {
		return oerr
	}
	off := 4 + nlmsgHdrLen
	if flags&netlink.Capped == 0 {
		off = 4 + int(binary.NativeEndian.Uint32(body[4:]))
	}
	if off > len(body) {
		return oerr
	}
	ad, err := netlink.NewAttributeDecoder(body[off:])
	if err != nil {
		return oerr
	}
	for ad.Next() {
		if ad.Type() == unix.NLMSGERR_ATTR_MSG {
			oerr.Message = ad.String()
		}
	}
	return oerr
}
