//go:build !nobgp

package bgp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	pkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
)

const (
	// connectRetry is GoBGP's wait between connection attempts (its default
	// is 120 s, far too slow for a router that starts after the director).
	connectRetry = 1 * time.Second
	importPolicy = "lvsctl-accept-local"
)

// Speaker is an embedded BGP speaker. Its methods are safe for concurrent use.
type Speaker struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	srv       *server.BgpServer
	stopWatch context.CancelFunc
	announced map[netip.Prefix]Announcement
	// running is what GoBGP runs for each neighbor (SetConfig's baseline).
	running map[netip.Addr]peerSettings
	stopped bool

	// names maps neighbor addresses to names; read by GoBGP's event
	// goroutine, so replaced whole rather than modified.
	names atomic.Pointer[map[netip.Addr]string]
}

// New validates cfg and returns a speaker that is not started yet.
func New(cfg Config) (*Speaker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Speaker{cfg: cfg, log: log, announced: map[netip.Prefix]Announcement{}}
	s.setNames(cfg.Neighbors)
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	return s, nil
}

func (s *Speaker) setNames(ns []Neighbor) {
	names := make(map[netip.Addr]string, len(ns))
	for _, n := range ns {
		names[n.Address] = n.Name
	}
	s.names.Store(&names)
}

func (s *Speaker) name(a netip.Addr) string { return (*s.names.Load())[a] }

// Start runs the BGP server and opens the sessions to the neighbors. It
// returns once the neighbors are configured, not when they are established.
func (s *Speaker) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil || s.stopped {
		return errors.New("bgp: speaker already started")
	}
	srv := server.NewBgpServer(server.LoggerOption(s.log.With("component", "gobgp"), nil))
	go srv.Serve()
	err := srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn:        s.cfg.ASN,
		RouterId:   s.cfg.RouterID.String(),
		ListenPort: -1, // connect out only
	}})
	if err != nil {
		srv.Stop()
		return fmt.Errorf("bgp: start server as AS %d: %w", s.cfg.ASN, err)
	}
	if err := acceptOnlyLocal(ctx, srv); err != nil {
		srv.Stop()
		return err
	}
	wctx, cancel := context.WithCancel(context.Background())
	if onPeer := s.cfg.OnPeer; onPeer != nil {
		err = srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
			OnPeerUpdate: func(ev *apiutil.WatchEventMessage_PeerEvent, t time.Time) {
				if ev.Type != apiutil.PEER_EVENT_STATE {
					return
				}
				st := ev.Peer.State
				onPeer(PeerEvent{Time: t, Peer: Peer{
					Name:    s.name(st.NeighborAddress),
					Address: st.NeighborAddress,
					ASN:     st.PeerASN,
					State:   SessionState(st.SessionState + 1),
					Reason:  st.DisconnectMessage,
				}})
			},
		}, server.WatchPeer())
		if err != nil {
			cancel()
			srv.Stop()
			return fmt.Errorf("bgp: watch peer events: %w", err)
		}
	}
	if onBFD := s.cfg.OnBFD; onBFD != nil {
		go s.pollBFD(wctx, srv, s.cfg.BFDPoll, onBFD)
	}
	running := make(map[netip.Addr]peerSettings, len(s.cfg.Neighbors))
	for _, n := range s.cfg.Neighbors {
		ps := s.cfg.settings(n)
		if err := srv.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(ps)}); err != nil {
			cancel()
			srv.Stop()
			return fmt.Errorf("bgp: add neighbor %q (%v): %w", n.Name, n.Address, err)
		}
		running[n.Address] = ps
	}
	s.srv, s.stopWatch, s.running = srv, cancel, running
	s.log.Info("bgp speaker started", "asn", s.cfg.ASN, "router_id", s.cfg.RouterID, "neighbors", len(s.cfg.Neighbors))
	return nil
}

// acceptOnlyLocal installs a global import policy that accepts the paths the
// speaker originates and rejects what neighbors send: the director needs no
// routes, and a default-reject policy alone would also drop the local paths.
func acceptOnlyLocal(ctx context.Context, srv *server.BgpServer) error {
	pol := &api.Policy{Name: importPolicy, Statements: []*api.Statement{{
		Name:       importPolicy + "-local",
		Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
		Actions:    &api.Actions{RouteAction: api.RouteAction_ROUTE_ACTION_ACCEPT},
	}}}
	if err := srv.AddPolicy(ctx, &api.AddPolicyRequest{Policy: pol, ReferExistingStatements: false}); err != nil {
		return fmt.Errorf("bgp: add import policy: %w", err)
	}
	err := srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name:          "global",
		Direction:     api.PolicyDirection_POLICY_DIRECTION_IMPORT,
		Policies:      []*api.Policy{{Name: importPolicy}},
		DefaultAction: api.RouteAction_ROUTE_ACTION_REJECT,
	}})
	if err != nil {
		return fmt.Errorf("bgp: assign import policy: %w", err)
	}
	return nil
}

