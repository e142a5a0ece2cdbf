package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/ipvs"
)

const kaTestdata = "../../testdata/keepalived"

// TestImportClassic imports the classic keepalived configurations: each is
// complete, passes validate, and programs the same table as the
// hand-written lvsctl file of testdata/ for the same deployment.
func TestImportClassic(t *testing.T) {
	for _, tc := range []struct{ conf, hcl string }{
		{"mycat-dr.conf", "mycat-dr.hcl"},
		{"mysql-dr-wrr.conf", "mysql-dr-wrr.hcl"},
		{"mysql-tun.conf", "mysql-tun.hcl"},
		{"haproxy-vrrp.conf", ""},
	} {
		t.Run(tc.conf, func(t *testing.T) {
			h := newHarness(t)
			out := filepath.Join(t.TempDir(), "lvsctl.hcl")
			require.Equal(t, 0, h.run("import", "keepalived", filepath.Join(kaTestdata, tc.conf), "-o", out), h.errOut.String())
			assert.Empty(t, h.out.String())
			assert.Regexp(t, `keepalived/`+tc.conf+`: imported \d+ virtual services?, \d+ vrrp instances?; complete\n$`, h.errOut.String())
			st, err := os.Stat(out)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "it may hold VRRP passwords")

			require.Equal(t, 0, h.run("validate", "-f", out), h.errOut.String())
			if tc.hcl == "" {
				return
			}
			require.Equal(t, 0, h.run("apply", "-f", out), h.errOut.String())
			got, err := h.kernel.Services(t.Context())
			require.NoError(t, err)
			want := loadHCL(t, filepath.Join("../../testdata", tc.hcl))
			assert.Empty(t, ipvs.Diff(got, want), "the same table as testdata/%s", tc.hcl)
			assert.Len(t, got, len(want))
		})
	}
}

func TestImportToStdout(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, 0, h.run("import", "keepalived", filepath.Join(kaTestdata, "mysql-tun.conf")))
	golden, err := os.ReadFile(filepath.Join(kaTestdata, "golden", "mysql-tun.conf.hcl"))
	require.NoError(t, err)
	// The golden file names the input relative to testdata/keepalived.
	assert.Equal(t, string(golden), strings.ReplaceAll(h.out.String(), kaTestdata+"/", ""))
}

func TestImportIncomplete(t *testing.T) {
	h := newHarness(t)
	in := filepath.Join(kaTestdata, "samples", "keepalived.conf.SSL_GET")
	require.Equal(t, exitIncomplete, h.run("import", "keepalived", in))
	assert.Contains(t, h.out.String(), `virtual_server "192.168.200.100:443" {`, "the output is written all the same")
	assert.Contains(t, h.errOut.String(), "keepalived.conf.SSL_GET:19: warning: authentication: not translated: lvsctl does not support IPsec AH authentication")
	assert.Contains(t, h.errOut.String(), "keepalived.conf.SSL_GET: imported 2 virtual services, 1 vrrp instance; incomplete: 1 warning")
}

func TestImportErrors(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "k.conf")
	require.NoError(t, os.WriteFile(bad, []byte("virtual_server 10.0.0.1 80 {\n  real_server 10.0.1.1 80 {\n}\n"), 0o644))
	require.Equal(t, 1, h.run("import", "keepalived", bad))
	assert.Empty(t, h.out.String())
	assert.Equal(t, bad+":1: error: block virtual_server is not closed: '}' missing\n", h.errOut.String())

	require.Equal(t, 1, h.run("import", "keepalived", filepath.Join(dir, "missing.conf")))
	assert.Equal(t, filepath.Join(dir, "missing.conf")+": error: no such file or directory\n", h.errOut.String())

	require.Equal(t, 1, h.run("import", "keepalived"))
	assert.Contains(t, h.errOut.String(), "accepts 1 arg(s), received 0")
}

// TestImportOutputPrivate: -o writes 0600 over an existing file of any
// mode (keeping a stricter one), by a rename, leaving nothing behind.
func TestImportOutputPrivate(t *testing.T) {
	in := filepath.Join(kaTestdata, "haproxy-vrrp.conf") // it holds a VRRP password
	for _, tc := range []struct {
		name     string
		existing os.FileMode // 0: no file
		want     os.FileMode
	}{
		{"new file", 0, 0o600},
		{"over a 0644 file", 0o644, 0o600},
		{"over a 0666 file", 0o666, 0o600},
		{"over a stricter 0400 file", 0o400, 0o400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "lvsctl.hcl")
			if tc.existing != 0 {
				require.NoError(t, os.WriteFile(out, []byte("old contents\n"), 0o600))
				require.NoError(t, os.Chmod(out, tc.existing))
			}
			h := newHarness(t)
			require.Equal(t, 0, h.run("import", "keepalived", in, "-o", out), h.errOut.String())
			st, err := os.Stat(out)
			require.NoError(t, err)
			assert.Equal(t, tc.want, st.Mode().Perm())
			got, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.Contains(t, string(got), `password = "h4pr0xy"`)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file is left")
		})
	}
}

// TestImportOutputSymlink: -o through a symbolic link replaces its target,
// not the link.
func TestImportOutputSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.hcl")
	require.NoError(t, os.WriteFile(target, nil, 0o644))
	link := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.Symlink("real.hcl", link))
	h := newHarness(t)
	require.Equal(t, 0, h.run("import", "keepalived", filepath.Join(kaTestdata, "mysql-tun.conf"), "-o", link), h.errOut.String())
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, st.Mode().Type())
	st, err = os.Stat(target)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.NotZero(t, st.Size())
}

// TestImportHostileIncludes: an include of a device is an error at its
// line, before anything is read from it; the lines of a file that is not
// keepalived's are neither printed nor written.
func TestImportHostileIncludes(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "k.conf")
	require.NoError(t, os.WriteFile(conf, []byte("global_defs {\n    router_id lb1\n}\ninclude /dev/zero\n"), 0o644))
	h := newHarness(t)
	require.Equal(t, 1, h.run("import", "keepalived", conf))
	assert.Equal(t, conf+":4: error: /dev/zero: refused: not a regular file: a device; the import reads only regular files\n", h.errOut.String())
	assert.Empty(t, h.out.String())

	secret := filepath.Join(dir, "shadow")
	require.NoError(t, os.WriteFile(secret, []byte("root:$y$j9T$c2VjcmV0aGFzaA:19700:0:99999:7:::\n"), 0o600))
	require.NoError(t, os.WriteFile(conf, []byte("include "+secret+"\n"), 0o644))
	h = newHarness(t)
	require.Equal(t, exitIncomplete, h.run("import", "keepalived", conf))
	assert.NotContains(t, h.out.String(), "c2VjcmV0aGFzaA")
	assert.NotContains(t, h.errOut.String(), "c2VjcmV0aGFzaA")
	assert.Contains(t, h.errOut.String(), secret+":1: warning: ?: not translated: this line of the top level is not a keepalived statement, and is not shown")
}
