package hcl

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockCacheFiles are every HCL file of the repository's test data: the
// examples, the invalid ones, the importer's golden output and the VM
// tests' files, plus a generated table.
func blockCacheFiles(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{"table": bigTable(60)}
	for _, glob := range []string{"../testdata/*.hcl", "../testdata/invalid/*.hcl", "../testdata/keepalived/golden/*.hcl", "../cmd/lvsctl/testdata/vm/*.hcl", "../cmd/lvsdemo/*.hcl"} {
		names, err := filepath.Glob(glob)
		require.NoError(t, err)
		for _, name := range names {
			src, err := os.ReadFile(name)
			require.NoError(t, err)
			out[name] = src
		}
	}
	require.Greater(t, len(out), 40)
	return out
}

// sameParse fails unless parsing src through cache gives what a parse
// without one gives: the configuration, every diagnostic with its ranges,
// and the rendered diagnostics (which name the enclosing block).
func sameParse(t testing.TB, cache *BlockCache, src []byte, filename string) {
	t.Helper()
	wantCfg, wantFiles, wantDiags := Options{}.Parse(src, filename)
	gotCfg, gotFiles, gotDiags := Options{Blocks: cache}.Parse(src, filename)
	require.Equal(t, diagFacts(wantDiags), diagFacts(gotDiags), "diagnostics of\n%s", src)
	require.Equal(t, wantCfg, gotCfg, "configuration of\n%s", src)
	var want, got bytes.Buffer
	require.NoError(t, WriteDiagnostics(&want, wantFiles, wantDiags))
	require.NoError(t, WriteDiagnostics(&got, gotFiles, gotDiags))
	require.Equal(t, want.String(), got.String())
}

type diagFact struct {
	Severity        hcl.DiagnosticSeverity
	Summary, Detail string
	Subject         *hcl.Range
	Context         *hcl.Range
}

func diagFacts(diags hcl.Diagnostics) []diagFact {
	out := make([]diagFact, len(diags))
	for i, d := range diags {
		out[i] = diagFact{d.Severity, d.Summary, d.Detail, d.Subject, d.Context}
	}
	return out
}

// edits are the changes TestBlockCacheAfterEdits makes, each at a random
// place of the file.
var edits = []struct {
	name string
	edit func(r *rand.Rand, src []byte) []byte
}{
	{"comment at the top", func(_ *rand.Rand, src []byte) []byte {
		return append([]byte("# edited\n"), src...)
	}},
	{"blank lines in a block", func(r *rand.Rand, src []byte) []byte {
		return insertAt(src, lineStart(src, r.IntN(len(src)+1)), "\n\n")
	}},
	{"digit changed", func(r *rand.Rand, src []byte) []byte {
		i := r.IntN(len(src) + 1)
		for ; i < len(src); i++ {
			if src[i] >= '0' && src[i] <= '9' {
				out := bytes.Clone(src)
				out[i] = '0' + byte(r.IntN(10))
				return out
			}
		}
		return src
	}},
	{"line deleted", func(r *rand.Rand, src []byte) []byte {
		s := lineStart(src, r.IntN(len(src)+1))
		e := bytes.IndexByte(src[s:], '\n')
		if e < 0 {
			return src[:s]
		}
		return append(bytes.Clone(src[:s]), src[s+e+1:]...)
	}},
	{"block copied", func(r *rand.Rand, src []byte) []byte {
		cuts := topLevelCuts(src, 1)
		if len(cuts) < 2 {
			return src
		}
		i := r.IntN(len(cuts) - 1)
		piece := src[cuts[i].byte:cuts[i+1].byte]
		return insertAt(src, cuts[r.IntN(len(cuts))].byte, string(piece))
	}},
	{"blocks swapped", func(r *rand.Rand, src []byte) []byte {
		cuts := topLevelCuts(src, 1)
		if len(cuts) < 3 {
			return src
		}
		i := r.IntN(len(cuts) - 2)
		a, b := src[cuts[i].byte:cuts[i+1].byte], src[cuts[i+1].byte:cuts[i+2].byte]
		out := append(bytes.Clone(src[:cuts[i].byte]), b...)
		out = append(out, a...)
		return append(out, src[cuts[i+2].byte:]...)
	}},
	{"attribute added", func(r *rand.Rand, src []byte) []byte {
		i := bytes.Index(src[r.IntN(len(src)+1):], []byte("{\n"))
		if i < 0 {
			return src
		}
		return insertAt(src, len(src)-len(src[i:])+2, "  bogus = 1\n")
	}},
	{"any byte", func(r *rand.Rand, src []byte) []byte {
		return insertAt(src, r.IntN(len(src)+1), string(rune("{}\"#/*=\n x"[r.IntN(10)])))
	}},
}