func seconds(d time.Duration) uint64 { return uint64((d + time.Second - 1) / time.Second) }

// apiPeer is GoBGP's configuration of one neighbor.
func apiPeer(n peerSettings) *api.Peer {
	hold := n.Hold
	p := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: n.Address.String(),
			PeerAsn:         n.ASN,
			AuthPassword:    n.Password,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			ConnectRetry:           seconds(connectRetry),
			IdleHoldTimeAfterReset: seconds(n.IdleHold),
		}},
		Transport: &api.Transport{},
		AfiSafis: []*api.AfiSafi{
			{Config: &api.AfiSafiConfig{Enabled: true, Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}}},
			{Config: &api.AfiSafiConfig{Enabled: true, Family: &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}}},
		},
	}
	if hold > 0 {
		p.Timers.Config.HoldTime = seconds(hold)
		p.Timers.Config.KeepaliveInterval = max(seconds(hold)/3, 1)
	}
	if n.Port != 0 {
		p.Transport.RemotePort = uint32(n.Port)
	}
	if n.Source.IsValid() {
		p.Transport.LocalAddress = n.Source.String()
	}
	if n.Multihop > 0 {
		p.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(n.Multihop)}
	}
	if n.HasBFD {
		p.Bfd = &api.BfdPeerConfig{
			Enabled:                  true,
			DesiredMinimumTxInterval: uint32(n.BFD.MinTx / time.Microsecond),
			RequiredMinimumReceive:   uint32(n.BFD.MinRx / time.Microsecond),
			DetectionMultiplier:      uint32(n.BFD.Multiplier),
		}
	}
	return p
}

// SetAnnounced converges the announced prefixes to want: prefixes no longer
// wanted are withdrawn, new ones (and ones whose attributes changed) are
// announced, unchanged ones are left alone. On error the announced set is
// whatever succeeded; calling again retries the rest.
func (s *Speaker) SetAnnounced(ctx context.Context, want []Announcement) error {
	next := make(map[netip.Prefix]Announcement, len(want))
	for _, a := range want {
		if err := validPrefix(a.Prefix); err != nil {
			return err
		}
		if _, dup := next[a.Prefix]; dup {
			return fmt.Errorf("bgp: %v listed twice", a.Prefix)
		}
		next[a.Prefix] = a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return errors.New("bgp: speaker not running")
	}
	var errs []error
	for _, p := range slices.SortedFunc(maps.Keys(s.announced), netip.Prefix.Compare) {
		if _, keep := next[p]; keep {
			continue
		}
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := s.withdraw(p); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(s.announced, p)
		s.log.Info("bgp withdraw", "prefix", p)
	}
	for _, p := range slices.SortedFunc(maps.Keys(next), netip.Prefix.Compare) {
		a := next[p]
		if old, ok := s.announced[p]; ok && sameAttrs(old, a) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := s.announce(a); err != nil {
			errs = append(errs, err)
			continue
		}
		s.announced[p] = a
		s.log.Info("bgp announce", "prefix", p)
	}
	return errors.Join(errs...)
}

// Announced returns the prefixes the speaker announces, sorted.
func (s *Speaker) Announced() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.SortedFunc(maps.Keys(s.announced), netip.Prefix.Compare)
}

func sameAttrs(a, b Announcement) bool {
	if (a.MED == nil) != (b.MED == nil) || a.MED != nil && *a.MED != *b.MED {
		return false
	}
	return slices.Equal(a.Communities, b.Communities)
}

func family(p netip.Prefix) pkt.Family {
	if p.Addr().Is4() {
		return pkt.RF_IPv4_UC
	}
	return pkt.RF_IPv6_UC
}

