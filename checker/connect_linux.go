package checker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tcpConnect opens a TCP connection to raddr, from bindTo when it is
// valid, and closes it at once: the whole of a TCP check. It uses the
// socket directly rather than net.Dialer, which for a connection nobody
// reads also sets TCP_NODELAY, asks the kernel for both addresses and parses
// the address as a string: at thousands of checks a second, that is a third
// of the checker's CPU time.
func tcpConnect(ctx context.Context, raddr netip.AddrPort, bindTo netip.Addr, timeout time.Duration) error {
	if raddr.Addr().Zone() != "" || bindTo.Zone() != "" {
		c, err := dial(ctx, raddr, bindTo, timeout) // link-local: let net resolve the zone
		if err == nil {
			c.Close()
		}
		return err
	}
	deadline := time.Now().Add(timeout)
	ra := raddr.Addr().Unmap()
	if bindTo.IsValid() && bindTo.Unmap().Is4() != ra.Is4() {
		return fmt.Errorf("bind_to %s and %s are of different families", bindTo, raddr.Addr())
	}
	family := unix.AF_INET6
	if ra.Is4() {
		family = unix.AF_INET
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	if bindTo.IsValid() {
		if err := bindNoPort(fd, bindTo.Unmap()); err != nil {
			unix.Close(fd)
			return err
		}
	}
	switch err := unix.Connect(fd, sockaddr(netip.AddrPortFrom(ra, raddr.Port()))); err {
	case nil, unix.EISCONN: // loopback and very near servers
		unix.Close(fd)
		return nil
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
	default:
		unix.Close(fd)
		return os.NewSyscallError("connect", err)
	}

	// Wait for the outcome with the runtime's poller.
	f := os.NewFile(uintptr(fd), "tcp-check")
	defer f.Close()
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
		n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			cerr = os.NewSyscallError("getsockopt", err)
			return true
		}
		switch e := unix.Errno(n); e {
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			return false
		case 0:
			if _, err := unix.Getpeername(int(fd)); errors.Is(err, unix.ENOTCONN) {
				return false // still connecting
			}
			return true
		case unix.EISCONN:
			return true
		default:
			cerr = os.NewSyscallError("connect", e)
			return true
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	return cerr
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
