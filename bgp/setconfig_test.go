//go:build !nobgp

package bgp

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"
)

// session is the router's view of its one session with the director.
type session struct {
	state  api.PeerState_SessionState
	flops  uint32
	uptime time.Time
}

func (r *router) session(t *testing.T) session {
	t.Helper()
	var s session
	err := r.srv.ListPeer(t.Context(), &api.ListPeerRequest{}, func(p *api.Peer) {
		s.state = p.GetState().GetSessionState()
		s.flops = p.GetState().GetFlops()
		if u := p.GetTimers().GetState().GetUptime(); u != nil {
			s.uptime = u.AsTime()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *router) waitSession(t *testing.T, what string, cond func(session) bool) session {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := r.session(t)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("router: %s never happened; session %+v", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isUp(s session) bool { return s.state == api.PeerState_SESSION_STATE_ESTABLISHED }

// eventsFor returns the recorded transitions of one neighbor.
func (e *events) eventsFor(a netip.Addr) []PeerEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []PeerEvent
	for _, ev := range e.evs {
		if ev.Address == a {
			out = append(out, ev)
		}
	}
	return out
}

// TestSpeakerSetConfigByDifference: two routers, on 127.0.0.1 and
// 127.0.0.2. Every reload step must leave router A's session exactly as it
// was (no new flop, same uptime, no event at the speaker), while router B's
// session is added, updated in place, re-opened and removed.
func TestSpeakerSetConfigByDifference(t *testing.T) {
	port := freePort(t)
	ra := newRouterAt(t, "127.0.0.1", port, 65000, 65001)
	rb := newRouterAt(t, "127.0.0.2", port, 65000, 65001)
	addrA, addrB := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	nA := Neighbor{Name: "a", Address: addrA, ASN: 65000}
	nB := Neighbor{Name: "b", Address: addrB, ASN: 65000}
	cfg := Config{ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.2"), Port: port, HoldTime: 9 * time.Second,
		Neighbors: []Neighbor{nA}}
	ev := &events{ch: make(chan PeerEvent, 64)}
	cfg.OnPeer = ev.on
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	before := ra.waitSession(t, "A established", isUp)
	// Uptime has a resolution of one second: let it tick so that a re-opened
	// session would show a later one.
	time.Sleep(1100 * time.Millisecond)
	if err := s.SetAnnounced(ctx, ann("192.0.2.60/32")); err != nil {
		t.Fatal(err)
	}
	ra.waitFor(t, "the VIP at A", hasExactly("192.0.2.60/32"))
	eventsA := len(ev.eventsFor(addrA))

	untouched := func(step string) {
		t.Helper()
		now := ra.session(t)
		if !isUp(now) || now.flops != before.flops || !now.uptime.Equal(before.uptime) {
			t.Errorf("%s: router A's session changed: %+v, before %+v", step, now, before)
		}
		if got := ev.eventsFor(addrA); len(got) != eventsA {
			t.Errorf("%s: the speaker saw A's session change: %+v", step, got[eventsA:])
		}
		if len(ra.learned(t)) != 1 {
			t.Errorf("%s: router A lost the VIP", step)
		}
	}

	// Add B: B comes up and receives the announced VIP too.
	cfg.Neighbors = []Neighbor{nA, nB}
	if err := s.SetConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	b1 := rb.waitSession(t, "B established", isUp)
	rb.waitFor(t, "the VIP at B", hasExactly("192.0.2.60/32"))
	untouched("add B")

	// Rename A and change B's hold time: both in place, nothing flaps.
	time.Sleep(1100 * time.Millisecond)
	cfg.Neighbors = []Neighbor{nA, nB}
	cfg.Neighbors[0].Name = "a-renamed"
	cfg.Neighbors[1].HoldTime = 6 * time.Second
	if err := s.SetConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // a Cease would have arrived by now
	if now := rb.session(t); !isUp(now) || now.flops != b1.flops || !now.uptime.Equal(b1.uptime) {
		t.Errorf("hold time change: router B's session changed: %+v, before %+v", now, b1)
	}
	untouched("rename A, hold time of B")
	peers, err := s.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 2 || peers[0].Name != "a-renamed" || peers[1].Name != "b" {
		t.Errorf("Peers() = %+v, want a-renamed and b", peers)
	}

	// A source address for B re-opens B's session (and only B's).
	cfg.Neighbors[1].SourceAddress = addrA
	if err := s.SetConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rb.waitSession(t, "B re-opened", func(s session) bool { return isUp(s) && s.flops > b1.flops })
	rb.waitFor(t, "the VIP at B again", hasExactly("192.0.2.60/32"))
	untouched("source address of B")

	// An identity change is refused and changes nothing.
	bad := cfg
	bad.ASN = 65002
	bad.Neighbors = []Neighbor{nA}
	if err := s.SetConfig(ctx, bad); !errors.Is(err, ErrRestartRequired) {
		t.Fatalf("SetConfig(asn changed) = %v, want ErrRestartRequired", err)
	}
	if !isUp(rb.session(t)) {
		t.Error("a refused SetConfig removed B")
	}

	// Remove B: B's session closes, A is untouched.
	cfg.Neighbors = cfg.Neighbors[:1]
	if err := s.SetConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rb.waitSession(t, "B closed", func(s session) bool { return !isUp(s) })
	untouched("remove B")
	if peers, err := s.Peers(ctx); err != nil || len(peers) != 1 || peers[0].Address != addrA {
		t.Errorf("Peers() = %+v, %v, want only A", peers, err)
	}
}

func TestSpeakerSetConfigBeforeStartAndAfterStop(t *testing.T) {
	cfg := Config{ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.2")}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ASN = 65002 // no restart needed before Start
	if err := s.SetConfig(t.Context(), cfg); err != nil {
		t.Fatalf("SetConfig before Start: %v", err)
	}
	if err := s.SetConfig(t.Context(), Config{}); err == nil {
		t.Error("SetConfig(invalid) = nil, want the validation error")
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConfig(t.Context(), cfg); err == nil {
		t.Error("SetConfig after Stop = nil, want an error")
	}
}
