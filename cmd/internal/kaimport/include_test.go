package kaimport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseErr imports k.conf and returns its first error, which must be a
// ParseError.
func parseErr(t *testing.T, opts Options) *ParseError {
	t.Helper()
	_, err := Import("k.conf", opts)
	var pe ParseErrors
	require.ErrorAs(t, err, &pe)
	return pe[0]
}

// TestIncludeNotRegular: include reads regular files only. /dev/zero made
// the import read until memory ran out, a FIFO made it wait for a writer,
// /proc/self/environ put the environment into the output.
func TestIncludeNotRegular(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("devices, FIFOs and /proc of Linux") // CI runs on Linux
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "k.conf:2: /dev/zero: refused: not a regular file: a device; the import reads only regular files"},
		{fifo, "k.conf:2: " + fifo + ": refused: not a regular file: a FIFO; the import reads only regular files"},
		{"/proc/self/environ", "k.conf:2: /proc/self/environ: refused: not a regular file: a file of /proc; the import reads only regular files"},
		{"/proc/self/status", "k.conf:2: /proc/self/status: refused: not a regular file: a file of /proc; the import reads only regular files"},
		{"/sys/kernel/mm/transparent_hugepage/enabled", "refused: not a regular file: a file of /sys"},
		{"/dev", ""}, // a directory: skipped, as keepalived does
	} {
		t.Run(tc.path, func(t *testing.T) {
			if _, err := os.Stat(tc.path); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s: %v", tc.path, err)
				}
				t.Skipf("%s: %v", tc.path, err) // /sys is not mounted in every container
			}
			// The error names the including line.
			files(t, map[string]string{"k.conf": "! x\ninclude " + tc.path + "\n"})
			if tc.want == "" {
				res, err := Import("k.conf", Options{})
				require.NoError(t, err)
				assert.Contains(t, diagLines(res), "no file matches")
				return
			}
			assert.Contains(t, parseErr(t, Options{}).Error(), tc.want)
		})
	}
	// The top file too.
	_, err := Import("/dev/zero", Options{})
	assert.EqualError(t, err, "/dev/zero: refused: not a regular file: a device; the import reads only regular files")
}

// TestIncludeContentsNotEchoed: lines of an included file that are not
// keepalived's (/etc/shadow, /proc/self/environ) appear neither in the
// output nor in the diagnostics; only a keyword-like first word would.
func TestIncludeContentsNotEchoed(t *testing.T) {
	secret := "Zm9vYmFyc2VjcmV0"
	for _, tc := range []struct{ name, data string }{
		{"shadow", "root:$y$j9T$" + secret + ":19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n"},
		{"environ", "PATH=/usr/bin\x00DB_PASSWORD=" + secret + "\x00HOME=/root\x00"},
		{"braces", "token { " + secret + " }\n"},
		{"words", "api_key " + secret + "\n"},
		{"unclosed block", "root:" + secret + " {\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Import("k.conf", Options{FS: fstest.MapFS{
				"k.conf":      {Data: []byte("global_defs {\n    router_id lb1\n}\ninclude /etc/secret\n")},
				"etc/secret":  {Data: []byte(tc.data)},
				"etc/passwd":  {Data: []byte("root:x:0:0::/root:/bin/sh\n")},
				"unused.conf": {Data: []byte("")},
			}})
			var pe ParseErrors
			if errors.As(err, &pe) {
				assert.NotContains(t, pe.Error(), secret)
				return
			}
			require.NoError(t, err)
			d := diagLines(res)
			assert.NotContains(t, string(res.HCL), secret)
			assert.NotContains(t, d, secret)
			assert.Contains(t, d, "/etc/secret:1: warning: ")
			assert.False(t, res.Complete())
		})
	}
	res, err := Import("k.conf", Options{FS: fstest.MapFS{
		"k.conf":     {Data: []byte("include /etc/secret\n")},
		"etc/secret": {Data: []byte("root:$y$j9T$" + secret + ":19700:0:99999:7:::\n")},
	}})
	require.NoError(t, err)
	assert.Equal(t, "/etc/secret:1: warning: ?: not translated: this line of the top level is not a keepalived statement, and is not shown (it may come from a file that is not keepalived's); keepalived 2.2 ignores it too\n", diagLines(res))
}