func insertAt(src []byte, i int, s string) []byte {
	out := append(bytes.Clone(src[:i]), s...)
	return append(out, src[i:]...)
}

func lineStart(src []byte, i int) int {
	return bytes.LastIndexByte(src[:i], '\n') + 1
}

// TestBlockCacheAfterEdits parses every test file through one cache, then
// edits it at random places again and again, each edit parsed through the
// cache and compared with a parse without it.
func TestBlockCacheAfterEdits(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 1))
	hitsSeen := 0
	for name, src := range blockCacheFiles(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			cache := NewBlockCache()
			sameParse(t, cache, src, name)
			for range 12 {
				e := edits[r.IntN(len(edits))]
				next := e.edit(r, src)
				t.Logf("%s", e.name)
				sameParse(t, cache, next, name)
				hits, _ := cache.Stats()
				hitsSeen += hits
				if r.IntN(4) > 0 { // mostly keep editing the edited file
					src = next
				}
			}
		})
	}
	assert.Greater(t, hitsSeen, 200, "the cache was hardly used")
}

// TestBlockCacheHits checks what an edit costs: one block decoded again.
func TestBlockCacheHits(t *testing.T) {
	src := bigTable(200)
	cache := NewBlockCache()
	sameParse(t, cache, src, "x.hcl")
	hits, misses := cache.Stats()
	assert.Equal(t, 0, hits)
	assert.Equal(t, 198, misses, "every virtual_server but the first (with the top-level attribute) and the last is cacheable")

	for _, tt := range []struct {
		name       string
		src        []byte
		hits, miss int
	}{
		{"unchanged", src, 198, 0},
		{"comment at the top", append([]byte("# edited\n"), src...), 198, 0},
		{"one port", bytes.Replace(src, []byte("\"10.0.0.8\" // }\n  port = 80"), []byte("\"10.0.0.8\" // }\n  port = 81"), 1), 197, 1},
		{"one block renamed", bytes.Replace(src, []byte("virtual_server \"s9 \\\" }\""), []byte("virtual_server \"sx\""), 1), 197, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sameParse(t, cache, tt.src, "x.hcl")
			hits, misses := cache.Stats()
			assert.Equal(t, tt.hits, hits)
			assert.Equal(t, tt.miss, misses)
		})
	}
}

// TestBlockCacheCrossBlock checks that validation between blocks sees
// cached blocks: a duplicate name and a duplicate key whose first
// definition comes from the cache.
func TestBlockCacheCrossBlock(t *testing.T) {
	src := bigTable(20)
	cache := NewBlockCache()
	sameParse(t, cache, src, "x.hcl")
	dup := append(bytes.Clone(src), "virtual_server \"s3 \\\" }\" {\n  address = \"10.0.0.4\"\n  port = 80\n}\n"...)
	_, _, diags := Options{Blocks: cache}.Parse(dup, "x.hcl")
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, fmt.Sprintf("%s at line %d, first at line %d", d.Summary, d.Subject.Start.Line, d.Context.Start.Line))
	}
	assert.Equal(t, []string{
		"Duplicate virtual_server name at line 523, first at line 82",
		"Duplicate virtual service at line 524, first at line 83",
	}, summaries)
	hits, _ := cache.Stats()
	assert.Equal(t, 18, hits)
	sameParse(t, cache, dup, "x.hcl")
}

// TestBlockCacheEntries checks that persisted entries are used by a new
// cache, and that a damaged entry is a miss, not an error.
func TestBlockCacheEntries(t *testing.T) {
	src := bigTable(30)
	first := NewBlockCache()
	sameParse(t, first, src, "x.hcl")
	entries := first.Entries()
	require.Equal(t, 28, len(entries))

	second := NewBlockCache()
	second.AddEntries(entries)
	edited := append([]byte("# edited\n"), src...)
	sameParse(t, second, edited, "y.hcl") // another name: ranges follow it
	hits, misses := second.Stats()
	assert.Equal(t, 28, hits)
	assert.Equal(t, 0, misses)

	damaged := NewBlockCache()
	for i := range entries {
		entries[i].Data = entries[i].Data[:len(entries[i].Data)/2]
	}
	damaged.AddEntries(entries)
	sameParse(t, damaged, src, "x.hcl")
	hits, misses = damaged.Stats()
	assert.Equal(t, 0, hits)
	assert.Equal(t, 28, misses)
}

