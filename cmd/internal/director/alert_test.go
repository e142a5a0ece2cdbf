package director

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/alert"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// TestVRRPAlertsNeverBlock: with an SMTP server that accepts and never
// answers, an instance mailing its state changes (smtp_alert) goes through
// them all as without alerts: OnTransition only queues, and what does not
// fit is dropped and counted.
func TestVRRPAlertsNeverBlock(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var held []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-accepted
		for _, c := range held {
			c.Close()
		}
	})
	on := true
	sender := alert.New(alert.Options{Queue: 1, Hostname: "lb1"})
	sender.Load(&lvshcl.AlertEmail{Server: "127.0.0.1", Port: uint16(l.Addr().(*net.TCPAddr).Port),
		To: []string{"ops@example.com"}, ConnectTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan struct{})
	go func() { sender.Run(ctx); close(sent) }()
	t.Cleanup(func() { cancel(); <-sent })

	g := newRig(t)
	o := g.options()
	o.OnTransition = sender.VRRPTransition
	g.r = NewRunner(o)
	rctx, rcancel := context.WithCancel(context.Background())
	g.cancel = rcancel
	g.done = make(chan error, 1)
	in := inst("VI_1", "eth0")
	in.SMTPAlert = &on
	go func() { g.done <- g.r.Run(rctx, lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{in}}, g.reload) }()
	t.Cleanup(g.stop)

	eventually(t, "BACKUP", func() bool { return g.state("VI_1") == vrrp.StateBackup })
	f := g.fakes.last("VI_1")
	const rounds = 3
	for range rounds {
		f.setMaster(true)
		eventually(t, "MASTER", func() bool { return g.state("VI_1") == vrrp.StateMaster })
		f.setMaster(false)
		eventually(t, "BACKUP", func() bool { return g.state("VI_1") == vrrp.StateBackup })
	}
	st := sender.Stats()
	assert.Equal(t, uint64(1+2*rounds), st.Queued+st.Dropped, "INIT to BACKUP, then each change: %+v", st)
	assert.GreaterOrEqual(t, st.Dropped, uint64(2*rounds-1), "one in flight, one queued: %+v", st)
	assert.Zero(t, st.Sent)
}
