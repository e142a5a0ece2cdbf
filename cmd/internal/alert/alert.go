package alert

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// Config is where and how alerts are sent: hcl's alert_email block.
type Config struct {
	Server string // host name or address of the SMTP relay
	Port   uint16 // default 25
	// Helo is the name given in EHLO/HELO (keepalived's smtp_helo_name;
	// default the host name).
	Helo string
	From string
	To   []string
	// ConnectTimeout bounds one whole attempt: connect, dialogue and
	// QUIT (keepalived's smtp_connect_timeout; default 30 s).
	ConnectTimeout time.Duration
	// RouterID starts every subject, "[lb1] ..." (keepalived's
	// router_id; default the host name).
	RouterID string
	// Username and Password, when set, authenticate with AUTH PLAIN,
	// which net/smtp allows only over TLS (STARTTLS) or to localhost.
	Username, Password string
	// TLSVerify false accepts any certificate on STARTTLS.
	TLSVerify bool
}

// Message is one alert.
type Message struct {
	Subject string
	Body    string
	// Kind is what it is about, for logs: real_server, quorum, vrrp.
	Kind string
}

// Stats counts a Sender's messages since it started.
type Stats struct {
	Queued  uint64 // accepted into the queue
	Sent    uint64
	Failed  uint64 // given up after every attempt
	Dropped uint64 // refused: the queue was full, or no alert_email
	Retries uint64 // attempts after a failed one
}

// Options configure a Sender. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// Queue is the queue's capacity (default 64).
	Queue int
	// Attempts is how many times a message is tried (default 3).
	Attempts int
	// Backoff is the wait after the first failed attempt, doubled after
	// each (default 2 s).
	Backoff time.Duration
	// After returns a channel that fires after d; nil is time.After.
	// Tests inject it to run the backoff without waiting.
	After func(d time.Duration) <-chan time.Time
	// Now stamps the Date header; nil is time.Now.
	Now func() time.Time
	// Hostname is the default Helo and RouterID; empty is os.Hostname.
	Hostname string
}

// Sender queues and sends alerts. Create it with New; Run sends.
type Sender struct {
	o     Options
	log   *slog.Logger
	queue chan Message

	mu  sync.Mutex
	cfg *Config
	hcl *lvshcl.AlertEmail // as Load gave it, for the smtp_alert defaults
	// run is the running Run, nil when none; stopped is set by Flush, after
	// which Send queues nothing and Run does not start.
	run      *running
	stopped  bool
	stopping chan struct{} // closed by Flush

	queued, sent, failed, dropped, retries atomic.Uint64
}

// New returns a Sender without configuration: messages are dropped until
// Configure gives it one.
func New(o Options) *Sender {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Queue <= 0 {
		o.Queue = 64
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
		if o.Hostname == "" {
			o.Hostname = "localhost"
		}
	}
	return &Sender{o: o, log: o.Logger, queue: make(chan Message, o.Queue), stopping: make(chan struct{})}
}

// running is a Run in progress: cancel ends its delivery, done is closed
// when it returns.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Configure sets where alerts go; nil stops them (queued messages are
// dropped when their turn comes).
func (s *Sender) Configure(c *Config) {
	if c != nil {
		cc := *c
		cc.To = append([]string(nil), c.To...)
		if cc.Port == 0 {
			cc.Port = 25
		}
		if cc.ConnectTimeout <= 0 {
			cc.ConnectTimeout = DefaultConnectTimeout
		}
		if cc.Helo == "" {
			cc.Helo = s.o.Hostname
		}
		if cc.RouterID == "" {
			cc.RouterID = s.o.Hostname
		}
		if cc.From == "" {
			cc.From = "lvsctl@" + s.o.Hostname
		}
		c = &cc
	}
	s.mu.Lock()
	s.cfg = c
	s.mu.Unlock()
}

// DefaultConnectTimeout is keepalived's smtp_connect_timeout.
const DefaultConnectTimeout = 30 * time.Second

func (s *Sender) config() *Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Stats returns the counters.
func (s *Sender) Stats() Stats {
	return Stats{Queued: s.queued.Load(), Sent: s.sent.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load(), Retries: s.retries.Load()}
}

// Send queues m without blocking. A full queue, or a Sender without
// configuration, drops it (logged and counted).
func (s *Sender) Send(m Message) {
	if s == nil {
		return
	}
	cfg := s.config()
	if cfg == nil {
		return // no alert_email: nothing to drop, nothing was asked
	}
	m.Subject = "[" + cfg.RouterID + "] " + m.Subject
	// Under mu, so that no message is queued after Flush has drained the
	// queue (the send itself never blocks).
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		s.log.Error("alert e-mail dropped: lvsctl is stopping", "kind", m.Kind, "subject", m.Subject)
		s.dropped.Add(1)
		return
	}
	select {
	case s.queue <- m:
		s.queued.Add(1)
	default:
		s.log.Error("alert e-mail dropped: the queue is full", "kind", m.Kind, "subject", m.Subject, "queue", cap(s.queue))
		s.dropped.Add(1) // after the log line: a count seen implies its line
	}
}

