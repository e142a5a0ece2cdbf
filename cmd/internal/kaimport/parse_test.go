package kaimport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// files writes name -> content into a temporary directory and makes it the
// current one.
func files(t *testing.T, fs map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fs {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	t.Chdir(dir)
}

// dump renders statements one per line, blocks indented, words quoted.
func dump(stmts []*Stmt, indent string) string {
	var b strings.Builder
	for _, s := range stmts {
		b.WriteString(indent + s.Pos.String() + " " + strings.Join(quoteAll(s.Words), " "))
		if s.HasBlock {
			b.WriteString(" {\n" + dump(s.Block, indent+"  ") + indent + "}")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func quoteAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = "[" + w + "]"
	}
	return out
}

func TestParseSyntax(t *testing.T) {
	files(t, map[string]string{"k.conf": `! a comment
# another
global_defs {      # trailing comment
   router_id "lb 1"   ! quoted words keep their blanks
   notification_email { a@b c@d }
}
vrrp_instance VI_1
{
    interface eth0   # '{' on the next line, as keepalived allows
    virtual_ipaddress { 10.0.0.1/24 dev eth0 label eth0:1 }
    auth_pass a\#b   ! \# is a literal '#'
    notify "/bin/echo 'a # b' {x}"
}
`})
	stmts, diags, err := Parse("k.conf", Options{})
	require.NoError(t, err)
	assert.Empty(t, diags)
	assert.Equal(t, `k.conf:3 [global_defs] {
  k.conf:4 [router_id] [lb 1]
  k.conf:5 [notification_email] {
    k.conf:5 [a@b] [c@d]
  }
}
k.conf:7 [vrrp_instance] [VI_1] {
  k.conf:9 [interface] [eth0]
  k.conf:10 [virtual_ipaddress] {
    k.conf:10 [10.0.0.1/24] [dev] [eth0] [label] [eth0:1]
  }
  k.conf:11 [auth_pass] [a#b]
  k.conf:12 [notify] [/bin/echo 'a # b' {x}]
}
`, dump(stmts, ""))
}

func TestParseIncludeAndDefinitions(t *testing.T) {
	files(t, map[string]string{
		"etc/keepalived.conf": `$VIP=10.0.0.1
$CHECK=TCP_CHECK { \
    connect_timeout 2 \
}
include conf.d/*.conf
include conf.d/{b,c}.extra
`,
		"etc/conf.d/a.conf": `virtual_server $VIP 80 {
  real_server 10.0.1.1 80 {
    $CHECK
  }
}
`,
		"etc/conf.d/b.extra": "virtual_server ${VIP} 81 {\n}\n",
		"etc/conf.d/c.extra": "virtual_server ${VIP}1 82 {\n}\n",
	})
	stmts, diags, err := Parse("etc/keepalived.conf", Options{})
	require.NoError(t, err)
	assert.Empty(t, diags)
	assert.Equal(t, `etc/conf.d/a.conf:1 [virtual_server] [10.0.0.1] [80] {
  etc/conf.d/a.conf:2 [real_server] [10.0.1.1] [80] {
    etc/conf.d/a.conf:3 [TCP_CHECK] {
      etc/conf.d/a.conf:3 [connect_timeout] [2]
    }
  }
}
etc/conf.d/b.extra:1 [virtual_server] [10.0.0.1] [81] {
}
etc/conf.d/c.extra:1 [virtual_server] [10.0.0.11] [82] {
}
`, dump(stmts, ""))
}

func TestParseConditional(t *testing.T) {
	src := "@lb1 router_id lb1\n@lb2 router_id lb2\n@^lb1 notification_email_from x@y\n"
	files(t, map[string]string{"k.conf": src})

	stmts, diags, err := Parse("k.conf", Options{ConfigID: "lb1"})
	require.NoError(t, err)
	assert.Empty(t, diags)
	assert.Equal(t, "k.conf:1 [router_id] [lb1]\n", dump(stmts, ""))

	stmts, diags, err = Parse("k.conf", Options{})
	require.NoError(t, err)
	assert.Equal(t, "k.conf:3 [notification_email_from] [x@y]\n", dump(stmts, ""))
	require.Len(t, diags, 3)
	assert.Equal(t, "k.conf:1: warning: @lb1: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is lb1; pass --config-id lb1 to import it", diags[0].String())
	// keepalived on a director named lb1 drops it: a warning, not a note.
	assert.Equal(t, "k.conf:3: warning: @^lb1: kept: keepalived drops this line on a director whose config id (-i, by default its host name up to the first dot) is lb1; pass --config-id with the director's id to import it as keepalived reads it there", diags[2].String())
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{"global_defs {\n  router_id x\n", `k.conf:1: block global_defs is not closed: '}' missing`},
		{"router_id x\n}\n", `k.conf:2: unexpected '}': no block is open`},
		{"{\n}\n", `k.conf:1: unexpected '{': a block opens after its keyword`},
		{"global_defs {\n  router_id \"x\n}\n", `k.conf:2: unterminated quoted string`},
		{"global_defs {\n  router_id x \\\n}\n", `k.conf:2: a line ending in '\' continues only a $NAME=... definition; keepalived ignores this line`},
		{"include k.conf\n", `k.conf:1: include cycle: k.conf includes itself`},
	} {
		files(t, map[string]string{"k.conf": tc.src})
		_, _, err := Parse("k.conf", Options{})
		var pe ParseErrors
		require.ErrorAs(t, err, &pe, tc.src)
		assert.Equal(t, tc.want, pe[0].Error(), tc.src)
	}
	_, _, err := Parse("missing.conf", Options{})
	assert.ErrorContains(t, err, "missing.conf: no such file or directory")
}

func TestSplitQuoted(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		meta bool
	}{
		{`/bin/check 10.0.0.1`, []string{"/bin/check", "10.0.0.1"}, false},
		{`/bin/check "a b" 'c d' e\ f`, []string{"/bin/check", "a b", "c d", "e f"}, false},
		{`sh -c 'a | b > c'`, []string{"sh", "-c", "a | b > c"}, false},
		{`a | b`, []string{"a", "|", "b"}, true},
		{`</dev/tcp/127.0.0.1/80`, []string{"</dev/tcp/127.0.0.1/80"}, true},
		{`echo $HOME`, []string{"echo", "$HOME"}, true},
		{`printf a\tb\x41`, []string{"printf", "a\tbA"}, false},
	} {
		got, meta, err := splitQuoted(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.meta, meta, tc.in)
	}
	_, _, err := splitQuoted(`a 'b`)
	assert.Error(t, err)
}

