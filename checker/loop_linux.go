package checker

import (
	"bytes"
	"container/heap"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioLoop is the event loop of the Pool on Linux: the non-blocking sockets
// of the TCP and plain HTTP probes in flight, in one epoll set, each with
// a deadline in one min-heap. Only the scheduler's goroutine uses it
// (wake excepted). A probe costs no goroutine, no runtime timer and, once
// warm, no allocation: its state is an op from a free list and its buffer
// is the op's.
type ioLoop struct {
	epfd, efd int
	one       [8]byte // the eventfd increment, read-only
	drain     [8]byte
	evs       []unix.EpollEvent
	ops       []*op         // by file descriptor
	dl        timeHeap[*op] // in flight, by deadline
	free      []*op
	// now is the loop's clock: deadlines start when a connect is issued
	// and expire against it. Tests replace it to play a saturated loop.
	now func() time.Time
}

// maxHead bounds the status line and headers of an HTTP response read on
// the loop.
const maxHead = 16 << 10

type opKind uint8

const (
	opTCP opKind = iota
	opHTTP
)

type opState uint8

const (
	stConnecting opState = iota
	stSending
	stReading
)

// op is one probe in flight on the loop.
type op struct {
	c    *check       // the check probed, or nil with done
	done func(Result) // tests: the result, when c is nil

	kind     opKind
	state    opState
	fd       int
	target   Target
	addr     netip.AddrPort
	bindTo   netip.Addr
	timeout  time.Duration
	start    time.Time // of the probe
	deadline time.Time // of the current connect (of the current URL)
	dlIdx    int

	http   *HTTP
	url    int
	buf    []byte // the request, then the response's head
	sent   int
	reason string // of the last URL that passed
}

func newIOLoop() (*ioLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}); err != nil {
		unix.Close(epfd)
		unix.Close(efd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	l := &ioLoop{epfd: epfd, efd: efd, evs: make([]unix.EpollEvent, 512), now: time.Now}
	l.one[0] = 1 // little-endian 1: eventfd takes a host-order uint64
	return l, nil
}

// wake ends the loop's current or next wait; any goroutine may call it.
func (l *ioLoop) wake() { unix.Write(l.efd, l.one[:]) }

// close abandons the probes in flight (their checks' contexts are done:
// their results are dropped) and closes the loop.
func (l *ioLoop) close() {
	for len(l.dl) > 0 {
		l.finish(l.dl[0], Result{Weight: NoWeight, Reason: "canceled"})
	}
	unix.Close(l.epfd)
	unix.Close(l.efd)
}

// abortCancelled abandons the probes in flight of cancelled checks.
func (l *ioLoop) abortCancelled() {
	for i := 0; i < len(l.dl); {
		if o := l.dl[i]; o.c != nil && o.c.ctx.Err() != nil {
			l.finish(o, Result{Weight: NoWeight, Reason: "canceled"})
			i = 0 // the heap moved
			continue
		}
		i++
	}
}

// nextDeadline is the earliest deadline of a probe in flight.
func (l *ioLoop) nextDeadline() (time.Time, bool) {
	if len(l.dl) == 0 {
		return time.Time{}, false
	}
	return l.dl[0].deadline, true
}

// begin starts a probe of c by prober on the loop, if prober is one the
// loop runs (TCP, and HTTP without TLS, body checks or a source port or
// interface; addresses without a zone).
func (l *ioLoop) begin(c *check, prober Prober) bool {
	o := l.newOp(prober, c.srv.target)
	if o == nil {
		return false
	}
	o.c = c
	l.connect(o)
	return true
}

// newOp returns an op for a probe of t by prober, or nil if the loop does
// not run that prober.
func (l *ioLoop) newOp(prober Prober, t Target) *op {
	var o *op
	get := func() *op {
		if n := len(l.free); n > 0 {
			o := l.free[n-1]
			l.free = l.free[:n-1]
			return o
		}
		return &op{}
	}
	switch pr := prober.(type) {
	case *TCP:
		if pr.Source.set() {
			return nil
		}
		addr := connectAddr(t, pr.ConnectIP, pr.ConnectPort)
		if addr.Addr().Zone() != "" || pr.BindTo.Zone() != "" {
			return nil
		}
		o = get()
		o.kind, o.addr, o.bindTo, o.timeout, o.http = opTCP, addr, pr.BindTo, timeoutOr(pr.Timeout), nil
	case *HTTP:
		if !pr.onLoop() {
			return nil
		}
		addr := connectAddr(t, pr.ConnectIP, pr.ConnectPort)
		if addr.Addr().Zone() != "" || pr.BindTo.Zone() != "" {
			return nil
		}
		o = get()
		o.kind, o.addr, o.bindTo, o.timeout, o.http = opHTTP, addr, pr.BindTo, timeoutOr(pr.Timeout), pr
	default:
		return nil
	}
	o.target, o.url, o.reason, o.fd, o.dlIdx = t, 0, "", -1, -1
	o.start = l.now()
	return o
}

// onLoop says whether the loop runs the probes of p: plain HTTP that only
// looks at the status.
func (p *HTTP) onLoop() bool {
	if p.TLS || p.Source.set() {
		return false
	}
	for i := range p.URLs {
		if u := &p.URLs[i]; u.Regex != nil || u.Digest != "" {
			return false
		}
	}
	return true
}

// connect issues the connect of o (of its current URL): its deadline
// starts now.
func (l *ioLoop) connect(o *op) {
	o.state, o.sent = stConnecting, 0
	o.deadline = l.now().Add(o.timeout)
	fd, inProgress, err := openConnect(o.addr, o.bindTo)
	if err != nil {
		l.fail(o, "connect", err)
		return
	}
	o.fd = fd
	for fd >= len(l.ops) {
		l.ops = append(l.ops, nil)
	}
	l.ops[fd] = o
	heap.Push(&l.dl, o)
	// To near servers the handshake is over when connect returns (the
	// kernel ran both ends of it), though it says EINPROGRESS: a TCP
	// check is then over without the epoll set. (An HTTP check hears of
	// it from the epoll set, which reports a socket's state when it is
	// added.)
	if o.kind == opTCP && (!inProgress || connected(fd)) {
		l.connected(o)
		return
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.fail(o, "connect", os.NewSyscallError("epoll_ctl", err))
	}
}

// poll waits up to timeout (forever if negative) for socket events and
// handles them, then the deadlines that passed.
func (l *ioLoop) poll(timeout time.Duration) {
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	n, err := unix.EpollWait(l.epfd, l.evs, ms)
	if err != nil {
		n = 0 // EINTR
	}
	for i := range n {
		ev := &l.evs[i]
		fd := int(ev.Fd)
		if fd == l.efd {
			unix.Read(l.efd, l.drain[:])
			continue
		}
		if fd < len(l.ops) && l.ops[fd] != nil {
			l.event(l.ops[fd], ev.Events)
		}
	}
	l.expire()
}

// event advances o on the socket's events.
func (l *ioLoop) event(o *op, ev uint32) {
	switch o.state {
	case stConnecting:
		if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			if n, err := unix.GetsockoptInt(o.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil {
				l.fail(o, "connect", os.NewSyscallError("getsockopt", err))
				return
			} else if n != 0 {
				l.fail(o, "connect", unix.Errno(n))
				return
			}
		}
		if ev&unix.EPOLLOUT != 0 {
			l.connected(o)
		}
	case stSending:
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			l.send(o)
		}
	case stReading:
		if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			l.read(o)
		}
	}
}

