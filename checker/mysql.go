package checker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
)

// DefaultMySQLQuery is the query of a MySQL check that sets none.
const DefaultMySQLQuery = "SELECT 1"

// DefaultTooManyConnectionsRounds is how many rounds the configuration
// language lets "Too many connections" keep a server's state by default.
const DefaultTooManyConnectionsRounds = 3

// ReadOnlyCheck is what a MySQL check requires of the server's
// @@global.read_only: the role of the server behind a virtual service.
type ReadOnlyCheck uint8

// ReadOnlyAny, the zero value, does not look at read_only.
const (
	ReadOnlyAny ReadOnlyCheck = iota
	ReadOnlyOn                // a reader: read_only must be ON
	ReadOnlyOff               // a writer: read_only must be OFF
)

func (r ReadOnlyCheck) String() string {
	switch r {
	case ReadOnlyOn:
		return "ON"
	case ReadOnlyOff:
		return "OFF"
	}
	return "any"
}

// Secret is a password. It prints as "******" (or "" when empty) with every
// fmt verb, in slog records and in text or JSON encodings, so that logging
// or dumping a configuration never shows it; string(s) is the value.
type Secret string

const masked = "******"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// Format prints the mask whatever the verb (%v, %+v, %#v, %s, %q, %x...).
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// LogValue is the mask.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText is the mask.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MySQL logs in to a MySQL or MariaDB server with
// github.com/go-sql-driver/mysql and checks what a load balancer in front
// of databases needs: the server answers a query, has the expected role
// (read_only), and, for a replica, replicates without too much lag. The
// real server is up when every condition that is set holds; the reason of
// a failure names the condition ("replication lag 45s > 30s",
// "Slave_SQL_Running=No", "read_only=ON, expected OFF", "access denied for
// user 'monitor'@'10.0.0.5' (using password: YES)").
//
// Each probe opens one connection, without a pool, and closes it with
// COM_QUIT, so that probes never count as aborted connections or clients
// on the server (and never trip max_connect_errors). mysql_native_password
// and caching_sha2_password accounts both work; for caching_sha2_password
// over plain TCP, the driver fetches the server's RSA key when the server
// asks for a full authentication.
//
// A server that refuses the connection with "Too many connections" (error
// 1040) is busy rather than broken: for TooManyConnectionsRounds rounds in
// a row the probe has no opinion (Result.Keep), so the server keeps its
// state instead of flapping, and each such round is logged; after that it
// is down. The count is per target and starts again with any other
// outcome, or with a new MySQL value (a configuration reload). Such a
// server goes down up to TooManyConnectionsRounds rounds later than
// Timing.DownWithin says.
//
// The password appears in no reason and no log record; a reason that would
// quote it (a server error echoing the query, say) has it masked.
type MySQL struct {
	User     string
	Password Secret
	// Database, when set, is the default database; the user needs access
	// to it.
	Database string
	// Query must return at least one row; empty means DefaultMySQLQuery.
	// It is sent as is (text protocol), one statement.
	Query string

	// TLS encrypts the connection; a server without TLS fails the check.
	// RootCAs, when set, verifies the server's certificate chain (not its
	// name: real servers are addressed by IP); otherwise the certificate is
	// not verified.
	TLS     bool
	RootCAs *x509.CertPool

	// ConnectIP, ConnectPort and BindTo are as for TCP.
	ConnectIP   netip.Addr
	ConnectPort uint16
	BindTo      netip.Addr
	// Timeout bounds the whole probe: connect, login, queries; zero means
	// DefaultTimeout.
	Timeout time.Duration

	// ReplicationRunning requires a replica whose IO and SQL threads run
	// (SHOW REPLICA STATUS, or SHOW SLAVE STATUS on servers without it). A
	// server that is not a replica fails.
	ReplicationRunning bool
	// MaxReplicationLag, when positive, requires a replica at most this far
	// behind its source (Seconds_Behind_Master, or _Source). An unknown
	// lag (NULL, as when the SQL thread is stopped) fails.
	MaxReplicationLag time.Duration
	// ReadOnly is the value @@global.read_only must have.
	ReadOnly ReadOnlyCheck

	// TooManyConnectionsRounds is how many rounds in a row error 1040 keeps
	// the server's state; zero makes 1040 down at once.
	TooManyConnectionsRounds int
	// Logger receives the rounds kept because of error 1040; nil is
	// slog.Default().
	Logger *slog.Logger

	mu   sync.Mutex
	busy map[Target]int // consecutive probes refused with 1040
}

