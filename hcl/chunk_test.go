package hcl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigTable is n services of 4 real servers with comments, escapes and
// brackets in strings and comments around and inside the blocks.
func bigTable(n int) []byte {
	var b bytes.Buffer
	b.WriteString("# generated } {\nflush_on_exit = false\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "/* service %d { */\nvirtual_server \"s%d \\\" }\" {\n  address = \"10.%d.%d.%d\" // }\n  port = 80\n  scheduler = \"wlc\"\n", i, i, i>>12, i>>4&0xff, 1+i&0xf)
		for j := 0; j < 4; j++ {
			fmt.Fprintf(&b, "  real_server {\n    address = \"172.%d.%d.%d\"\n    port = 8080\n    weight = %d # {\n  }\n", 16+j, i>>8, i&0xff, j+1)
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// TestChunkedParseMatchesWholeFile checks that the pieces' parse is the
// whole-file parse, ranges included, for big files and for every example
// config repeated until it is cut.
func TestChunkedParseMatchesWholeFile(t *testing.T) {
	srcs := map[string][]byte{"big": bigTable(3000), "small pieces": bigTable(40)}
	files, err := filepath.Glob("../testdata/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if bytes.Contains(b, []byte("<<")) || bytes.Contains(b, []byte("${")) {
			continue // parsed whole: TestChunkedParseFallsBack
		}
		srcs[filepath.Base(f)] = bytes.Repeat(append(b, '\n'), chunkMin/len(b)+2)
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			size := chunkSize
			if name == "small pieces" {
				size = 1 // every top-level block is a piece
			}
			cuts := topLevelCuts(src, size)
			require.Greater(t, len(cuts), 1)
			whole, diags := hclsyntax.ParseConfig(src, "x.hcl", hcl.InitialPos)
			require.False(t, diags.HasErrors(), diags.Error())
			f := parseChunks(src, "x.hcl", cuts)
			if strings.Contains(name, ".hcl") && f == nil {
				// A repeated example may set a top-level attribute twice.
				_, dup := whole.Body.(*hclsyntax.Body).Attributes["flush_on_exit"]
				require.True(t, dup, "pieces failed to parse")
				return
			}
			require.NotNil(t, f)
			assert.Equal(t, whole.Body, f.Body)
			assert.Equal(t, src, f.Bytes)
		})
	}
}

func TestChunkedParseFallsBack(t *testing.T) {
	big := bigTable(1000)
	for name, src := range map[string][]byte{
		"heredoc":         append(bytes.Clone(big), "x = <<EOT\n}\nEOT\n"...),
		"template":        append(bytes.Clone(big), "x = \"${\"}\"}\"\n"...),
		"bom":             append([]byte{0xEF, 0xBB, 0xBF}, big...),
		"unbalanced":      append(bytes.Clone(big), "}\n"...),
		"open comment":    append(bytes.Clone(big), "/* }\n"...),
		"newline in text": append(bytes.Clone(big), "x = \"a\n"...),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Nil(t, topLevelCuts(src, chunkSize))
		})
	}
	t.Run("error in a piece", func(t *testing.T) {
		src := append(bytes.Clone(big), "virtual_server \"x\" { port = }\n"...)
		require.Greater(t, len(topLevelCuts(src, chunkSize)), 1)
		_, want := hclsyntax.ParseConfig(src, "x.hcl", hcl.InitialPos)
		require.True(t, want.HasErrors())
		_, got := parseConfig(src, "x.hcl")
		assert.Equal(t, want.Error(), got.Error())
	})
	t.Run("attribute in two pieces", func(t *testing.T) {
		src := append(bytes.Clone(big), "flush_on_exit = true\n"...)
		require.Greater(t, len(topLevelCuts(src, chunkSize)), 1)
		_, want := hclsyntax.ParseConfig(src, "x.hcl", hcl.InitialPos)
		require.True(t, want.HasErrors())
		_, got := parseConfig(src, "x.hcl")
		assert.Equal(t, want.Error(), got.Error())
	})
}

// BenchmarkParse is Parse (syntax, decoding and validation) of 2,500 and
// 10,000 services x 4 real servers, with allocations.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{2500, 10000} {
		src := bigTable(n)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				cfg, _, diags := Parse(src, "x.hcl")
				if diags.HasErrors() || len(cfg.Services) != n {
					b.Fatal(diags.Error())
				}
			}
		})
	}
}
