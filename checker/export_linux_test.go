package checker

import (
	"net/netip"
	"time"
)

// PingSocket says which ICMP socket a Ping probe from this thread's
// namespace would use: "datagram" or "raw".
func PingSocket(v6 bool, bindTo netip.Addr) (string, error) {
	c, err := openPing(v6, bindTo)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if c.dgram {
		return "datagram", nil
	}
	return "raw", nil
}

// LoopProbe runs one probe of t by p on an event loop of its own, as the
// Pool runs TCP and plain HTTP probes on the system clock. ok is false
// when the loop does not run p (the Pool gives it to a worker).
func LoopProbe(p Prober, t Target) (r Result, ok bool) {
	l, err := newIOLoop()
	if err != nil {
		return Result{Reason: err.Error()}, true
	}
	defer l.close()
	o := l.newOp(p, t)
	if o == nil {
		return Result{}, false
	}
	done := false
	o.done = func(res Result) { r, done = res, true }
	l.connect(o)
	for !done {
		timeout := time.Duration(-1)
		if dl, ok := l.nextDeadline(); ok {
			timeout = max(time.Until(dl), 0)
		}
		l.poll(timeout)
	}
	return r, true
}
