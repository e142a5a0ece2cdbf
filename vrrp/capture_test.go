package vrrp

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// frame is one Ethernet frame of a tcpdump -xx capture in testdata, with the
// IP header fields the tests look at.
type frame struct {
	summary   string // tcpdump's line
	raw       []byte // the whole frame
	etherType uint16
	payload   []byte // after the Ethernet header

	// IPv4 or IPv6 (zero for ARP)
	tos, ttl uint8 // IPv6: traffic class, hop limit
	proto    uint8
	src, dst netip.Addr
	ip       []byte // the IP payload
}

// readCapture parses testdata/NAME, written by testdata/capture.sh.
func readCapture(t *testing.T, name string) []frame {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames []frame
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "\t0x") {
			if strings.TrimSpace(line) != "" {
				frames = append(frames, frame{summary: line})
			}
			continue
		}
		if len(frames) == 0 {
			t.Fatalf("%s: hex before a packet line", name)
		}
		_, hexPart, _ := strings.Cut(line, ":")
		b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(hexPart), " ", ""))
		if err != nil {
			t.Fatalf("%s: %q: %v", name, line, err)
		}
		fr := &frames[len(frames)-1]
		fr.raw = append(fr.raw, b...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		fr := &frames[i]
		if len(fr.raw) < 14 {
			t.Fatalf("%s: short frame %q", name, fr.summary)
		}
		fr.etherType = binary.BigEndian.Uint16(fr.raw[12:])
		fr.payload = fr.raw[14:]
		p := fr.payload
		switch fr.etherType {
		case 0x0800:
			ihl := int(p[0]&0x0f) * 4
			fr.tos, fr.ttl, fr.proto = p[1], p[8], p[9]
			fr.src = netip.AddrFrom4([4]byte(p[12:16]))
			fr.dst = netip.AddrFrom4([4]byte(p[16:20]))
			fr.ip = p[ihl:binary.BigEndian.Uint16(p[2:])]
		case 0x86dd:
			fr.tos = uint8(binary.BigEndian.Uint16(p) >> 4)
			fr.proto, fr.ttl = p[6], p[7]
			fr.src = netip.AddrFrom16([16]byte(p[8:24]))
			fr.dst = netip.AddrFrom16([16]byte(p[24:40]))
			fr.ip = p[40 : 40+int(binary.BigEndian.Uint16(p[4:]))]
		}
	}
	if len(frames) == 0 {
		t.Fatalf("%s: no packets", name)
	}
	return frames
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
