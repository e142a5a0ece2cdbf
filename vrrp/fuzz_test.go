package vrrp

import (
	"bytes"
	"net/netip"
	"testing"
)

// FuzzUnmarshal feeds the decoder arbitrary bytes. It must never panic, and
// whatever it accepts must encode back to the same bytes (up to the v3
// reserved bits, which are sent as zero) and decode to the same value.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		"21 33 96 01 01 01 00 e9 0a 63 00 64 73 33 63 72 65 74 00 00",
		"31 33 96 01 00 0a 43 07 0a 63 00 64",
		"31 34 c8 01 00 64 3c 10 fd 00 00 99 00 00 00 00 00 00 00 00 00 00 01 00",
		"31 01 64 00 00 64 00 00",
		"21 07 64 02 00 02 00 00 0a 63 00 64 0a 63 00 65 00 00 00 00 00 00 00 00",
	} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Advertisement
		if err := a.UnmarshalBinary(b); err != nil {
			return
		}
		a.Src, a.Dst = netip.MustParseAddr("10.99.0.1"), GroupIPv4
		if len(a.Addresses) > 0 && a.Addresses[0].Is6() {
			a.Src, a.Dst = netip.MustParseAddr("fe80::1"), GroupIPv6
		}
		out, err := a.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %+v from %x but cannot encode it: %v", a, b, err)
		}
		want := bytes.Clone(b)
		if a.Version == 3 {
			want[4] &= 0x0f // reserved
		}
		want[6], want[7] = out[6], out[7] // checksum: recomputed
		if !bytes.Equal(out, want) {
			t.Fatalf("round trip: %x -> %+v -> %x", b, a, out)
		}
		if !VerifyChecksum(out, a.Src, a.Dst) {
			t.Fatalf("encoded %x fails its own checksum", out)
		}
		var again Advertisement
		again.Src, again.Dst = a.Src, a.Dst
		if err := again.UnmarshalBinary(out); err != nil {
			t.Fatalf("cannot decode our own %x: %v", out, err)
		}
		if again.Checksum != a.Checksum || len(again.Addresses) != len(a.Addresses) {
			t.Fatalf("second decode differs: %+v vs %+v", again, a)
		}
	})
}

// FuzzUnmarshalAnnouncements: the ARP and NA decoders (used to observe
// takeovers in tests) never panic and round-trip what they accept.
func FuzzUnmarshalAnnouncements(f *testing.F) {
	f.Add(mustHex(f, "0001 0800 0604 0001 0200 0a63 0001 0a63 0064 ffff ffff ffff 0a63 0064"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p arpPacket
		if p.UnmarshalBinary(b) == nil {
			out, err := p.MarshalBinary()
			if err != nil || !bytes.Equal(out, b[:arpLen]) {
				t.Fatalf("ARP round trip %x -> %x (%v)", b, out, err)
			}
		}
		var na neighborAdvert
		if na.UnmarshalBinary(b) == nil {
			if _, err := na.MarshalBinary(); err != nil {
				t.Fatalf("NA %x decoded but does not encode: %v", b, err)
			}
		}
	})
}
