package kaimport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// Files that stand for the programs commands name, on the importing
// machine.
var (
	elf      = &fstest.MapFile{Data: []byte("\x7fELF\x02\x01\x01"), Mode: 0o755}
	shebang  = &fstest.MapFile{Data: []byte("#!/bin/sh\nexit 0\n"), Mode: 0o755}
	noShell  = &fstest.MapFile{Data: []byte("exit 0\n"), Mode: 0o755} // no #! line
	notExec  = &fstest.MapFile{Data: []byte("#!/bin/sh\n"), Mode: 0o644}
	passwdKS = &fstest.MapFile{Data: []byte("root:x:0:0:root:/root:/bin/bash\nkeepalived_script:x:998:998::/nonexistent:/usr/sbin/nologin\n")}
)

// importFS imports k.conf of fsys and checks that the output is valid.
func importFS(t *testing.T, fsys fstest.MapFS) *Result {
	t.Helper()
	res, err := Import("k.conf", Options{FS: fsys})
	require.NoError(t, err)
	// A vrrp_script alone is an empty configuration, valid with allow_empty.
	_, _, diags := lvshcl.Parse(append(res.HCL, "\nallow_empty = true\n"...), "out.hcl")
	require.False(t, diags.HasErrors(), "%s\n%s", diags.Error(), res.HCL)
	return res
}

// TestCommandNoShell: keepalived 2.2 executes a command whose program is
// an executable file directly, its words as arguments, so ';' and what
// follows are inert. The import did "/bin/sh -c LINE", which ran them.
func TestCommandNoShell(t *testing.T) {
	vrrp := "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 9\n    notify_master %s\n}\n"
	misc := "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    real_server 10.0.1.1 80 {\n        MISC_CHECK {\n            misc_path %s\n        }\n    }\n}\n"
	for _, tc := range []struct {
		name    string
		conf    string
		line    string
		prog    *fstest.MapFile // at the first word's path; nil: absent
		want    string          // the attribute in the output
		sev     string          // the diagnostic at the line: "warning", "note" or ""
		diag    []string        // what it says
		notDiag []string
	}{
		{
			name: "notify_master with ';', logger a binary", conf: vrrp, line: `"/usr/bin/logger master; touch /tmp/pwned"`, prog: elf,
			want: `notify_master     = ["/usr/bin/logger", "master;", "touch", "/tmp/pwned"]`,
			sev:  "note", diag: []string{"keepalived runs /usr/bin/logger directly, without a shell", "plain arguments"},
		},
		{
			name: "notify_master with ';', logger not on this machine", conf: vrrp, line: `"/usr/bin/logger master; touch /tmp/pwned"`,
			want: `notify_master     = ["/usr/bin/logger", "master;", "touch", "/tmp/pwned"]`,
			sev:  "note", diag: []string{"/usr/bin/logger does not exist on this machine", "translated to run it directly, without a shell", "plain arguments"},
		},
		{
			name: "misc_path with ';', a script with #!", conf: misc, line: `"/usr/local/bin/check 10.0.0.1; rm -rf /"`, prog: shebang,
			want: `command = ["/usr/local/bin/check", "10.0.0.1;", "rm", "-rf", "/"]`,
			sev:  "note", diag: []string{"keepalived runs /usr/local/bin/check directly, without a shell"},
		},
		{
			name: "misc_path with ';', not on this machine", conf: misc, line: `"/usr/local/bin/check 10.0.0.1; rm -rf /"`,
			want: `command = ["/usr/local/bin/check", "10.0.0.1;", "rm", "-rf", "/"]`,
			sev:  "note", diag: []string{"/usr/local/bin/check does not exist on this machine"},
		},
		{
			name: "a script without #!: keepalived uses system(), each word quoted", conf: misc, line: `"/usr/local/bin/check 10.0.0.1; rm -rf /"`, prog: noShell,
			want: `command = ["/bin/sh", "-c", "'/usr/local/bin/check' '10.0.0.1;' 'rm' '-rf' '/'"]`,
			sev:  "warning", diag: []string{
				`/usr/local/bin/check has no "#!" line and is not an ELF binary`, "keepalived built with libmagic runs such a file with system()",
				"Debian's keepalived 2.2.7 is built without it", "/bin/sh is dash on Debian and Ubuntu, not bash",
			},
			notDiag: []string{"single quote"},
		},
		{
			name: "a single quote in a word of a shell command", conf: misc, line: `"/usr/local/bin/check \"it's\""`, prog: noShell,
			want: `command = ["/bin/sh", "-c", "'/usr/local/bin/check' 'it's'"]`,
			sev:  "warning", diag: []string{"a word holds a single quote, which keepalived does not escape"},
		},
		{
			name: "</dev/tcp: keepalived's file test, run by system()", conf: misc, line: `"</dev/tcp/10.0.1.1/80"`,
			want: `command = ["/bin/sh", "-c", "</dev/tcp/10.0.1.1/80"]`,
			sev:  "warning", diag: []string{"starts with '<' and a path", "It uses /dev/tcp (bash's network redirection), which bash has and dash has not; /bin/sh is dash on Debian and Ubuntu, where this command fails every time"},
		},
		{
			name: "not executable: keepalived disables it", conf: misc, line: `"/usr/local/bin/check 10.0.0.1"`, prog: notExec,
			want: `command = ["/usr/local/bin/check", "10.0.0.1"]`,
			sev:  "warning", diag: []string{"keepalived does not run this command: /usr/local/bin/check is not executable (mode -rw-r--r--) on this machine"},
		},
		{
			name: "a binary, no shell syntax: nothing to say", conf: misc, line: `"/usr/local/bin/check 10.0.0.1"`, prog: elf,
			want: `command = ["/usr/local/bin/check", "10.0.0.1"]`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := strings.Replace(tc.conf, "%s", tc.line, 1)
			fsys := fstest.MapFS{
				"k.conf":     {Data: []byte(conf)},
				"etc/passwd": {Data: []byte("root:x:0:0:root:/root:/bin/bash\n")},
			}
			words, _, err := splitQuoted(tc.line)
			require.NoError(t, err)
			first, _, err := splitQuoted(words[0])
			require.NoError(t, err)
			if tc.prog != nil {
				fsys[strings.TrimPrefix(first[0], "/")] = tc.prog
			}
			res := importFS(t, fsys)
			out := string(res.HCL)
			assert.Contains(t, out, tc.want)
			var got []Diag
			for _, d := range res.Diags {
				if d.Keyword == "notify_master" || d.Keyword == "misc_path" {
					got = append(got, d)
				}
			}
			if tc.sev == "" {
				for _, d := range got {
					assert.NotContains(t, d.Msg, "shell")
				}
				return
			}
			var msg string
			for _, d := range got {
				if d.Severity.String() == tc.sev {
					msg = d.Msg
				}
			}
			require.NotEmpty(t, msg, "a %s at the line: %v", tc.sev, got)
			for _, w := range tc.diag {
				assert.Contains(t, msg, w)
			}
			for _, w := range tc.notDiag {
				assert.NotContains(t, msg, w)
			}
			if tc.sev == "warning" {
				assert.False(t, res.Complete())
			} else {
				assert.True(t, res.Complete(), "%v", res.Diags)
			}
			if !strings.Contains(tc.want, `"/bin/sh"`) {
				assert.NotContains(t, out, `"/bin/sh", "-c"`)
			}
		})
	}
}

func TestSplitQuotedEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`a\x414`, "a\x14"}, // keepalived takes every hex digit, keeping the low byte
		{`a\x41`, "aA"},
		{`\101b`, "Ab"},
		{`\1011`, "A1"}, // three octal digits at most
		{`\cA`, "\x01"},
		{`\q`, "q"},
	} {
		got, _, err := splitQuoted(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, []string{tc.want}, got, tc.in)
	}
}

// TestScriptUser: keepalived runs commands as script_user, a block's user,
// a hook's user or keepalived_script; lvsctl runs them as itself. Each is
// a warning at the command's line naming the user, and script_user lists
// the commands it covers: the import is not complete.
func TestScriptUser(t *testing.T) {
	conf := `global_defs {
    script_user nobody nogroup
    enable_script_security
}
vrrp_script chk {
    script "/usr/local/bin/chk"
}
vrrp_script chk_own {
    script "/usr/local/bin/chk"
    user www-data
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 9
    track_script {
        chk
        chk_own
    }
    notify_master "/usr/local/bin/master" root
    notify_backup "/usr/local/bin/backup" alice staff
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.0.1.1 80 {
        MISC_CHECK {
            misc_path "/usr/local/bin/chk 10.0.1.1"
        }
    }
}
`
	res := importFS(t, fstest.MapFS{"k.conf": {Data: []byte(conf)}})
	assert.False(t, res.Complete())
	d := diagLines(res)
	for _, want := range []string{
		"k.conf:2: warning: script_user: keepalived runs the commands without a user of their own as nobody:nogroup; lvsctl runs them as its own user (root under the packaged unit): 2 here: k.conf:6 (script), k.conf:26 (misc_path)",
		"k.conf:3: warning: enable_script_security: keepalived refuses to run a command as root when its file, or a directory above it, is not owned by root or is writable by its group or by others",
		"check the files of the 1 commands that run as root here: k.conf:19 (notify_master)",
		"k.conf:6: warning: script: keepalived runs this command as user nobody:nogroup (script_user, k.conf:2); lvsctl runs every command as its own user",
		`["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--init-groups", "--", "/usr/local/bin/chk"]`,
		"k.conf:9: warning: script: keepalived runs this command as user www-data (user, k.conf:10)",
		"k.conf:10: warning: user: not translated: lvsctl runs commands as its own user: see the warning at script",
		"k.conf:20: warning: notify_backup: keepalived runs this command as user alice:staff (the words after the command)",
		"k.conf:26: warning: misc_path: keepalived runs this command as user nobody:nogroup (script_user, k.conf:2)",
	} {
		assert.Contains(t, d, want)
	}
	assert.NotContains(t, d, "k.conf:19: warning", "notify_master runs as root in keepalived too")
	assert.NotContains(t, d, "keepalived_script if it exists", "script_user decides")
}

