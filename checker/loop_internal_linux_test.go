package checker

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// acceptor is a loopback listener that accepts and closes.
func acceptor(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// A saturated process comes late to its sockets: the loop finds a probe's
// deadline passed although the server answered in time. That is not a
// timeout: a timeout measures the server, not the scheduler. The loop's
// clock is skewed to play the late loop; "issued late" is a probe started
// long after it was due, whose timeout starts at its connect.
func TestLoopLateIsNotATimeout(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(web.Close)
	webAddr := web.Listener.Addr().(*net.TCPAddr).AddrPort()
	tcp := &TCP{Timeout: 100 * time.Millisecond}
	get := &HTTP{URLs: []URL{{Path: "/"}}, Timeout: 100 * time.Millisecond}
	tests := []struct {
		name        string
		prober      Prober
		addr        netip.AddrPort
		issuedLate  bool
		reason      string
		wantTimeout bool
	}{
		{name: "tcp, loop late", prober: tcp, addr: acceptor(t), reason: "connected"},
		{name: "http, loop late", prober: get, addr: webAddr, reason: "status 200"},
		{name: "tcp, issued late", prober: tcp, addr: acceptor(t), issuedLate: true, reason: "connected"},
		{name: "http, issued late", prober: get, addr: webAddr, issuedLate: true, reason: "status 200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := newIOLoop()
			require.NoError(t, err)
			defer l.close()
			var skew time.Duration
			l.now = func() time.Time { return time.Now().Add(skew) }
			if tc.issuedLate {
				skew = 5 * time.Second // due 5 s ago: the process was saturated
			}
			o := l.newOp(tc.prober, Target{Addr: tc.addr})
			require.NotNil(t, o)
			var res *Result
			o.done = func(r Result) { res = &r }
			l.connect(o)
			time.Sleep(20 * time.Millisecond) // the server answers meanwhile
			if !tc.issuedLate {
				skew = time.Second // the loop comes back 1 s later, past the deadline
			}
			// The loop wakes for the deadline before it looks at the
			// socket's events (as when more are ready than one
			// epoll_wait returns).
			l.expire()
			for res == nil {
				l.poll(10 * time.Millisecond)
			}
			assert.True(t, res.Up, res.Reason)
			assert.Equal(t, tc.reason, res.Reason)
		})
	}
}

// The same for a probe on a worker: a goroutine that comes to a connect
// after its deadline, when the connect completed, does not time out (the
// runtime's poller would report the deadline without looking).
func TestWaitConnectLate(t *testing.T) {
	fd, inProgress, err := openConnect(acceptor(t), netip.Addr{})
	require.NoError(t, err)
	f := os.NewFile(uintptr(fd), "late")
	defer f.Close()
	if inProgress {
		time.Sleep(20 * time.Millisecond)
	}
	assert.NoError(t, waitConnect(context.Background(), f, time.Now().Add(-time.Second)))
}

// A real timeout stays one: a server that never answers.
func TestLoopTimeout(t *testing.T) {
	silent, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	l, err := newIOLoop()
	require.NoError(t, err)
	defer l.close()
	o := l.newOp(&HTTP{URLs: []URL{{Path: "/"}}, Timeout: 100 * time.Millisecond}, Target{Addr: silent.Addr().(*net.TCPAddr).AddrPort()})
	var res *Result
	o.done = func(r Result) { res = &r }
	l.connect(o)
	for res == nil {
		dl, _ := l.nextDeadline()
		l.poll(max(time.Until(dl), 0))
	}
	assert.False(t, res.Up)
	assert.Equal(t, "read response: timeout after 100ms", res.Reason)
}

