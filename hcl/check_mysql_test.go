package hcl_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

const mysqlSecret = "Hunter2-but-longer" // must never be printed

// loadMySQL writes src as dir/lvs.hcl and loads it.
func loadMySQL(t *testing.T, dir, src string) (*lvshcl.Config, lvshcl.Files, hcl.Diagnostics) {
	t.Helper()
	name := filepath.Join(dir, "lvs.hcl")
	require.NoError(t, os.WriteFile(name, []byte(src), 0o644))
	return lvshcl.Load(name)
}

func mysqlProber(t *testing.T, cfg *lvshcl.Config, pool, member int) *checker.MySQL {
	t.Helper()
	require.NotNil(t, cfg.Pools[pool].Members[member].Check)
	p, ok := cfg.Pools[pool].Members[member].Check.Prober.(*checker.MySQL)
	require.True(t, ok, "%T", cfg.Pools[pool].Members[member].Check.Prober)
	return p
}

func TestMySQLCheck(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, dir, "ca.pem")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "monitor.pw"), []byte(mysqlSecret+"\n"), 0o600))
	cfg, files, diags := loadMySQL(t, dir, `virtual_server "db" {
  address         = "192.0.2.1"
  port            = 3306
  connect_timeout = 3
  delay_loop      = 2
  check "mysql" {
    user                        = "monitor"
    password_file               = "monitor.pw"
    database                    = "app"
    query                       = "SELECT 1 FROM app.health"
    tls                         = true
    ca_file                     = "ca.pem"
    replication_running         = true
    max_replication_lag         = "30s"
    read_only                   = true
    too_many_connections_rounds = 5
    connect_port                = 3307
    fall                        = 2
  }
  real_server { address = "10.0.0.1" }
  real_server {
    address = "10.0.0.9"
    check "mysql" {
      user     = "writer-check"
      password = "`+mysqlSecret+`"
      read_only = false
    }
  }
}
`)
	require.Empty(t, diags, "%s", render(t, files, diags))

	p := mysqlProber(t, cfg, 0, 0)
	require.NotNil(t, p.RootCAs)
	p.RootCAs = nil
	assert.Equal(t, &checker.MySQL{
		User: "monitor", Password: mysqlSecret, Database: "app", Query: "SELECT 1 FROM app.health",
		TLS: true, ConnectPort: 3307, Timeout: 3 * time.Second,
		ReplicationRunning: true, MaxReplicationLag: 30 * time.Second, ReadOnly: checker.ReadOnlyOn,
		TooManyConnectionsRounds: 5,
	}, p)
	assert.Equal(t, timing(func(t *checker.Timing) { t.DelayLoop = 2 * time.Second; t.Fall = 2 }), cfg.Pools[0].Members[0].Check.Timing)
	assert.Equal(t, uint16(3306), cfg.Pools[0].Members[0].Check.Target.Addr.Port())

	// Defaults: connect_timeout inherited, SELECT 1, 3 rounds of 1040, the
	// real server's port.
	assert.Equal(t, &checker.MySQL{
		User: "writer-check", Password: mysqlSecret, Timeout: 3 * time.Second,
		ReadOnly: checker.ReadOnlyOff, TooManyConnectionsRounds: checker.DefaultTooManyConnectionsRounds,
	}, mysqlProber(t, cfg, 0, 1))
}

