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

// TestValidateOffline: validate runs where the director's secrets and
// programs are not (CI): a missing password_file, ca_file or exec check
// command is a warning at its file:line:col (exit 0), --strict makes it an
// error, and plan, apply and run refuse the file with an error there,
// leaving the kernel untouched.
func TestValidateOffline(t *testing.T) {
	service := func(check string) string {
		return `virtual_server "db" {
  address = "10.0.0.1"
  port    = 3306
  real_server { address = "10.1.0.1" }
` + check + `
}
`
	}
	tests := []struct {
		name    string
		src     string
		at      string // line:col
		summary string
	}{
		{"password_file", service(`  check "mysql" {
    user          = "monitor"
    password_file = "secrets/db.pass"
  }`), "7:21", "Invalid password_file"},
		{"ca_file", service(`  check "https" {
    tls_verify = true
    ca_file    = "/nonexistent/lvsctl/ca.pem"
  }`), "7:18", "Invalid ca_file"},
		{"exec command", service(`  check "exec" {
    command = ["/nonexistent/lvsctl/check-db", "--quick"]
  }`), "6:16", "Command not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			cfg := writeConfig(t, tt.src)
			at := cfg + ":" + tt.at + ": "

			require.Equal(t, 0, h.run("validate", "-f", cfg), h.errOut.String())
			assert.Contains(t, h.errOut.String(), at+"Warning: "+tt.summary)
			assert.Contains(t, h.out.String(), "valid (1 virtual service, 1 real server)")

			require.Equal(t, 1, h.run("validate", "--strict", "-f", cfg))
			assert.Contains(t, h.errOut.String(), at+"Warning: "+tt.summary)
			assert.Contains(t, h.errOut.String(), "1 warning(s), which --strict makes errors")

			for _, cmd := range []string{"plan", "apply", "run"} {
				require.Equal(t, 1, h.run(cmd, "-f", cfg), cmd)
				assert.Contains(t, h.errOut.String(), at+"Error: "+tt.summary, cmd)
			}
			svcs, err := h.kernel.Services(context.Background())
			require.NoError(t, err)
			assert.Empty(t, svcs)
		})
	}
}

// TestApplyCacheSeesMissingSecrets: a file that apply applied (and
// cached) is refused by the next apply once its password_file or its exec
// check's command is gone: a cache hit must yield what a parse would.
func TestApplyCacheSeesMissingSecrets(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "db.pass")
	prog := filepath.Join(dir, "check-db")
	tests := []struct {
		name   string
		check  string
		remove string
	}{
		{"password_file", `check "mysql" {
    user          = "monitor"
    password_file = "` + pass + `"
  }`, pass},
		{"exec command", `check "exec" { command = ["` + prog + `"] }`, prog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(pass, []byte("secret\n"), 0o600))
			require.NoError(t, os.WriteFile(prog, []byte("#!/bin/sh\nexit 0\n"), 0o755))
			h := newHarness(t)
			cfg := writeConfig(t, `virtual_server "db" {
  address = "10.0.0.1"
  port    = 3306
  real_server { address = "10.1.0.1" }
  `+tt.check+`
}
`)
			require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
			require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
			require.NoError(t, os.Remove(tt.remove))
			assert.Equal(t, 1, h.run("apply", "-f", cfg), h.out.String())
		})
	}
}
