package hcl_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// TestOptionsOffline: what a configuration names outside itself and is not
// there (a ca_file, a password_file, an exec check's command) is an error
// by default and a warning at the same place under Offline; what is there
// but wrong stays an error.
func TestOptionsOffline(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pass")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	lookPath := func(name string) (string, error) {
		if name == "/usr/bin/present" {
			return name, nil
		}
		return "", errors.New("exec: " + name + ": executable file not found in $PATH")
	}
	service := func(check string) string {
		return `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  real_server { address = "198.51.100.1" }
` + check + `
}`
	}
	tests := []struct {
		name      string
		src       string
		summary   string
		line, col int
		always    bool // an error even offline
	}{
		{"missing password_file", service(`  check "mysql" {
    user          = "monitor"
    password_file = "/nonexistent/db.pass"
  }`), "Invalid password_file", 7, 21, false},
		{"missing https ca_file", service(`  check "https" {
    tls_verify = true
    ca_file    = "ca.pem"
  }`), "Invalid ca_file", 7, 18, false},
		{"missing mysql ca_file", service(`  check "mysql" {
    user     = "monitor"
    password = "x"
    tls      = true
    ca_file  = "/nonexistent/ca.pem"
  }`), "Invalid ca_file", 9, 16, false},
		{"exec command not found", service(`  check "exec" {
    command = ["check-db", "--quick"]
  }`), "Command not found", 6, 16, false},
		{"empty password_file", service(`  check "mysql" {
    user          = "monitor"
    password_file = "` + empty + `"
  }`), "Invalid password_file", 7, 21, true},
	}
	for _, tt := range tests {
		for _, offline := range []bool{false, true} {
			name := tt.name
			if offline {
				name += " offline"
			}
			t.Run(name, func(t *testing.T) {
				file := filepath.Join(dir, "test.hcl")
				opts := lvshcl.Options{Offline: offline, LookPath: lookPath}
				cfg, files, diags := opts.Parse([]byte(tt.src), file)
				require.Len(t, diags, 1, "%s", render(t, files, diags))
				d := diags[0]
				assert.Equal(t, tt.summary, d.Summary)
				assert.Equal(t, file, d.Subject.Filename)
				assert.Equal(t, tt.line, d.Subject.Start.Line, "line")
				assert.Equal(t, tt.col, d.Subject.Start.Column, "column")
				if offline && !tt.always {
					assert.Equal(t, hcl.DiagWarning, d.Severity)
					assert.Contains(t, d.Detail, "plan, apply and run refuse the file")
					assert.NotNil(t, cfg)
				} else {
					assert.Equal(t, hcl.DiagError, d.Severity)
					assert.Nil(t, cfg)
				}
			})
		}
	}
}

// TestOptionsLookPath: commands are looked up only when LookPath is set
// (the package's Parse does not), and one that is found is accepted.
func TestOptionsLookPath(t *testing.T) {
	src := []byte(`virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server { address = "198.51.100.1" }
  check "exec" { command = ["/usr/bin/present"] }
}`)
	var asked []string
	opts := lvshcl.Options{LookPath: func(name string) (string, error) {
		asked = append(asked, name)
		return name, nil
	}}
	_, _, diags := opts.Parse(src, "test.hcl")
	assert.Empty(t, diags)
	assert.Equal(t, []string{"/usr/bin/present"}, asked)

	src = []byte(`virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server { address = "198.51.100.1" }
  check "exec" { command = ["/nonexistent/check"] }
}`)
	_, _, diags = lvshcl.Parse(src, "test.hcl")
	assert.Empty(t, diags)
}