func TestMySQLCheckMinimal(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "MySQL" { user = "monitor" }
  real_server { address = "10.0.0.1" }
}`), "test.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	assert.Equal(t, &checker.MySQL{User: "monitor", Timeout: checker.DefaultTimeout, TooManyConnectionsRounds: 3}, mysqlProber(t, cfg, 0, 0))
	assert.Equal(t, checker.DefaultTiming(), cfg.Pools[0].Members[0].Check.Timing)
}

func TestMySQLCheckRejects(t *testing.T) {
	runRejections(t, []rejection{
		{
			name: "password and password_file",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user          = "monitor"
    password      = "` + mysqlSecret + `"
    password_file = "/etc/lvsctl/monitor.pw"
  }
}`,
			summary: "Both password and password_file", detail: "already set by password at test.hcl:6:5",
			line: 7, col: 5,
		},
		{
			name: "missing user",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" { read_only = true }
}`,
			summary: "Missing user", detail: "SLAVE MONITOR",
			line: 4, col: 3,
		},
		{
			name: "empty user",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" { user = "" }
}`,
			summary: "Invalid user", detail: "must not be empty",
			line: 4, col: 26,
		},
		{
			name: "unreadable password_file",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user          = "monitor"
    password_file = "/nonexistent/monitor.pw"
  }
}`,
			summary: "Invalid password_file", detail: "open /nonexistent/monitor.pw: no such file or directory",
			line: 6, col: 21,
		},
		{
			name: "empty query",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user  = "monitor"
    query = " "
  }
}`,
			summary: "Invalid query", detail: `the default is "SELECT 1"`,
			line: 6, col: 13,
		},
		{
			name: "ca_file without tls",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user    = "monitor"
    tls     = false
    ca_file = "/etc/ssl/ca.pem"
  }
}`,
			summary: "ca_file without tls", detail: "Set tls = true",
			line: 7, col: 5, ctxLine: 6,
		},
		{
			name: "unreadable ca_file",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user    = "monitor"
    tls     = true
    ca_file = "/nonexistent/ca.pem"
  }
}`,
			summary: "Invalid ca_file", detail: "no such file or directory",
			line: 7, col: 15,
		},
		{
			name: "zero max_replication_lag",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user                = "monitor"
    max_replication_lag = 0
  }
}`,
			summary: "Invalid max_replication_lag", detail: "more than 0",
			line: 6, col: 27,
		},
		{
			name: "max_replication_lag not a duration",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user                = "monitor"
    max_replication_lag = "half a minute"
  }
}`,
			summary: "Invalid max_replication_lag", detail: "is not a duration",
			line: 6, col: 27,
		},
		{
			name: "negative too_many_connections_rounds",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user                        = "monitor"
    too_many_connections_rounds = -1
  }
}`,
			summary: "Invalid too_many_connections_rounds", detail: "whole number from 0",
			line: 6, col: 35,
		},
		{
			name: "read_only not a bool",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user      = "monitor"
    read_only = "writer"
  }
}`,
			summary: "Incorrect attribute value type", detail: "read_only",
			line: 6, col: 17,
		},
		{
			name: "fwmark service without connect_port",
			src: `virtual_server "db" {
  fwmark = 3
  check "mysql" { user = "monitor" }
  real_server { address = "10.0.0.1" }
}`,
			summary: "Missing connect_port", detail: `a "mysql" check has no port`,
			line: 3, col: 3,
		},
		{
			name: "tls_verify in a mysql check",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user       = "monitor"
    tls_verify = true
  }
}`,
			summary: "Unsupported argument", detail: `An argument named "tls_verify" is not expected in check "mysql": it applies to http and https checks.`,
			line: 6, col: 5,
		},
		{
			name: "mysql attribute in a tcp check",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "tcp" { user = "monitor" }
}`,
			summary: "Unsupported argument", detail: `it applies to mysql checks.`,
			line: 4, col: 17,
		},
		{
			name: "ca_file in a tcp check",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "tcp" { ca_file = "ca.pem" }
}`,
			summary: "Unsupported argument", detail: `it applies to https and mysql checks.`,
			line: 4, col: 17,
		},
	})
}

// Problems with the password file are reported where it is named, without
// its content.
func TestMySQLPasswordFile(t *testing.T) {
	dir := t.TempDir()
	conf := func(pwFile string) string {
		return `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user          = "monitor"
    password_file = "` + pwFile + `"
  }
  real_server { address = "10.0.0.1" }
}
`
	}
	for name, content := range map[string]string{
		"crlf.pw":  mysqlSecret + "\r\n",
		"plain.pw": mysqlSecret,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
		cfg, files, diags := loadMySQL(t, dir, conf(name))
		require.Empty(t, diags, "%s", render(t, files, diags))
		assert.Equal(t, checker.Secret(mysqlSecret), mysqlProber(t, cfg, 0, 0).Password, name)
	}

	for name, tc := range map[string]struct{ content, detail string }{
		"empty.pw": {"\n", "is empty"},
		"two.pw":   {mysqlSecret + "\nsecond line\n", "has more than one line"},
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(tc.content), 0o600))
		cfg, files, diags := loadMySQL(t, dir, conf(name))
		assert.Nil(t, cfg)
		require.Len(t, diags, 1, "%s", render(t, files, diags))
		assert.Equal(t, "Invalid password_file", diags[0].Summary)
		assert.Contains(t, diags[0].Detail, filepath.Join(dir, name)+" "+tc.detail)
		assert.Equal(t, hcl.Pos{Line: 6, Column: 21, Byte: diags[0].Subject.Start.Byte}, diags[0].Subject.Start)
		assert.NotContains(t, render(t, files, diags), mysqlSecret)
	}

	// A FIFO is refused at once, not waited on (its open would block until
	// a writer came), and a device is not read without end.
	fifo := filepath.Join(dir, "fifo.pw")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, path := range []string{fifo, "/dev/zero"} {
		cfg, files, diags := loadMySQL(t, dir, conf(path))
		assert.Nil(t, cfg)
		require.Len(t, diags, 1, "%s", render(t, files, diags))
		assert.Contains(t, diags[0].Detail, path+" is not a regular file")
	}
}

// No diagnostic of a mysql check prints the password: not in its text, not
// in the source it quotes.
func TestMySQLPasswordNotInDiagnostics(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user                = ""
    password            = "`+mysqlSecret+`"

    password_file       = "/nonexistent"
    max_replication_lag = -5
  }
}`), "test.hcl")
	assert.Nil(t, cfg)
	out := render(t, files, diags)
	t.Log("\n" + out)
	assert.Len(t, errorsOf(diags), 3)
	assert.NotContains(t, out, mysqlSecret)
}

func TestTestdataMySQLMMM(t *testing.T) {
	cfg, files, diags := lvshcl.Load(filepath.Join(testdata, "mysql-mmm.hcl"))
	require.Empty(t, diags, "%s", render(t, files, diags))
	require.Len(t, cfg.Pools, 2)
	pw, err := os.ReadFile(filepath.Join(testdata, "mysql-monitor.password"))
	require.NoError(t, err)

	writer := mysqlProber(t, cfg, 0, 0)
	assert.Equal(t, checker.ReadOnlyOff, writer.ReadOnly)
	assert.False(t, writer.ReplicationRunning)
	assert.Equal(t, checker.Secret(strings.TrimSpace(string(pw))), writer.Password)
	assert.Len(t, cfg.Pools[0].Members, 3)

	reader := mysqlProber(t, cfg, 1, 0)
	assert.Equal(t, checker.ReadOnlyOn, reader.ReadOnly)
	assert.True(t, reader.ReplicationRunning)
	assert.Equal(t, 30*time.Second, reader.MaxReplicationLag)
	assert.Equal(t, 2*time.Second, reader.Timeout)
	assert.Equal(t, 2, cfg.Pools[1].Members[0].Check.Timing.Fall)
	assert.Len(t, cfg.Pools[1].Members, 2)
}