// TestParseStandardDefinitions: keepalived 2.2's standard definitions
// (lib/parser.c add_std_definition).
func TestParseStandardDefinitions(t *testing.T) {
	tests := []struct {
		name, line, id string
		want           string // the statement, as dump shows it
		diag           string
	}{
		{name: "_HASH", line: "router_id a$_HASH", want: "k.conf:1 [router_id] [a#]\n"},
		{name: "_BANG braces", line: "router_id ${_BANG}x", want: "k.conf:1 [router_id] [!x]\n"},
		{name: "_INSTANCE with an id", line: "router_id $_INSTANCE", id: "lb1", want: "k.conf:1 [router_id] [lb1]\n"},
		{
			name: "_INSTANCE without an id", line: "router_id $_INSTANCE", want: "k.conf:1 [router_id] [$_INSTANCE]\n",
			diag: "k.conf:1: warning: $_INSTANCE: left as written: keepalived replaces $_INSTANCE with its config id (-i, by default the director's host name up to the first dot); pass --config-id with the director's id",
		},
		{
			name: "_RANDOM", line: "router_id r$_RANDOM", want: "k.conf:1 [router_id] [r$_RANDOM]\n",
			diag: "k.conf:1: warning: $_RANDOM: left as written: keepalived replaces $_RANDOM with a random number each time it reads the file; write the value out",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files(t, map[string]string{"k.conf": tt.line + "\n"})
			stmts, diags, err := Parse("k.conf", Options{ConfigID: tt.id})
			require.NoError(t, err)
			assert.Equal(t, tt.want, dump(stmts, ""))
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			if tt.diag == "" {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, []string{tt.diag}, got)
			}
		})
	}
}
