package hcl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// deepConstructs are the constructs hclsyntax parses (or later walks)
// recursively, each as a function of the repetition count n, written as the
// value of an attribute on line 2.
var deepConstructs = []struct {
	name string
	expr func(n int) string
}{
	{"parentheses", func(n int) string { return strings.Repeat("(", n) + "80" + strings.Repeat(")", n) }},
	{"brackets", func(n int) string { return strings.Repeat("[", n) + "80" + strings.Repeat("]", n) }},
	{"objects", func(n int) string { return strings.Repeat("{a = ", n) + "80" + strings.Repeat("}", n) }},
	{"function calls", func(n int) string { return strings.Repeat("max(", n) + "80" + strings.Repeat(")", n) }},
	{"for expressions", func(n int) string {
		return strings.Repeat("[for x in ", n) + "[80]" + strings.Repeat(" : x]", n)
	}},
	{"logical not", func(n int) string { return strings.Repeat("!", n) + "true" }},
	{"negation", func(n int) string { return strings.Repeat("- ", n) + "80" }},
	{"conditionals", func(n int) string { return strings.Repeat("true ? 80 : ", n) + "81" }},
	{"nested conditionals", func(n int) string { return strings.Repeat("true ? ", n) + "80" + strings.Repeat(" : 81", n) }},
	{"binary operators", func(n int) string { return strings.Repeat("1 + ", n) + "79" }},
	{"comparisons", func(n int) string { return strings.Repeat("1 == ", n) + "1" }},
	{"logical operators", func(n int) string { return strings.Repeat("true && ", n) + "true" }},
	{"splats", func(n int) string { return "a" + strings.Repeat("[*]", n) }},
	{"attribute splats", func(n int) string { return "a" + strings.Repeat(".*.b", n) }},
	{"indexes", func(n int) string { return "a" + strings.Repeat("[b]", n) }},
	{"template interpolations", func(n int) string {
		return strings.Repeat(`"${`, n) + "80" + strings.Repeat(`}"`, n)
	}},
	{"template directives", func(n int) string {
		return `"` + strings.Repeat("%{if true}", n) + "80" + strings.Repeat("%{endif}", n) + `"`
	}},
	{"heredoc interpolations", func(n int) string {
		return "<<EOT\n" + strings.Repeat("${<<EOT\n", n-1) + "80\n" + strings.Repeat("EOT\n}", n-1) + "\nEOT"
	}},
	{"object in templates", func(n int) string { return strings.Repeat(`"${{a = `, n) + "80" + strings.Repeat(`}}"`, n) }},
}

func deepFile(expr string) []byte {
	return []byte("virtual_server \"a\" {\n port = " + expr + "\n}\n")
}

// TestDeepNesting feeds every recursive construct 200,000 times over: each
// must be refused with one diagnostic at the first byte past the depth
// limit, before hclsyntax could run out of stack (which kills the process:
// the test binary would die). Below the limit, parsing goes on.
func TestDeepNesting(t *testing.T) {
	const deep = 200_000
	for _, tt := range deepConstructs {
		t.Run(tt.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse(deepFile(tt.expr(deep)), "deep.hcl")
			require.Nil(t, cfg)
			require.Len(t, diags, 1, "%v", diags)
			d := diags[0]
			assert.Equal(t, "Configuration nested too deeply", d.Summary)
			require.NotNil(t, d.Subject)
			assert.Equal(t, "deep.hcl", d.Subject.Filename)
			assert.Positive(t, d.Subject.Start.Line)
			assert.Positive(t, d.Subject.Start.Column)
			out := render(t, files, diags)
			assert.True(t, strings.HasPrefix(out, "deep.hcl:"), out)
			assert.Less(t, len(out), 2000, "the snippet must be cut, not the whole line")

			// Well below the limit, the same construct reaches the parser
			// and the decoder, whatever they say of it.
			_, _, diags = lvshcl.Parse(deepFile(tt.expr(10)), "shallow.hcl")
			for _, d := range diags {
				assert.NotEqual(t, "Configuration nested too deeply", d.Summary)
			}
		})
	}
}

