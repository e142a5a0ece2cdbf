package checker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// This file starts real MariaDB servers for the mysql check's tests: each
// with its own datadir in a temporary directory, on a free loopback port,
// with real accounts and grants, killed by pid when the test ends.

// Accounts the tests create on every server.
const (
	monitorUser     = "monitor"
	monitorPassword = "Pr0be-pa55word-xyzzy" // searched for in every reason and log
	tlsUser         = "tlsonly"              // REQUIRE SSL, same password
	replUser        = "repl"
	replPassword    = "repl-pa55word"
)

// mariadb is one server started by a test.
type mariadb struct {
	name  string
	dir   string
	sock  string
	addr  netip.AddrPort
	cmd   *exec.Cmd
	done  chan struct{} // closed when the process has exited
	admin *sql.DB       // root over the unix socket
}

// skipOrFail skips a test that lacks something it needs, or fails it when
// CI is set: in CI the suite must run for real.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set and "+format, args...)
	}
	t.Skipf(format+" (install mariadb-server; make host-deps does)", args...)
}

// mariadbBinaries returns the paths of mariadb-install-db and mariadbd.
func mariadbBinaries(t *testing.T) (installDB, server string) {
	t.Helper()
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			if p := filepath.Join(dir, name); fileExists(p) {
				return p
			}
		}
		skipOrFail(t, "%s is not installed", name)
		return ""
	}
	return find("mariadb-install-db"), find("mariadbd")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// serverOptions are given to mariadb-install-db and mariadbd alike: a small
// footprint and quick start.
func serverOptions() []string {
	o := []string{"--skip-name-resolve", "--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M"}
	if os.Geteuid() == 0 {
		o = append(o, "--user=root") // mariadbd refuses to run as root otherwise
	}
	return o
}

// startMariaDB installs a datadir and starts a server on it. extra are
// more mariadbd options (--log-bin, --ssl-cert...).
func startMariaDB(t *testing.T, name string, serverID int, extra ...string) *mariadb {
	t.Helper()
	installDB, server := mariadbBinaries(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// A tmpdir of its own: servers bootstrapping at once in a shared /tmp
	// can remove each other's temporary tables.
	tmp := filepath.Join(dir, "tmp")
	require.NoError(t, os.Mkdir(tmp, 0o700))
	opts := append(serverOptions(), "--tmpdir="+tmp)
	install := exec.Command(installDB, append([]string{"--no-defaults", "--datadir=" + data,
		"--auth-root-authentication-method=normal", "--skip-test-db"}, opts...)...)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("%s: mariadb-install-db: %v\n%s", name, err, out)
	}

	m := &mariadb{name: name, dir: dir, sock: filepath.Join(dir, "sock"), done: make(chan struct{})}
	errLog := filepath.Join(dir, "error.log")
	for attempt := 0; ; attempt++ {
		m.addr = freePort(t)
		args := append([]string{"--no-defaults", "--datadir=" + data, "--socket=" + m.sock,
			"--port=" + strconv.Itoa(int(m.addr.Port())), "--bind-address=127.0.0.1",
			"--pid-file=" + filepath.Join(dir, "pid"), "--log-error=" + errLog,
			"--server-id=" + strconv.Itoa(serverID)}, opts...)
		m.cmd = exec.Command(server, append(args, extra...)...)
		require.NoError(t, m.cmd.Start())
		done := make(chan struct{})
		m.done = done
		go func() { m.cmd.Wait(); close(done) }()
		if m.waitReady(t, 30*time.Second) {
			break
		}
		log, _ := os.ReadFile(errLog)
		if attempt < 2 && strings.Contains(string(log), "Address already in use") {
			continue // the free port was taken in between
		}
		t.Fatalf("%s did not start:\n%s", name, log)
	}
	t.Cleanup(m.kill)
	return m
}

// freePort returns a loopback address nothing listens on, for now.
func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// waitReady waits, at most d, until root can log in over the socket. It
// returns false if the server exited or never answered.
func (m *mariadb) waitReady(t *testing.T, d time.Duration) bool {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", m.sock
	cfg.Logger = &mysql.NopLogger{}
	c, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	m.admin = sql.OpenDB(c)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			m.admin.Close()
			return false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := m.admin.PingContext(ctx)
		cancel()
		if err == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.kill()
	return false
}

