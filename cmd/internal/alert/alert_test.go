package alert

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessages(t *testing.T) {
	tests := []struct {
		name    string
		m       Message
		subject string
		body    []string // lines the body contains
	}{
		{
			name:    "real server down, one check",
			m:       RealServer("web", "TCP 192.0.2.10:80", "10.0.0.1:80", false, "", "connect: connection refused"),
			subject: "Realserver 10.0.0.1:80 of virtual server web (TCP 192.0.2.10:80) - DOWN",
			body:    []string{"=> CHECK failed on service : connect: connection refused <=", "real_server: 10.0.0.1:80"},
		},
		{
			name:    "real server up by its second check",
			m:       RealServer("web", "TCP 192.0.2.10:80", "10.0.0.1:80", true, "http#2", "status 200"),
			subject: "Realserver 10.0.0.1:80 of virtual server web (TCP 192.0.2.10:80) - UP",
			body:    []string{"=> HTTP#2 CHECK succeed on service : status 200 <=", "check: http#2"},
		},
		{
			name:    "quorum lost",
			m:       Quorum("web", "TCP 192.0.2.10:80", false, 3, 1, 1),
			subject: "Virtualserver web (TCP 192.0.2.10:80) - DOWN",
			body:    []string{"=> Lost quorum 3-1=2 > 1 <=", "quorum: 3, hysteresis: 1, weight of the up real servers: 1"},
		},
		{
			name:    "quorum regained",
			m:       Quorum("web", "TCP 192.0.2.10:80", true, 3, 1, 4),
			subject: "Virtualserver web (TCP 192.0.2.10:80) - UP",
			body:    []string{"=> Gained quorum 3+1=4 <= 4 <="},
		},
		{
			name:    "vrrp master",
			m:       VRRP("VI_1", "BACKUP", "MASTER", "master down timer expired"),
			subject: "VRRP Instance VI_1 - Entering MASTER state",
			body:    []string{"=> VRRP Instance is now owning VRRP VIPs <=", "reason: master down timer expired"},
		},
		{
			name:    "vrrp fault",
			m:       VRRP("VI_1", "MASTER", "FAULT", "interface eth0 down"),
			subject: "VRRP Instance VI_1 - Entering FAULT state",
			body:    []string{"=> VRRP Instance is no longer owning VRRP VIPs <="},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.subject, tt.m.Subject)
			for _, l := range tt.body {
				assert.Contains(t, tt.m.Body, l+"\n")
			}
		})
	}
}

// TestSendNeverBlocks: with the sender stuck (not running at all here),
// Send returns at once; beyond the queue's capacity messages are dropped,
// logged and counted.
func TestSendNeverBlocks(t *testing.T) {
	var log bytes.Buffer
	s := New(Options{Queue: 2, Hostname: "lb1", Logger: slog.New(slog.NewTextHandler(&log, nil))})
	s.Send(RealServer("web", "k", "10.0.0.1:80", false, "", "x")) // no alert_email: nothing asked, nothing counted
	assert.Equal(t, Stats{}, s.Stats())

	s.Configure(&Config{Server: "127.0.0.1", To: []string{"ops@example.com"}})
	for range 5 {
		s.Send(RealServer("web", "k", "10.0.0.1:80", false, "", "x"))
	}
	assert.Equal(t, Stats{Queued: 2, Dropped: 3}, s.Stats())
	assert.Contains(t, log.String(), `msg="alert e-mail dropped: the queue is full"`)
	assert.Contains(t, log.String(), `subject="[lb1] Realserver 10.0.0.1:80 of virtual server web (k) - DOWN"`)
}

// listener accepts connections on loopback and hands each to serve.
func listener(t *testing.T, serve func(net.Conn)) (port uint16, accepted func() int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	n := 0
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); serve(c) }()
		}
	}()
	return uint16(l.Addr().(*net.TCPAddr).Port), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// TestRetriesWithBackoff: a server that hangs up is tried Attempts times,
