package hcl_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// The secret of every redaction case; S2 is a second one.
const (
	secret  = "Hunter2-Zq9x"
	secret2 = "Tr0ub4dor-Kw7"
)

// mysqlSecretCases put NAME = the secret in a mysql check, through every
// error path: each must produce at least one diagnostic, and the secret
// must never appear in the rendered output. %s is the attribute name.
var mysqlSecretCases = []struct {
	name string
	body string // the check block's body lines
}{
	{"syntax error on the line", `user = "monitor"
    %s = "` + secret + `" "trailing"`},
	{"unterminated string", `user = "monitor"
    %s = "` + secret},
	{"comparison instead of assignment", `user = "monitor"
    %s == "` + secret + `"`},
	{"no equals sign", `user = "monitor"
    %s "` + secret + `"`},
	{"value on the next line", `user = "monitor"
    %s =
      "` + secret + `"`},
	{"wrong type", `user = "monitor"
    %s = { value = "` + secret + `" }`},
	{"list", `user = "monitor"
    %s = ["` + secret + `"]`},
	{"multi-line list", `user = "monitor"
    %s = [
      "` + secret + `",
      "` + secret2 + `",
    ]`},
	{"repeated", `user = "monitor"
    %s = "` + secret + `"
    %s = "` + secret2 + `"`},
	{"missing user", `%s = "` + secret + `"`},
	{"with password_file", `user = "monitor"
    %s = "` + secret + `"
    password_file = "/nonexistent/monitor.pw"`},
	{"out of range sibling on the line", `user = "monitor", %s = "` + secret + `", connect_port = 99999`},
	{"heredoc", `user = "monitor"
    %s = <<EOT
` + secret + `
EOT
    connect_port = 99999`},
	{"broken heredoc", `user = "monitor"
    %s = <<EOT
` + secret + `${
EOT`},
	{"interpolation", `user = "monitor"
    %s = "${"` + secret + `"}${nope}"`},
	{"comment after", `user = "monitor"
    %s = "` + secret + `" # was "` + secret2 + `"
    connect_port = 99999`},
}

// secretNames are names the masking covers: the schema's, misspellings of
// them, and the secrets of blocks to come (BGP neighbors, SMTP auth).
var secretNames = []string{
	"password", "passwd", "pasword", "Password", "PASSWORD", "passowrd", "auth_pass",
	"bgp_password", "smtp_password", "secret", "token", "api_key", "private-key",
}

func TestSecretsNeverRendered(t *testing.T) {
	for _, name := range secretNames {
		for _, tc := range mysqlSecretCases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				body := strings.ReplaceAll(tc.body, "%s", name)
				check := "  check \"mysql\" {\n    " + body + "\n  }\n"
				if !strings.Contains(body, "\n") {
					check = "  check \"mysql\" { " + body + " }\n" // one-line block
				}
				src := "virtual_server \"db\" {\n  address = \"192.0.2.1\"\n  port    = 3306\n" + check +
					"  real_server { address = \"10.0.0.1\" }\n}\n"
				assertMasked(t, src)
			})
		}
	}
}

func TestVRRPSecretsNeverRendered(t *testing.T) {
	for _, pw := range []string{
		`"` + secret + `"`,     // too long
		`["` + secret + `"]`,   // a list
		`"` + secret + `" "x"`, // syntax error
		`"` + secret + `"` + "\n    password = \"" + secret2 + `"`, // repeated
	} {
		src := `vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 1
  authentication { password = ` + pw + ` }
}
vrrp_instance "B" {
  interface         = "eth0"
  virtual_router_id = 2
  version           = 3
  authentication {
    type     = "pass"
    password = ` + pw + `
  }
}
`
		assertMasked(t, src)
	}
	// A future block with a secret: unknown today, masked all the same.
	assertMasked(t, `bgp {
  neighbor "192.0.2.1" { password = "`+secret+`" }
}
smtp {
  auth {
    user     = "lvs"
    password = "`+secret+`"
  }
}
`)
}

// assertMasked parses src, which must be invalid, and checks that no
// rendering of its diagnostics shows a secret, and that the snippets show
// *** where they would have.
func assertMasked(t *testing.T, src string) {
	t.Helper()
	_, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
	require.NotEmpty(t, diags, "the case must produce a diagnostic")
	for _, max := range []int{0, 1} {
		var b strings.Builder
		require.NoError(t, lvshcl.RenderDiagnostics(context.Background(), &b, files, diags, max))
		out := b.String()
		for _, s := range []string{secret, secret2, secret[:8], secret2[:8]} {
			assert.NotContains(t, out, s, "src:\n%s\nout:\n%s", src, out)
		}
	}
	// Every diagnostic alone, so that none hides behind another.
	for _, d := range diags {
		var b strings.Builder
		require.NoError(t, lvshcl.RenderDiagnostics(context.Background(), &b, files, hcl.Diagnostics{d}, 0))
		assert.NotContains(t, b.String(), secret)
		assert.NotContains(t, b.String(), secret2)
	}
}