// TestIncludeFanOut: each file includes the next twice, 24 deep: 2^24
// files to read. The import stops at the limit of files with an error at
// the include that passes it.
func TestIncludeFanOut(t *testing.T) {
	fsys := fstest.MapFS{"k.conf": {Data: []byte("include f0.conf\n")}}
	for i := range 24 {
		fsys[fmt.Sprintf("f%d.conf", i)] = &fstest.MapFile{Data: fmt.Appendf(nil, "include f%d.conf\ninclude f%d.conf\n", i+1, i+1)}
	}
	fsys["f24.conf"] = &fstest.MapFile{Data: []byte("global_defs {\n}\n")}
	pe := parseErr(t, Options{FS: fsys})
	assert.Regexp(t, `^f\d+\.conf:[12]: include f\d+\.conf: more than 20000 files to read \(each file an include matches counts\): does an include fan out\?$`, pe.Error())

	// A glob counts each match.
	fsys = fstest.MapFS{"k.conf": {Data: []byte("! x\ninclude conf.d/*.conf\n")}}
	for i := range 10 {
		fsys[fmt.Sprintf("conf.d/%d.conf", i)] = &fstest.MapFile{}
	}
	pe = parseErr(t, Options{FS: fsys, Limits: Limits{Files: 5}})
	assert.Equal(t, "k.conf:2: include conf.d/*.conf: 10 files match, more than the 4 left of the limit of 5 files to read", pe.Error())

	// So do braces, before any file is looked for.
	fsys = fstest.MapFS{"k.conf": {Data: []byte("include " + strings.Repeat("{a,b}", 24) + "\n")}}
	pe = parseErr(t, Options{FS: fsys})
	assert.Equal(t, "k.conf:1: include "+strings.Repeat("{a,b}", 24)+": its braces make more than 20000 patterns", pe.Error())
}

func TestIncludeLimits(t *testing.T) {
	big := &fstest.MapFile{Data: []byte(strings.Repeat("! comment\n", 20))} // 200 bytes
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		lim  Limits
		want string
	}{
		{"file size", fstest.MapFS{"k.conf": {Data: []byte("include big.conf\n")}, "big.conf": big},
			Limits{FileSize: 100}, "k.conf:1: big.conf: refused: file too big: more than 100 bytes (the limit of one file)"},
		{"top file size", fstest.MapFS{"k.conf": big},
			Limits{FileSize: 100}, "k.conf: refused: file too big: more than 100 bytes (the limit of one file)"},
		{"total size", fstest.MapFS{"k.conf": {Data: []byte("include a.conf\ninclude b.conf\n")}, "a.conf": big, "b.conf": big},
			Limits{TotalSize: 300}, "k.conf:2: b.conf: refused: the files read reach more than 300 bytes in all"},
		{"depth", fstest.MapFS{"k.conf": {Data: []byte("include a.conf\n")}, "a.conf": {Data: []byte("include b.conf\n")}, "b.conf": {Data: []byte("include c.conf\n")}, "c.conf": {}},
			Limits{Depth: 3}, "b.conf:1: includes nested more than 3 deep"},
		{"files", fstest.MapFS{"k.conf": {Data: []byte("include a.conf\ninclude b.conf\n")}, "a.conf": {}, "b.conf": {}},
			Limits{Files: 2}, "k.conf:2: include b.conf: more than 2 files to read (each file an include matches counts): does an include fan out?"},
		{"device in a fs.FS", fstest.MapFS{"k.conf": {Data: []byte("include dev/zero\n")}, "dev/zero": {Mode: fs.ModeDevice | fs.ModeCharDevice}},
			Limits{}, "k.conf:1: dev/zero: refused: not a regular file: a device; the import reads only regular files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, parseErr(t, Options{FS: tc.fsys, Limits: tc.lim}).Error())
		})
	}
}