// Backoff then twice as long apart (on an injected timer), then the mail
// is given up, logged and counted.
func TestRetriesWithBackoff(t *testing.T) {
	port, accepted := listener(t, func(c net.Conn) { c.Close() })
	var mu sync.Mutex
	var waits []time.Duration
	after := func(d time.Duration) <-chan time.Time {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	var log bytes.Buffer
	s := New(Options{Attempts: 3, Backoff: 2 * time.Second, After: after, Hostname: "lb1", Logger: slog.New(slog.NewTextHandler(&log, nil))})
	s.Configure(&Config{Server: "127.0.0.1", Port: port, To: []string{"ops@example.com"}, ConnectTimeout: 5 * time.Second})
	s.Send(Quorum("web", "k", false, 1, 0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	require.Eventually(t, func() bool { return s.Stats().Failed == 1 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, Stats{Queued: 1, Failed: 1, Retries: 2}, s.Stats())
	assert.Equal(t, 3, accepted())
	mu.Lock()
	assert.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second}, waits)
	mu.Unlock()
	assert.Contains(t, log.String(), `msg="alert e-mail failed"`)
	assert.Contains(t, log.String(), "attempts=3")
}

// TestDeadServerTimesOut: a server that accepts and never answers costs
// one connect_timeout per attempt, never more, and meanwhile Send still
// returns at once.
func TestDeadServerTimesOut(t *testing.T) {
	hold := make(chan struct{})
	port, _ := listener(t, func(c net.Conn) { <-hold; c.Close() })
	defer close(hold)
	s := New(Options{Attempts: 1, Queue: 1, Hostname: "lb1"})
	s.Configure(&Config{Server: "127.0.0.1", Port: port, To: []string{"ops@example.com"}, ConnectTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	s.Send(Quorum("web", "k", false, 1, 0, 0))
	require.Eventually(t, func() bool { return s.Stats().Failed == 1 }, 10*time.Second, 10*time.Millisecond)
}

// TestAuthPlain: with username and password, the sender authenticates
// with AUTH PLAIN when the server offers AUTH (net/smtp allows it without
// TLS to localhost only), and fails the mail when it does not.
func TestAuthPlain(t *testing.T) {
	for _, offer := range []bool{true, false} {
		var mu sync.Mutex
		var auth []string
		port, _ := listener(t, func(c net.Conn) {
			defer c.Close()
			r := bufio.NewReader(c)
			fmt.Fprint(c, "220 test ESMTP\r\n")
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				cmd := strings.ToUpper(strings.Fields(line + " x")[0])
				switch cmd {
				case "EHLO":
					if offer {
						fmt.Fprint(c, "250-test\r\n250 AUTH PLAIN\r\n")
					} else {
						fmt.Fprint(c, "250 test\r\n")
					}
				case "AUTH":
					mu.Lock()
					auth = append(auth, strings.TrimSpace(line))
					mu.Unlock()
					fmt.Fprint(c, "235 ok\r\n")
				case "DATA":
					fmt.Fprint(c, "354 go\r\n")
					for {
						l, err := r.ReadString('\n')
						if err != nil || l == ".\r\n" {
							break
						}
					}
					fmt.Fprint(c, "250 queued\r\n")
				case "QUIT":
					fmt.Fprint(c, "221 bye\r\n")
					return
				default:
					fmt.Fprint(c, "250 ok\r\n")
				}
			}
		})
		s := New(Options{Attempts: 1, Hostname: "lb1"})
		s.Configure(&Config{Server: "127.0.0.1", Port: port, To: []string{"ops@example.com"}, ConnectTimeout: 5 * time.Second,
			Username: "lb1", Password: "s3cret"})
		s.Send(Quorum("web", "k", false, 1, 0, 0))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		require.Eventually(t, func() bool { st := s.Stats(); return st.Sent+st.Failed == 1 }, 10*time.Second, 10*time.Millisecond)
		cancel()
		<-done
		mu.Lock()
		if offer {
			assert.Equal(t, uint64(1), s.Stats().Sent)
			assert.Equal(t, []string{"AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00lb1\x00s3cret"))}, auth)
		} else {
			assert.Equal(t, uint64(1), s.Stats().Failed, "AUTH asked for and not offered")
			assert.Empty(t, auth)
		}
		mu.Unlock()
	}
}

// fakeSMTP serves one SMTP dialogue per connection, accepting every mail;
// it greets only once gate is closed.
func fakeSMTP(gate <-chan struct{}) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		<-gate
		r := bufio.NewReader(c)
		fmt.Fprint(c, "220 test ESMTP\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch strings.ToUpper(strings.Fields(line + " x")[0]) {
			case "DATA":
				fmt.Fprint(c, "354 go\r\n")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
				}
				fmt.Fprint(c, "250 queued\r\n")
			case "QUIT":
				fmt.Fprint(c, "221 bye\r\n")
				return
			default:
				fmt.Fprint(c, "250 ok\r\n")
			}
		}
	}
}

