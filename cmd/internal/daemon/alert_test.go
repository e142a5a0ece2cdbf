package daemon

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/alert"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// TestDeadSMTPKeepsCheckTiming: with an SMTP server that accepts and never
// answers, a real server's failures and recoveries are still applied
// within delay_loop + coalescing on the injected clock, as without alerts;
// the mails that do not fit in the queue are dropped and counted.
func TestDeadSMTPKeepsCheckTiming(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-accepted
		for _, c := range conns {
			c.Close()
		}
	})

	on := true
	f := newFixture(t)
	cfg := f.config(3, nil)
	cfg.Alert = &lvshcl.AlertEmail{Server: "127.0.0.1", Port: uint16(l.Addr().(*net.TCPAddr).Port),
		To: []string{"ops@example.com"}, ConnectTimeout: time.Minute, SMTPAlert: &on}
	sender := alert.New(alert.Options{Queue: 1, Hostname: "lb1"})
	sender.Load(cfg.Alert)
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan struct{})
	go func() { sender.Run(ctx); close(sent) }()
	t.Cleanup(func() { cancel(); <-sent })

	f.start(cfg, Options{Alerts: sender})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 3 })
	const rounds = 3
	for range rounds {
		f.probes.set("10.0.1.2:80", false)
		took := f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
		assert.LessOrEqual(t, took, time.Second+100*time.Millisecond, "evicted within delay_loop + coalesce")
		f.probes.set("10.0.1.2:80", true)
		took = f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 3 })
		assert.LessOrEqual(t, took, time.Second+100*time.Millisecond, "restored within delay_loop + coalesce")
	}
	st := sender.Stats()
	assert.Equal(t, uint64(2*rounds), st.Queued+st.Dropped, "every transition mailed or dropped: %+v", st)
	assert.GreaterOrEqual(t, st.Dropped, uint64(2*rounds-2), "one in flight, one queued: %+v", st)
	assert.Zero(t, st.Sent)
}
