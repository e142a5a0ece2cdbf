package ipvs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Netlink is the kernel's IPVS table in one network namespace, reached
// through the generic netlink family "IPVS". Every request needs
// CAP_NET_ADMIN in the namespace's user namespace.
//
// A Netlink is not safe for concurrent use: one goroutine owns it and its
// socket. If a context is cancelled while a request is in flight, the socket
// may still hold part of the reply and the Netlink refuses further requests:
// close it and open another.
type Netlink struct {
	c      *genetlink.Conn
	family genetlink.Family
	// broken is set when a cancelled request left the socket in an unknown
	// state.
	broken error
	// dumper reads dumps on the raw socket (netlink_dump_linux.go).
	dumper *dumper
	// guarded is set while a guard holds ctx's cancellation hook.
	guarded bool
	// svc, when set, is a second socket in the same namespace for the
	// GET_SERVICE dump, read with a large buffer (netlink_dump_linux.go);
	// svcDumper reads it.
	svc       *genetlink.Conn
	svcDumper *dumper
}

var _ Kernel = (*Netlink)(nil)

// Open opens a generic netlink socket in the network namespace at netnsPath
// (a path such as /run/netns/NAME or /proc/PID/ns/net; "" is the calling
// thread's namespace) and resolves the IPVS family. The socket stays in that
// namespace for its lifetime; no thread is left in it.
//
// Looking the family up makes kernels whose ip_vs declares the family's
// module alias (MODULE_ALIAS_GENL_FAMILY, Linux 5.17 or so) load ip_vs on
// demand through /proc/sys/kernel/modprobe; older kernels need it loaded
// beforehand. Open never runs modprobe itself. If the family does not exist
// the error matches ErrNoIPVS. Entering another namespace needs
// CAP_SYS_ADMIN; lacking it, the error matches ErrPermission.
func Open(ctx context.Context, netnsPath string) (*Netlink, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := &netlink.Config{}
	where := ""
	if netnsPath != "" {
		where = " in network namespace " + netnsPath
		f, err := os.Open(netnsPath)
		if err != nil {
			return nil, fmt.Errorf("ipvs: open network namespace: %w", err)
		}
		defer f.Close()
		fd := int(f.Fd())
		if fd == 0 {
			// netlink.Config reads NetNS 0 as "the current namespace":
			// move the handle off fd 0 rather than silently use ours.
			nfd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 1)
			if err != nil {
				return nil, fmt.Errorf("ipvs: open network namespace %s: %w", netnsPath, err)
			}
			defer unix.Close(nfd)
			fd = nfd
		}
		cfg.NetNS = fd
	}
	c, err := genetlink.Dial(cfg)
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			return nil, explain(fmt.Sprintf("ipvs: open generic netlink socket%s: permission denied: entering a network namespace needs root or CAP_SYS_ADMIN", where), ErrPermission, err)
		}
		return nil, fmt.Errorf("ipvs: open generic netlink socket%s: %w", where, err)
	}
	// Extended acks let the kernel say which attribute it rejected; kernels
	// without them ignore the option.
	_ = c.SetOption(netlink.ExtendedAcknowledge, true)
	n, err := newNetlink(c)
	if err != nil {
		c.Close()
		if netnsPath != "" {
			return nil, fmt.Errorf("%w (network namespace %s)", err, netnsPath)
		}
		return nil, err
	}
	// Best effort: without it the service dump shares the main socket.
	if svc, err := genetlink.Dial(cfg); err == nil {
		if rc, err := svc.SyscallConn(); err == nil {
			n.svc, n.svcDumper = svc, &dumper{rc: rc, buf: make([]byte, svcDumpBuf), seq: uint32(time.Now().UnixNano())}
		} else {
			svc.Close()
		}
	}
	return n, nil
}

