//go:build nobgp

package bgp

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

func TestNoBGPBuild(t *testing.T) {
	_, err := New(Config{ASN: 1, RouterID: netip.MustParseAddr("10.0.0.1")})
	if !errors.Is(err, ErrNotBuilt) {
		t.Fatalf("New() = %v, want ErrNotBuilt", err)
	}
}

func TestNoBGPSetConfig(t *testing.T) {
	var s *Speaker
	err := s.SetConfig(context.Background(), Config{ASN: 1, RouterID: netip.MustParseAddr("10.0.0.1")})
	if !errors.Is(err, ErrNotBuilt) {
		t.Fatalf("SetConfig() = %v, want ErrNotBuilt", err)
	}
}
