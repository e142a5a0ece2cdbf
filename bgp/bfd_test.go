//go:build !nobgp

package bgp

import (
	"testing"

	api "github.com/osrg/gobgp/v4/api"
)

// TestBFDState: GoBGP's BFD session states map to BFDState and print as
// lvsctl status shows them; a session GoBGP runs is never BFDOff.
func TestBFDState(t *testing.T) {
	for _, tc := range []struct {
		in   api.BfdSessionState
		want BFDState
		str  string
	}{
		{api.BfdSessionState_BFD_SESSION_STATE_UP, BFDUp, "up"},
		{api.BfdSessionState_BFD_SESSION_STATE_DOWN, BFDDown, "down"},
		{api.BfdSessionState_BFD_SESSION_STATE_INIT, BFDInit, "init"},
		{api.BfdSessionState_BFD_SESSION_STATE_ADMIN_DOWN, BFDAdminDown, "admindown"},
		{api.BfdSessionState_BFD_SESSION_STATE_UNSPECIFIED, BFDDown, "down"},
	} {
		got := bfdState(tc.in)
		if got != tc.want || got.String() != tc.str {
			t.Errorf("bfdState(%v) = %v (%q), want %v (%q)", tc.in, got, got.String(), tc.want, tc.str)
		}
	}
	if BFDOff.String() != "" {
		t.Errorf("BFDOff prints %q, want empty (no bfd block)", BFDOff.String())
	}
}