// expire ends the probes whose deadline passed: each is looked at once
// more first, since the loop may come late (a saturated process): a
// connect that completed, or a response that arrived, in time but unseen
// does not count as a timeout. Each step (connect, request, response) has
// its own deadline, as in keepalived, so a probe found past a step it took
// in time goes on to the next with a deadline of its own.
func (l *ioLoop) expire() {
	now := l.now()
	for len(l.dl) > 0 && !l.dl[0].deadline.After(now) {
		o := l.dl[0]
		switch o.state {
		case stConnecting:
			if connected(o.fd) {
				l.extend(o, now)
				l.connected(o)
				continue
			}
			if n, err := unix.GetsockoptInt(o.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && n != 0 {
				l.fail(o, "connect", unix.Errno(n))
				continue
			}
			l.fail(o, "connect", os.ErrDeadlineExceeded)
		case stSending:
			sent := o.sent
			if l.send(o) {
				continue // over, or sent: the response has its own deadline
			}
			if o.sent > sent {
				l.extend(o, now)
				continue
			}
			l.fail(o, "send request", os.ErrDeadlineExceeded)
		case stReading:
			if l.read(o) {
				continue
			}
			l.fail(o, "read response", os.ErrDeadlineExceeded)
		}
	}
}

// extend gives o a new deadline of its timeout from now.
func (l *ioLoop) extend(o *op, now time.Time) {
	o.deadline = now.Add(o.timeout)
	heap.Fix(&l.dl, o.dlIdx)
}

// connected goes on from o's completed connect.
func (l *ioLoop) connected(o *op) {
	if o.kind == opTCP {
		rawLingerReset(o.fd) // the close resets: see TCP
		l.finish(o, Result{Up: true, Weight: NoWeight, Reason: "connected"})
		return
	}
	h := o.http
	u := &h.URLs[o.url]
	o.buf = appendRequest(o.buf[:0], h, u, o.addr)
	o.state = stSending
	l.send(o)
}

// send writes what is left of the request; it reports whether o is over
// or its request was sent.
func (l *ioLoop) send(o *op) bool {
	for o.sent < len(o.buf) {
		n, err := rawWrite(o.fd, o.buf[o.sent:])
		if err == unix.EAGAIN || err == unix.EINTR {
			return false
		}
		if err != nil {
			l.fail(o, "send request", err)
			return true
		}
		o.sent += n
	}
	// The response has a timeout of its own from now, as each step has
	// in keepalived: the time the loop took to come to the connect's
	// completion is not the server's.
	o.state = stReading
	o.buf = o.buf[:0]
	if o.dlIdx >= 0 {
		l.extend(o, l.now())
	}
	return true
}

// read reads what the socket holds of the response's head; it reports
// whether o is over.
func (l *ioLoop) read(o *op) bool {
	for {
		if len(o.buf) == cap(o.buf) {
			if cap(o.buf) >= maxHead {
				l.fail(o, "read response", fmt.Errorf("status line and headers longer than %d bytes", maxHead))
				return true
			}
			o.buf = append(o.buf, make([]byte, max(512, cap(o.buf)))...)[:len(o.buf)]
		}
		n, err := rawRead(o.fd, o.buf[len(o.buf):cap(o.buf)])
		if err == unix.EAGAIN || err == unix.EINTR {
			return false
		}
		if err != nil {
			l.fail(o, "read response", err)
			return true
		}
		if n == 0 {
			l.fail(o, "read response", io.ErrUnexpectedEOF)
			return true
		}
		scan := max(len(o.buf)-3, 0)
		o.buf = o.buf[:len(o.buf)+n]
		if headEnd(o.buf, scan) {
			l.response(o)
			return true
		}
	}
}

// headEnd says whether b holds the end of a response's head, an empty
// line, looking from from.
func headEnd(b []byte, from int) bool {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' || i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return true
		}
	}
	return false
}