// Error numbers the check tells apart.
const (
	erConCount   = 1040 // ER_CON_COUNT_ERROR: Too many connections
	erParseError = 1064 // ER_PARSE_ERROR: no SHOW REPLICA STATUS before MySQL 8.0.22
)

// Validate checks the options.
func (p *MySQL) Validate() error {
	var errs []error
	if p.User == "" {
		errs = append(errs, errors.New("no user to log in as"))
	}
	if p.RootCAs != nil && !p.TLS {
		errs = append(errs, errors.New("a CA is set but TLS is off"))
	}
	if p.MaxReplicationLag < 0 {
		errs = append(errs, fmt.Errorf("negative max replication lag %s", p.MaxReplicationLag))
	}
	if p.ReadOnly > ReadOnlyOff {
		errs = append(errs, fmt.Errorf("unknown read_only check %d", p.ReadOnly))
	}
	if p.TooManyConnectionsRounds < 0 {
		errs = append(errs, fmt.Errorf("negative too many connections rounds %d", p.TooManyConnectionsRounds))
	}
	if err := validateConn(p.ConnectIP, p.BindTo, p.Timeout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// TestsRole reports whether the check tests the server's role: a read_only
// requirement, running replication or a maximum lag. Such a server is
// never presumed up before a probe has seen its role (RoleProber).
func (p *MySQL) TestsRole() bool {
	return p.ReadOnly != ReadOnlyAny || p.ReplicationRunning || p.MaxReplicationLag > 0
}

// Probe logs in and checks every condition, in order: the query, read_only,
// replication.
func (p *MySQL) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	up, reason, tooMany := p.check(ctx, t)
	r := Result{Up: up, Weight: NoWeight, Reason: p.scrub(reason)}
	if n := p.countBusy(t, tooMany); n > 0 && p.TooManyConnectionsRounds > 0 {
		if n <= p.TooManyConnectionsRounds {
			r.Keep = true
			r.Reason = fmt.Sprintf("too many connections (error 1040): state kept, round %d of %d", n, p.TooManyConnectionsRounds)
			p.logger().Warn("mysql check: too many connections; keeping the real server's state",
				"service", t.Service, "real", t.Addr.String(), "round", n, "of", p.TooManyConnectionsRounds)
		} else {
			r.Reason = fmt.Sprintf("too many connections (error 1040) for more than %d rounds", p.TooManyConnectionsRounds)
		}
	}
	r.Took = time.Since(start)
	return r
}

func (p *MySQL) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// countBusy counts the consecutive probes of t refused with 1040: it
// returns the count including this probe, or 0 (and forgets t) when this
// probe was not refused.
func (p *MySQL) countBusy(t Target, tooMany bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !tooMany {
		delete(p.busy, t)
		return 0
	}
	if p.busy == nil {
		p.busy = map[Target]int{}
	}
	p.busy[t]++
	return p.busy[t]
}

// scrub masks the password in a reason. Passwords shorter than 4 bytes are
// left alone: they would match by chance, and the mask would tell where.
func (p *MySQL) scrub(reason string) string {
	if len(p.Password) < 4 {
		return reason
	}
	return strings.ReplaceAll(reason, string(p.Password), masked)
}

// check is one probe: up or down with its reason, and whether the server
// refused the connection with 1040.
func (p *MySQL) check(ctx context.Context, t Target) (up bool, reason string, tooMany bool) {
	timeout := timeoutOr(p.Timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := connectAddr(t, p.ConnectIP, p.ConnectPort)
	connector, err := p.connector(addr, timeout)
	if err != nil {
		return false, "driver: " + err.Error(), false
	}
	conn, err := connector.Connect(ctx)
	if err != nil {
		var me *mysql.MySQLError
		return false, mysqlReason(ctx, "connect", err, timeout), errors.As(err, &me) && me.Number == erConCount
	}
	defer conn.Close() // COM_QUIT
	q, ok := conn.(driver.QueryerContext)
	if !ok {
		return false, "driver: connection cannot run queries", false
	}

	query := p.Query
	if query == "" {
		query = DefaultMySQLQuery
	}
	_, rows, err := queryRows(ctx, q, query, 1)
	if err != nil {
		return false, mysqlReason(ctx, "query", err, timeout), false
	}
	if len(rows) == 0 {
		return false, "query returned no rows", false
	}
	oks := []string{"query returned a row"}

	if p.ReadOnly != ReadOnlyAny {
		_, rows, err := queryRows(ctx, q, "SELECT @@global.read_only", 1)
		if err != nil {
			return false, mysqlReason(ctx, "read_only", err, timeout), false
		}
		got := ReadOnlyOff
		if len(rows) == 1 && len(rows[0]) == 1 && truthy(rows[0][0]) {
			got = ReadOnlyOn
		}
		if got != p.ReadOnly {
			return false, fmt.Sprintf("read_only=%s, expected %s", got, p.ReadOnly), false
		}
		oks = append(oks, "read_only="+got.String())
	}

	if p.ReplicationRunning || p.MaxReplicationLag > 0 {
		ok, why := p.replication(ctx, q, timeout)
		if !ok {
			return false, why, false
		}
		oks = append(oks, why)
	}
	return true, strings.Join(oks, ", "), false
}

// connector is the driver's connector for one probe of addr.
func (p *MySQL) connector(addr netip.AddrPort, timeout time.Duration) (driver.Connector, error) {
	cfg := mysql.NewConfig()
	cfg.User = p.User
	cfg.Passwd = string(p.Password)
	cfg.DBName = p.Database
	cfg.Net = "tcp"
	cfg.Addr = addr.String()
	cfg.Timeout = timeout
	cfg.ReadTimeout = timeout
	cfg.WriteTimeout = timeout
	cfg.Logger = &mysql.NopLogger{} // failures are in the reasons
	cfg.ConnectionAttributes = "program_name:lvsctl"
	bindTo := p.BindTo
	cfg.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) {
		// The connect of TCP and HTTP probes, without net.Dialer's
		// address parsing and lookups of both addresses.
		return dialConn(ctx, addr, bindTo, timeout)
	}
	if p.TLS {
		cfg.TLS = p.tlsConfig()
	}
	return mysql.NewConnector(cfg) // fails only on named TLS configs and keys, which we do not use
}

// tlsConfig verifies the chain against RootCAs, not the name, like the
// mysql client's --ssl-mode=VERIFY_CA.
func (p *MySQL) tlsConfig() *tls.Config {
	c := &tls.Config{InsecureSkipVerify: true}
	if roots := p.RootCAs; roots != nil {
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, ic := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return c
}

// replication checks SHOW REPLICA STATUS: every row (one per replication
// channel) must have its threads running and a small enough lag.
func (p *MySQL) replication(ctx context.Context, q driver.QueryerContext, timeout time.Duration) (bool, string) {
	stmt := "SHOW REPLICA STATUS"
	cols, rows, err := queryRows(ctx, q, stmt, 64)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == erParseError {
		stmt = "SHOW SLAVE STATUS"
		cols, rows, err = queryRows(ctx, q, stmt, 64)
	}
	if err != nil {
		return false, mysqlReason(ctx, stmt, err, timeout)
	}
	if len(rows) == 0 {
		return false, "not a replica: " + stmt + " returned no rows"
	}
	col := func(names ...string) int {
		for _, n := range names {
			for i, c := range cols {
				if strings.EqualFold(c, n) {
					return i
				}
			}
		}
		return -1
	}
	ioCol := col("Replica_IO_Running", "Slave_IO_Running")
	sqlCol := col("Replica_SQL_Running", "Slave_SQL_Running")
	lagCol := col("Seconds_Behind_Source", "Seconds_Behind_Master")
	ioErr := col("Last_IO_Error")
	sqlErr := col("Last_SQL_Error")
	channel := col("Channel_Name", "Connection_name")
	if ioCol < 0 || sqlCol < 0 || lagCol < 0 {
		return false, stmt + ": unexpected columns"
	}
	var lags []string
	for _, row := range rows {
		where := ""
		if name, _ := text(at(row, channel)); len(rows) > 1 || name != "" {
			where = "channel '" + name + "': "
		}
		if p.ReplicationRunning {
			for _, th := range []struct{ col, errCol int }{{ioCol, ioErr}, {sqlCol, sqlErr}} {
				state, _ := text(at(row, th.col))
				if state == "Yes" {
					continue
				}
				if state == "" {
					state = "NULL"
				}
				why := where + cols[th.col] + "=" + state
				if e, _ := text(at(row, th.errCol)); e != "" {
					why += " (" + cols[th.errCol] + ": " + shorten(e, 120) + ")"
				}
				return false, why
			}
		}
		if p.MaxReplicationLag > 0 {
			v, ok := text(at(row, lagCol))
			if !ok {
				return false, where + "replication lag unknown: " + cols[lagCol] + " is NULL"
			}
			secs, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return false, where + cols[lagCol] + "=" + shorten(v, 20) + ": not a number"
			}
			lag := time.Duration(secs) * time.Second
			if lag > p.MaxReplicationLag {
				return false, fmt.Sprintf("%sreplication lag %s > %s", where, lag, p.MaxReplicationLag)
			}
			lags = append(lags, lag.String())
		}
	}
	out := "replication running"
	if len(lags) > 0 {
		out = "replication lag " + strings.Join(lags, ", ")
		if p.ReplicationRunning {
			out = "replication running, lag " + strings.Join(lags, ", ")
		}
	}
	return true, out
}

// queryRows runs stmt and returns its columns and up to max rows; the rest
// are discarded.
func queryRows(ctx context.Context, q driver.QueryerContext, stmt string, max int) ([]string, [][]driver.Value, error) {
	rs, err := q.QueryContext(ctx, stmt, nil)
	if err != nil {
		return nil, nil, err
	}
	cols := rs.Columns()
	var rows [][]driver.Value
	for len(rows) < max {
		row := make([]driver.Value, len(cols))
		if err := rs.Next(row); err == io.EOF {
			break
		} else if err != nil {
			rs.Close()
			return nil, nil, err
		}
		rows = append(rows, row)
	}
	if err := rs.Close(); err != nil {
		return nil, nil, err
	}
	return cols, rows, nil
}

func at(row []driver.Value, i int) driver.Value {
	if i < 0 || i >= len(row) {
		return nil
	}
	return row[i]
}

// text is a column's value as text; false for NULL.
func text(v driver.Value) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case []byte:
		return string(v), true
	case string:
		return v, true
	default:
		return fmt.Sprint(v), true
	}
}

// truthy reads a boolean variable: 1, ON or TRUE.
func truthy(v driver.Value) bool {
	s, _ := text(v)
	switch strings.ToUpper(s) {
	case "1", "ON", "TRUE", "YES":
		return true
	}
	return false
}

// mysqlReason turns an error of operation op into a reason. A server
// error is the server's message ("access denied for user ...", "Unknown
// database 'x'"), prefixed with op except at login.
func mysqlReason(ctx context.Context, op string, err error, timeout time.Duration) string {
	// The driver reports a read cut by the deadline as "invalid
	// connection"; the context's timer may not have fired yet.
	if cerr := ctx.Err(); cerr != nil {
		err = cerr
	} else if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		err = context.DeadlineExceeded
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		msg := lowerFirst(me.Message)
		if me.Number == erConCount {
			msg = "too many connections (error 1040)"
		}
		if op == "connect" {
			return msg
		}
		return op + ": " + msg
	}
	return errReason(op, err, timeout)
}

// lowerFirst lowers the first letter of a server message ("Access denied"
// becomes "access denied"), but not of an acronym ("SUPER").
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsUpper(r) {
		return s
	}
	if r2, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(r2) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// shorten cuts s to about n bytes, on a rune boundary, and takes it to one
// line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
