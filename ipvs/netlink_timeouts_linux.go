package ipvs

import (
	"context"
	"fmt"
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
	if err := checkTimeouts(t); err != nil {
		return nil, err
	}
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(cmdAttrTimeoutTCP, uint32(t.TCP/time.Second))
	ae.Uint32(cmdAttrTimeoutTCPFin, uint32(t.TCPFin/time.Second))
	ae.Uint32(cmdAttrTimeoutUDP, uint32(t.UDP/time.Second))
	return ae.Encode()
}
