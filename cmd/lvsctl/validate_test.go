package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// manyErrors is a file with n errors, one per virtual service.
func manyErrors(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "virtual_server \"s%d\" {\n  address   = \"10.0.%d.%d\"\n  port      = 80\n  scheduler = \"fastest\"\n}\n", i, i/250, i%250+1)
	}
	return b.String()
}

var diagHeader = regexp.MustCompile(`(?m)^\S+:\d+:\d+: Error: `)

func TestValidateMaxErrors(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, manyErrors(60))

	require.Equal(t, 1, h.run("validate", "-f", cfg))
	assert.Len(t, diagHeader.FindAllString(h.errOut.String(), -1), 50, "50 by default")
	assert.Contains(t, h.errOut.String(), "\n... and 10 more errors\n")
	assert.Contains(t, h.errOut.String(), "60 error(s), nothing applied")

	require.Equal(t, 1, h.run("validate", "-f", cfg, "--max-errors", "3"))
	assert.Len(t, diagHeader.FindAllString(h.errOut.String(), -1), 3)
	assert.Contains(t, h.errOut.String(), "\n... and 57 more errors\n")

	require.Equal(t, 1, h.run("validate", "-f", cfg, "--max-errors", "0"))
	assert.Len(t, diagHeader.FindAllString(h.errOut.String(), -1), 60, "0 prints all")
	assert.NotContains(t, h.errOut.String(), "more errors")
}

// TestValidateCancelled: SIGINT and SIGTERM cancel the command's context;
// printing the diagnostics of a large file stops (it ran for minutes and
// ignored SIGTERM).
func TestValidateCancelled(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, manyErrors(2000))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code := run(ctx, []string{"validate", "-f", cfg}, h.env)
	assert.Equal(t, 1, code)
	assert.Less(t, len(diagHeader.FindAllString(h.errOut.String(), -1)), 20)
	assert.Contains(t, h.errOut.String(), "context canceled")
}

// TestValidateColumn: every diagnostic starts with FILE:LINE:COL, as the
// README promises (it printed "on FILE line N, in ...").
func TestValidateColumn(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, "virtual_server \"a\" {\n  address = \"10.0.0.1\"\n  port    = 80\n  weight  = 1\n}\n")
	require.Equal(t, 1, h.run("validate", "-f", cfg))
	assert.True(t, strings.HasPrefix(h.errOut.String(), cfg+":4:3: Error: Unsupported argument\n"), h.errOut.String())
}

func TestValidateDeepNesting(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, "virtual_server \"a\" {\n port = "+strings.Repeat("(", 100000)+"80"+strings.Repeat(")", 100000)+"\n}\n")
	require.Equal(t, 1, h.run("validate", "-f", cfg))
	assert.Contains(t, h.errOut.String(), cfg+":2:108: Error: Configuration nested too deeply\n")
	assert.Less(t, h.errOut.Len(), 2000)
}

func TestValidateMaxConfigSize(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, 1, h.run("validate", "-f", "/dev/zero", "--max-config-size", "4096"))
	assert.Contains(t, h.errOut.String(), "/dev/zero:1:4097: Error: Configuration file too large\n")
	assert.Contains(t, h.errOut.String(), "limit of 4 KiB")

	cfg := writeConfig(t, webConfigWith(1))
	fi, err := os.Stat(cfg)
	require.NoError(t, err)
	size := fmt.Sprint(fi.Size())
	require.Equal(t, 0, h.run("validate", "-f", cfg, "--max-config-size", size), h.errOut.String())
	require.Equal(t, 1, h.run("validate", "-f", cfg, "--max-config-size", fmt.Sprint(fi.Size()-1)))
	require.Equal(t, 1, h.run("plan", "-f", cfg, "--max-config-size", fmt.Sprint(fi.Size()-1)))
	assert.Contains(t, h.errOut.String(), "Configuration file too large")
	assert.Equal(t, filepath.Base(cfg), "lvsctl.hcl")
}

func webConfigWith(weight int) string { return fmt.Sprintf(webConfig, weight) }

func TestReadConfigLimit(t *testing.T) {
	src, diags := lvshcl.Limits{MaxSize: 1024}.ReadFile("/dev/zero")
	require.True(t, diags.HasErrors())
	assert.LessOrEqual(t, len(src), 1025, "read past the limit")
	assert.Contains(t, diags.Error(), "Configuration file too large")

	cfg := writeConfig(t, "# empty\n")
	src, diags = lvshcl.Limits{}.ReadFile(cfg)
	require.False(t, diags.HasErrors())
	assert.Equal(t, "# empty\n", string(src))
}
