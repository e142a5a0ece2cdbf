//go:build !nobgp

package bgp

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	pkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
)

// router is a plain GoBGP server on 127.0.0.1 playing the upstream router,
// as GoBGP's own tests pair two servers in one process.
type router struct {
	srv  *server.BgpServer
	port uint16
}

func freePort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

func newRouter(t *testing.T, asn, peerASN uint32) *router {
	t.Helper()
	return newRouterAt(t, "127.0.0.1", freePort(t), asn, peerASN)
}

// newRouterAt is a router listening on listen:port (any 127/8 address).
func newRouterAt(t *testing.T, listen string, port uint16, asn, peerASN uint32) *router {
	t.Helper()
	r := &router{srv: server.NewBgpServer(), port: port}
	go r.srv.Serve()
	ctx := t.Context()
	if err := r.srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn: asn, RouterId: "10.255.0.1", ListenPort: int32(r.port), ListenAddresses: []string{listen},
	}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.srv.Stop)
	err := r.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: "127.0.0.1", PeerAsn: peerASN},
		Transport: &api.Transport{PassiveMode: true},
		AfiSafis: []*api.AfiSafi{
			{Config: &api.AfiSafiConfig{Enabled: true, Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}}},
			{Config: &api.AfiSafiConfig{Enabled: true, Family: &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// learned is what the router holds from the director: prefix -> path.
func (r *router) learned(t *testing.T) map[netip.Prefix]*apiutil.Path {
	t.Helper()
	out := map[netip.Prefix]*apiutil.Path{}
	for _, fam := range []pkt.Family{pkt.RF_IPv4_UC, pkt.RF_IPv6_UC} {
		err := r.srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: fam},
			func(nlri pkt.NLRI, paths []*apiutil.Path) {
				p, err := netip.ParsePrefix(nlri.String())
				if err != nil {
					t.Errorf("router holds %q: %v", nlri, err)
					return
				}
				out[p] = paths[0]
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (r *router) waitFor(t *testing.T, what string, cond func(map[netip.Prefix]*apiutil.Path) bool) map[netip.Prefix]*apiutil.Path {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.learned(t)
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("router never saw %s; holds %v", what, keys(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func keys(m map[netip.Prefix]*apiutil.Path) []netip.Prefix {
	var ks []netip.Prefix
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, netip.Prefix.Compare)
	return ks
}

func hasExactly(want ...string) func(map[netip.Prefix]*apiutil.Path) bool {
	return func(got map[netip.Prefix]*apiutil.Path) bool {
		var w []netip.Prefix
		for _, s := range want {
			w = append(w, netip.MustParsePrefix(s))
		}
		slices.SortFunc(w, netip.Prefix.Compare)
		return slices.Equal(keys(got), w)
	}
}

type events struct {
	mu  sync.Mutex
	evs []PeerEvent
	ch  chan PeerEvent
}

func (e *events) on(ev PeerEvent) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

func waitState(t *testing.T, e *events, want SessionState) PeerEvent {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev := <-e.ch:
			if ev.State == want {
				return ev
			}
		case <-timeout:
			t.Fatalf("session never reached %v", want)
		}
	}
}

func startSpeaker(t *testing.T, r *router, asn uint32, drain time.Duration) (*Speaker, *events) {
	t.Helper()
	ev := &events{ch: make(chan PeerEvent, 64)}
	s, err := New(Config{
		ASN: asn, RouterID: netip.MustParseAddr("10.255.0.2"), DrainTime: drain, Port: r.port,
		HoldTime:  9 * time.Second,
		Neighbors: []Neighbor{{Name: "r1", Address: netip.MustParseAddr("127.0.0.1"), ASN: 65000}},
		Logger:    slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		OnPeer:    ev.on,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s, ev
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func ann(prefixes ...string) []Announcement {
	var out []Announcement
	for _, p := range prefixes {
		out = append(out, Announcement{Prefix: netip.MustParsePrefix(p)})
	}
	return out
}

func TestSpeakerConvergesByDifference(t *testing.T) {
	r := newRouter(t, 65000, 65001)
	s, ev := startSpeaker(t, r, 65001, 0)
	up := waitState(t, ev, StateEstablished)
	if up.Name != "r1" || up.Address != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("established event names %q %v, want r1 127.0.0.1", up.Name, up.Address)
	}
	ctx := t.Context()

	steps := []struct {
		name string
		want []string
	}{
		{"announce two", []string{"192.0.2.10/32", "192.0.2.11/32"}},
		{"withdraw one, add one", []string{"192.0.2.11/32", "192.0.2.12/32"}},
		{"withdraw all", nil},
		{"announce again", []string{"192.0.2.10/32"}},
	}
	for _, st := range steps {
		if err := s.SetAnnounced(ctx, ann(st.want...)); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := r.waitFor(t, st.name, hasExactly(st.want...))
		for p, path := range got {
			if nh := nextHop(path); nh != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("%s: %v next hop %v, want the session's address 127.0.0.1", st.name, p, nh)
			}
		}
		var wantP []netip.Prefix
		for _, w := range st.want {
			wantP = append(wantP, netip.MustParsePrefix(w))
		}
		slices.SortFunc(wantP, netip.Prefix.Compare)
		if a := s.Announced(); !slices.Equal(a, wantP) {
			t.Errorf("%s: Announced() = %v, want %v", st.name, a, wantP)
		}
	}

	peers, err := s.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || peers[0].State != StateEstablished || peers[0].Name != "r1" || peers[0].ASN != 65000 {
		t.Errorf("Peers() = %+v, want r1 AS65000 established", peers)
	}
}

func nextHop(p *apiutil.Path) netip.Addr {
	for _, a := range p.Attrs {
		switch a := a.(type) {
		case *pkt.PathAttributeNextHop:
			return a.Value
		case *pkt.PathAttributeMpReachNLRI:
			return a.Nexthop
		}
	}
	return netip.Addr{}
}

func TestSpeakerAttributes(t *testing.T) {
	r := newRouter(t, 65000, 65001)
	s, ev := startSpeaker(t, r, 65001, 0)
	waitState(t, ev, StateEstablished)
	med := uint32(50)
	a := Announcement{Prefix: netip.MustParsePrefix("192.0.2.20/32"), MED: &med, Communities: []Community{NewCommunity(65001, 7)}}
	if err := s.SetAnnounced(t.Context(), []Announcement{a}); err != nil {
		t.Fatal(err)
	}
	check := func(wantMED uint32) func(map[netip.Prefix]*apiutil.Path) bool {
		return func(got map[netip.Prefix]*apiutil.Path) bool {
			p := got[a.Prefix]
			if p == nil {
				return false
			}
			var m uint32
			var cs []uint32
			for _, at := range p.Attrs {
				switch at := at.(type) {
				case *pkt.PathAttributeMultiExitDisc:
					m = at.Value
				case *pkt.PathAttributeCommunities:
					cs = at.Value
				}
			}
			return m == wantMED && slices.Equal(cs, []uint32{65001<<16 | 7})
		}
	}
	r.waitFor(t, "MED 50 and community 65001:7", check(50))
	// A changed attribute is re-announced although the prefix is unchanged.
	med2 := uint32(80)
	a.MED = &med2
	if err := s.SetAnnounced(t.Context(), []Announcement{a}); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "MED 80", check(80))
}

func TestSpeakerIPv6(t *testing.T) {
	r := newRouter(t, 65000, 65001)
	s, ev := startSpeaker(t, r, 65001, 0)
	waitState(t, ev, StateEstablished)
	if err := s.SetAnnounced(t.Context(), ann("2001:db8::10/128", "192.0.2.30/32")); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "an IPv6 and an IPv4 VIP", hasExactly("2001:db8::10/128", "192.0.2.30/32"))
	if err := s.SetAnnounced(t.Context(), ann("192.0.2.30/32")); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "the IPv6 VIP withdrawn", hasExactly("192.0.2.30/32"))
}

func TestSpeakerStopWithdrawsThenCloses(t *testing.T) {
	r := newRouter(t, 65000, 65001)
	const drain = 300 * time.Millisecond
	s, ev := startSpeaker(t, r, 65001, drain)
	waitState(t, ev, StateEstablished)
	if err := s.SetAnnounced(t.Context(), ann("192.0.2.40/32")); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "the VIP", hasExactly("192.0.2.40/32"))

	done := make(chan error, 1)
	go func() { done <- s.Stop(context.Background()) }()
	// During the drain the session is still up and the prefix is gone.
	r.waitFor(t, "the withdrawal before the close", hasExactly())
	var st api.PeerState_SessionState
	if err := r.srv.ListPeer(t.Context(), &api.ListPeerRequest{}, func(p *api.Peer) { st = p.GetState().GetSessionState() }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("Stop returned (%v) before the router saw the withdrawal with the session still up", err)
	default:
	}
	if st != api.PeerState_SESSION_STATE_ESTABLISHED {
		t.Errorf("router's session is %v during the drain, want established", st)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.SetAnnounced(t.Context(), ann("192.0.2.40/32")); err == nil {
		t.Error("SetAnnounced after Stop succeeded, want an error")
	}
}

func TestSpeakerStopHonoursContext(t *testing.T) {
	r := newRouter(t, 65000, 65001)
	s, ev := startSpeaker(t, r, 65001, time.Hour)
	waitState(t, ev, StateEstablished)
	if err := s.SetAnnounced(t.Context(), ann("192.0.2.50/32")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