// TestBlockCacheForgets checks that the cache keeps the blocks of the last
// two parses only.
func TestBlockCacheForgets(t *testing.T) {
	cache := NewBlockCache()
	for i := range 4 {
		src := strings.ReplaceAll(string(bigTable(10)), "port = 80", fmt.Sprintf("port = %d", 81+i))
		sameParse(t, cache, []byte(src), "x.hcl")
	}
	assert.Equal(t, 16, cache.Len())
}

func TestBlockCodecRefusesWhatItCannotKeep(t *testing.T) {
	for name, v := range map[string]any{
		"map":        &struct{ M map[string]int }{M: map[string]int{}},
		"unexported": &struct{ x int }{},
		"func":       &struct{ F func() }{F: func() {}},
		"other type": &struct{ A any }{A: 3},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := encodeBlock(nil, v, cut{0, 1})
			assert.ErrorIs(t, err, errCodec)
		})
	}
}

// FuzzBlockCache parses a file through a cache, edits it and parses it
// again through the cache: the second parse must be a parse without one,
// diagnostics included.
func FuzzBlockCache(f *testing.F) {
	for _, src := range blockCacheFiles(f) {
		if len(src) <= 8<<10 {
			f.Add(src, uint16(0), []byte("# edited\n"))
		}
	}
	f.Add(bigTable(5), uint16(90), []byte("}\n"))
	f.Add(bigTable(5), uint16(200), []byte("  port = 8\n"))
	f.Fuzz(func(t *testing.T, src []byte, at uint16, insert []byte) {
		if len(src) > 16<<10 {
			return
		}
		cache := NewBlockCache()
		sameParse(t, cache, src, "fuzz.hcl")
		persisted := NewBlockCache() // as apply reads the config cache
		persisted.AddEntries(cache.Entries())
		i := int(at) % (len(src) + 1)
		edited := insertAt(src, i, string(insert))
		sameParse(t, cache, edited, "fuzz.hcl")
		sameParse(t, persisted, edited, "fuzz.hcl")
	})
}

// TestExprValueFastPath: the literal shortcut gives what evaluating the
// template gives.
func TestExprValueFastPath(t *testing.T) {
	for _, src := range []string{`"a"`, `""`, `"é e\u0301 ✓"`, `"a\nb\"c"`, `"$${x}"`, `"%%{x}"`, `"${"x"}"`, `"a${1}b"`, `"%{if true}x%{endif}"`, `1`, `true`, `null`, `["a"]`, `"${null}"`} {
		t.Run(src, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(src), "x.hcl", hcl.InitialPos)
			require.False(t, diags.HasErrors(), diags.Error())
			want, wantDiags := expr.Value(nil)
			got, gotDiags := exprValue(expr)
			assert.Equal(t, wantDiags.Error(), gotDiags.Error())
			assert.True(t, want.RawEquals(got), "%#v != %#v", want, got)
			assert.Equal(t, want, got)
		})
	}
}

// TestSyntaxContent compares syntaxContent with hcl's Content for every
// body of every test file, against every schema decode.go uses: where it
// answers, hcl finds nothing wrong (but the check labels content drops)
// and returns the same content.
func TestSyntaxContent(t *testing.T) {
	withCheck := func(s *hcl.BodySchema) *hcl.BodySchema {
		c := *s
		c.Blocks = append(append([]hcl.BlockHeaderSchema(nil), s.Blocks...), hcl.BlockHeaderSchema{Type: blockCheck})
		return &c
	}
	schemas := []*hcl.BodySchema{fileSchema, withCheck(serviceSchema), withCheck(realSchema), sorrySchema, tunnelSchema, withCheck(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "path", Required: true}}})}
	for _, kind := range []string{"tcp", "http", "https", "exec", "mysql", "udp", "dns", "smtp", "ping", "file", "bfd"} {
		schemas = append(schemas, checkSchema(kind))
	}
	files := blockCacheFiles(t)
	files["imported"] = importedTable(20)
	answered := 0
	for name, src := range files {
		f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			continue
		}
		var walk func(b *hclsyntax.Body)
		walk = func(b *hclsyntax.Body) {
			for _, schema := range schemas {
				got, ok := syntaxContent(b, schema)
				if !ok {
					continue
				}
				answered++
				want, diags := b.Content(schema)
				for _, d := range diags {
					require.Equal(t, "Extraneous label for check", d.Summary, "%s: %s", name, d.Error())
				}
				require.Equal(t, want, got, name)
			}
			for _, blk := range b.Blocks {
				walk(blk.Body)
			}
		}
		walk(f.Body.(*hclsyntax.Body))
	}
	assert.Greater(t, answered, 500)
}
