package hcl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

func TestFilesRead(t *testing.T) {
	const db = `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user          = "monitor"
    password_file = %s
  }
  real_server {
    address = "10.0.0.1"
    check "https" {
      url { path = "/" }
      tls_verify = true
      ca_file    = "/etc/ssl/ca.pem"
    }
  }
}
`
	for _, tc := range []struct {
		name, file, src string
		want            []string
		ok              bool
	}{
		{name: "no file attribute", file: "/etc/lvsctl/lvsctl.hcl", src: `virtual_server "a" { port = 80 }`, ok: true},
		{name: "named in a comment only", file: "/etc/lvsctl/lvsctl.hcl", src: "# password_file\nvirtual_server \"a\" { port = 80 }", ok: true},
		{name: "relative to the file", file: "/etc/lvsctl/lvsctl.hcl", src: fmt.Sprintf(db, `"monitor.pw"`),
			want: []string{"/etc/lvsctl/monitor.pw", "/etc/ssl/ca.pem"}, ok: true},
		{name: "relative file name", file: "lvsctl.hcl", src: fmt.Sprintf(db, `"pw/monitor"`),
			want: []string{"/etc/ssl/ca.pem", "pw/monitor"}, ok: true},
		{name: "not a literal", file: "/etc/lvsctl/lvsctl.hcl", src: fmt.Sprintf(db, `var.pw`), want: []string{"/etc/ssl/ca.pem"}},
		{name: "does not parse", file: "/etc/lvsctl/lvsctl.hcl", src: "password_file = {"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := lvshcl.FilesRead([]byte(tc.src), tc.file)
			assert.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

// TestFilesReadAreRead: each attribute FilesRead lists is one the decoder
// reads: pointing it at a missing file is an error.
func TestFilesReadAreRead(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"password_file": `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user          = "monitor"
    password_file = "missing"
  }
  real_server { address = "10.0.0.1" }
}
`,
		"ca_file": `virtual_server "web" {
  address = "192.0.2.1"
  port    = 443
  check "https" {
    url { path = "/" }
    tls_verify = true
    ca_file    = "missing"
  }
  real_server { address = "10.0.0.1" }
}
`,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name+".hcl")
			require.NoError(t, os.WriteFile(file, []byte(src), 0o600))
			paths, ok := lvshcl.FilesRead([]byte(src), file)
			require.True(t, ok)
			assert.Equal(t, []string{filepath.Join(dir, "missing")}, paths)
			_, _, diags := lvshcl.Parse([]byte(src), file)
			require.True(t, diags.HasErrors())
			assert.Contains(t, diags.Error(), "Invalid "+name)
		})
	}
}
