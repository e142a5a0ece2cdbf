package ipvs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// dumper runs dump requests directly on the socket's file descriptor. A
// listing makes one GET_DEST dump per service, and the generic path
// (genetlink.Conn.Execute) costs a MSG_PEEK and a fresh buffer per
// datagram; here each datagram is read once into one reused buffer of a
// page, the size libnl reads with, so that the kernel sizes its dump
// messages as it does for ipvsadm.
type dumper struct {
	rc  syscall.RawConn
	buf []byte
	seq uint32
	// Pipelined writes (netlink_batch_linux.go): the batch size, the
	// reused request buffer and the first sequence number of the batch in
	// flight.
	batch int
	wbuf  []byte
	first uint32
}

// dump sends one dump request and calls each with the payload (after the
// generic netlink header) of every reply message. It falls back to execute
// when the connection has no file descriptor (tests' fake families).
func (n *Netlink) dump(ctx context.Context, cmd uint8, attrs []byte, each func(data []byte) error) error {
	if n.c == nil {
		return errors.New("ipvs: netlink socket is closed")
	}
	if n.raw() == nil {
		msgs, err := n.execute(ctx, cmd, netlink.Request|netlink.Dump, attrs)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := each(m.Data); err != nil {
				return err
			}
		}
		return nil
	}
	if n.broken != nil {
		return n.broken
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d := n.dumper
	if cmd == cmdGetService && n.svcDumper != nil {
		d = n.svcDumper
	}
	err := n.guard(ctx, func() error { return d.run(uint16(n.family.ID), cmd, attrs, each) })
	var kerr *netlink.OpError
	if err != nil && !errors.As(err, &kerr) {
		// Not the kernel's answer: the socket may hold the rest of the reply.
		n.broken = errBroken
	}
	return err
}

// guard runs fn, a sequence of requests on the raw socket, so that
// cancelling ctx interrupts it: the socket's deadline moves to the past,
// and a request it cut short leaves the Netlink broken. A listing guards
// its thousands of dumps once, not once each.
func (n *Netlink) guard(ctx context.Context, fn func() error) error {
	if n.guarded {
		return fn()
	}
	c, svc := n.c, n.svc
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(interrupted)
		_ = c.SetDeadline(time.Unix(1, 0))
		if svc != nil {
			_ = svc.SetDeadline(time.Unix(1, 0))
		}
	})
	n.guarded = true
	err := fn()
	n.guarded = false
	if !stop() {
		<-interrupted
		_ = c.SetDeadline(time.Time{})
		if svc != nil {
			_ = svc.SetDeadline(time.Time{})
		}
		if err != nil {
			n.broken = errBroken
			return fmt.Errorf("ipvs: request interrupted: %w", ctx.Err())
		}
	}
	return err
}

// svcDumpBuf is the receive buffer of the service dump's own socket. The
// kernel sizes each dump message to the largest buffer the socket has read
// with, and IPVS resumes a service dump by walking its hash table from the
// start, skipping what it already sent: with page-sized messages of a few
// dozen services that walk is quadratic in the number of services, a tenth
// of a 100,000-object listing. Real-server dumps stay on the main socket
// and its page: one or two messages each, where 32 KiB allocations per
// message would cost more than they save.
const svcDumpBuf = 32 << 10

// raw returns the raw socket access, or nil when the connection has no
// file descriptor (tests' fake families).
func (n *Netlink) raw() *dumper {
	if n.dumper == nil {
		d := &dumper{seq: uint32(time.Now().UnixNano())}
		if rc, err := n.c.SyscallConn(); err == nil {
			d.rc, d.buf = rc, make([]byte, os.Getpagesize())
		}
		n.dumper = d
	}
	if n.dumper.rc == nil {
		return nil
	}
	return n.dumper
}

const nlmsgHdrLen = 16

// run sends the request and reads the replies until NLMSG_DONE.
func (d *dumper) run(family uint16, cmd uint8, attrs []byte, each func([]byte) error) error {
	d.seq++
	seq := d.seq
	if n := nlmsgHdrLen + 4 + len(attrs); cap(d.wbuf) < n {
		d.wbuf = make([]byte, n)
	}
	req := d.wbuf[:nlmsgHdrLen+4+len(attrs)]
	clear(req[:nlmsgHdrLen+4])
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], family)
	binary.NativeEndian.PutUint16(req[6:], uint16(netlink.Request|netlink.Dump))
	binary.NativeEndian.PutUint32(req[8:], seq)
	req[16], req[17] = cmd, genlVersion
	copy(req[20:], attrs)
	if err := d.send(req); err != nil {
		return err
	}
	for {
		done := false
		err := d.recv(func(typ uint16, _ netlink.HeaderFlags, mseq uint32, body []byte) error {
			if done {
				return nil
			}
			if mseq != seq {
				return fmt.Errorf("netlink reply for request %d, want %d", mseq, seq)
			}
			switch typ {
			case unix.NLMSG_DONE, unix.NLMSG_ERROR:
				if len(body) < 4 {
					return errors.New("short netlink done or error message")
				}
				done = true
				if e := int32(binary.NativeEndian.Uint32(body)); e < 0 {
					// Reported as genetlink.Conn.Execute does: errors.Is
					// finds the errno.
					return &netlink.OpError{Op: "receive", Err: unix.Errno(-e)}
				}
				return nil
			case unix.NLMSG_NOOP, unix.NLMSG_OVERRUN:
				return nil
			}
			if len(body) < 4 {
				return errors.New("short generic netlink message")
			}
			return each(body[4:])
		})
		if err != nil || done {
			return err
		}
	}
}

// send writes one datagram of requests to the kernel.
func (d *dumper) send(req []byte) error {
	var serr error
	if err := d.rc.Write(func(fd uintptr) bool {
		// No address: an unconnected netlink socket sends to the kernel.
		serr = unix.Sendto(int(fd), req, 0, nil)
		return serr != unix.EAGAIN
	}); err != nil {
		return err
	}
	return serr
}

// recv reads one datagram into the reused buffer and calls each with every
// netlink message in it: its type, flags, sequence number and payload.
func (d *dumper) recv(each func(typ uint16, flags netlink.HeaderFlags, seq uint32, body []byte) error) error {
	var (
		got, flags int
		rerr       error
	)
	if err := d.rc.Read(func(fd uintptr) bool {
		got, _, flags, _, rerr = unix.Recvmsg(int(fd), d.buf, nil, 0)
		return rerr != unix.EAGAIN && rerr != unix.EINTR
	}); err != nil {
		return err
	}
	if rerr != nil {
		return rerr
	}
	if flags&unix.MSG_TRUNC != 0 {
		return fmt.Errorf("netlink reply larger than %d bytes", len(d.buf))
	}
	for b := d.buf[:got]; len(b) >= nlmsgHdrLen; {
		l := int(binary.NativeEndian.Uint32(b[0:]))
		if l < nlmsgHdrLen || l > len(b) {
			return fmt.Errorf("malformed netlink message (length %d of %d)", l, len(b))
		}
		typ := binary.NativeEndian.Uint16(b[4:])
		hflags := netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:]))
		seq := binary.NativeEndian.Uint32(b[8:])
		body := b[nlmsgHdrLen:l]
		if next := (l + 3) &^ 3; next < len(b) {
			b = b[next:]
		} else {
			b = nil
		}
		if err := each(typ, hflags, seq, body); err != nil {
			return err
		}
	}
	return nil
}