func (s *Speaker) path(a Announcement, withdraw bool) (*apiutil.Path, error) {
	nlri, err := pkt.NewIPAddrPrefix(a.Prefix)
	if err != nil {
		return nil, fmt.Errorf("bgp: %v: %w", a.Prefix, err)
	}
	fam := family(a.Prefix)
	attrs := []pkt.PathAttributeInterface{pkt.NewPathAttributeOrigin(0)}
	// An unspecified next hop makes GoBGP put the session's local address.
	if fam == pkt.RF_IPv4_UC {
		nh, err := pkt.NewPathAttributeNextHop(netip.IPv4Unspecified())
		if err != nil {
			return nil, fmt.Errorf("bgp: %v: next hop: %w", a.Prefix, err)
		}
		attrs = append(attrs, nh)
	} else {
		mp, err := pkt.NewPathAttributeMpReachNLRI(fam, []pkt.PathNLRI{{NLRI: nlri}}, netip.IPv6Unspecified())
		if err != nil {
			return nil, fmt.Errorf("bgp: %v: next hop: %w", a.Prefix, err)
		}
		attrs = append(attrs, mp)
	}
	if a.MED != nil {
		attrs = append(attrs, pkt.NewPathAttributeMultiExitDisc(*a.MED))
	}
	if len(a.Communities) > 0 {
		cs := make([]uint32, len(a.Communities))
		for i, c := range a.Communities {
			cs[i] = uint32(c)
		}
		attrs = append(attrs, pkt.NewPathAttributeCommunities(cs))
	}
	return &apiutil.Path{Family: fam, Nlri: nlri, Attrs: attrs, Withdrawal: withdraw, Age: time.Now().Unix()}, nil
}

func (s *Speaker) announce(a Announcement) error {
	p, err := s.path(a, false)
	if err != nil {
		return err
	}
	if _, err := s.srv.AddPath(apiutil.AddPathRequest{Paths: []*apiutil.Path{p}}); err != nil {
		return fmt.Errorf("bgp: announce %v: %w", a.Prefix, err)
	}
	return nil
}

func (s *Speaker) withdraw(prefix netip.Prefix) error {
	p, err := s.path(s.announced[prefix], true)
	if err != nil {
		return err
	}
	if err := s.srv.DeletePath(apiutil.DeletePathRequest{Paths: []*apiutil.Path{p}}); err != nil {
		return fmt.Errorf("bgp: withdraw %v: %w", prefix, err)
	}
	return nil
}

// Peers returns a snapshot of the sessions, in configuration order.
func (s *Speaker) Peers(ctx context.Context) ([]Peer, error) {
	s.mu.Lock()
	srv, neighbors := s.srv, s.cfg.Neighbors
	s.mu.Unlock()
	if srv == nil {
		return nil, errors.New("bgp: speaker not running")
	}
	byAddr := map[netip.Addr]Peer{}
	err := srv.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
		addr, err := netip.ParseAddr(p.GetConf().GetNeighborAddress())
		if err != nil {
			return
		}
		byAddr[addr] = Peer{
			Name:    s.name(addr),
			Address: addr,
			ASN:     p.GetConf().GetPeerAsn(),
			State:   SessionState(p.GetState().GetSessionState()),
			Reason:  p.GetState().GetDisconnectMessage(),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bgp: list neighbors: %w", err)
	}
	for addr, st := range bfdStates(ctx, srv) {
		if p, ok := byAddr[addr]; ok {
			p.BFD = st
			byAddr[addr] = p
		}
	}
	out := make([]Peer, 0, len(neighbors))
	for _, n := range neighbors {
		p, ok := byAddr[n.Address]
		if !ok {
			p = Peer{Name: n.Name, Address: n.Address, ASN: n.ASN}
		}
		out = append(out, p)
	}
	return out, nil
}

// bfdStates reads the state of every BFD session GoBGP runs, by neighbor.
func bfdStates(ctx context.Context, srv *server.BgpServer) map[netip.Addr]BFDState {
	out := map[netip.Addr]BFDState{}
	srv.ListBfdPeer(ctx, func(addr string, st *api.BfdPeerState) {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		out[a] = bfdState(st.GetSessionState())
	})
	return out
}

func bfdState(st api.BfdSessionState) BFDState {
	switch st {
	case api.BfdSessionState_BFD_SESSION_STATE_ADMIN_DOWN:
		return BFDAdminDown
	case api.BfdSessionState_BFD_SESSION_STATE_INIT:
		return BFDInit
	case api.BfdSessionState_BFD_SESSION_STATE_UP:
		return BFDUp
	}
	return BFDDown // a session GoBGP runs, in no other state
}

// pollBFD reports each change of a BFD session's state to on (GoBGP has
// no BFD events), every Config.BFDPoll until ctx ends. A session that
// disappears (its neighbor deleted, or its bfd block removed) is reported
// as BFDOff.
func (s *Speaker) pollBFD(ctx context.Context, srv *server.BgpServer, every time.Duration, on func(BFDEvent)) {
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := map[netip.Addr]BFDState{}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cur := bfdStates(ctx, srv)
			if ctx.Err() != nil {
				return
			}
			for a, st := range cur {
				if last[a] != st {
					on(BFDEvent{Name: s.name(a), Address: a, State: st, Time: now})
				}
			}
			for a := range last {
				if _, ok := cur[a]; !ok {
					on(BFDEvent{Name: s.name(a), Address: a, State: BFDOff, Time: now})
				}
			}
			last = cur
		}
	}
}

