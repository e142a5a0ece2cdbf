package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// DropReason says why a received packet was dropped; Status counts drops by
// reason.
type DropReason string

// The receive-side checks of RFC 3768 / RFC 5798 section 7.1, in the order
// they are made.
const (
	DropTTL       DropReason = "ttl"       // TTL / hop limit not 255 (multicast only: unicast peers may be routed, as in keepalived)
	DropLength    DropReason = "length"    // shorter than the header, or not matching the address count
	DropVersion   DropReason = "version"   // not the instance's VRRP version
	DropType      DropReason = "type"      // not an advertisement
	DropVRID      DropReason = "vrid"      // another virtual router on the segment (normal; logged at debug level)
	DropChecksum  DropReason = "checksum"  // wrong checksum
	DropAuth      DropReason = "auth"      // v2: authentication type or password mismatch
	DropInterval  DropReason = "interval"  // v2: advertisement interval differs from ours
	DropAddresses DropReason = "addresses" // v2: address list differs and the sender is not the owner (priority 255)
	DropPeer      DropReason = "peer"      // unicast: the source is not a unicast_peer
)

// packet is a received VRRP packet with what the IP layer told us about it.
type packet struct {
	b        []byte
	src, dst netip.Addr
	ttl      int // -1 if unknown
}

// receiver holds what check compares a packet against.
type receiver struct {
	version  uint8
	vrid     uint8
	interval time.Duration
	authType AuthType
	authData [authLen]byte
	vips     []netip.Addr
	peers    []netip.Addr // unicast mode when not empty
}

// check validates p. It returns the advertisement, or a drop reason and a
// message for the log. mismatch reports a (v3, tolerated) address list that
// differs from ours, which RFC 5798 says to log.
func (r *receiver) check(p packet) (a *Advertisement, reason DropReason, msg string, mismatch bool) {
	if len(r.peers) == 0 && p.ttl != 255 {
		return nil, DropTTL, fmt.Sprintf("TTL/hop limit %d from %v, want 255", p.ttl, p.src), false
	}
	a = &Advertisement{}
	if err := a.UnmarshalBinary(p.b); err != nil {
		switch {
		case errors.Is(err, ErrVersion):
			reason = DropVersion
		case errors.Is(err, ErrType):
			reason = DropType
		default:
			reason = DropLength
		}
		return nil, reason, fmt.Sprintf("from %v: %v", p.src, err), false
	}
	if a.Version != r.version {
		return nil, DropVersion, fmt.Sprintf("VRRPv%d advert from %v, this instance speaks v%d", a.Version, p.src, r.version), false
	}
	if a.VRID != r.vrid {
		return nil, DropVRID, fmt.Sprintf("advert for VRID %d from %v", a.VRID, p.src), false
	}
	if len(a.Addresses) > 0 && a.Addresses[0].Is6() != p.src.Is6() {
		return nil, DropLength, fmt.Sprintf("advert from %v carries addresses of the other family", p.src), false
	}
	if !VerifyChecksum(p.b, p.src, p.dst) {
		return nil, DropChecksum, fmt.Sprintf("bad checksum %#04x from %v to %v", a.Checksum, p.src, p.dst), false
	}
	if a.Version == 2 {
		if a.AuthType != r.authType {
			return nil, DropAuth, fmt.Sprintf("authentication %v from %v, want %v", a.AuthType, p.src, r.authType), false
		}
		if r.authType == AuthPassword && a.AuthData != r.authData {
			return nil, DropAuth, fmt.Sprintf("wrong password from %v", p.src), false
		}
		if a.Interval != r.interval {
			return nil, DropInterval, fmt.Sprintf("advert interval %v from %v, ours is %v", a.Interval, p.src, r.interval), false
		}
	}
	if !sameSet(a.Addresses, r.vips) {
		if a.Version == 2 && a.Priority != 255 {
			return nil, DropAddresses, fmt.Sprintf("address list %v from %v, ours is %v", a.Addresses, p.src, r.vips), false
		}
		mismatch = true
	}
	if len(r.peers) > 0 && !slices.Contains(r.peers, p.src) {
		return nil, DropPeer, fmt.Sprintf("advert from %v, which is not a unicast peer", p.src), false
	}
	return a, "", "", mismatch
}

func sameSet(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