// TestSecretsMaskedInMessages: a Summary or Detail that quotes a secret
// (ours do not, but a library's might) is masked too.
func TestSecretsMaskedInMessages(t *testing.T) {
	src := "a {\n  password = \"" + secret + "\"\n}\n"
	_, files, _ := lvshcl.Parse([]byte(src), "test.hcl")
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Bad " + secret,
		Detail:   "The value \"" + secret + "\" is wrong.",
		Subject:  &hcl.Range{Filename: "test.hcl", Start: hcl.Pos{Line: 2, Column: 14, Byte: 17}, End: hcl.Pos{Line: 2, Column: 28, Byte: 31}},
	}
	var b strings.Builder
	require.NoError(t, lvshcl.RenderDiagnostics(context.Background(), &b, files, hcl.Diagnostics{d}, 0))
	assert.Equal(t, "test.hcl:2:14: Error: Bad ***\n"+
		"  The value \"***\" is wrong.\n"+
		"  in a:\n"+
		"    2 |   password = ***\n"+
		"      |              ^^^\n\n", b.String())
}

func TestMaskKeepsWhatIsNotSecret(t *testing.T) {
	src := `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user          = "monitor"
    password_file = "/nonexistent/monitor.pw"
    passive       = 1
  }
}
`
	_, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
	out := render(t, files, diags)
	assert.Contains(t, out, `password_file = "/nonexistent/monitor.pw"`, "a file name is no secret")
	assert.Contains(t, out, "passive       = 1")
	assert.NotContains(t, out, "***")
}

// TestMaskQuotes: a secret name in a string is a secret's only when = or :
// follows (a quoted key, or a line whose quotes are off).
func TestMaskQuotes(t *testing.T) {
	src := "a {\n" +
		"  password_file = \"/etc/lvsctl/monitor.password\"\n" +
		"  b = { \"password\" = \"" + secret + "\" }\n" +
		"  c = \"x\"y\" password = \"" + secret2 + "\"\n" +
		"}\n"
	_, files, _ := lvshcl.Parse([]byte(src), "test.hcl")
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "S",
		Subject:  &hcl.Range{Filename: "test.hcl", Start: hcl.Pos{Line: 1, Column: 1, Byte: 0}, End: hcl.Pos{Line: 5, Column: 2, Byte: len(src) - 1}},
	}
	var b strings.Builder
	require.NoError(t, lvshcl.RenderDiagnostics(context.Background(), &b, files, hcl.Diagnostics{d}, 0))
	out := b.String()
	assert.Contains(t, out, `password_file = "/etc/lvsctl/monitor.password"`+"\n")
	assert.Contains(t, out, `b = { "password" = *** }`+"\n")
	assert.NotContains(t, out, secret)
	assert.NotContains(t, out, secret2)
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "passwd": true, "pasword": true, "passowrd": true, "paswd": true,
		"Password": true, "auth_pass": true, "pass": true, "bgp_password": true,
		"secret": true, "secert": true, "client_secret": true, "token": true, "api_key": true,
		"private-key": true, "psk": true, "credentials": true, "pwd": true,
		"password_file": false, "ca_file": false, "passive": false, "bypass": false,
		"user": false, "key": false, "address": false, "port": false, "auth_type": false,
		"keyword": false, "passthrough": false, "interface": false, "scheduler": false,
	} {
		assert.Equal(t, want, lvshcl.IsSecretName(name), name)
	}
}

// TestSecretsMaskedAcrossLines: a snippet over a whole block masks every
// line of a heredoc or a list that is a secret's value.
func TestSecretsMaskedAcrossLines(t *testing.T) {
	src := "a {\n" +
		"  password = <<EOT\n" + secret + "\n  EOT\n" +
		"  passwd = [\n    \"" + secret2 + "\",\n  ]\n" +
		"  user = \"x\"\n" +
		"}\n"
	_, files, _ := lvshcl.Parse([]byte(src), "test.hcl")
	d := &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Something",
		Subject:  &hcl.Range{Filename: "test.hcl", Start: hcl.Pos{Line: 1, Column: 1, Byte: 0}, End: hcl.Pos{Line: 9, Column: 2, Byte: len(src) - 1}},
	}
	var b strings.Builder
	require.NoError(t, lvshcl.RenderDiagnostics(context.Background(), &b, files, hcl.Diagnostics{d}, 0))
	assert.Equal(t, "test.hcl:1:1: Warning: Something\n"+
		"  in a:\n"+
		"    1 | a {\n"+
		"      | ^^^\n"+
		"    2 |   password = ***\n"+
		"      | ^^^^^^^^^^^^^^^^\n"+
		"    3 | ***\n"+
		"      | ^^^\n"+
		"    4 | ***\n"+
		"      | ^^^\n"+
		"    5 |   passwd = ***\n"+
		"      | ^^^^^^^^^^^^^^\n"+
		"    6 | ***\n"+
		"      | ^^^\n"+
		"    7 | ***\n"+
		"      | ^^^\n"+
		"    8 |   user = \"x\"\n"+
		"      | ^^^^^^^^^^^^\n"+
		"      | ...\n\n", b.String())
}
