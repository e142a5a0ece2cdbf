package checker_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// mysqlProbe probes m's address once and checks that the password shows
// nowhere in the result.
func mysqlProbe(t *testing.T, p *checker.MySQL, addr netip.AddrPort) checker.Result {
	t.Helper()
	r := p.Probe(context.Background(), checker.Target{Service: "db", Addr: addr})
	t.Logf("up=%v keep=%v took=%s reason=%q", r.Up, r.Keep, r.Took.Round(time.Microsecond), r.Reason)
	require.NotContains(t, r.Reason, monitorPassword)
	require.NotContains(t, r.Reason, "wrong-pa55word")
	return r
}

func monitor(f func(*checker.MySQL)) *checker.MySQL {
	p := &checker.MySQL{User: monitorUser, Password: monitorPassword, Timeout: 2 * time.Second, TooManyConnectionsRounds: 3}
	if f != nil {
		f(p)
	}
	return p
}

func TestMySQLValidate(t *testing.T) {
	assert.NoError(t, monitor(nil).Validate())
	bad := &checker.MySQL{
		RootCAs: newTestCA(t, "ca").pool(), MaxReplicationLag: -time.Second, ReadOnly: 7,
		TooManyConnectionsRounds: -1, Timeout: -1,
	}
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{"no user", "a CA is set but TLS is off", "negative max replication lag", "unknown read_only", "negative too many connections", "negative timeout"} {
		assert.ErrorContains(t, err, want)
	}
}

// The password prints as a mask whatever prints it: fmt, slog, JSON.
func TestMySQLPasswordNeverPrinted(t *testing.T) {
	p := monitor(nil)
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%d"} {
		out = append(out, fmt.Sprintf(verb, p), fmt.Sprintf(verb, p.Password))
	}
	j, err := json.Marshal(p)
	require.NoError(t, err)
	out = append(out, string(j))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "check", p, "password", p.Password)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "check", p, "password", p.Password)
	out = append(out, buf.String())
	for _, s := range out {
		assert.NotContains(t, s, monitorPassword)
		assert.NotContains(t, s, fmt.Sprintf("%x", monitorPassword))
	}
	assert.Equal(t, "******", p.Password.String())
	assert.Equal(t, "", checker.Secret("").String())
	assert.Contains(t, string(j), `"Password":"******"`)
}

// Without a database: what the probe says when there is no server, or one
// that never greets.
func TestMySQLNoServer(t *testing.T) {
	r := mysqlProbe(t, monitor(nil), closedPort(t))
	assert.False(t, r.Up)
	assert.False(t, r.Keep)
	assert.Equal(t, "connect: connection refused", r.Reason)

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var mu sync.Mutex
	var held []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // silent: no greeting
			mu.Unlock()
		}
	}()
	start := time.Now()
	r = mysqlProbe(t, monitor(func(p *checker.MySQL) { p.Timeout = 200 * time.Millisecond }), ln.Addr().(*net.TCPAddr).AddrPort())
	assert.False(t, r.Up)
	assert.Equal(t, "connect: timeout after 200ms", r.Reason)
	assert.Less(t, time.Since(start), time.Second)
}

