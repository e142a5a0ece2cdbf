package checker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tcpConnect opens a TCP connection to raddr, from bindTo when it is
// valid, and closes it at once with a reset (see TCP): the whole of a TCP
// check. It uses the socket directly rather than net.Dialer, which for a
// connection nobody reads also sets TCP_NODELAY, asks the kernel for both
// addresses and parses the address as a string: at thousands of checks a
// second, that is a third of the checker's CPU time. For the same reason it
// only involves the runtime's poller (and its epoll registration, deadline
// timer and context hook) when the handshake is still under way after
// connect returns, which on loopback and near servers it rarely is.
func tcpConnect(ctx context.Context, raddr netip.AddrPort, bindTo netip.Addr, timeout time.Duration) error {
	if raddr.Addr().Zone() != "" || bindTo.Zone() != "" {
		c, err := dial(ctx, raddr, bindTo, timeout) // link-local: let net resolve the zone
		if err == nil {
			c.SetLinger(0)
			c.Close()
		}
		return err
	}
	deadline := time.Now().Add(timeout)
	fd, done, err := startConnect(raddr, bindTo)
	if done {
		if err == nil {
			closeReset(fd)
		}
		return err
	}
	f := os.NewFile(uintptr(fd), "tcp-check")
	defer f.Close()
	if err := waitConnect(ctx, f, deadline); err != nil {
		return err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { setLingerReset(int(fd)) }) // f.Close resets
}

// startConnect opens a non-blocking socket, binds it to bindTo when valid
// and starts connecting it to raddr. When done, the connect is over: fd is
// connected if err is nil, and closed otherwise. On loopback the handshake
// completes within connect, which still says EINPROGRESS: it is looked at
// before anyone waits.
func startConnect(raddr netip.AddrPort, bindTo netip.Addr) (fd int, done bool, err error) {
	fd, inProgress, err := openConnect(raddr, bindTo)
	if err != nil || !inProgress {
		return fd, true, err
	}
	if done, err := connectDone(fd); done {
		if err != nil {
			unix.Close(fd)
			return -1, true, err
		}
		return fd, true, nil
	}
	return fd, false, nil
}

// openConnect opens a non-blocking socket, binds it to bindTo when valid
// and starts connecting it to raddr: fd is connected, or connecting when
// inProgress; on error it is closed.
func openConnect(raddr netip.AddrPort, bindTo netip.Addr) (fd int, inProgress bool, err error) {
	ra := raddr.Addr().Unmap()
	if bindTo.IsValid() && bindTo.Unmap().Is4() != ra.Is4() {
		return -1, false, fmt.Errorf("bind_to %s and %s are of different families", bindTo, raddr.Addr())
	}
	family := unix.AF_INET6
	if ra.Is4() {
		family = unix.AF_INET
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, false, os.NewSyscallError("socket", err)
	}
	if bindTo.IsValid() {
		if err := bindNoPort(fd, bindTo.Unmap()); err != nil {
			unix.Close(fd)
			return -1, false, err
		}
	}
	switch err := connect(fd, netip.AddrPortFrom(ra, raddr.Port())); err {
	case nil, unix.EISCONN: // connected at once
		return fd, false, nil
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		return fd, true, nil
	default:
		unix.Close(fd)
		return -1, false, os.NewSyscallError("connect", err)
	}
}

// connected says whether the socket fd is connected.
func connected(fd int) bool { return getpeername(fd) == nil }

