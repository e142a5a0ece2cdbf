package vrrp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNetnsWaitsForLinkLocal: an IPv6 instance started before its
// interface has a link-local address (a link that just got its carrier,
// or one still in duplicate address detection) waits for the address
// instead of failing at start. Seen as a start-up failure under load
// ("no usable IPv6 link-local address") in TestNetnsVMACFailover6.
func TestNetnsWaitsForLinkLocal(t *testing.T) {
	tp := newTopo(t)
	out, err := tp.lab.command("r1", "ip", "-6", "addr", "flush", "dev", "eth0", "scope", "link").CombinedOutput()
	require.NoError(t, err, "%s", out)
	n := tp.start("r1", Config{VRID: 51, Version: 3, Priority: 200, AdvertInterval: 100 * time.Millisecond, VIPs: []VIP{{Prefix: vip6}}})
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-n.done:
		t.Fatalf("the instance stopped before the link-local address came: %v", err)
	default:
	}
	out, err = tp.lab.command("r1", "ip", "-6", "addr", "add", "fe80::1/64", "dev", "eth0").CombinedOutput()
	require.NoError(t, err, "%s", out)
	n.waitState(StateMaster, 3*time.Second)
}
