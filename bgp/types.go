package bgp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// ErrNotBuilt is returned by New in a binary built with the nobgp tag.
var ErrNotBuilt = errors.New("bgp: this binary was built without BGP support (nobgp build tag)")

// Config is a speaker's validated configuration.
type Config struct {
	ASN      uint32
	RouterID netip.Addr // IPv4, the BGP identifier
	// HoldTime is the default hold time of the sessions (0: 90 s).
	HoldTime time.Duration
	// IdleHoldTime is the wait before reconnecting after a session reset
	// (0: 1 s; GoBGP's own default of 30 s makes a rejoin slow).
	IdleHoldTime time.Duration
	// DrainTime is how long Stop waits between withdrawing and closing.
	DrainTime time.Duration
	// Port is the neighbors' BGP port (0: 179). Tests point it elsewhere.
	Port      uint16
	Neighbors []Neighbor
	// Logger receives the speaker's and GoBGP's logs (nil: discarded).
	Logger *slog.Logger
	// OnPeer, if set, receives every session state transition. It is called
	// from GoBGP's event goroutine and must not block.
	OnPeer func(PeerEvent)
	// OnBFD, if set, receives every change of a neighbor's BFD session
	// state, seen by polling GoBGP every BFDPoll (GoBGP sends no event for
	// BFD). It is called from the speaker's poller and must not block.
	OnBFD func(BFDEvent)
	// BFDPoll is how often OnBFD's poller reads the BFD states (0: 200 ms).
	BFDPoll time.Duration
}

// Neighbor is one BGP session.
type Neighbor struct {
	Name          string
	Address       netip.Addr
	ASN           uint32
	Password      string        // TCP MD5 signature, empty for none
	HoldTime      time.Duration // 0: Config.HoldTime
	SourceAddress netip.Addr    // zero: chosen by the kernel
	Multihop      uint8         // eBGP multihop TTL, 0: directly connected
	BFD           *BFD          // nil: no BFD
}

// BFD asks for a BFD session beside the BGP session.
type BFD struct {
	MinTx      time.Duration
	MinRx      time.Duration
	Multiplier uint8
}

// Announcement is one announced prefix with its attributes.
type Announcement struct {
	Prefix      netip.Prefix // a host prefix: /32 or /128
	Communities []Community
	MED         *uint32
}

// Community is a standard BGP community, ASN:value.
type Community uint32

// NewCommunity returns the community hi:lo.
func NewCommunity(hi, lo uint16) Community { return Community(uint32(hi)<<16 | uint32(lo)) }

func (c Community) String() string { return fmt.Sprintf("%d:%d", uint32(c)>>16, uint32(c)&0xffff) }

// SessionState is a BGP session's FSM state.
type SessionState int

// The BGP FSM states of RFC 4271.
const (
	StateUnknown SessionState = iota
	StateIdle
	StateConnect
	StateActive
	StateOpenSent
	StateOpenConfirm
	StateEstablished
)

func (s SessionState) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnect:
		return "connect"
	case StateActive:
		return "active"
	case StateOpenSent:
		return "opensent"
	case StateOpenConfirm:
		return "openconfirm"
	case StateEstablished:
		return "established"
	}
	return "unknown"
}

// Peer is a snapshot of one neighbor's session.
type Peer struct {
	Name    string
	Address netip.Addr
	ASN     uint32
	State   SessionState
	// Reason is why the session last went down, empty if it never did.
	Reason string
	// BFD is the state of the neighbor's BFD session (BFDOff without a bfd
	// block). Peers fills it; a PeerEvent leaves it BFDOff (see OnBFD).
	BFD BFDState
}

// BFDState is the local state of a BFD session (RFC 5880), as GoBGP
// reports it.
type BFDState int

// The BFD session states; BFDOff: the neighbor has no BFD session.
const (
	BFDOff BFDState = iota
	BFDAdminDown
	BFDDown
	BFDInit
	BFDUp
)

func (s BFDState) String() string {
	switch s {
	case BFDAdminDown:
		return "admindown"
	case BFDDown:
		return "down"
	case BFDInit:
		return "init"
	case BFDUp:
		return "up"
	}
	return ""
}

// BFDEvent is a change of a neighbor's BFD session state.
type BFDEvent struct {
	Name    string
	Address netip.Addr
	State   BFDState
	Time    time.Time
}

// PeerEvent is a session state transition.
type PeerEvent struct {
	Peer
	Time time.Time
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.ASN == 0 {
		return errors.New("bgp: asn must be set")
	}
	if !c.RouterID.Is4() {
		return fmt.Errorf("bgp: router_id %v must be an IPv4 address", c.RouterID)
	}
	seen := map[netip.Addr]string{}
	for _, n := range c.Neighbors {
		if !n.Address.IsValid() {
			return fmt.Errorf("bgp: neighbor %q: address must be set", n.Name)
		}
		if n.ASN == 0 {
			return fmt.Errorf("bgp: neighbor %q: asn must be set", n.Name)
		}
		if prev, ok := seen[n.Address]; ok {
			return fmt.Errorf("bgp: neighbor %q: address %v already used by neighbor %q", n.Name, n.Address, prev)
		}
		seen[n.Address] = n.Name
	}
	return nil
}

// validPrefix checks that p is a host prefix the speaker may announce.
func validPrefix(p netip.Prefix) error {
	if !p.IsValid() || p.Bits() != p.Addr().BitLen() || p.Addr().Is4In6() {
		return fmt.Errorf("bgp: %v is not a /32 or /128 host prefix", p)
	}
	return nil
}