// waitConnect waits with the runtime's poller until the connect that
// startConnect began on f is over, until deadline or until ctx is done.
// A connect found complete at the deadline succeeds: the goroutine may
// come late (a saturated process) to a connect that completed in time,
// and the runtime's poller reports a passed deadline without looking.
func waitConnect(ctx context.Context, f *os.File, deadline time.Time) error {
	if err := f.SetWriteDeadline(deadline); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	// Write calls the function, then waits for writability and calls it
	// again until it returns true. The state is checked on the first call
	// too: the readiness event may have come and gone before Write began.
	var cerr error
	err = rc.Write(func(fd uintptr) bool {
		var done bool
		done, cerr = connectDone(int(fd))
		return done
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		rc.Control(func(fd uintptr) {
			var done bool
			if done, cerr = connectDone(int(fd)); done {
				err = nil
			}
		})
	}
	if err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	return f.SetWriteDeadline(time.Time{})
}

// dialConn is dial for a probe that talks over the connection (HTTP): the
// connection from startConnect with TCP_NODELAY (as net sets it: a TLS
// client's last handshake flight and its request must not wait for an
// ACK), on the runtime's poller, but without net.Dialer's address parsing
// and lookups of both addresses, and without a wait on the poller for a
// handshake that is already over.
func dialConn(ctx context.Context, raddr netip.AddrPort, bindTo netip.Addr, timeout time.Duration) (net.Conn, error) {
	if raddr.Addr().Zone() != "" || bindTo.Zone() != "" {
		return dial(ctx, raddr, bindTo, timeout) // link-local: let net resolve the zone
	}
	deadline := time.Now().Add(timeout)
	fd, done, err := startConnect(raddr, bindTo)
	if err != nil {
		return nil, err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setsockopt", err)
	}
	f := os.NewFile(uintptr(fd), "tcp")
	if !done {
		if err := waitConnect(ctx, f, deadline); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &fileConn{File: f, remote: raddr}, nil
}

// fileConn is a connected TCP socket as a net.Conn.
type fileConn struct {
	*os.File
	remote netip.AddrPort
}

func (c *fileConn) LocalAddr() net.Addr {
	var local netip.AddrPort
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			switch sa, _ := unix.Getsockname(int(fd)); sa := sa.(type) {
			case *unix.SockaddrInet4:
				local = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
			case *unix.SockaddrInet6:
				local = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
			}
		})
	}
	return net.TCPAddrFromAddrPort(local)
}

func (c *fileConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.remote) }

// connectDone says whether the non-blocking connect of fd is over, and if
// so how it ended.
func connectDone(fd int) (bool, error) {
	if err := getpeername(fd); err == nil {
		return true, nil // connected
	} else if err != unix.ENOTCONN {
		return true, os.NewSyscallError("getpeername", err)
	}
	n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return true, os.NewSyscallError("getsockopt", err)
	}
	switch e := unix.Errno(n); e {
	case 0, unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		return false, nil // still connecting
	case unix.EISCONN:
		return true, nil
	default:
		return true, os.NewSyscallError("connect", e)
	}
}

// connect is unix.Connect without its allocations (the unix.Sockaddr),
// and without the runtime's syscall bookkeeping: the socket is
// non-blocking, so connect does not block.
func connect(fd int, ap netip.AddrPort) error {
	var e unix.Errno
	if a := ap.Addr(); a.Is4() {
		sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], ap.Port())
		_, _, e = unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unix.SizeofSockaddrInet4)
	} else {
		sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], ap.Port())
		_, _, e = unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unix.SizeofSockaddrInet6)
	}
	if e != 0 {
		return e
	}
	return nil
}

// getpeername is unix.Getpeername without its allocations, and without
// the address: it only says whether fd is connected (nil) or not.
func getpeername(fd int) error {
	var sa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	_, _, e := unix.RawSyscall(unix.SYS_GETPEERNAME, uintptr(fd), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return e
	}
	return nil
}

// setLingerReset makes the close of the connected socket fd send a reset
// and free the socket at once, instead of the FIN handshake and a minute of
// TIME_WAIT (see TCP).
func setLingerReset(fd int) {
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// closeReset closes the connected socket fd with a reset.
func closeReset(fd int) {
	setLingerReset(fd)
	unix.Close(fd)
}

// bindAddressNoPort is a net.Dialer Control function setting
// IP_BIND_ADDRESS_NO_PORT before the bind (see bindNoPort).
func bindAddressNoPort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// bindNoPort binds fd to address a, leaving the port to connect() with
// IP_BIND_ADDRESS_NO_PORT: a port bound early is reserved for every
// destination, and TIME_WAIT would exhaust them at thousands of checks a
// second.
func bindNoPort(fd int, a netip.Addr) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(a, 0))); err != nil {
		return os.NewSyscallError("bind", err)
	}
	return nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if a := ap.Addr(); a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}
