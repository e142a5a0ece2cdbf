package checker

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"
)

// Target is one real server of one virtual service: what a Prober checks and
// what the Pool keys its state by. The same address in two services is two
// targets, checked independently (as keepalived does).
type Target struct {
	// Service names the virtual service, for logs and for exec checks'
	// LVSCTL_SERVICE. It may be empty.
	Service string
	// Key is the virtual service's key as lvsctl plan prints it ("TCP
	// 10.0.0.1:80"), for exec checks' LVSCTL_SERVICE_KEY. It may be empty.
	Key string
	// Addr is the real server's address and port.
	Addr netip.AddrPort
}

func (t Target) String() string {
	if t.Service == "" {
		return t.Addr.String()
	}
	return t.Service + " " + t.Addr.String()
}

// NoWeight in a Result or Event means that the check has no opinion on the
// real server's weight: the configured weight applies.
const NoWeight = -1

// Result is the outcome of one probe.
type Result struct {
	Up bool
	// Weight is a dynamic weight reported by the check (exec checks with
	// DynamicWeight), or NoWeight.
	Weight int
	// Reason is a short human explanation fit for a log line:
	// "connect: connection refused", "status 503", "timeout after 2s".
	Reason string
	// Took is how long the probe ran.
	Took time.Duration
	// Keep means the probe has no opinion: the check could not tell, as
	// when a MySQL server refuses the connection with "Too many
	// connections". The server keeps its state, its reason and its progress
	// towards Rise or Fall; the round ends without retries; Up and Weight
	// are ignored. Before the first decisive probe the presumption stays.
	Keep bool
}

// Prober checks one real server once. Probe must return by itself within its
// own configured timeout, return promptly when ctx is cancelled (the result is
// then ignored), close every connection it opened, and be safe for
// concurrent use: the Pool calls one Prober value for many targets at once.
//
// TCP, HTTP, Exec and MySQL are the built-in probers; other checks plug in
// by implementing Prober (and, optionally, Validator).
type Prober interface {
	Probe(ctx context.Context, target Target) Result
}

// RoleProber is implemented by probers whose check tests a server's role
// (primary or replica, replication running) and not only that it answers.
// A server that answers may still have the wrong role, so the Pool never
// presumes one up on its own: with TestsRole true, a new server is down
// until its first successful probe, whatever Timing.Alpha says (a
// Spec.Presume from what is known, such as the kernel's table at a restart,
// still applies). Checks of reachability (TCP, HTTP) keep keepalived's
// Alpha semantics by not implementing it, or by returning false.
type RoleProber interface {
	Prober
	TestsRole() bool
}

// Validator is implemented by probers that can check their configuration.
// Pool.Set calls it for every Spec and refuses the whole set on any error.
type Validator interface {
	Validate() error
}

// ProberFunc adapts a function to the Prober interface.
type ProberFunc func(ctx context.Context, target Target) Result

// Probe calls f(ctx, target).
func (f ProberFunc) Probe(ctx context.Context, target Target) Result { return f(ctx, target) }

// DefaultTimeout is keepalived's connect_timeout: what the built-in probers
// use when their Timeout is zero.
const DefaultTimeout = 5 * time.Second

func timeoutOr(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

// errReason turns a network error into a short reason, prefixed with op
// ("connect", "tls", "read") when op is not empty. timeout is the configured
// timeout, reported instead of Go's "i/o timeout".
func errReason(op string, err error, timeout time.Duration) string {
	var msg string
	var errno syscall.Errno
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		msg = "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		msg = "timeout after " + timeout.String()
	case errors.As(err, &errno):
		msg = errno.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		msg = "connection closed by peer"
	default:
		msg = err.Error()
	}
	if op == "" || strings.HasPrefix(msg, op+": ") {
		return msg
	}
	return op + ": " + msg
}