// TestDeepNestingIssue is the issue's file: 100,000 parentheses, which
// overflowed the stack (fatal error, not recoverable).
func TestDeepNestingIssue(t *testing.T) {
	name := filepath.Join(t.TempDir(), "d.hcl")
	src := "virtual_server \"a\" {\n port = " + strings.Repeat("(", 100000) + "80" + strings.Repeat(")", 100000) + "\n}\n"
	require.NoError(t, os.WriteFile(name, []byte(src), 0o644))
	_, files, diags := lvshcl.Load(name)
	require.Len(t, diags, 1)
	// The block, then 99 parentheses: the 100th is past the limit.
	assert.Equal(t, hcl.Pos{Line: 2, Column: 108, Byte: 128}, diags[0].Subject.Start)
	assert.Contains(t, render(t, files, diags), name+":2:108: Error: Configuration nested too deeply\n")
}

// TestDepthNotFooled checks that brackets and operators inside comments,
// strings and heredocs are not counted, and that those in template
// sequences are.
func TestDepthNotFooled(t *testing.T) {
	many := strings.Repeat("((((-!?[{", 200)
	tests := []struct {
		name string
		src  string
		deep bool
	}{
		{"line comment", "# " + many + "\n", false},
		{"slash comment", "// " + many + "\n", false},
		{"block comment", "/* " + many + " */\n", false},
		{"string", "flush_on_exit = \"" + many + "\"\n", false},
		{"escaped quote", "flush_on_exit = \"\\\"" + many + "\"\n", false},
		{"escaped interpolation", "flush_on_exit = \"$${" + many + "\"\n", false},
		{"heredoc", "flush_on_exit = <<EOT\n" + many + "\nEOT\n", false},
		{"indented heredoc", "flush_on_exit = <<-EOT\n  " + many + "\n  EOT\n", false},
		{"interpolation", "flush_on_exit = \"${" + strings.Repeat("(", 200) + "\"\n", true},
		{"heredoc interpolation", "flush_on_exit = <<EOT\n${" + strings.Repeat("(", 200) + "\nEOT\n", true},
		{"unterminated block comment", "/* " + many + "\n", true},
		{"after a heredoc", "flush_on_exit = <<EOT\nx\nEOT\ny = " + strings.Repeat("(", 200) + "\n", true},
		{"operators reset per line", strings.Repeat("a = 1 + 2 + 3 + 4\n", 200), false},
		{"operators reset per item", "a = [" + strings.Repeat("-1, ", 500) + "]\n", false},
		{"many blocks side by side", strings.Repeat("a {\n}\n", 500), false},
		{"nested blocks", strings.Repeat("a {\n", 200) + strings.Repeat("}\n", 200), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := lvshcl.Parse([]byte(tt.src), "f.hcl")
			deep := len(diags) > 0 && diags[0].Summary == "Configuration nested too deeply"
			assert.Equal(t, tt.deep, deep, "%v", diags)
		})
	}
}

func TestMaxSize(t *testing.T) {
	src := []byte("virtual_server \"a\" {\n  port = 80\n}\n")
	_, files, diags := lvshcl.Limits{MaxSize: 25}.Parse(src, "big.hcl")
	require.Len(t, diags, 1)
	assert.Equal(t, "Configuration file too large", diags[0].Summary)
	assert.Equal(t, hcl.Pos{Line: 2, Column: 5, Byte: 25}, diags[0].Subject.Start)
	out := render(t, files, diags)
	assert.Contains(t, out, "big.hcl:2:5: Error: Configuration file too large\n")
	assert.Contains(t, out, "limit of 25 bytes")
	assert.Contains(t, out, "--max-config-size")

	_, _, diags = lvshcl.Limits{MaxSize: int64(len(src))}.Parse(src, "exact.hcl")
	for _, d := range diags {
		assert.NotEqual(t, "Configuration file too large", d.Summary)
	}
}

// TestLoadEndless: Load read /dev/zero without limit (4.2 GB in 18 s, then
// out of memory). It reads the limit and one byte more.
func TestLoadEndless(t *testing.T) {
	cfg, files, diags := lvshcl.Limits{MaxSize: 1 << 20}.Load("/dev/zero")
	require.Nil(t, cfg)
	require.Len(t, diags, 1)
	assert.Equal(t, "Configuration file too large", diags[0].Summary)
	assert.Equal(t, hcl.Pos{Line: 1, Column: 1<<20 + 1, Byte: 1 << 20}, diags[0].Subject.Start)
	out := render(t, files, diags)
	assert.Contains(t, out, "/dev/zero:1:1048577: Error: Configuration file too large\n")
	assert.Contains(t, out, "1 MiB")
	assert.NotContains(t, out, "\x00", "control characters are not written to the terminal")
}

