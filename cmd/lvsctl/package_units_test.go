package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The packaged systemd units (docs/systemd) run lvsctl with the flags of
// their Exec lines plus the variables of /etc/default/lvsctl
// (docs/packaging/lvsctl.default). These helpers read both the way systemd
// does, for the subset the units use, so that the tests run exactly the
// command lines systemd would: TestUnitExecLines on the host, and
// TestVMPackagedUnits in the guest.

// unitFile is the [Service] section of a unit: each key's values in order.
type unitFile map[string][]string

func readUnit(path string) (unitFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("unit: %w", err)
	}
	defer f.Close()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: not KEY=VALUE: %q", path, n, line)
		}
		if section == "Service" || section == "Unit" {
			u[k] = append(u[k], strings.TrimSpace(v))
		}
	}
	return u, sc.Err()
}

// parseEnvFile reads an EnvironmentFile: VAR=value lines, # and ;
// comments, values optionally in double or single quotes.
func parseEnvFile(r io.Reader) (map[string]string, error) {
	env := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("line %d: not VAR=value: %q", n, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
			end := strings.IndexByte(v[1:], v[0])
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated quote", n)
			}
			v = v[1 : end+1]
		}
		env[k] = v
	}
	return env, sc.Err()
}

// execLine is one Exec*= line: systemd's prefixes ("-" failure ignored,
// "+" full privileges, outside the sandbox) and the expanded argv.
type execLine struct {
	ignoreFailure, privileged bool
	argv                      []string
}

// expandExec splits an Exec line into words and expands variables as
// systemd does: a word that is exactly $VAR becomes the value's words
// (none when it is empty or unset), ${VAR} is replaced within its word.
func expandExec(line string, env map[string]string) (execLine, error) {
	var e execLine
	for len(line) > 0 && strings.ContainsRune("-+@:!", rune(line[0])) {
		switch line[0] {
		case '-':
			e.ignoreFailure = true
		case '+':
			e.privileged = true
		default:
			return e, fmt.Errorf("prefix %q is not used by our units", line[0])
		}
		line = line[1:]
	}
	if strings.ContainsAny(line, `"'\`) {
		return e, fmt.Errorf("quoting is not used by our units: %q", line)
	}
	for _, w := range strings.Fields(line) {
		if len(w) > 1 && w[0] == '$' && w[1] != '{' {
			e.argv = append(e.argv, strings.Fields(env[w[1:]])...)
			continue
		}
		e.argv = append(e.argv, os.Expand(w, func(k string) string { return env[k] }))
	}
	if len(e.argv) == 0 || !filepath.IsAbs(e.argv[0]) {
		return e, fmt.Errorf("%q: the program must be an absolute path", line)
	}
	return e, nil
}

func (u unitFile) execLines(t *testing.T, key string, env map[string]string) []execLine {
	t.Helper()
	var out []execLine
	for _, l := range u[key] {
		e, err := expandExec(l, env)
		require.NoError(t, err, key)
		out = append(out, e)
	}
	return out
}

func argvs(ls []execLine) [][]string {
	var out [][]string
	for _, l := range ls {
		out = append(out, l.argv)
	}
	return out
}

// TestUnitExecLines: the packaged units, with the packaged
// /etc/default/lvsctl, run these exact command lines, and every lvsctl
// command line among them is accepted by the command tree (a renamed flag
// or command breaks the unit, and this test).
func TestUnitExecLines(t *testing.T) {
	f, err := os.Open("../../docs/packaging/lvsctl.default")
	require.NoError(t, err)
	defer f.Close()
	fileEnv, err := parseEnvFile(f)
	require.NoError(t, err)

	for _, tc := range []struct {
		unit string
		want map[string][][]string
	}{
		{
			unit: "lvsctl.service",
			want: map[string][][]string{
				"ExecStartPre": {{"/sbin/modprobe", "-q", "ip_vs"}, {"/usr/sbin/lvsctl", "validate", "-f", "/etc/lvsctl/lvsctl.hcl"}},
				"ExecStart":    {{"/usr/sbin/lvsctl", "run", "-f", "/etc/lvsctl/lvsctl.hcl", "--metrics-listen", "127.0.0.1:9610"}},
				"ExecReload":   {{"/bin/kill", "-HUP", "$MAINPID"}},
			},
		},
		{
			unit: "lvsctl-realserver.service",
			want: map[string][][]string{
				"ExecStart": {{"/usr/sbin/lvsctl", "realserver", "start", "-f", "/etc/lvsctl/realserver.hcl"}},
				"ExecStop":  {{"/usr/sbin/lvsctl", "realserver", "stop"}},
			},
		},
	} {
		t.Run(tc.unit, func(t *testing.T) {
			u, err := readUnit(filepath.Join("../../docs/systemd", tc.unit))
			require.NoError(t, err)
			assert.Equal(t, []string{"-/etc/default/lvsctl"}, u["EnvironmentFile"])
			for key, want := range tc.want {
				// $MAINPID is systemd's, not the file's: keep it.
				got := argvs(u.execLines(t, key, mergeEnv(fileEnv, map[string]string{"MAINPID": "$MAINPID"})))
				assert.Equal(t, want, got, key)
				for _, argv := range got {
					if argv[0] != "/usr/sbin/lvsctl" {
						continue
					}
					root := newRootCmd(&env{stdout: io.Discard, stderr: io.Discard})
					cmd, rest, err := root.Find(argv[1:])
					require.NoError(t, err, "%v", argv)
					assert.NoError(t, cmd.ParseFlags(rest), "%v", argv)
					assert.NoError(t, cmd.ValidateArgs(cmd.Flags().Args()), "%v", argv)
				}
			}
			// With an empty or missing environment file the units still
			// run (EnvironmentFile=- tolerates its absence).
			for _, key := range []string{"ExecStart", "ExecStop"} {
				for _, e := range u.execLines(t, key, nil) {
					assert.NotContains(t, strings.Join(e.argv, " "), "$", key)
				}
			}
		})
	}
}

func mergeEnv(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestExpandExec(t *testing.T) {
	env := map[string]string{"OPTS": "--a 1  --b", "EMPTY": "", "F": "x.hcl"}
	for _, tc := range []struct {
		line    string
		want    execLine
		wantErr bool
	}{
		{line: "/usr/sbin/lvsctl run $OPTS", want: execLine{argv: []string{"/usr/sbin/lvsctl", "run", "--a", "1", "--b"}}},
		{line: "/usr/sbin/lvsctl run $EMPTY $UNSET", want: execLine{argv: []string{"/usr/sbin/lvsctl", "run"}}},
		{line: "/usr/sbin/lvsctl -f /etc/${F}", want: execLine{argv: []string{"/usr/sbin/lvsctl", "-f", "/etc/x.hcl"}}},
		{line: "-+/sbin/modprobe -q ip_vs", want: execLine{ignoreFailure: true, privileged: true, argv: []string{"/sbin/modprobe", "-q", "ip_vs"}}},
		{line: "lvsctl run", wantErr: true},
		{line: `/bin/sh -c "x y"`, wantErr: true},
	} {
		t.Run(tc.line, func(t *testing.T) {
			got, err := expandExec(tc.line, env)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseEnvFile(t *testing.T) {
	got, err := parseEnvFile(strings.NewReader("# c\n; c\nA=\"x y\"\nB='z'\nC=plain\n\nD=\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"A": "x y", "B": "z", "C": "plain", "D": ""}, got)
	_, err = parseEnvFile(strings.NewReader("not a line\n"))
	assert.Error(t, err)
}