// newNetlink resolves the IPVS family on c. It is Open without the socket,
// so that tests can hand it a fake connection.
func newNetlink(c *genetlink.Conn) (*Netlink, error) {
	f, err := c.GetFamily(genlName)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, explain("ipvs: the kernel has no IPVS generic netlink family (module ip_vs not loaded and not loadable, or CONFIG_IP_VS not set; try: modprobe ip_vs)", ErrNoIPVS, err)
		}
		return nil, fmt.Errorf("ipvs: look up generic netlink family %q: %w", genlName, err)
	}
	return &Netlink{c: c, family: f}, nil
}

// Close closes the socket. Closing twice is harmless.
func (n *Netlink) Close() error {
	if n.c == nil {
		return nil
	}
	err := n.c.Close()
	n.c = nil
	if n.svc != nil {
		n.svc.Close()
		n.svc = nil
	}
	return err
}

// Services dumps every virtual service with its real servers, normalized
// and ordered by key (real servers by address and port).
func (n *Netlink) Services(ctx context.Context) ([]VirtualService, error) {
	table, err := n.Table(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VirtualService, len(table))
	for i, st := range table {
		out[i] = st.Service
	}
	return out, nil
}

// Table dumps every virtual service with its real servers and their
// statistics and connection counts: one GET_SERVICE dump, then one GET_DEST
// dump per service. The dumps are not one atomic snapshot: a service deleted
// in between is listed without real servers.
func (n *Netlink) Table(ctx context.Context) ([]ServiceStatus, error) {
	listed, err := n.List(ctx)
	if err != nil {
		return nil, err
	}
	table := make([]ServiceStatus, len(listed))
	for i, ls := range listed {
		st := ls.ServiceStatus
		slices.SortFunc(st.Reals, func(a, b RealStatus) int { return a.Real.Key().Compare(b.Real.Key()) })
		for j, rs := range st.Reals {
			st.Service.RealServers[j] = rs.Real
		}
		table[i] = st
	}
	slices.SortFunc(table, func(a, b ServiceStatus) int { return a.Service.Key.Compare(b.Service.Key) })
	return table, nil
}

// Info returns the kernel's IPVS version and connection table size.
func (n *Netlink) Info(ctx context.Context) (Info, error) {
	msgs, err := n.execute(ctx, cmdGetInfo, netlink.Request, nil)
	if err != nil {
		return Info{}, requestError("get IPVS info", err)
	}
	if len(msgs) != 1 {
		return Info{}, fmt.Errorf("ipvs: get IPVS info: kernel sent %d replies, want 1", len(msgs))
	}
	info, err := decodeInfo(msgs[0].Data)
	if err != nil {
		return Info{}, fmt.Errorf("ipvs: get IPVS info: decode kernel reply: %w", err)
	}
	return info, nil
}

// Apply performs ops in order, one acknowledged request each, pipelined in
// batches (netlink_batch_linux.go), and stops after the batch holding the
// first failure, which it returns as an *OpError with a message that says
// what went wrong; the kernel's errno stays reachable with errors.Is
// (unix.EEXIST, ...). It returns how many ops, from the first, the kernel
// accepted before the failure; OpError.Later counts the ops after it, sent
// in the same batch, that the kernel accepted too.
//
// Cancelling ctx stops Apply before the next batch with ctx's error. If it
// interrupts a batch in flight, whether the kernel applied those ops is
// unknown (they are not counted): dump the table to find out.
func (n *Netlink) Apply(ctx context.Context, ops []Op) (int, error) {
	if n.c == nil {
		return 0, errors.New("ipvs: netlink socket is closed")
	}
	if n.raw() != nil {
		return n.applyPipelined(ctx, ops)
	}
	for i, op := range ops {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		cmd, attrs, err := encodeOp(op)
		if err != nil {
			return i, &OpError{Op: op, Err: err}
		}
		if _, err := n.execute(ctx, cmd, netlink.Request|netlink.Acknowledge, attrs); err != nil {
			if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
				return i, err
			}
			return i, &OpError{Op: op, Err: opFailure(op, err)}
		}
	}
	return len(ops), nil
}

