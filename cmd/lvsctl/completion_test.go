package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompletionScripts(t *testing.T) {
	h := newHarness(t)
	for shell, marker := range map[string]string{"bash": "__start_lvsctl", "zsh": "#compdef lvsctl", "fish": "complete -c lvsctl"} {
		require.Equal(t, 0, h.run("completion", shell), h.errOut.String())
		assert.Contains(t, h.out.String(), marker, shell)
	}
	require.Equal(t, 0, h.run("--help"))
	assert.Contains(t, h.out.String(), "completion", "listed in help (and in the man pages)")
}

func TestCompletionOfFlagValues(t *testing.T) {
	h := newHarness(t)
	complete := func(args ...string) []string {
		require.Equal(t, 0, h.run(append([]string{"__complete"}, args...)...), h.errOut.String())
		return strings.Split(strings.TrimSpace(h.out.String()), "\n")
	}
	assert.Equal(t, []string{"text", "json", ":4"}, complete("run", "--log-format", ""))
	assert.Equal(t, []string{"debug", "info", "warn", "error", ":4"}, complete("run", "--log-level", ""))
	assert.Equal(t, []string{"text", "json", ":4"}, complete("status", "-o", ""))
	assert.Equal(t, []string{"text", "json", "yaml", ":4"}, complete("list", "-o", ""))
	assert.Equal(t, []string{"hcl", ":8"}, complete("apply", "-f", ""), "-f completes *.hcl files")
	out := complete("list", "-f", "")
	assert.NotContains(t, out, "hcl", "list -f is a firewall mark, not a file")
}

func TestVersion(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, 0, h.run("version"))
	out := h.out.String()
	assert.Regexp(t, `^lvsctl \S+\ncommit: .+\n`, out)
	assert.Contains(t, out, "go: go1.")
	b := buildInfo{Version: "v1.2.0", Revision: "0123456789abcdef", Modified: true}
	assert.Equal(t, "v1.2.0 0123456789ab+", b.String())
}
