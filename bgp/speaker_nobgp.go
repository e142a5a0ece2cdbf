//go:build nobgp

package bgp

import (
	"context"
	"net/netip"
)

// Speaker is absent from a binary built with the nobgp tag.
type Speaker struct{}

// New returns ErrNotBuilt: this binary was built with the nobgp tag.
func New(cfg Config) (*Speaker, error) { return nil, ErrNotBuilt }

// Start returns ErrNotBuilt.
func (*Speaker) Start(context.Context) error { return ErrNotBuilt }

// SetAnnounced returns ErrNotBuilt.
func (*Speaker) SetAnnounced(context.Context, []Announcement) error { return ErrNotBuilt }

// Announced returns nothing.
func (*Speaker) Announced() []netip.Prefix { return nil }

// Peers returns ErrNotBuilt.
func (*Speaker) Peers(context.Context) ([]Peer, error) { return nil, ErrNotBuilt }

// Stop does nothing.
func (*Speaker) Stop(context.Context) error { return nil }

// SetConfig returns ErrNotBuilt.
func (*Speaker) SetConfig(context.Context, Config) error { return ErrNotBuilt }