// response judges the response head in o.buf as net/http's ReadResponse
// parses its status line; then, on success, the next URL starts.
func (l *ioLoop) response(o *op) {
	line := o.buf
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSuffix(line, []byte{'\r'})
	code, err := parseStatusLine(line)
	if err != nil {
		l.fail(o, "read response", err)
		return
	}
	h := o.http
	u := &h.URLs[o.url]
	why := statusReason(code)
	if len(h.URLs) > 1 {
		why = u.Path + ": " + why
	}
	if !statusOK(u.Status, code) {
		l.finish(o, Result{Weight: NoWeight, Reason: why})
		return
	}
	o.reason = why
	if o.url+1 < len(h.URLs) {
		l.closeFD(o)
		o.url++
		l.connect(o)
		return
	}
	l.finish(o, Result{Up: true, Weight: NoWeight, Reason: why})
}

// parseStatusLine is the status line's checks of net/http's ReadResponse,
// with its messages, without allocating for a valid line.
func parseStatusLine(line []byte) (int, error) {
	proto, status, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return 0, fmt.Errorf("malformed HTTP response %q", line)
	}
	status = bytes.TrimLeft(status, " ")
	code, _, _ := bytes.Cut(status, []byte{' '})
	if len(code) != 3 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return 0, fmt.Errorf("malformed HTTP status code %q", code)
	}
	if len(proto) != len("HTTP/X.Y") || !bytes.HasPrefix(proto, []byte("HTTP/")) || proto[6] != '.' || !isDigit(proto[5]) || !isDigit(proto[7]) {
		return 0, fmt.Errorf("malformed HTTP version %q", proto)
	}
	return int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0'), nil
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// fail ends o as failed in step op ("connect") with err.
func (l *ioLoop) fail(o *op, step string, err error) {
	why := errReason(step, err, o.timeout)
	if o.kind == opHTTP && len(o.http.URLs) > 1 {
		why = o.http.URLs[o.url].Path + ": " + why
	}
	l.finish(o, Result{Weight: NoWeight, Reason: why})
}

