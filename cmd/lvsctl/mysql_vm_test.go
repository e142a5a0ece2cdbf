package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/ipvs"
)

// mysqlRolesConf: a writer VIP (:3306) that wants read_only OFF and a
// reader VIP (:3307) that wants read_only ON and running replication, over
// the same two servers, delay_loop 1 and every other timing at its
// default (alpha false, warmup up to delay_loop).
const mysqlRolesConf = `
virtual_server "writer" {
  address    = "10.0.1.100"
  port       = 3306
  scheduler  = "rr"
  forwarding = "nat"
  delay_loop = 1
  check "mysql" {
    user          = "monitor"
    password_file = %[1]q
    read_only     = false
  }
  real_server { address = "10.0.2.11" }
  real_server { address = "10.0.2.12" }
}

virtual_server "reader" {
  address    = "10.0.1.100"
  port       = 3307
  scheduler  = "rr"
  forwarding = "nat"
  delay_loop = 1
  check "mysql" {
    user                = "monitor"
    password_file       = %[1]q
    read_only           = true
    replication_running = true
  }
  real_server {
    address = "10.0.2.11"
    port    = 3306
  }
  real_server {
    address = "10.0.2.12"
    port    = 3306
  }
}
`

const vmMonitorPassword = "m0nitor-Pa55"

// vmMariaDB is one mariadbd in a lab host.
type vmMariaDB struct {
	name  string
	sock  string
	cmd   *exec.Cmd
	done  chan struct{}
	admin *sql.DB
}

// bundleDir extracts LVSCTL_MARIADB_BUNDLE (.ci/vm-mariadb's tar.gz),
// the data directory only when dataOnly, into dir.
func extractBundle(t *testing.T, bundle, dir string, dataOnly bool) {
	t.Helper()
	f, err := os.Open(bundle)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		name := filepath.Clean(h.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			t.Fatalf("bundle: bad path %q", h.Name)
		}
		if dataOnly && name != "data" && !strings.HasPrefix(name, "data/") {
			continue
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(p, 0o755))
		case tar.TypeReg:
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fs.FileMode(h.Mode)&0o777|0o444)
			require.NoError(t, err)
			_, err = io.Copy(out, tr)
			require.NoError(t, err)
			require.NoError(t, out.Close())
		}
	}
}

// nobody is the uid mariadbd runs as: it refuses root without --user, and
// the guest has no passwd file to name one.
const nobody = 65534

