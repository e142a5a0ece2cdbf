package director

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/bgp"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// TestAnnouncerBFDStatus: the speaker's BFD events reach Status per
// neighbor; a neighbor without a bfd block reports none; a session leaving
// up is counted; a stopped speaker leaves BFD down.
func TestAnnouncerBFDStatus(t *testing.T) {
	ss := &speakers{made: make(chan *fakeSpeaker, 4)}
	a := NewAnnouncer(BGPOptions{NewSpeaker: ss.new, Links: &fakeLinks{}, Probe: func(context.Context, lvshcl.VRRPScript) (bool, string) { return true, "" },
		After: func(time.Duration) <-chan time.Time { return nil }})
	cfg := bgpConfig()
	tor1 := netip.MustParseAddr("10.0.0.1")
	tor2 := netip.MustParseAddr("10.0.0.2")
	cfg.BGP.Neighbors[0].BFD = &lvshcl.BGPBFD{MinTx: 100 * time.Millisecond, MinRx: 100 * time.Millisecond, Multiplier: 3}
	cfg.BGP.Neighbors = append(cfg.BGP.Neighbors, lvshcl.BGPNeighbor{Name: "tor2", Address: tor2, ASN: 65000})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, cfg, nil) }()
	s := recv(t, ss.made, "speaker")
	recv(t, s.sets, "first convergence")
	require.NotNil(t, s.cfg.OnBFD, "the announcer listens to the speaker's BFD states")

	bfdOf := func(addr netip.Addr) BGPNeighborStatus {
		for _, n := range a.Status().Neighbors {
			if n.Address == addr {
				return n
			}
		}
		t.Fatalf("no neighbor %v in %+v", addr, a.Status().Neighbors)
		return BGPNeighborStatus{}
	}
	assert.Equal(t, bgp.BFDDown, bfdOf(tor1).BFD, "configured, not up yet")
	assert.Equal(t, bgp.BFDOff, bfdOf(tor2).BFD, "no bfd block")

	t0 := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	for i, step := range []struct {
		state     bgp.BFDState
		wantDowns uint64
	}{
		{bgp.BFDInit, 0},
		{bgp.BFDUp, 0},
		{bgp.BFDUp, 0}, // no change: no count
		{bgp.BFDDown, 1},
		{bgp.BFDUp, 1},
		{bgp.BFDAdminDown, 2},
	} {
		at := t0.Add(time.Duration(i) * time.Second)
		s.cfg.OnBFD(bgp.BFDEvent{Name: "tor1", Address: tor1, State: step.state, Time: at})
		n := bfdOf(tor1)
		assert.Equal(t, step.state, n.BFD, "step %d", i)
		assert.Equal(t, step.wantDowns, n.BFDDowns, "step %d", i)
		if i != 2 {
			assert.Equal(t, at, n.BFDSince, "step %d", i)
		}
	}
	s.cfg.OnBFD(bgp.BFDEvent{Address: netip.MustParseAddr("10.0.0.9"), State: bgp.BFDUp}) // unknown: ignored
	assert.Len(t, a.Status().Neighbors, 2)

	s.cfg.OnBFD(bgp.BFDEvent{Name: "tor1", Address: tor1, State: bgp.BFDUp, Time: t0})
	cancel()
	require.NoError(t, <-done)
	n := bfdOf(tor1)
	assert.Equal(t, bgp.BFDDown, n.BFD, "the speaker stopped")
	assert.Equal(t, uint64(3), n.BFDDowns)
	assert.Equal(t, bgp.BFDOff, bfdOf(tor2).BFD)
}
