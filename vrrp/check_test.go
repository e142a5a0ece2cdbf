package vrrp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	r2 := netip.MustParseAddr("10.99.0.2")
	v3 := receiver{version: 3, vrid: 51, interval: time.Second, vips: []netip.Addr{vip}}
	v2 := receiver{version: 2, vrid: 51, interval: time.Second, vips: []netip.Addr{vip}, authType: AuthPassword, authData: pass6}
	base3 := Advertisement{Version: 3, VRID: 51, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{vip}}
	base2 := Advertisement{Version: 2, VRID: 51, Priority: 100, Interval: time.Second, AuthType: AuthPassword, AuthData: pass6, Addresses: []netip.Addr{vip}}
	with := func(a Advertisement, f func(*Advertisement)) Advertisement { f(&a); return a }
	tests := []struct {
		name     string
		r        receiver
		p        packet
		want     DropReason
		mismatch bool
	}{
		{"v3 ok", v3, advertFrom(t, base3, r2), "", false},
		{"v2 ok", v2, advertFrom(t, base2, r2), "", false},
		{"v3 other interval is fine", v3, advertFrom(t, with(base3, func(a *Advertisement) { a.Interval = 10 * time.Millisecond }), r2), "", false},
		{"v3 other addresses: accepted, logged", v3, advertFrom(t, with(base3, func(a *Advertisement) { a.Addresses = []netip.Addr{r2} }), r2), "", true},
		{"v3 addresses in another order", receiver{version: 3, vrid: 51, vips: []netip.Addr{vip, r2}},
			advertFrom(t, with(base3, func(a *Advertisement) { a.Addresses = []netip.Addr{r2, vip} }), r2), "", false},
		{"v2 other addresses from the owner", v2, advertFrom(t, with(base2, func(a *Advertisement) { a.Priority, a.Addresses = 255, nil }), r2), "", true},
		{"v2 other addresses", v2, advertFrom(t, with(base2, func(a *Advertisement) { a.Addresses = nil }), r2), DropAddresses, false},
		{"v2 auth none", v2, advertFrom(t, with(base2, func(a *Advertisement) { a.AuthType, a.AuthData = AuthNone, [8]byte{} }), r2), DropAuth, false},
		{"v2 to a v3 instance", v3, advertFrom(t, base2, r2), DropVersion, false},
		{"not an advert", v3, packet{b: mustHex(t, "32 33 96 01 00 0a 43 07 0a 63 00 64"), src: r1, dst: GroupIPv4, ttl: 255}, DropType, false},
		{"hop limit 1", v3, func() packet { p := advertFrom(t, base3, r2); p.ttl = 1; return p }(), DropTTL, false},
		{"IPv6 addresses from an IPv4 source", v3, func() packet {
			a := with(base3, func(a *Advertisement) { a.Addresses = []netip.Addr{netip.MustParseAddr("fd00::1")} })
			a.Src, a.Dst = netip.MustParseAddr("fe80::1"), GroupIPv6
			b, err := a.MarshalBinary()
			require.NoError(t, err)
			return packet{b: b, src: r2, dst: GroupIPv4, ttl: 255}
		}(), DropLength, false},
		{"unicast: TTL not checked, source is", receiver{version: 3, vrid: 51, vips: []netip.Addr{vip}, peers: []netip.Addr{r2}},
			func() packet { p := advertFrom(t, base3, r2); p.ttl = 63; return p }(), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, reason, msg, mismatch := tt.r.check(tt.p)
			assert.Equal(t, tt.want, reason, msg)
			assert.Equal(t, tt.mismatch, mismatch)
			assert.Equal(t, reason == "", a != nil)
		})
	}
}