// closeFD closes o's socket, which leaves the epoll set with it.
func (l *ioLoop) closeFD(o *op) {
	if o.fd >= 0 {
		l.ops[o.fd] = nil
		unix.RawSyscall(unix.SYS_CLOSE, uintptr(o.fd), 0, 0) // does not block: see rawRead
		o.fd = -1
	}
	if o.dlIdx >= 0 {
		heap.Remove(&l.dl, o.dlIdx)
	}
}

// finish ends o with res and hands it to its check.
func (l *ioLoop) finish(o *op, res Result) {
	l.closeFD(o)
	res.Took = l.now().Sub(o.start)
	c, done := o.c, o.done
	o.c, o.done, o.http, o.target = nil, nil, nil, Target{}
	l.free = append(l.free, o)
	if c != nil {
		c.complete(res, true)
	} else if done != nil {
		done(res)
	}
}

// appendRequest appends the GET of u by h to addr, as HTTP.get writes it.
func appendRequest(b []byte, h *HTTP, u *URL, addr netip.AddrPort) []byte {
	b = append(b, "GET "...)
	b = append(b, u.Path...)
	b = append(b, ' ')
	b = append(b, h.Version.String()...)
	b = append(b, "\r\nHost: "...)
	switch {
	case u.VirtualHost != "":
		b = append(b, u.VirtualHost...)
	case h.VirtualHost != "":
		b = append(b, h.VirtualHost...)
	case addr.Port() == 80:
		if a := addr.Addr(); a.Is6() && !a.Is4In6() {
			b = append(b, '[')
			b = a.AppendTo(b)
			b = append(b, ']')
		} else {
			b = a.AppendTo(b)
		}
	default:
		b = addr.AppendTo(b)
	}
	b = append(b, "\r\nUser-Agent: lvsctl-checker\r\nAccept: */*\r\n"...)
	if h.Version == HTTP11 {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...)
}

// rawRead, rawWrite and rawLingerReset are read, write and setLingerReset
// without the runtime's syscall bookkeeping (entersyscall, exitsyscall):
// the loop's sockets are non-blocking, so none of these blocks.
func rawRead(fd int, b []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func rawWrite(fd int, b []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func rawLingerReset(fd int) {
	l := unix.Linger{Onoff: 1, Linger: 0}
	unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER, uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
}

func (o *op) heapTime() time.Time { return o.deadline }
func (o *op) setHeapIndex(i int)  { o.dlIdx = i }