// Run sends queued messages until ctx is cancelled or Flush stops it. A
// Run after Flush returns at once.
func (s *Sender) Run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if s.stopped || s.run != nil {
		s.mu.Unlock()
		return
	}
	r := &running{cancel: cancel, done: make(chan struct{})}
	s.run = r
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.run = nil
		s.mu.Unlock()
		close(r.done)
	}()
	for {
		// Stopping first: a queued message must not win the next select.
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		default:
		}
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return // Flush sends the rest
		case m := <-s.queue:
			s.deliver(ctx, m)
		}
	}
}

// DefaultFlushTimeout bounds Flush when lvsctl run stops.
const DefaultFlushTimeout = 5 * time.Second

// Flush stops the Sender, sending what is queued until ctx is done: the
// message Run is sending goes on, the others are sent in turn; when ctx is
// done the one in progress fails and the rest are dropped, with a log
// line that counts them. Messages sent after Flush are dropped. It returns
// once the queue is empty (or given up), never much after ctx is done.
func (s *Sender) Flush(ctx context.Context) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	r := s.run
	s.mu.Unlock()
	close(s.stopping)
	if r != nil {
		// Run finishes the message it is sending, within ctx.
		stop := context.AfterFunc(ctx, r.cancel)
		<-r.done
		stop()
	}
	if n := len(s.queue); n > 0 {
		s.log.Info("stopping: sending the queued alert e-mails", "queued", n)
	}
	for ctx.Err() == nil {
		select {
		case m := <-s.queue:
			s.deliver(ctx, m)
			continue
		default:
		}
		return
	}
	n := 0
	for len(s.queue) > 0 {
		<-s.queue
		n++
	}
	if n > 0 {
		s.log.Error("alert e-mails dropped: lvsctl stopped before they were sent", "dropped", n, "err", context.Cause(ctx))
		s.dropped.Add(uint64(n))
	}
}

// deliver tries m up to Attempts times with backoff.
func (s *Sender) deliver(ctx context.Context, m Message) {
	wait := s.o.Backoff
	for attempt := 1; ; attempt++ {
		cfg := s.config()
		if cfg == nil {
			s.log.Warn("alert e-mail dropped: alert_email was removed", "kind", m.Kind, "subject", m.Subject)
			s.dropped.Add(1)
			return
		}
		err := s.sendOnce(ctx, cfg, m)
		if err == nil {
			s.log.Info("alert e-mail sent", "kind", m.Kind, "subject", m.Subject, "to", strings.Join(cfg.To, ","), "attempt", attempt)
			s.sent.Add(1)
			return
		}
		if attempt >= s.o.Attempts || ctx.Err() != nil {
			s.log.Error("alert e-mail failed", "kind", m.Kind, "subject", m.Subject, "attempts", attempt, "err", err)
			s.failed.Add(1)
			return
		}
		s.log.Warn("alert e-mail attempt failed; retrying", "kind", m.Kind, "subject", m.Subject, "attempt", attempt, "retry_in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			s.log.Error("alert e-mail failed: stopping", "kind", m.Kind, "subject", m.Subject, "attempts", attempt, "err", err)
			s.failed.Add(1)
			return
		case <-s.o.After(wait):
		}
		s.retries.Add(1)
		wait *= 2
	}
}

// sendOnce is one SMTP dialogue, bounded by cfg.ConnectTimeout as a whole.
func (s *Sender) sendOnce(ctx context.Context, cfg *Config, m Message) error {
	addr := net.JoinHostPort(cfg.Server, strconv.Itoa(int(cfg.Port)))
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	err = dialogue(conn, cfg, m, s.o.Now())
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("smtp %s: timeout after %s: %w", addr, cfg.ConnectTimeout, err)
	}
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	return nil
}

func dialogue(conn net.Conn, cfg *Config, m Message, now time.Time) error {
	c, err := smtp.NewClient(conn, cfg.Server)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(cfg.Helo); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: cfg.Server, InsecureSkipVerify: !cfg.TLSVerify}); err != nil { //nolint:gosec // tls_verify = false is the operator's choice
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("AUTH: the server does not offer it")
		}
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Server)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(cfg.From); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, to := range cfg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(format(cfg, m, now)); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("QUIT: %w", err)
	}
	return nil
}

// format is the message as keepalived writes it: its headers (with
// X-Mailer naming lvsctl), a blank line and the body, CRLF line ends.
func format(cfg *Config, m Message, now time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "From: %s\r\n", cfg.From)
	fmt.Fprintf(&b, "Subject: %s\r\n", oneLine(m.Subject))
	b.WriteString("X-Mailer: lvsctl\r\n")
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(cfg.To, ", "))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(strings.TrimRight(m.Body, "\n"), "\n", "\r\n"))
	b.WriteString("\r\n")
	return []byte(b.String())
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
