package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra/doc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestManPages generates the man pages (section 8) from the command tree:
// into $LVSCTL_MAN_DIR when it is set (make man writes docs/man), else
// into a temporary directory; then checks them. SOURCE_DATE_EPOCH sets
// their date.
func TestManPages(t *testing.T) {
	dir := os.Getenv("LVSCTL_MAN_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	old, _ := filepath.Glob(filepath.Join(dir, "*.8"))
	for _, f := range old {
		require.NoError(t, os.Remove(f))
	}
	root := newRootCmd(&env{stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	root.DisableAutoGenTag = true
	require.NoError(t, doc.GenManTreeFromOpts(root, doc.GenManTreeOptions{
		Header:           &doc.GenManHeader{Section: "8", Source: "lvsctl", Manual: "lvsctl manual"},
		Path:             dir,
		CommandSeparator: "-",
	}))
	for _, page := range []string{"lvsctl.8", "lvsctl-run.8", "lvsctl-status.8", "lvsctl-version.8", "lvsctl-completion-bash.8"} {
		_, err := os.Stat(filepath.Join(dir, page))
		assert.NoError(t, err, page)
	}
	run, err := os.ReadFile(filepath.Join(dir, "lvsctl-run.8"))
	require.NoError(t, err)
	assert.Contains(t, string(run), `.TH "LVSCTL-RUN" "8"`)
	assert.Contains(t, string(run), `\fB--metrics-listen\fP`)
}