// startVMMariaDB runs mariadbd from the bundle in host, on addr:3306, with
// its own copy of the data directory.
func startVMMariaDB(t *testing.T, l *lab.Lab, bundle, base, name, host, addr string, serverID int, extra ...string) *vmMariaDB {
	t.Helper()
	dir := filepath.Join(base, name)
	require.NoError(t, os.Mkdir(dir, 0o755))
	extractBundle(t, bundle, dir, true)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tmp"), 0o700))
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nobody, nobody)
	}))
	m := &vmMariaDB{name: name, sock: filepath.Join(dir, "sock"), done: make(chan struct{})}
	args := append([]string{"--library-path", filepath.Join(base, "lib"), filepath.Join(base, "bin", "mariadbd"),
		"--no-defaults", "--basedir=" + base, "--datadir=" + filepath.Join(dir, "data"), "--socket=" + m.sock,
		"--port=3306", "--bind-address=" + addr, "--pid-file=" + filepath.Join(dir, "pid"),
		"--log-error=" + filepath.Join(dir, "error.log"), "--tmpdir=" + filepath.Join(dir, "tmp"),
		"--lc-messages-dir=" + filepath.Join(base, "share"), "--character-sets-dir=" + filepath.Join(base, "share", "charsets"),
		fmt.Sprintf("--server-id=%d", serverID), "--skip-name-resolve", "--innodb-log-file-size=8M",
		"--innodb-buffer-pool-size=32M", "--innodb-use-native-aio=0"}, extra...)
	m.cmd = exec.Command(filepath.Join(base, "lib", "ld-linux-x86-64.so.2"), args...)
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	// Started from a thread in host's namespace, mariadbd lives there.
	require.NoError(t, l.Do(host, m.cmd.Start))
	go func() { m.cmd.Wait(); close(m.done) }()
	t.Cleanup(func() {
		if m.admin != nil {
			m.admin.Close()
		}
		m.cmd.Process.Kill()
		<-m.done
	})
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", m.sock
	cfg.Logger = &mysql.NopLogger{}
	c, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	m.admin = sql.OpenDB(c)
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := m.admin.PingContext(ctx)
		cancel()
		if err == nil {
			return m
		}
		select {
		case <-m.done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("%s exited: %s", name, log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("%s did not start: %v\n%s", name, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (m *vmMariaDB) exec(t *testing.T, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := m.admin.Conn(ctx)
	require.NoError(t, err)
	defer c.Close()
	for _, s := range stmts {
		_, err := c.ExecContext(ctx, s)
		require.NoError(t, err, "%s: %s", m.name, s)
	}
}

// TestVMMySQLRoles: real MariaDB, a primary db1 (read_only OFF) and its
// replica db2 (read_only ON), behind a writer and a reader VIP. The kernel
// table, sampled every 20 ms from before the daemon's start, through a
// restart, never holds the replica in the writer pool nor the primary in
// the reader pool.
func TestVMMySQLRoles(t *testing.T) {
	requireVM(t)
	bundle := os.Getenv("LVSCTL_MARIADB_BUNDLE")
	if bundle == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("LVSCTL_MARIADB_BUNDLE is not set: build it with .ci/vm-mariadb and pass it with LVSCTL_VM_FILES")
		}
		t.Skip("needs LVSCTL_MARIADB_BUNDLE: .ci/vm-mariadb /tmp/mariadb.tar.gz, then LVSCTL_VM_FILES=/tmp/mariadb.tar.gz:/mariadb.tar.gz LVSCTL_MARIADB_BUNDLE=/mariadb.tar.gz")
	}
	l := lab.New("vmsql-")
	t.Cleanup(func() { l.Close() })
	_, err := l.NATTopology(2)
	require.NoError(t, err)

	base, err := os.MkdirTemp("", "vmsql-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o755))
	extractBundle(t, bundle, base, false)

	began := time.Now()
	db1 := startVMMariaDB(t, l, bundle, base, "db1", "be1", "10.0.2.11", 1, "--log-bin=db1-bin")
	db2 := startVMMariaDB(t, l, bundle, base, "db2", "be2", "10.0.2.12", 2)
	t.Logf("both servers up in %v", time.Since(began).Round(time.Millisecond))
	for _, m := range []*vmMariaDB{db1, db2} {
		m.exec(t,
			"SET sql_log_bin = 0",
			fmt.Sprintf("CREATE USER 'monitor'@'%%' IDENTIFIED BY '%s'", vmMonitorPassword),
			"GRANT SLAVE MONITOR ON *.* TO 'monitor'@'%'",
			"CREATE USER 'repl'@'%' IDENTIFIED BY 'repl-Pa55'",
			"GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'",
			"SET sql_log_bin = 1")
	}
	db2.exec(t,
		"CHANGE MASTER TO MASTER_HOST='10.0.2.11', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='repl-Pa55', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
		"START SLAVE",
		"SET GLOBAL read_only = ON")
	replicating := time.Now().Add(30 * time.Second)
	for {
		var io, sqlRunning string
		rows, err := db2.admin.Query("SHOW SLAVE STATUS")
		require.NoError(t, err)
		cols, _ := rows.Columns()
		if rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for i, c := range cols {
				switch c {
				case "Slave_IO_Running":
					io = vals[i].String
				case "Slave_SQL_Running":
					sqlRunning = vals[i].String
				}
			}
		}
		rows.Close()
		if io == "Yes" && sqlRunning == "Yes" {
			break
		}
		require.True(t, time.Now().Before(replicating), "db2 does not replicate: IO=%s SQL=%s", io, sqlRunning)
		time.Sleep(100 * time.Millisecond)
	}

	dir := t.TempDir()
	pw := filepath.Join(dir, "monitor.password")
	require.NoError(t, os.WriteFile(pw, []byte(vmMonitorPassword+"\n"), 0o600))
	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(mysqlRolesConf, pw)), 0o644))
	ns := l.NSPath("director")
	args := []string{"-f", cfg, "--netns", ns, "--state", filepath.Join(dir, "state.json")}

	// Sample the table every 20 ms: the writer pool (:3306) must never
	// hold db2, the reader pool (:3307) never db1.
	k, err := ipvs.Open(context.Background(), ns)
	require.NoError(t, err)
	defer k.Close()
	var (
		mu         sync.Mutex
		samples    int
		violations []string
		seen       = map[string]bool{}
	)
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			svcs, err := k.Services(context.Background())
			mu.Lock()
			samples++
			if err != nil {
				violations = append(violations, "read: "+err.Error())
			}
			for _, s := range svcs {
				for _, r := range s.RealServers {
					entry := fmt.Sprintf("%d->%s", s.Key.Port, r.Addr)
					seen[entry] = true
					if (s.Key.Port == 3306 && r.Addr.String() == "10.0.2.12") || (s.Key.Port == 3307 && r.Addr.String() == "10.0.2.11") {
						violations = append(violations, fmt.Sprintf("%s at %s", entry, time.Now().Format("15:04:05.000")))
					}
				}
			}
			mu.Unlock()
		}
	}()
	w := tableWatch{t: t, ns: ns}
	converged := func() bool {
		wr, rd := w.reals(3306), w.reals(3307)
		_, ok1 := wr["10.0.2.11"]
		_, ok2 := rd["10.0.2.12"]
		return len(wr) == 1 && ok1 && len(rd) == 1 && ok2
	}
	d := startDaemon(t, args...)
	took := w.until(30*time.Second, "writer={db1} reader={db2}", converged)
	t.Logf("converged %v after the start", took.Round(time.Millisecond))
	time.Sleep(2 * time.Second)

	// A restart keeps the pools as they are.
	d.signal(t, syscall.SIGTERM)
	require.NoError(t, d.wait(t))
	d = startDaemon(t, args...)
	w.until(10*time.Second, "restarted daemon running", func() bool { return strings.Contains(d.logText(), "msg=running") })
	assert.Contains(t, d.logText(), "writes=0")
	time.Sleep(3 * time.Second)
	assert.True(t, converged())
	assert.NotContains(t, d.logText(), vmMonitorPassword)

	close(stop)
	<-sampled
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d samples; entries seen: %v", samples, seen)
	assert.Greater(t, samples, 100)
	assert.Empty(t, violations, "a pool held a server of the wrong role")
}