// TestMySQL runs the mysql check against real MariaDB servers: a primary
// with TLS, a replica of it wired with real replication, and a standalone
// server for "Too many connections" and for being killed.
func TestMySQL(t *testing.T) {
	start := time.Now()
	mariadbBinaries(t)
	ca := newTestCA(t, "lvsctl test CA")
	primary := startMariaDB(t, "primary", 1, append(ca.serverFiles(t, t.TempDir()),
		"--log-bin=bin", "--binlog-format=ROW", "--sync-binlog=0", "--innodb-flush-log-at-trx-commit=0")...)
	replica := startMariaDB(t, "replica", 2, "--innodb-flush-log-at-trx-commit=0", "--relay-log=relay")
	standalone := startMariaDB(t, "standalone", 3)
	for _, m := range []*mariadb{primary, replica, standalone} {
		m.createAccounts(t)
	}
	primary.exec(t, "CREATE DATABASE app", "CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	replica.replicate(t, primary)
	replica.exec(t, "SET GLOBAL read_only = 1")
	t.Logf("three servers up, replication running, in %s", time.Since(start).Round(time.Millisecond))

	t.Run("up", func(t *testing.T) {
		for _, m := range []*mariadb{primary, replica, standalone} {
			r := mysqlProbe(t, monitor(nil), m.addr)
			assert.True(t, r.Up, m.name)
			assert.Equal(t, "query returned a row", r.Reason)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		r := mysqlProbe(t, monitor(func(p *checker.MySQL) { p.Password = "wrong-pa55word" }), primary.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "access denied for user 'monitor'@'127.0.0.1' (using password: YES)", r.Reason)
	})

	t.Run("database without access", func(t *testing.T) {
		r := mysqlProbe(t, monitor(func(p *checker.MySQL) { p.Database = "app" }), primary.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "access denied for user 'monitor'@'127.0.0.1' to database 'app'", r.Reason)
	})

	t.Run("query without rows", func(t *testing.T) {
		r := mysqlProbe(t, monitor(func(p *checker.MySQL) { p.Query = "SELECT 1 FROM DUAL WHERE 1 = 0" }), primary.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "query returned no rows", r.Reason)

		r = mysqlProbe(t, monitor(func(p *checker.MySQL) { p.Query = "SELECT 'a', NULL UNION SELECT 'b', 2" }), primary.addr)
		assert.True(t, r.Up)
	})

	t.Run("query error quoting the password", func(t *testing.T) {
		// The server's syntax error quotes the query, password and all.
		r := mysqlProbe(t, monitor(func(p *checker.MySQL) { p.Query = "SELECT 1 FROM WHERE x = '" + monitorPassword + "'" }), primary.addr)
		assert.False(t, r.Up)
		assert.Contains(t, r.Reason, "query: you have an error in your SQL syntax")
		assert.Contains(t, r.Reason, "'******'")
	})

	t.Run("read_only", func(t *testing.T) {
		writer := monitor(func(p *checker.MySQL) { p.ReadOnly = checker.ReadOnlyOff })
		reader := monitor(func(p *checker.MySQL) { p.ReadOnly = checker.ReadOnlyOn })

		r := mysqlProbe(t, writer, primary.addr)
		assert.True(t, r.Up)
		assert.Equal(t, "query returned a row, read_only=OFF", r.Reason)
		r = mysqlProbe(t, reader, primary.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "read_only=OFF, expected ON", r.Reason)

		r = mysqlProbe(t, reader, replica.addr)
		assert.True(t, r.Up)
		r = mysqlProbe(t, writer, replica.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "read_only=ON, expected OFF", r.Reason)

		// The roles swap.
		primary.exec(t, "SET GLOBAL read_only = 1")
		replica.exec(t, "SET GLOBAL read_only = 0")
		assert.False(t, mysqlProbe(t, writer, primary.addr).Up)
		assert.True(t, mysqlProbe(t, reader, primary.addr).Up)
		assert.True(t, mysqlProbe(t, writer, replica.addr).Up)
		assert.Equal(t, "read_only=OFF, expected ON", mysqlProbe(t, reader, replica.addr).Reason)
		primary.exec(t, "SET GLOBAL read_only = 0")
		replica.exec(t, "SET GLOBAL read_only = 1")
	})

	running := monitor(func(p *checker.MySQL) { p.ReplicationRunning = true })
	lagged := monitor(func(p *checker.MySQL) { p.MaxReplicationLag = 30 * time.Second })
	both := monitor(func(p *checker.MySQL) { p.ReplicationRunning, p.MaxReplicationLag = true, 30*time.Second })

	t.Run("replication running", func(t *testing.T) {
		r := mysqlProbe(t, both, replica.addr)
		assert.True(t, r.Up)
		assert.Equal(t, "query returned a row, replication running, lag 0s", r.Reason)

		for _, p := range []*checker.MySQL{running, lagged} {
			r := mysqlProbe(t, p, primary.addr)
			assert.False(t, r.Up)
			assert.Equal(t, "not a replica: SHOW REPLICA STATUS returned no rows", r.Reason)
		}
	})

	t.Run("replica SQL thread stopped", func(t *testing.T) {
		replica.exec(t, "STOP SLAVE SQL_THREAD")
		replica.waitReplica(t, func(st map[string]string) bool { return st["Slave_SQL_Running"] == "No" })
		r := mysqlProbe(t, running, replica.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "Slave_SQL_Running=No", r.Reason)
		// The lag of a stopped SQL thread is NULL: down, not OK.
		r = mysqlProbe(t, lagged, replica.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "replication lag unknown: Seconds_Behind_Master is NULL", r.Reason)

		replica.exec(t, "START SLAVE SQL_THREAD")
		replica.waitReplica(t, func(st map[string]string) bool { return st["Slave_SQL_Running"] == "Yes" })
		assert.True(t, mysqlProbe(t, both, replica.addr).Up)
	})

	t.Run("replica IO thread stopped", func(t *testing.T) {
		replica.exec(t, "STOP SLAVE IO_THREAD")
		replica.waitReplica(t, func(st map[string]string) bool { return st["Slave_IO_Running"] == "No" })
		r := mysqlProbe(t, running, replica.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "Slave_IO_Running=No", r.Reason)
		r = mysqlProbe(t, lagged, replica.addr)
		assert.False(t, r.Up, "no connection to the source: the lag is unknown")
		assert.Equal(t, "replication lag unknown: Seconds_Behind_Master is NULL", r.Reason)
		replica.exec(t, "START SLAVE IO_THREAD")
		replica.waitReplica(t, func(st map[string]string) bool { return st["Slave_IO_Running"] == "Yes" })
		assert.True(t, mysqlProbe(t, running, replica.addr).Up)
	})

	t.Run("replication lag", func(t *testing.T) {
		// A session on the replica locks the table the primary writes to:
		// the SQL thread waits on the event, whose timestamp the primary
		// set 100 s in the past. The replica is then 100 s behind.
		ctx := context.Background()
		lock, err := replica.admin.Conn(ctx)
		require.NoError(t, err)
		defer lock.Close()
		_, err = lock.ExecContext(ctx, "LOCK TABLES app.t WRITE")
		require.NoError(t, err)
		primary.exec(t, "SET TIMESTAMP = UNIX_TIMESTAMP() - 100", "INSERT INTO app.t (v) VALUES (1)")
		replica.waitReplica(t, func(st map[string]string) bool {
			lag, err := strconv.Atoi(st["Seconds_Behind_Master"])
			return err == nil && lag >= 100
		})

		r := mysqlProbe(t, both, replica.addr)
		assert.False(t, r.Up)
		assert.Regexp(t, regexp.MustCompile(`^replication lag 1m4[0-9]s > 30s$`), r.Reason)
		assert.True(t, mysqlProbe(t, monitor(func(p *checker.MySQL) { p.MaxReplicationLag = 5 * time.Minute }), replica.addr).Up)
		// Running threads are not enough.
		assert.True(t, mysqlProbe(t, running, replica.addr).Up)

		_, err = lock.ExecContext(ctx, "UNLOCK TABLES")
		require.NoError(t, err)
		replica.waitReplica(t, func(st map[string]string) bool { return st["Seconds_Behind_Master"] == "0" })
		r = mysqlProbe(t, both, replica.addr)
		assert.True(t, r.Up)
		assert.Equal(t, "query returned a row, replication running, lag 0s", r.Reason)
	})

	t.Run("TLS", func(t *testing.T) {
		r := mysqlProbe(t, monitor(func(p *checker.MySQL) { p.TLS = true }), primary.addr)
		assert.True(t, r.Up)
		r = mysqlProbe(t, monitor(func(p *checker.MySQL) { p.TLS, p.RootCAs = true, ca.pool() }), primary.addr)
		assert.True(t, r.Up, "the chain is verified, not the name")
		r = mysqlProbe(t, monitor(func(p *checker.MySQL) { p.TLS, p.RootCAs = true, newTestCA(t, "other CA").pool() }), primary.addr)
		assert.False(t, r.Up)
		assert.Contains(t, r.Reason, "certificate signed by unknown authority")

		tlsOnly := monitor(func(p *checker.MySQL) { p.User = tlsUser })
		r = mysqlProbe(t, tlsOnly, primary.addr)
		assert.False(t, r.Up)
		assert.Contains(t, r.Reason, "access denied for user 'tlsonly'")
		tlsOnly.TLS = true
		assert.True(t, mysqlProbe(t, tlsOnly, primary.addr).Up)

		r = mysqlProbe(t, monitor(func(p *checker.MySQL) { p.TLS = true }), replica.addr)
		assert.False(t, r.Up)
		assert.Equal(t, "connect: TLS requested but server does not support TLS", r.Reason)
	})

	t.Run("no aborted connects or clients after 1000 probes", func(t *testing.T) {
		p := monitor(func(p *checker.MySQL) { p.ReadOnly, p.TLS = checker.ReadOnlyOff, true })
		connects, clients := primary.globalStatus(t, "Aborted_connects"), primary.globalStatus(t, "Aborted_clients")
		conns := primary.globalStatus(t, "Connections")
		began := time.Now()
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tg := checker.Target{Service: fmt.Sprint("db", w), Addr: primary.addr}
				for range 250 {
					if r := p.Probe(context.Background(), tg); !r.Up {
						t.Errorf("probe failed: %s", r.Reason)
						return
					}
				}
			}()
		}
		wg.Wait()
		took := time.Since(began)
		time.Sleep(100 * time.Millisecond) // let the server account for the last disconnects
		assert.GreaterOrEqual(t, primary.globalStatus(t, "Connections")-conns, int64(1000))
		assert.Equal(t, connects, primary.globalStatus(t, "Aborted_connects"), "Aborted_connects")
		assert.Equal(t, clients, primary.globalStatus(t, "Aborted_clients"), "Aborted_clients")
		t.Logf("1000 probes (TLS, query, read_only), 4 at a time, in %s", took.Round(time.Millisecond))

		// The counter does see a client that hangs up during the handshake.
		c, err := net.Dial("tcp", primary.addr.String())
		require.NoError(t, err)
		c.Read(make([]byte, 1024))
		c.Close()
		deadline := time.Now().Add(5 * time.Second)
		for primary.globalStatus(t, "Aborted_connects") == connects && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		assert.Equal(t, connects+1, primary.globalStatus(t, "Aborted_connects"), "a hang-up during the handshake")
	})

	t.Run("too many connections", func(t *testing.T) {
		// max_connections = 10 (MariaDB's minimum), all taken: the monitor
		// account, which is not SUPER, is refused with 1040. (MariaDB keeps
		// one more connection for SUPER users: root's.)
		standalone.exec(t, "SET GLOBAL max_connections = 10")
		defer standalone.exec(t, "SET GLOBAL max_connections = 151")
		var held []*sql.Conn
		release := func() {
			for _, c := range held {
				c.Close()
			}
			held = nil
		}
		defer release()
		noKeep := monitor(func(p *checker.MySQL) { p.TooManyConnectionsRounds = 0 })
		for !strings.Contains(mysqlProbe(t, noKeep, standalone.addr).Reason, "1040") {
			require.Less(t, len(held), 10)
			c, err := standalone.admin.Conn(context.Background())
			require.NoError(t, err)
			held = append(held, c)
		}

		var logs bytes.Buffer
		p := monitor(func(p *checker.MySQL) { p.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
		for i := 1; i <= 3; i++ {
			r := mysqlProbe(t, p, standalone.addr)
			assert.True(t, r.Keep, "round %d", i)
			assert.Equal(t, fmt.Sprintf("too many connections (error 1040): state kept, round %d of 3", i), r.Reason)
		}
		r := mysqlProbe(t, p, standalone.addr)
		assert.False(t, r.Keep)
		assert.False(t, r.Up)
		assert.Equal(t, "too many connections (error 1040) for more than 3 rounds", r.Reason)
		assert.Equal(t, 3, strings.Count(logs.String(), "too many connections; keeping the real server's state"), logs.String())
		assert.Contains(t, logs.String(), "real="+standalone.addr.String())
		assert.NotContains(t, logs.String(), monitorPassword)

		// Another target has its own count; zero rounds is down at once.
		other := p.Probe(context.Background(), checker.Target{Service: "other", Addr: standalone.addr})
		assert.True(t, other.Keep)
		assert.Equal(t, "too many connections (error 1040): state kept, round 1 of 3", other.Reason)
		r = mysqlProbe(t, monitor(func(p *checker.MySQL) { p.TooManyConnectionsRounds = 0 }), standalone.addr)
		assert.False(t, r.Keep)
		assert.Equal(t, "too many connections (error 1040)", r.Reason)

		// Any other outcome starts the count again.
		release()
		standalone.exec(t, "SET GLOBAL max_connections = 151")
		assert.True(t, mysqlProbe(t, p, standalone.addr).Up)
	})

	t.Run("too many connections in a pool", func(t *testing.T) {
		// The Pool on a fake clock, with the real prober: three rounds of
		// 1040 keep the server up without an event, the fourth round (and
		// its retry) takes it down; a good round brings it back.
		h := newHarness(t, nil)
		tg := checker.Target{Service: "db", Addr: standalone.addr}
		p := monitor(func(p *checker.MySQL) { p.Logger = slog.New(slog.DiscardHandler) })
		h.start()
		h.set(checker.Spec{Target: tg, Prober: p, Timing: timing(nil)}) // delay_loop 10s, retry 1 after 1s
		h.until(0)
		st, _ := h.pool.Lookup(tg)
		require.True(t, st.Checked && st.Up, st.Reason)

		standalone.exec(t, "SET GLOBAL max_connections = 10")
		defer standalone.exec(t, "SET GLOBAL max_connections = 151")
		var held []*sql.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		noKeep := monitor(func(p *checker.MySQL) { p.TooManyConnectionsRounds = 0 })
		for !strings.Contains(mysqlProbe(t, noKeep, standalone.addr).Reason, "1040") {
			require.Less(t, len(held), 10)
			c, err := standalone.admin.Conn(context.Background())
			require.NoError(t, err)
			held = append(held, c)
		}

		h.until(30 * time.Second)
		assert.Empty(t, h.events())
		st, _ = h.pool.Lookup(tg)
		assert.True(t, st.Up)
		assert.True(t, st.Last.Keep)
		assert.Equal(t, "too many connections (error 1040): state kept, round 3 of 3", st.Last.Reason)
		assert.Zero(t, st.Retries)

		h.until(41 * time.Second)
		assert.Equal(t, []string{"41s down"}, h.events())
		st, _ = h.pool.Lookup(tg)
		assert.Equal(t, "too many connections (error 1040) for more than 3 rounds", st.Reason)

		for _, c := range held {
			c.Close()
		}
		held = nil
		standalone.exec(t, "SET GLOBAL max_connections = 151")
		h.until(51 * time.Second)
		assert.Equal(t, []string{"51s up"}, h.events())
	})

	t.Run("server killed", func(t *testing.T) {
		// A real Pool on the real clock: how long a killed server stays up.
		tm := checker.Timing{DelayLoop: 200 * time.Millisecond, Retry: 1, DelayBeforeRetry: 100 * time.Millisecond, Rise: 1, Fall: 1}
		p := monitor(func(p *checker.MySQL) { p.Timeout = time.Second })
		pool := checker.NewPool(checker.Options{})
		tg := checker.Target{Service: "db", Addr: standalone.addr}
		require.NoError(t, pool.Set([]checker.Spec{{Target: tg, Prober: p, Timing: tm}}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); pool.Run(ctx) }()
		defer func() { cancel(); <-done }()

		require.Eventually(t, func() bool { st, _ := pool.Lookup(tg); return st.Checked && st.Up }, 5*time.Second, 10*time.Millisecond)
		killed := time.Now()
		standalone.kill()
		select {
		case ev := <-pool.Events():
			took := time.Since(killed)
			assert.False(t, ev.Up)
			assert.Equal(t, "connect: connection refused", ev.Reason)
			bound := tm.DownWithin(p.Timeout)
			assert.LessOrEqual(t, took, bound)
			t.Logf("killed server down after %s (bound %s)", took.Round(time.Millisecond), bound)
		case <-time.After(10 * time.Second):
			t.Fatal("no down event")
		}
	})
	t.Logf("TestMySQL: %s", time.Since(start).Round(time.Millisecond))
}
