package ipvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Sync daemon attributes, nested in IPVS_CMD_ATTR_DAEMON (enum
// IPVS_DAEMON_ATTR_*).
const (
	daemonAttrState       = 1 // IPVS_DAEMON_ATTR_STATE: u32, IP_VS_STATE_MASTER or _BACKUP
	daemonAttrMcastIfn    = 2 // IPVS_DAEMON_ATTR_MCAST_IFN: string
	daemonAttrSyncID      = 3 // IPVS_DAEMON_ATTR_SYNC_ID: u32
	daemonAttrSyncMaxLen  = 4 // IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 (Linux 4.3+)
	daemonAttrMcastGroup  = 5 // IPVS_DAEMON_ATTR_MCAST_GROUP: be32
	daemonAttrMcastGroup6 = 6 // IPVS_DAEMON_ATTR_MCAST_GROUP6: in6_addr
	daemonAttrMcastPort   = 7 // IPVS_DAEMON_ATTR_MCAST_PORT: u16
	daemonAttrMcastTTL    = 8 // IPVS_DAEMON_ATTR_MCAST_TTL: u8
)

// List dumps every virtual service with its real servers, their statistics
// and connection counts, in the order the kernel reports them (its hash
// tables' order; real servers newest first), which is what ipvsadm
// --nosort shows. Like Table it is one GET_SERVICE dump, then one GET_DEST
// dump per service, and not one atomic snapshot.
func (n *Netlink) List(ctx context.Context) ([]ListedService, error) {
	if n.c == nil || n.raw() == nil {
		return n.list(ctx)
	}
	var out []ListedService
	err := n.guard(ctx, func() (err error) {
		out, err = n.list(ctx)
		return err
	})
	return out, err
}

func (n *Netlink) list(ctx context.Context) ([]ListedService, error) {
	var out []ListedService
	err := n.dump(ctx, cmdGetService, nil, func(b []byte) error {
		ls, err := listedFromMessage(b)
		if err != nil {
			return &decodeError{err}
		}
		out = append(out, ls)
		return nil
	})
	var derr *decodeError
	if errors.As(err, &derr) {
		return nil, fmt.Errorf("ipvs: list services: decode kernel reply: %w", derr.err)
	}
	if err != nil {
		return nil, requestError("list services", err)
	}
	var arena realsArena
	for i := range out {
		if err := n.addReals(ctx, &out[i].ServiceStatus, &arena); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeError marks a reply the kernel sent but this package could not
// read, apart from a failed request.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }

// ListService returns the service with key k and its real servers (in the
// kernel's order). If there is none, the error matches ErrNoService.
func (n *Netlink) ListService(ctx context.Context, k ServiceKey) (ListedService, error) {
	req, err := encodeGetDests(k) // the same attributes: the key, nested
	if err != nil {
		return ListedService{}, fmt.Errorf("ipvs: get service %s: %w", k, err)
	}
	msgs, err := n.execute(ctx, cmdGetService, netlink.Request, req)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ListedService{}, explain(fmt.Sprintf("ipvs: get service %s: %s", k, ErrNoService), ErrNoService, err)
		}
		return ListedService{}, requestError("get service "+k.String(), err)
	}
	if len(msgs) != 1 {
		return ListedService{}, fmt.Errorf("ipvs: get service %s: kernel sent %d replies, want 1", k, len(msgs))
	}
	ls, err := listedFromMessage(msgs[0].Data)
	if err != nil {
		return ListedService{}, fmt.Errorf("ipvs: get service %s: decode kernel reply: %w", k, err)
	}
	if err := n.addReals(ctx, &ls.ServiceStatus, &realsArena{}); err != nil {
		return ListedService{}, err
	}
	return ls, nil
}

// realsArena holds the real servers of a whole listing in two large
// slices, which each service's real servers are windows of: growing a
// slice per service was a tenth of the listing's allocations.
type realsArena struct {
	reals   []RealStatus
	servers []RealServer
}

// addReals dumps the real servers of st's service into st, in the kernel's
// order.
func (n *Netlink) addReals(ctx context.Context, st *ServiceStatus, arena *realsArena) error {
	key := st.Service.Key
	req, err := encodeGetDests(key)
	if err != nil {
		return fmt.Errorf("ipvs: list real servers of %s: %w", key, err)
	}
	if len(arena.reals) > 1<<16 { // start afresh so the old array can go
		*arena = realsArena{}
	}
	start := len(arena.reals)
	err = n.dump(ctx, cmdGetDest, req, func(b []byte) error {
		rs, err := destFromMessage(b, key.Family)
		if err != nil {
			return &decodeError{err}
		}
		arena.reals = append(arena.reals, rs)
		arena.servers = append(arena.servers, rs.Real)
		return nil
	})
	if end := len(arena.reals); end > start {
		st.Reals = arena.reals[start:end:end]
		st.Service.RealServers = arena.servers[start:end:end]
	} else {
		st.Reals, st.Service.RealServers = []RealStatus{}, []RealServer{}
	}
	var derr *decodeError
	if errors.As(err, &derr) {
		return fmt.Errorf("ipvs: list real servers of %s: decode kernel reply: %w", key, derr.err)
	}
	if err != nil {
		return requestError("list real servers of "+key.String(), err)
	}
	return nil
}

// listedFromMessage decodes one GET_SERVICE reply with the fields the
// normalized model drops: the raw IPv4 netmask and the persistence engine.
func listedFromMessage(b []byte) (ListedService, error) {
	st, err := serviceFromMessage(b)
	if err != nil {
		return ListedService{}, err
	}
	ls := ListedService{ServiceStatus: st}
	svc, _, err := attrData(b, cmdAttrService)
	if err != nil {
		return ListedService{}, err
	}
	as, err := parseAttrs(svc)
	if err != nil {
		return ListedService{}, err
	}
	for _, a := range as {
		switch a.Type {
		case svcAttrPEName:
			ls.PEName = getString(a)
		case svcAttrNetmask:
			if st.Service.Key.Family == IPv4 && len(a.Data) == 4 {
				ls.Netmask = netip.AddrFrom4([4]byte(a.Data))
			}
		}
	}
	return ls, nil
}

// Timeouts returns the kernel's TCP, TCP FIN and UDP connection timeouts
// (IPVS_CMD_GET_CONFIG).
func (n *Netlink) Timeouts(ctx context.Context) (Timeouts, error) {
	msgs, err := n.execute(ctx, cmdGetConfig, netlink.Request, nil)
	if err != nil {
		return Timeouts{}, requestError("get timeouts", err)
	}
	if len(msgs) != 1 {
		return Timeouts{}, fmt.Errorf("ipvs: get timeouts: kernel sent %d replies, want 1", len(msgs))
	}
	t, err := decodeTimeouts(msgs[0].Data)
	if err != nil {
		return Timeouts{}, fmt.Errorf("ipvs: get timeouts: decode kernel reply: %w", err)
	}
	return t, nil
}

func decodeTimeouts(b []byte) (Timeouts, error) {
	as, err := parseAttrs(b)
	if err != nil {
		return Timeouts{}, err
	}
	var t Timeouts
	for _, a := range as {
		var dst *time.Duration
		switch a.Type {
		case cmdAttrTimeoutTCP:
			dst = &t.TCP
		case cmdAttrTimeoutTCPFin:
			dst = &t.TCPFin
		case cmdAttrTimeoutUDP:
			dst = &t.UDP
		default:
			continue
		}
		v, err := getU32(a)
		if err != nil {
			return Timeouts{}, fmt.Errorf("timeouts: %w", err)
		}
		*dst = time.Duration(v) * time.Second
	}
	return t, nil
}

// SyncDaemons returns the running connection synchronisation daemons
// (IPVS_CMD_GET_DAEMON): none, a master, a backup, or both, in that order.
func (n *Netlink) SyncDaemons(ctx context.Context) ([]SyncDaemon, error) {
	msgs, err := n.execute(ctx, cmdGetDaemon, netlink.Request|netlink.Dump, nil)
	if err != nil {
		return nil, requestError("list sync daemons", err)
	}
	out := []SyncDaemon{}
	for _, m := range msgs {
		b, ok, err := attrData(m.Data, cmdAttrDaemon)
		if err == nil && !ok {
			err = errors.New("message has no daemon attribute")
		}
		var d SyncDaemon
		if err == nil {
			d, err = decodeDaemon(b)
		}
		if err != nil {
			return nil, fmt.Errorf("ipvs: list sync daemons: decode kernel reply: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

func decodeDaemon(b []byte) (SyncDaemon, error) {
	as, err := parseAttrs(b)
	if err != nil {
		return SyncDaemon{}, err
	}
	var d SyncDaemon
	for _, a := range as {
		var err error
		switch a.Type {
		case daemonAttrState:
			var v uint32
			v, err = getU32(a)
			d.State = SyncState(v)
		case daemonAttrMcastIfn:
			d.Interface = getString(a)
		case daemonAttrSyncID:
			d.SyncID, err = getU32(a)
		case daemonAttrSyncMaxLen:
			d.MaxLen, err = getU16(a)
		case daemonAttrMcastGroup:
			if err = attrLen(a, 4); err == nil {
				d.Group = netip.AddrFrom4([4]byte(a.Data))
			}
		case daemonAttrMcastGroup6:
			if err = attrLen(a, 16); err == nil {
				d.Group = netip.AddrFrom16([16]byte(a.Data))
			}
		case daemonAttrMcastPort:
			d.Port, err = getU16(a)
		case daemonAttrMcastTTL:
			d.TTL, err = getU8(a)
		}
		if err != nil {
			return SyncDaemon{}, fmt.Errorf("daemon: %w", err)
		}
	}
	return d, nil
}