func TestLoadDefaultLimit(t *testing.T) {
	assert.Equal(t, lvshcl.Limits{MaxSize: 64 << 20, MaxDepth: 100, MaxBlocks: 1_000_000}, lvshcl.DefaultLimits())
	name := filepath.Join(t.TempDir(), "big.hcl")
	f, err := os.Create(name)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(lvshcl.DefaultMaxSize+1))
	require.NoError(t, f.Close())
	_, _, diags := lvshcl.Load(name)
	require.Len(t, diags, 1)
	assert.Equal(t, "Configuration file too large", diags[0].Summary)
}

func TestMaxBlocks(t *testing.T) {
	src := "virtual_server \"a\" {\n  real_server { address = \"10.0.0.1\" }\n}\nvirtual_server \"b\" {\n}\n"
	_, _, diags := lvshcl.Limits{MaxBlocks: 2}.Parse([]byte(src), "f.hcl")
	require.Len(t, diags, 1)
	assert.Equal(t, "Too many blocks", diags[0].Summary)
	assert.Equal(t, hcl.Pos{Line: 4, Column: 20, Byte: 81}, diags[0].Subject.Start)
	assert.Contains(t, diags[0].Detail, "more than 2 blocks")

	// An object is not a block.
	_, _, diags = lvshcl.Limits{MaxBlocks: 1}.Parse([]byte("a {\n  b = { c = 1 }\n}\n"), "f.hcl")
	for _, d := range diags {
		assert.NotEqual(t, "Too many blocks", d.Summary)
	}
}

func TestLoadMissing(t *testing.T) {
	name := filepath.Join(t.TempDir(), "nope.hcl")
	_, files, diags := lvshcl.Load(name)
	require.Len(t, diags, 1)
	out := render(t, files, diags)
	assert.Contains(t, out, name+":1:1: Error: Failed to read file\n")
	assert.Contains(t, out, "no such file or directory")
}

// TestHostileScansLinear: inputs that would make the pre-parse scan or the
// secret scan quadratic (each opener searching to the end of the file)
// finish; at 1 MiB a quadratic scan takes minutes.
func TestHostileScansLinear(t *testing.T) {
	const size = 1 << 20
	for name, unit := range map[string]string{
		"unterminated comments": "/*",
		"secrets in secrets":    "password = (",
		"unterminated strings":  "password = \"",
		"heredocs":              "password = <<EOT\n",
		"dollars":               "a = \"" + strings.Repeat("$", 1000) + "\n",
		"quoted newlines":       "a = \"\n",
	} {
		t.Run(name, func(t *testing.T) {
			src := []byte(strings.Repeat(unit, size/len(unit)))
			_, files, diags := lvshcl.Parse(src, "h.hcl")
			require.NotEmpty(t, diags)
			render(t, files, diags)
		})
	}
}

// TestTemplateTooComplex: hclsyntax joins the pieces of a string one at a
// time, quadratic in their number (an unterminated heredoc of 200,000
// lines ran for minutes): refused before parsing; a genuine heredoc is not.
func TestTemplateTooComplex(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		refused   bool
	}{
		{"unterminated heredoc", "a = <<EOT\n" + strings.Repeat("x\n", 200_000), true},
		{"long heredoc", "a = <<EOT\n" + strings.Repeat("x\n", 200_000) + "EOT\n", true},
		{"dollars", "a = \"" + strings.Repeat("$", 200_000) + "\"\n", true},
		{"interpolations", "a = \"" + strings.Repeat("${b}", 50_000) + "\"\n", true},
		{"script", "a = <<EOT\n" + strings.Repeat(strings.Repeat("x", 60)+" $HOME\n", 2000) + "EOT\n", false},
		{"long string", "a = \"" + strings.Repeat("x", 1<<20) + "\"\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := lvshcl.Parse([]byte(tt.src), "f.hcl")
			refused := len(diags) == 1 && diags[0].Summary == "String too complex"
			assert.Equal(t, tt.refused, refused, "%v", diags)
		})
	}
}

// BenchmarkCheck is the pre-parse scan alone on a large valid file (compare
// BenchmarkParse: it must be a small part of it).
func BenchmarkCheck(b *testing.B) {
	src := manyErrors(20000) // 1.9 MB of virtual_server blocks
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if diags := (lvshcl.Limits{}).Check(src, "big.hcl"); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