// TestScriptUserDefault: without script_user, keepalived runs commands as
// keepalived_script when that user exists.
func TestScriptUserDefault(t *testing.T) {
	conf := "vrrp_script chk {\n    script \"/usr/local/bin/chk\"\n}\nvrrp_script chk2 {\n    script \"/usr/local/bin/chk\"\n}\n"
	res := importFS(t, fstest.MapFS{"k.conf": {Data: []byte(conf)}, "etc/passwd": passwdKS})
	assert.False(t, res.Complete())
	d := diagLines(res)
	assert.Contains(t, d, "k.conf:2: warning: script: keepalived runs this command as user keepalived_script (keepalived's default script user, which exists in this machine's /etc/passwd)")
	assert.Contains(t, d, "k.conf:5: warning: script: keepalived runs this command as user keepalived_script")

	res = importFS(t, fstest.MapFS{"k.conf": {Data: []byte(conf)}})
	assert.True(t, res.Complete(), "root, as lvsctl")
	assert.Equal(t, "k.conf:2: note: script: /usr/local/bin/chk does not exist on this machine, so the import cannot check how keepalived runs it: "+
		"translated to run it directly, without a shell, as keepalived runs a binary or a script with a \"#!\" line; "+defaultUserNote+"\n"+
		"k.conf:5: note: script: /usr/local/bin/chk does not exist on this machine, so the import cannot check how keepalived runs it: "+
		"translated to run it directly, without a shell, as keepalived runs a binary or a script with a \"#!\" line\n", diagLines(res))
}

// TestScriptSecurity: under enable_script_security keepalived refuses to
// run a command as root when a part of its path is not root's or is
// writable by others; the import checks the files of this machine.
func TestScriptSecurity(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "chk")
	require.NoError(t, os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755))
	conf := filepath.Join(dir, "k.conf")
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		owner int
		want  string // "": no refusal
	}{
		{"root's, 0755", 0o755, 0, ""},
		{"writable by others", 0o757, 0, prog + " is writable by its group or by others (-rwxr-xrwx)"},
		{"not root's", 0o755, 1000, prog + " is owned by uid 1000, not root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if os.Geteuid() != 0 {
				if os.Getenv("CI") == "true" {
					t.Fatal("needs root, to give the file its owner; make test-host runs as root")
				}
				t.Skip("needs root, to give the file its owner (make test-host runs as root)")
			}
			require.NoError(t, os.Chmod(prog, tc.mode))
			require.NoError(t, os.Chown(prog, tc.owner, 0))
			src := "global_defs {\n    enable_script_security\n}\nvrrp_script c {\n    script \"" + prog + " x\"\n}\n"
			require.NoError(t, os.WriteFile(conf, []byte(src), 0o644))
			res, err := Import(conf, Options{})
			require.NoError(t, err)
			var d string
			for _, x := range res.Diags {
				if x.Keyword == "script" && x.Severity == Warning {
					d = x.Msg
				}
			}
			if tc.want == "" {
				assert.Empty(t, d)
				return
			}
			assert.Equal(t, "with enable_script_security ("+conf+":2) keepalived refuses to run this command as root: "+tc.want+" (on this machine); lvsctl runs it", d)
		})
	}
}