// kill kills the server by its pid and waits for it.
func (m *mariadb) kill() {
	if m.admin != nil {
		m.admin.Close()
	}
	select {
	case <-m.done:
		return
	default:
	}
	m.cmd.Process.Kill()
	<-m.done
}

// exec runs statements in order on one root session.
func (m *mariadb) exec(t *testing.T, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := m.admin.Conn(ctx)
	require.NoError(t, err)
	defer c.Close()
	for _, s := range stmts {
		_, err := c.ExecContext(ctx, s)
		require.NoError(t, err, "%s: %s", m.name, s)
	}
}

// globalStatus reads a counter of SHOW GLOBAL STATUS.
func (m *mariadb) globalStatus(t *testing.T, name string) int64 {
	t.Helper()
	var n string
	var v int64
	require.NoError(t, m.admin.QueryRow("SHOW GLOBAL STATUS LIKE '"+name+"'").Scan(&n, &v))
	return v
}

// replicaStatus reads columns of SHOW SLAVE STATUS ("" for NULL).
func (m *mariadb) replicaStatus(t *testing.T) map[string]string {
	t.Helper()
	rows, err := m.admin.Query("SHOW SLAVE STATUS")
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	out := map[string]string{}
	if !rows.Next() {
		return out
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	require.NoError(t, rows.Scan(ptrs...))
	for i, c := range cols {
		out[c] = vals[i].String
	}
	return out
}

// createAccounts creates the test accounts, not replicated: every server
// gets its own. The monitor account can read replication status (SLAVE
// MONITOR) and nothing else; it is not SUPER, so MariaDB's extra
// connection for administrators is not open to it.
func (m *mariadb) createAccounts(t *testing.T) {
	t.Helper()
	m.exec(t,
		"SET sql_log_bin = 0",
		fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('%s')", monitorUser, monitorPassword),
		fmt.Sprintf("GRANT SLAVE MONITOR ON *.* TO '%s'@'127.0.0.1'", monitorUser),
		fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s' REQUIRE SSL", tlsUser, monitorPassword),
		fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'", replUser, replPassword),
		fmt.Sprintf("GRANT REPLICATION SLAVE ON *.* TO '%s'@'127.0.0.1'", replUser),
		"SET sql_log_bin = 1", // the session goes back to the pool
	)
}

// replicate makes m a replica of src and waits until it has caught up.
func (m *mariadb) replicate(t *testing.T, src *mariadb) {
	t.Helper()
	m.exec(t,
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
			src.addr.Port(), replUser, replPassword),
		"START SLAVE",
	)
	m.syncWith(t, src)
}

// syncWith waits until the replica m has applied everything src has
// logged, at most 20 s.
func (m *mariadb) syncWith(t *testing.T, src *mariadb) {
	t.Helper()
	var pos string
	require.NoError(t, src.admin.QueryRow("SELECT @@global.gtid_binlog_pos").Scan(&pos))
	var res int
	require.NoError(t, m.admin.QueryRow("SELECT MASTER_GTID_WAIT(?, 20)", pos).Scan(&res))
	if res != 0 {
		st := m.replicaStatus(t)
		t.Fatalf("%s did not catch up with %s (%s): IO=%s SQL=%s errors: %q %q", m.name, src.name, pos,
			st["Slave_IO_Running"], st["Slave_SQL_Running"], st["Last_IO_Error"], st["Last_SQL_Error"])
	}
}

// waitReplica polls SHOW SLAVE STATUS until cond holds, at most 20 s.
func (m *mariadb) waitReplica(t *testing.T, cond func(map[string]string) bool) map[string]string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := m.replicaStatus(t)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: replica status never reached the expected state: IO=%s SQL=%s lag=%q last errors: %q %q",
				m.name, st["Slave_IO_Running"], st["Slave_SQL_Running"], st["Seconds_Behind_Master"], st["Last_IO_Error"], st["Last_SQL_Error"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// serverFiles writes the CA, and a server certificate and key it signed
// for a name that is not the address the checks use, into dir; it returns
// mariadbd's options for them.
func (ca *testCA) serverFiles(t *testing.T, dir string) []string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "db1.example.test"},
		DNSNames:     []string{"db1.example.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	files := map[string][]byte{
		"ca.pem":   ca.pem,
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	return []string{"--ssl-ca=" + filepath.Join(dir, "ca.pem"), "--ssl-cert=" + filepath.Join(dir, "cert.pem"),
		"--ssl-key=" + filepath.Join(dir, "key.pem")}
}
