package checker

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sourceControl is the net.Dialer Control function of src: SO_REUSEADDR
// for a bind_port, SO_BINDTODEVICE for a bind_if.
func sourceControl(src Source) func(_, _ string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if src.Port != 0 {
				if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
					serr = os.NewSyscallError("setsockopt SO_REUSEADDR", err)
					return
				}
			}
			if src.Interface != "" {
				if err := unix.BindToDevice(int(fd), src.Interface); err != nil {
					serr = os.NewSyscallError("setsockopt SO_BINDTODEVICE "+src.Interface, err)
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}
