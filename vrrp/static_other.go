//go:build !linux

package vrrp

import "log/slog"

// Statics keeps a Static; Linux only.
type Statics struct{}

// NewStatics returns ErrNotSupported off Linux.
func NewStatics() (*Statics, error) { return nil, ErrNotSupported }

// Apply implements the Linux API; it never runs.
func (*Statics) Apply(Static) error { return ErrNotSupported }

// Clear implements the Linux API; it never runs.
func (*Statics) Clear() error { return nil }

// Close implements the Linux API.
func (*Statics) Close() {}

// Watch implements the Linux API; it never runs.
func (*Statics) Watch(*slog.Logger) error { return ErrNotSupported }
