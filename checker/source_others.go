//go:build !linux

package checker

import (
	"errors"
	"syscall"
)

// sourceControl: a bind_if needs Linux's SO_BINDTODEVICE; a bind_port
// needs nothing more.
func sourceControl(src Source) func(_, _ string, c syscall.RawConn) error {
	return func(_, _ string, _ syscall.RawConn) error {
		if src.Interface != "" {
			return errors.New("bind_if needs Linux (SO_BINDTODEVICE)")
		}
		return nil
	}
}