// TestFlush: when lvsctl run stops, Flush sends what is queued (the mail
// in progress is finished, not cut) until its context is done; then the
// rest are dropped, counted and logged with their number; nothing is
// queued after it. The deadline is the test's cancel, not a clock.
func TestFlush(t *testing.T) {
	tests := []struct {
		name string
		// run starts Run before Flush; dead makes the server accept and
		// never answer, so that only the cancel ends the flush.
		run, dead bool
		want      Stats
		log       []string
	}{
		{
			name: "Run not running: Flush sends the queue",
			want: Stats{Queued: 3, Sent: 3, Dropped: 1},
		},
		{
			name: "Run sending: the mail in progress and the rest are sent",
			run:  true,
			want: Stats{Queued: 3, Sent: 3, Dropped: 1},
		},
		{
			name: "dead server: the cancel ends the flush",
			run:  true, dead: true,
			want: Stats{Queued: 3, Failed: 1, Dropped: 3},
			log:  []string{`msg="alert e-mails dropped: lvsctl stopped before they were sent" dropped=2`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gate := make(chan struct{})
			hold := make(chan struct{})
			defer close(hold)
			serve := fakeSMTP(gate)
			if tt.dead {
				serve = func(c net.Conn) { <-hold; c.Close() }
			}
			port, accepted := listener(t, serve)
			var log syncBuffer
			s := New(Options{Attempts: 1, Hostname: "lb1", Logger: slog.New(slog.NewTextHandler(&log, nil))})
			s.Configure(&Config{Server: "127.0.0.1", Port: port, To: []string{"ops@example.com"}, ConnectTimeout: time.Hour})
			for range 3 {
				s.Send(Quorum("web", "k", false, 1, 0, 0))
			}
			runDone := make(chan struct{})
			if tt.run {
				go func() { s.Run(context.Background()); close(runDone) }()
				// Run holds the first mail: the server has its connection
				// and has not greeted.
				require.Eventually(t, func() bool { return accepted() == 1 }, 10*time.Second, time.Millisecond)
			} else {
				close(runDone)
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			flushed := make(chan struct{})
			go func() { s.Flush(ctx); close(flushed) }()
			if tt.dead {
				select {
				case <-flushed:
					t.Fatal("Flush returned before its context was done, with a mail in progress")
				case <-time.After(50 * time.Millisecond):
				}
				cancel()
			} else {
				// Flush has begun (Run's mail is still in progress when
				// there is one) before the server answers.
				require.Eventually(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.stopped }, 10*time.Second, time.Millisecond)
				close(gate)
			}
			select {
			case <-flushed:
			case <-time.After(10 * time.Second):
				t.Fatal("Flush did not return")
			}
			<-runDone
			s.Send(Quorum("web", "k", true, 1, 0, 1)) // after Flush: dropped
			assert.Equal(t, tt.want, s.Stats())
			assert.Contains(t, log.String(), `msg="alert e-mail dropped: lvsctl is stopping"`)
			for _, l := range tt.log {
				assert.Contains(t, log.String(), l)
			}
			s.Run(context.Background()) // returns at once after Flush
		})
	}
}

// syncBuffer is a bytes.Buffer for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
