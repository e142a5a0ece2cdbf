package hcl

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/checker"
)

// This file is the mysql check, in both layers:
//
//	check "mysql" {
//	  user, password | password_file, database, query, tls, ca_file,
//	  replication_running, max_replication_lag, read_only,
//	  too_many_connections_rounds, connect_ip, connect_port, bind_to + timing
//	}
//
// connect_timeout bounds the whole probe. ca_file is shared with https
// (checkSyntax.CAFile), the connection attributes with tcp.

var mysqlAttributes = []hcl.AttributeSchema{
	{Name: "user"},
	{Name: "password"},
	{Name: "password_file"},
	{Name: "database"},
	{Name: "query"},
	{Name: "tls"},
	{Name: "ca_file"},
	{Name: "replication_running"},
	{Name: "max_replication_lag"},
	{Name: "read_only"},
	{Name: "too_many_connections_rounds"},
}

// mysqlSyntax is what a mysql check sets besides the shared attributes.
type mysqlSyntax struct {
	User                     *attr[string]
	Password                 *attr[string]
	PasswordFile             *attr[string]
	Database                 *attr[string]
	Query                    *attr[string]
	TLS                      *attr[bool]
	ReplicationRunning       *attr[bool]
	MaxReplicationLag        *attr[cty.Value]
	ReadOnly                 *attr[bool]
	TooManyConnectionsRounds *attr[*big.Float]
}

func (d *decoder) mysql(a hcl.Attributes) *mysqlSyntax {
	return &mysqlSyntax{
		User:                     decodeString(d, a["user"]),
		Password:                 decodeString(d, a["password"]),
		PasswordFile:             decodeString(d, a["password_file"]),
		Database:                 decodeString(d, a["database"]),
		Query:                    decodeString(d, a["query"]),
		TLS:                      decodeBool(d, a["tls"]),
		ReplicationRunning:       decodeBool(d, a["replication_running"]),
		MaxReplicationLag:        d.raw(a["max_replication_lag"]),
		ReadOnly:                 decodeBool(d, a["read_only"]),
		TooManyConnectionsRounds: decodeNumber(d, a["too_many_connections_rounds"]),
	}
}

// mysql builds a mysql check; timeout is its connect_timeout. Diagnostics
// never point at the password's value, so that they do not print it.
func (b *builder) mysql(c *checkSyntax, bc *builtCheck, timeout time.Duration) *checker.MySQL {
	m := c.MySQL
	if m == nil {
		m = &mysqlSyntax{}
	}
	p := &checker.MySQL{Timeout: timeout, TooManyConnectionsRounds: checker.DefaultTooManyConnectionsRounds}
	p.ConnectIP, p.ConnectPort, p.BindTo = b.conn(c, bc)

	switch {
	case m.User == nil:
		b.errorAt(c.DefRange, nil, "Missing user",
			"A mysql check needs user, the account it logs in as, and usually password_file: user = \"monitor\". The account needs no privilege for the query SELECT 1 and read_only; replication_running and max_replication_lag need REPLICATION CLIENT (MySQL) or SLAVE MONITOR (MariaDB 10.5 and later).")
	case m.User.ok() && m.User.Val == "":
		b.errorAt(m.User.Value, nil, "Invalid user", "user is the account the check logs in as; it must not be empty.")
	case m.User.ok():
		p.User = m.User.Val
	}

	switch {
	case m.Password != nil && m.PasswordFile != nil:
		b.errorAt(m.PasswordFile.Range, nil, "Both password and password_file",
			"The password is already set by password at %s: set it once, preferably with password_file, which keeps it out of the configuration.",
			posString(m.Password.Range))
	case m.Password.ok():
		p.Password = checker.Secret(m.Password.Val)
	case m.PasswordFile.ok():
		pw, err, missing := readPasswordFile(relativeTo(m.PasswordFile))
		if err != "" {
			b.external(m.PasswordFile.Value, missing, "Invalid password_file",
				"password_file must name a file that holds the password on one line (read when the configuration is loaded; a relative path is relative to the configuration file): %s.", err)
			break
		}
		p.Password = checker.Secret(pw)
	}

	if m.Database.ok() {
		p.Database = m.Database.Val
	}
	if m.Query.ok() {
		if strings.TrimSpace(m.Query.Val) == "" {
			b.errorAt(m.Query.Value, nil, "Invalid query",
				"query is one SQL statement that must return a row; it must not be empty (the default is %q).", checker.DefaultMySQLQuery)
		}
		p.Query = m.Query.Val
	}

	p.TLS = m.TLS.ok() && m.TLS.Val
	if c.CAFile.ok() {
		if !p.TLS {
			ctx := (*hcl.Range)(nil)
			if m.TLS != nil {
				ctx = m.TLS.Range.Ptr()
			}
			b.errorAt(c.CAFile.Range, ctx, "ca_file without tls",
				"ca_file is the CA that verifies the servers' certificates, and the check does not use TLS (tls defaults to false). Set tls = true, or remove ca_file.")
		} else if pool, err := checker.ReadCAFile(relativeTo(c.CAFile)); err != nil {
			b.external(c.CAFile.Value, absent(err), "Invalid ca_file",
				"ca_file must name a file of PEM certificates (read when the configuration is loaded; a relative path is relative to the configuration file): %v.", err)
		} else {
			p.RootCAs = pool
		}
	}

	p.ReplicationRunning = m.ReplicationRunning.ok() && m.ReplicationRunning.Val
	if m.MaxReplicationLag != nil {
		p.MaxReplicationLag, _ = b.duration(m.MaxReplicationLag, false)
	}
	if m.ReadOnly.ok() {
		p.ReadOnly = checker.ReadOnlyOff
		if m.ReadOnly.Val {
			p.ReadOnly = checker.ReadOnlyOn
		}
	}
	if m.TooManyConnectionsRounds != nil {
		n, _ := b.whole(m.TooManyConnectionsRounds, 0, math.MaxInt32, "Invalid too_many_connections_rounds", "too_many_connections_rounds")
		p.TooManyConnectionsRounds = int(n)
	}
	return p
}

// relativeTo resolves a path attribute against its file's directory.
func relativeTo(a *attr[string]) string {
	path := a.Val
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(a.Range.Filename), path)
	}
	return path
}

// maxPasswordFile is the largest password_file read.
const maxPasswordFile = 4096

// readPasswordFile reads a password: the file's one line, without its line
// end, from a regular file (a FIFO or device is refused, never waited on).
// Its problem, if any, is returned as text that never quotes the file's
// content; missing reports that the file is not there for this process
// (absent).
func readPasswordFile(path string) (pw, problem string, missing bool) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err.Error(), absent(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", err.Error(), false
	} else if !fi.Mode().IsRegular() {
		return "", path + " is not a regular file", false
	}
	// A password is one short line: never read an endless file whole.
	b, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return "", err.Error(), false
	}
	pw = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	switch {
	case len(b) > maxPasswordFile:
		return "", fmt.Sprintf("%s is larger than %d bytes", path, maxPasswordFile), false
	case pw == "":
		return "", path + " is empty", false
	case strings.ContainsAny(pw, "\r\n"):
		return "", path + " has more than one line", false
	}
	return pw, "", false
}
