package ipvsadm

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/ipvs"
)

// The expectations were printed by glibc 2.36's inet_aton and inet_ntop.
func TestInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"10.1": "10.0.0.1", "10.0.0.1": "10.0.0.1", "1234": "0.0.4.210", "0x0a.1": "10.0.0.1",
		"012.1.2.3": "10.1.2.3", "08.1.1.1": "", "10.0.0.1 junk": "10.0.0.1", "10.0.0.256": "",
		"1.2.3.4.5": "", "0x": "", "4294967295": "255.255.255.255", "4294967296": "",
		"10.65536": "10.1.0.0", "10.1.65535": "10.1.255.255", "": "", " 1.2.3.4": "", "1.2.3.4x": "",
	} {
		a, ok := inetAton(in)
		if want == "" {
			assert.False(t, ok, "%q is not an address (got %v)", in, a)
			continue
		}
		if assert.True(t, ok, "%q", in) {
			assert.Equal(t, want, a.String(), "%q", in)
		}
	}
}

func TestNtop6(t *testing.T) {
	for in, want := range map[string]string{
		"::ffff:10.0.0.5": "::ffff:10.0.0.5", "::10.0.0.6": "::10.0.0.6", "::1": "::1", "::0.0.1.2": "::102",
		"2001:db8:0:0:1:0:0:1": "2001:db8::1:0:0:1", "2001:0:0:1:0:0:0:1": "2001:0:0:1::1",
		"fe80::1:0:0:0": "fe80::1:0:0:0", "::ffff:0:1.2.3.4": "::ffff:0:102:304", "::ffff": "::ffff",
		"ffff::": "ffff::", "::": "::", "2001:db8:1234:5678:9abc:def0:1234:5678": "2001:db8:1234:5678:9abc:def0:1234:5678",
	} {
		assert.Equal(t, want, ntop6(netip.MustParseAddr(in).As16()), in)
	}
}

func TestLargeNum(t *testing.T) {
	for _, c := range []struct {
		v     uint64
		exact bool
		want  string
	}{
		{0, false, "        0"}, {99999999, false, " 99999999"}, {100000000, false, "  100000K"},
		{999999999, false, "  999999K"}, {1000000000, false, "    1000M"}, {99999999999, false, "   99999M"},
		{100000000000, false, "     100G"}, {99999999999999, false, "   99999G"}, {100000000000000, false, "     100T"},
		{18446744073709551615, false, "18446744T"},
		{5, true, "        5"}, {12345678, true, " 12345678"}, {123456789, true, " 123456789"},
		{18446744073709551615, true, " 18446744073709551615"},
	} {
		assert.Equal(t, c.want, string(appendLargeNum(nil, c.v, c.exact)), "%d exact=%v", c.v, c.exact)
	}
}

type fakeNames struct{}

func (fakeNames) HostName(netip.Addr) (string, bool) { return "", false }
func (fakeNames) ServiceName(uint16, ipvs.Protocol) (string, bool) {
	return "", false
}

func (fakeNames) HostAddr(name string) (netip.Addr, bool) {
	if name == "www.example.com" {
		return netip.MustParseAddr("192.0.2.80"), true
	}
	return netip.Addr{}, false
}

func (fakeNames) ServicePort(name string, p ipvs.Protocol) (uint16, bool) {
	if name == "http" && p == ipvs.TCP {
		return 80, true
	}
	return 0, false
}

func TestParseService(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"10.0.0.1:80", "TCP 10.0.0.1:80"},
		{"10.0.0.1", "TCP 10.0.0.1:0"},
		{"10.1:8080", "TCP 10.0.0.1:8080"},
		{"[2001:db8::1]:443", "TCP [2001:db8::1]:443"},
		{"2001:db8::1", "TCP [2001:db8::1]:0"},       // a bare IPv6 address has no port
		{"2001:db8::1:80", "TCP [2001:db8::1:80]:0"}, // ... even if it looks like one
		{"[10.0.0.1]:80", "TCP 10.0.0.1:0"},          // ipvsadm loses this port
		{"www.example.com:http", "TCP 192.0.2.80:80"},
		{"10.0.0.1: 80", "TCP 10.0.0.1:80"}, // strtol skips white space
		{"1234:80", "TCP 0.0.4.210:80"},
		{"1234", ""}, {"", ""}, {"[2001:db8::1]", ""}, {"[2001:db8::1]80", ""}, {"10.0.0.1:65536", ""},
		{"10.0.0.1:https", ""}, {"nowhere.example:80", ""}, {"10.0.0.1:", ""}, {"[::1]:", ""},
	} {
		k, err := ParseService(c.in, ipvs.TCP, fakeNames{})
		if c.want == "" {
			assert.Error(t, err, "%q gave %v", c.in, k)
			continue
		}
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, k.String(), c.in)
	}
	k, err := ParseService("[2001:db8::1]:53", ipvs.UDP, nil)
	require.NoError(t, err)
	assert.Equal(t, ipvs.ServiceKey{Family: ipvs.IPv6, Protocol: ipvs.UDP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 53}, k)
	_, err = ParseService("www.example.com:80", ipvs.TCP, nil)
	assert.Error(t, err, "no resolver, no names")
}

func TestParseFWMark(t *testing.T) {
	for in, want := range map[string]uint32{"1": 1, "4294967295": 4294967295, "+7": 7, " 7": 7} {
		got, err := ParseFWMark(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"0", "-1", "4294967296", "0x10", "7a", ""} {
		_, err := ParseFWMark(in)
		assert.Error(t, err, in)
	}
}

func TestParseServices(t *testing.T) {
	r := &SystemResolver{ServicesFile: writeTemp(t, "# comment\nhttp 80/tcp www # WorldWideWeb\nhttp 80/udp\nbad line\nalt\t8080/tcp http-alt webcache\nsip 5060/udp\nsip 5060/tcp\nbroken 99999/tcp\n")}
	for _, c := range []struct {
		port uint16
		p    ipvs.Protocol
		want string
	}{{80, ipvs.TCP, "http"}, {80, ipvs.UDP, "http"}, {8080, ipvs.TCP, "alt"}, {5060, ipvs.TCP, "sip"}, {8080, ipvs.UDP, ""}, {80, ipvs.SCTP, ""}, {80, 0, ""}} {
		got, ok := r.ServiceName(c.port, c.p)
		assert.Equal(t, c.want, got, "%d/%v", c.port, c.p)
		assert.Equal(t, c.want != "", ok)
	}
	for _, c := range []struct {
		name string
		want uint16
	}{{"www", 80}, {"webcache", 8080}, {"http-alt", 8080}, {"sip", 5060}, {"nothing", 0}, {"broken", 0}} {
		got, ok := r.ServicePort(c.name, ipvs.TCP)
		assert.Equal(t, c.want, got, c.name)
		assert.Equal(t, c.want != 0, ok, c.name)
	}
}

func writeTemp(t *testing.T, content string) string {
	p := t.TempDir() + "/services"
	writeFile(t, p, content)
	return p
}
