package realserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The kernel's reading of each value (net/ipv4/arp.c, fib_frontend.c).
func TestRules(t *testing.T) {
	for v, want := range map[int]bool{0: false, 1: true, 2: true, 3: false, 4: false, 7: false, 8: true, 9: false} {
		assert.Equal(t, want, arpIgnoreOK(v), "arp_ignore %d", v)
	}
	for v, want := range map[int]bool{0: false, 1: false, 2: true, 3: false} {
		assert.Equal(t, want, arpAnnounceOK(v), "arp_announce %d", v)
	}
	for v, want := range map[int]bool{0: true, 1: false, 2: true} {
		assert.Equal(t, want, rpFilterOK(v), "rp_filter %d", v)
	}
}

func TestSysctlNames(t *testing.T) {
	k := Sysctl{"eth0.100", ArpIgnore}
	assert.Equal(t, "net.ipv4.conf.eth0/100.arp_ignore", k.String(), "sysctl(8) writes dots in names as slashes")
	assert.Equal(t, "/proc/sys/net/ipv4/conf/eth0.100/arp_ignore", k.Path())
	assert.NoError(t, k.check())
	for _, bad := range []Sysctl{{"..", ArpIgnore}, {"a/b", ArpIgnore}, {"", ArpIgnore}, {"eth0", "forwarding"}} {
		assert.Error(t, bad.check(), "%+v", bad)
	}
}

func TestMode(t *testing.T) {
	for s, want := range map[string]Mode{"dr": DR, "DR": DR, "tun": TUN} {
		m, err := ParseMode(s)
		assert.NoError(t, err)
		assert.Equal(t, want, m)
	}
	_, err := ParseMode("nat")
	assert.ErrorContains(t, err, `unknown mode "nat" (want dr or tun)`)
	b, err := TUN.MarshalText()
	assert.NoError(t, err)
	assert.Equal(t, "tun", string(b))
	assert.Equal(t, "lo", DR.Device())
	assert.Equal(t, "tunl0", TUN.Device())
}
