package ipvs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// This file starts and stops the kernel's connection synchronisation
// daemons (ipvsadm --start-daemon / --stop-daemon): IPVS_CMD_NEW_DAEMON and
// IPVS_CMD_DEL_DAEMON, with the attributes nested in IPVS_CMD_ATTR_DAEMON
// as ipvsadm 1.31's ipvs_start_daemon sends them and
// ip_vs_genl_new_daemon reads them: STATE (u32), MCAST_IFN (NUL-terminated),
// SYNC_ID (u32) always; SYNC_MAXLEN (u16), MCAST_PORT (u16, host order),
// MCAST_TTL (u8) only when set; the group as MCAST_GROUP (be32, a raw
// IPv4 address) or MCAST_GROUP6 (16 bytes). Unset values take the kernel's
// defaults: a max length from the interface's MTU, port 8848, TTL 1,
// group 224.0.0.81.

// ifNameMax is IP_VS_IFNAME_MAXLEN: an interface name with its NUL.
const ifNameMax = 16

// DaemonRequestTimeout bounds a sync daemon request whose context has no
// earlier deadline. The kernel answers in milliseconds, with one
// exception: a stop that interrupts a daemon thread that has not run yet
// (a stop within milliseconds of the start) makes stop_sync_thread return
// -EINTR, for which netlink sends no acknowledgement at all. The daemon is
// stopped then; without a deadline the caller would wait forever.
const DaemonRequestTimeout = 5 * time.Second

// daemonContext applies DaemonRequestTimeout to ctx.
func daemonContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= DaemonRequestTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DaemonRequestTimeout)
}

// StartSyncDaemon starts the connection synchronisation daemon d
// (IPVS_CMD_NEW_DAEMON) in state d.State, on d.Interface. Zero MaxLen,
// Port, TTL and an invalid Group take the kernel's defaults. The kernel
// runs at most one master and one backup daemon per namespace: starting
// one that runs already fails with an error matching unix.EEXIST.
func (n *Netlink) StartSyncDaemon(ctx context.Context, d SyncDaemon) error {
	attrs, err := encodeNewDaemon(d)
	if err != nil {
		return fmt.Errorf("ipvs: start %s sync daemon: %w", d.State, err)
	}
	ctx, cancel := daemonContext(ctx)
	defer cancel()
	if _, err := n.execute(ctx, cmdNewDaemon, netlink.Request|netlink.Acknowledge, attrs); err != nil {
		return daemonError("start "+d.State.String()+" sync daemon on "+d.Interface, err)
	}
	return nil
}

// StopSyncDaemon stops the daemon in state s (IPVS_CMD_DEL_DAEMON).
// Stopping one that does not run fails with an error matching unix.ESRCH.
// A stop the kernel does not answer (see DaemonRequestTimeout) fails with
// an error matching context.DeadlineExceeded, and leaves n unusable:
// open another Netlink and list the daemons to know whether it stopped.
func (n *Netlink) StopSyncDaemon(ctx context.Context, s SyncState) error {
	attrs, err := encodeDelDaemon(s)
	if err != nil {
		return fmt.Errorf("ipvs: stop sync daemon: %w", err)
	}
	ctx, cancel := daemonContext(ctx)
	defer cancel()
	if _, err := n.execute(ctx, cmdDelDaemon, netlink.Request|netlink.Acknowledge, attrs); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("ipvs: stop %s sync daemon: the kernel did not answer (it sends no answer when the stop interrupted a daemon thread that had not run yet; the daemon is then stopped): %w", s, err)
		}
		return daemonError("stop "+s.String()+" sync daemon", err)
	}
	return nil
}

func daemonError(what string, err error) error {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return requestError(what, err)
	}
	switch errno {
	case unix.EEXIST:
		return explain("ipvs: "+what+": already running", err)
	case unix.ESRCH:
		return explain("ipvs: "+what+": not running", err)
	case unix.ENODEV:
		return explain("ipvs: "+what+": no such interface", err)
	case unix.EINVAL:
		return explain("ipvs: "+what+": invalid argument (the sync protocol also refuses a table with mixed-family real servers)", err)
	}
	return requestError(what, err)
}

func checkState(s SyncState) error {
	if s != SyncMaster && s != SyncBackup {
		return fmt.Errorf("state %d is neither master nor backup", s)
	}
	return nil
}

// encodeNewDaemon returns the first-level attributes of NEW_DAEMON for d.
func encodeNewDaemon(d SyncDaemon) ([]byte, error) {
	if err := checkState(d.State); err != nil {
		return nil, err
	}
	if d.Interface == "" || len(d.Interface) >= ifNameMax {
		return nil, fmt.Errorf("interface name %q: want 1 to %d bytes", d.Interface, ifNameMax-1)
	}
	nested := netlink.NewAttributeEncoder()
	nested.Uint32(daemonAttrState, uint32(d.State))
	nested.String(daemonAttrMcastIfn, d.Interface)
	nested.Uint32(daemonAttrSyncID, d.SyncID)
	if d.MaxLen != 0 {
		nested.Uint16(daemonAttrSyncMaxLen, d.MaxLen)
	}
	if d.Port != 0 {
		nested.Uint16(daemonAttrMcastPort, d.Port)
	}
	if d.TTL != 0 {
		nested.Uint8(daemonAttrMcastTTL, d.TTL)
	}
	switch g := d.Group; {
	case !g.IsValid():
	case !g.IsMulticast():
		return nil, fmt.Errorf("group %s is not a multicast address", g)
	case g.Is4() || g.Is4In6():
		v4 := g.Unmap().As4()
		nested.Bytes(daemonAttrMcastGroup, v4[:])
	default:
		v6 := g.As16()
		nested.Bytes(daemonAttrMcastGroup6, v6[:])
	}
	return nestDaemon(nested)
}

// encodeDelDaemon returns the first-level attributes of DEL_DAEMON: only
// the state matters to the kernel.
func encodeDelDaemon(s SyncState) ([]byte, error) {
	if err := checkState(s); err != nil {
		return nil, err
	}
	nested := netlink.NewAttributeEncoder()
	nested.Uint32(daemonAttrState, uint32(s))
	return nestDaemon(nested)
}

func nestDaemon(nested *netlink.AttributeEncoder) ([]byte, error) {
	b, err := nested.Encode()
	if err != nil {
		return nil, err
	}
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(netlink.Nested|cmdAttrDaemon, b)
	return ae.Encode()
}