// A saturated Pool: every probe's result stalls the loop (a slow OnProbe)
// for longer than the probes' timeout, so that the deadlines of the probes
// in flight pass before the loop looks at them. No probe times out and
// no server goes down; the checks run late instead.
func TestPoolSaturatedLoop(t *testing.T) {
	addr := acceptor(t)
	tm := DefaultTiming()
	tm.DelayLoop, tm.Warmup, tm.Retry = 20*time.Millisecond, 10*time.Millisecond, 0
	var specs []Spec
	for i := range 20 {
		specs = append(specs, Spec{Target: Target{Service: "s" + string(rune('a'+i)), Addr: addr}, Prober: &TCP{Timeout: 20 * time.Millisecond}, Timing: tm})
	}
	p := NewPool(Options{})
	require.NoError(t, p.Set(specs))
	var probes, failed int
	var reasons []string
	p.OnProbe(func(_ Target, r Result) { // on the loop: probes and results are counted in order
		probes++
		if !r.Up {
			failed++
			reasons = append(reasons, r.Reason)
		}
		time.Sleep(30 * time.Millisecond)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	var events []Event
	drained := make(chan struct{})
	go func() {
		for e := range p.Events() {
			events = append(events, e)
		}
		close(drained)
	}()
	time.Sleep(1500 * time.Millisecond)
	stalled := make(chan struct{})
	p.OnProbe(func(Target, Result) {
		select {
		case <-stalled:
		default:
			close(stalled)
		}
	})
	<-stalled // the loop has taken the new OnProbe: the old one is done
	cancel()
	<-done
	<-drained
	assert.Greater(t, probes, 20, "every check was probed")
	assert.Zero(t, failed, "failures: %v", reasons)
	assert.Empty(t, events, "no transition")
}

// Removing a check whose probe is in flight on the loop returns at once,
// not at the probe's timeout; so does the Pool's stop.
func TestPoolRemoveInFlight(t *testing.T) {
	silent, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	accepted := make(chan struct{}, 4)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			t.Cleanup(func() { c.Close() })
		}
	}()
	tm := DefaultTiming()
	tm.Warmup = 0
	addr := silent.Addr().(*net.TCPAddr).AddrPort()
	get := &HTTP{URLs: []URL{{Path: "/"}}, Timeout: 30 * time.Second}
	p := NewPool(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	a, b := Target{Service: "a", Addr: addr}, Target{Service: "b", Addr: addr}
	require.NoError(t, p.Set([]Spec{{Target: a, Prober: get, Timing: tm}, {Target: b, Prober: get, Timing: tm}}))
	<-accepted
	<-accepted
	start := time.Now()
	require.NoError(t, p.Set([]Spec{{Target: a, Prober: get, Timing: tm}}))
	cancel()
	<-done
	assert.Less(t, time.Since(start), 10*time.Second, "not the 30 s timeout")
	for e := range p.Events() {
		t.Errorf("event %v", e)
	}
}

// The loop runs what it can and leaves the rest to the workers.
func TestLoopRuns(t *testing.T) {
	l, err := newIOLoop()
	require.NoError(t, err)
	defer l.close()
	a := netip.MustParseAddrPort("127.0.0.1:80")
	for _, tc := range []struct {
		name   string
		prober Prober
		onLoop bool
	}{
		{"tcp", &TCP{}, true},
		{"tcp bind_port", &TCP{Source: Source{Port: 1000}}, false},
		{"http", &HTTP{URLs: []URL{{Path: "/"}}}, true},
		{"https", &HTTP{TLS: true, URLs: []URL{{Path: "/"}}}, false},
		{"http digest", &HTTP{URLs: []URL{{Path: "/", Digest: "5d41402abc4b2a76b9719d911017c592"}}}, false},
		{"exec", ProberFunc(func(context.Context, Target) Result { return Result{} }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.onLoop, l.newOp(tc.prober, Target{Addr: a}) != nil)
		})
	}
}

// Each step has its own deadline, as in keepalived: a request sent late
// (the loop came late to the connect's completion, though before the
// connect's deadline) leaves the server its whole timeout to answer.
func TestLoopResponseHasItsOwnDeadline(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(30 * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(slow.Close)
	l, err := newIOLoop()
	require.NoError(t, err)
	defer l.close()
	var skew time.Duration
	l.now = func() time.Time { return time.Now().Add(skew) }
	const timeout = 100 * time.Millisecond
	o := l.newOp(&HTTP{URLs: []URL{{Path: "/"}}, Timeout: timeout}, Target{Addr: slow.Listener.Addr().(*net.TCPAddr).AddrPort()})
	var res *Result
	o.done = func(r Result) { res = &r }
	l.connect(o)
	time.Sleep(10 * time.Millisecond) // connected meanwhile
	skew = 95 * time.Millisecond      // the loop comes to it late, within the connect's timeout
	l.poll(0)                         // connected: the request goes
	require.Nil(t, res)
	skew += 50 * time.Millisecond // past the connect's deadline, not the response's
	l.expire()
	for res == nil {
		l.poll(10 * time.Millisecond)
	}
	assert.Equal(t, "status 200", res.Reason)
}