// errBroken is returned by requests on a Netlink whose socket a cancelled
// request left holding an unread reply.
var errBroken = errors.New("ipvs: netlink socket abandoned after a cancelled request; open a new one")

// execute sends one request and collects its replies. Cancelling ctx
// interrupts a pending send or receive by moving the socket's deadline to
// the past.
func (n *Netlink) execute(ctx context.Context, cmd uint8, flags netlink.HeaderFlags, attrs []byte) ([]genetlink.Message, error) {
	if n.c == nil {
		return nil, errors.New("ipvs: netlink socket is closed")
	}
	if n.broken != nil {
		return nil, n.broken
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := n.c
	req := genetlink.Message{Header: genetlink.Header{Command: cmd, Version: genlVersion}, Data: attrs}
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(interrupted)
		// Sockets that have no deadlines (tests) ignore this.
		_ = c.SetDeadline(time.Unix(1, 0))
	})
	msgs, err := c.Execute(req, n.family.ID, flags)
	if !stop() {
		<-interrupted
		_ = c.SetDeadline(time.Time{})
		if err != nil {
			n.broken = errBroken
			return nil, fmt.Errorf("ipvs: request interrupted: %w", ctx.Err())
		}
	}
	return msgs, err
}

// requestError wraps the failure of a read-only request.
func requestError(what string, err error) error {
	if errors.Is(err, unix.EPERM) {
		return explain("ipvs: "+what+": "+ErrPermission.Error(), ErrPermission, err)
	}
	if errors.Is(err, errBroken) {
		return err
	}
	return fmt.Errorf("ipvs: %s: %w", what, err)
}

// opFailure explains the kernel's rejection of op. The messages follow
// ip_vs_genl_set_cmd: ESRCH is a missing service, ENOENT a missing real
// server (or, adding or editing a service, a scheduler the kernel cannot
// load), EEXIST a duplicate.
func opFailure(op Op, err error) error {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return err
	}
	isReal := op.Kind == AddRealServer || op.Kind == EditRealServer || op.Kind == DeleteRealServer
	var msg string
	switch errno {
	case unix.EPERM:
		return explain(ErrPermission.Error(), ErrPermission, err)
	case unix.EEXIST:
		msg = "already exists"
	case unix.ESRCH:
		msg = "does not exist"
		if isReal {
			msg = "service does not exist"
		}
	case unix.ENOENT:
		msg = "does not exist"
		if op.Kind == AddService || op.Kind == EditService {
			s := op.Service.Normalize().Scheduler
			msg = fmt.Sprintf("scheduler %q is not available in this kernel (no module ip_vs_%s)", s, s)
		}
	case unix.EINVAL:
		msg = "invalid argument (the kernel rejected the combination)"
		if isReal && op.Kind != DeleteRealServer {
			r := normalizeReal(op.Real)
			if r.Addr.IsValid() && FamilyOf(r.Addr) != op.Service.Normalize().Key.Family && r.Forwarding != Tunnel {
				msg = "invalid argument: a real server of another address family needs tunnel forwarding"
			}
		}
	case unix.ERANGE:
		msg = "value out of range (weight above 2147483647, or lower threshold above upper threshold)"
	case unix.EAFNOSUPPORT:
		msg = "address family not supported (is IPv6 disabled, or the kernel built without CONFIG_IP_VS_IPV6?)"
	case unix.EPROTONOSUPPORT:
		msg = fmt.Sprintf("protocol %s not supported by this kernel's IPVS", op.Service.Key.Protocol)
	default:
		msg = errno.Error()
	}
	var nerr *netlink.OpError
	if errors.As(err, &nerr) && nerr.Message != "" {
		msg += " (kernel: " + nerr.Message + ")"
	}
	return explain(msg, err)
}
