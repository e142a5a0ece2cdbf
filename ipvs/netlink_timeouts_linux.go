package ipvs

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/mdlayher/netlink"
)

// SetTimeouts sets the kernel's connection timeouts (ipvsadm --set,
// keepalived's lvs_timeouts) with IPVS_CMD_SET_CONFIG: the established TCP,
// the TCP FIN_WAIT and the UDP timeout, whole seconds. A zero duration
// leaves that timeout as it is (ip_vs_set_timeout ignores zeros), as
// ipvsadm --set does with 0. The settings are per network namespace and
// apply to new connections and to existing ones at their next state change.
func (n *Netlink) SetTimeouts(ctx context.Context, t Timeouts) error {
	attrs, err := encodeTimeouts(t)
	if err != nil {
		return fmt.Errorf("ipvs: set timeouts: %w", err)
	}
	if _, err := n.execute(ctx, cmdSetConfig, netlink.Request|netlink.Acknowledge, attrs); err != nil {
		return requestError("set timeouts", err)
	}
	return nil
}

// encodeTimeouts is the attributes of SET_CONFIG for t, as ipvsadm 1.31's
// ipvs_set_timeout sends them: each of TCP, TCP_FIN and UDP as a u32 of
// seconds (zero: unchanged).
func encodeTimeouts(t Timeouts) ([]byte, error) {
	ae := netlink.NewAttributeEncoder()
	for _, f := range []struct {
		attr uint16
		name string
		d    time.Duration
	}{
		{cmdAttrTimeoutTCP, "tcp", t.TCP},
		{cmdAttrTimeoutTCPFin, "tcp_fin", t.TCPFin},
		{cmdAttrTimeoutUDP, "udp", t.UDP},
	} {
		// The kernel takes at most INT_MAX / HZ seconds; HZ is at most 1000.
		if f.d < 0 || f.d%time.Second != 0 || f.d/time.Second > math.MaxInt32/1000 {
			return nil, fmt.Errorf("%s timeout %s: want whole seconds from 0 to %d", f.name, f.d, math.MaxInt32/1000)
		}
		ae.Uint32(f.attr, uint32(f.d/time.Second))
	}
	return ae.Encode()
}
