package hcl_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// manyErrors is a file of n virtual services, each with one error.
func manyErrors(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "virtual_server \"s%d\" {\n  address   = \"10.%d.%d.%d\"\n  port      = 80\n  scheduler = \"fastest\"\n}\n",
			i, i>>16, i>>8&255, i&255)
	}
	return []byte(b.String())
}

// BenchmarkWriteDiagnostics renders every diagnostic of files with 1k to
// 40k errors: the time per diagnostic must stay flat (hcl's writer rescans
// the file from its start for each one: 1k, 2k, 4k, 8k errors took 4, 15,
// 55 and 228 s).
func BenchmarkWriteDiagnostics(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000, 8000, 16000, 40000} {
		_, files, diags := lvshcl.Parse(manyErrors(n), "many.hcl")
		require.Len(b, diags, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if err := lvshcl.RenderDiagnostics(context.Background(), io.Discard, files, diags, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/diag")
		})
	}
}

func TestRenderDiagnosticsCap(t *testing.T) {
	src := manyErrors(5)
	_, files, diags := lvshcl.Parse(src, "many.hcl")
	diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "W"}, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "W"})
	for _, tt := range []struct {
		max       int
		shown     int
		remainder string
	}{
		{0, 7, ""},
		{-1, 7, ""},
		{7, 7, ""},
		{2, 2, "... and 3 more errors and 2 more warnings\n"},
		{5, 5, "... and 2 more warnings\n"},
		{6, 6, "... and 1 more warning\n"},
		{4, 4, "... and 1 more error and 2 more warnings\n"},
	} {
		var b strings.Builder
		require.NoError(t, lvshcl.RenderDiagnostics(context.Background(), &b, files, diags, tt.max))
		out := b.String()
		assert.Equal(t, tt.shown, strings.Count(out, "Error: ")+strings.Count(out, "Warning: "), "max %d:\n%s", tt.max, out)
		if tt.remainder == "" {
			assert.NotContains(t, out, "... and")
		} else {
			assert.True(t, strings.HasSuffix(out, tt.remainder), "max %d:\n%s", tt.max, out)
		}
	}
}

func TestRenderDiagnosticsCancelled(t *testing.T) {
	_, files, diags := lvshcl.Parse(manyErrors(100), "many.hcl")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b strings.Builder
	err := lvshcl.RenderDiagnostics(ctx, &b, files, diags, 0)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, strings.Count(b.String(), "Error: "), 20)
}

// TestRenderLongLine: a line longer than the snippet width is cut around
// the offending range, whichever the range's place in it.
func TestRenderLongLine(t *testing.T) {
	pad := strings.Repeat("x", 300)
	src := "a {\n  b = \"" + pad + "\" c = 1 \"" + pad + "\"\n}\n"
	_, files, diags := lvshcl.Parse([]byte(src), "long.hcl")
	require.NotEmpty(t, diags)
	out := render(t, files, diags)
	for _, line := range strings.Split(out, "\n") {
		assert.LessOrEqual(t, len(line), 200, out)
	}
	assert.Contains(t, out, "long.hcl:2:")
	assert.Contains(t, out, "...")
}

// TestRenderOddRanges: ranges past the end of the file, empty, or in a
// file without source render without panicking.
func TestRenderOddRanges(t *testing.T) {
	src := []byte("a = 1\r\nb = 2")
	files := lvshcl.Files{"f.hcl": &hcl.File{Bytes: src}}
	rng := func(s, e int) *hcl.Range {
		return &hcl.Range{Filename: "f.hcl", Start: hcl.Pos{Line: 1, Column: 1, Byte: s}, End: hcl.Pos{Line: 1, Column: 1, Byte: e}}
	}
	diags := hcl.Diagnostics{
		{Summary: "empty at end", Subject: rng(len(src), len(src))},
		{Summary: "past the end", Subject: rng(len(src)+5, len(src)+10)},
		{Summary: "reversed", Subject: rng(5, 2)},
		{Summary: "negative", Subject: rng(-3, -1)},
		{Summary: "crlf", Subject: rng(0, 7)},
		{Summary: "context elsewhere", Subject: rng(0, 1), Context: rng(7, 12)},
		{Summary: "no such file", Subject: &hcl.Range{Filename: "other.hcl"}},
		nil,
	}
	var b strings.Builder
	require.NoError(t, lvshcl.RenderDiagnostics(context.Background(), &b, files, diags, 0))
	assert.NotContains(t, b.String(), "\r")
	assert.Contains(t, b.String(), "other.hcl:0:0: Error: no such file\n\n")
}
