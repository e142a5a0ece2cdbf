//go:build !linux

package vrrp

import "errors"

// ErrNotSupported is returned by Run on systems other than Linux.
var ErrNotSupported = errors.New("vrrp: raw sockets and netlink need Linux")

func openSystem(*Instance) (system, error) { return nil, ErrNotSupported }