// Stop withdraws every announced prefix, waits the drain time (or until ctx
// is done) so that the routers move the traffic away while the sessions are
// still up, then closes the sessions and the server. It is a no-op on a
// speaker that is not running.
func (s *Speaker) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		s.stopped = true
		return nil
	}
	var errs []error
	if len(s.announced) > 0 {
		if err := s.srv.DeletePath(apiutil.DeletePathRequest{DeleteAll: true}); err != nil {
			errs = append(errs, fmt.Errorf("bgp: withdraw all: %w", err))
		} else {
			s.log.Info("bgp withdraw all", "prefixes", len(s.announced), "drain", s.cfg.DrainTime)
			clear(s.announced)
			if s.cfg.DrainTime > 0 {
				t := time.NewTimer(s.cfg.DrainTime)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
		}
	}
	s.stopWatch()
	s.srv.Stop() // sends a Cease to every neighbor
	s.srv, s.stopped = nil, true
	s.log.Info("bgp speaker stopped")
	return errors.Join(errs...)
}

// SetConfig moves a speaker to next by difference: neighbors that are new
// are added, neighbors no longer listed are deleted (their sessions close
// with a Cease), neighbors whose settings changed are updated, and the
// sessions of unchanged neighbors are not touched. A changed hold_time or
// idle_hold_time is applied in place (GoBGP's UpdatePeer): the session stays
// up and a new hold time is negotiated at its next OPEN. A changed asn (of
// the neighbor), password, source_address, multihop or port re-opens that
// one neighbor's session (GoBGP deletes and re-adds it). A changed bfd block
// restarts the neighbor's BFD session, which the router takes for a failure:
// that session re-opens too. Renaming a neighbor only changes its name.
//
// A change of the speaker's own asn or router_id is not applied: SetConfig
// returns a *RestartRequiredError (errors.Is ErrRestartRequired) and changes
// nothing; the caller stops this speaker and starts a new one. Logger and
// OnPeer keep the values given to New. On another error the speaker runs what
// succeeded; calling SetConfig again retries the rest.
//
// Before Start, SetConfig only replaces the configuration.
func (s *Speaker) SetConfig(ctx context.Context, next Config) error {
	if err := next.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("bgp: speaker stopped")
	}
	next.Logger, next.OnPeer, next.OnBFD, next.BFDPoll = s.cfg.Logger, s.cfg.OnPeer, s.cfg.OnBFD, s.cfg.BFDPoll
	if s.srv == nil {
		s.cfg = next
		s.setNames(next.Neighbors)
		return nil
	}
	plan, err := planReload(s.cfg.ASN, s.cfg.RouterID, s.running, next)
	if err != nil {
		return err
	}
	for _, w := range next.Warnings() {
		s.log.Warn(w)
	}
	// Names of added neighbors must be known before their first event;
	// names of removed ones stay until they are gone.
	merged := slices.Clone(next.Neighbors)
	for _, n := range s.cfg.Neighbors {
		if !slices.ContainsFunc(merged, func(m Neighbor) bool { return m.Address == n.Address }) {
			merged = append(merged, n)
		}
	}
	s.setNames(merged)
	var errs []error
	for _, a := range plan.remove {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := s.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: a.String()}); err != nil {
			errs = append(errs, fmt.Errorf("bgp: delete neighbor %v: %w", a, err))
			continue
		}
		delete(s.running, a)
		s.log.Info("bgp neighbor deleted", "address", a)
	}
	for _, ps := range plan.update {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		old := s.running[ps.Address]
		if _, err := s.srv.UpdatePeer(ctx, &api.UpdatePeerRequest{Peer: apiPeer(ps)}); err != nil {
			errs = append(errs, fmt.Errorf("bgp: update neighbor %q (%v): %w", s.name(ps.Address), ps.Address, err))
			continue
		}
		s.running[ps.Address] = ps
		s.log.Info("bgp neighbor updated", "name", s.name(ps.Address), "address", ps.Address, "session_reopened", reopens(old, ps))
	}
	for _, ps := range plan.add {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := s.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(ps)}); err != nil {
			errs = append(errs, fmt.Errorf("bgp: add neighbor %q (%v): %w", s.name(ps.Address), ps.Address, err))
			continue
		}
		s.running[ps.Address] = ps
		s.log.Info("bgp neighbor added", "name", s.name(ps.Address), "address", ps.Address)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.cfg = next
	// merged keeps the names of deleted neighbors for their last events.
	s.setNames(merged)
	return nil
}
