package checker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	tests := []struct {
		name    string
		content *string // nil: no file
		path    string  // instead of the file
		probe   checker.File
		up      bool
		weight  int
		reason  string
	}{
		{name: "missing", probe: checker.File{Weight: 1}, reason: "open FILE: no such file or directory"},
		{name: "zero is down", content: ptr("0\n"), probe: checker.File{Weight: 1}, reason: "value 0"},
		{name: "positive is up", content: ptr("7\n"), probe: checker.File{Weight: 1}, up: true, weight: checker.NoWeight, reason: "value 7"},
		{name: "negative is down", content: ptr("-3"), probe: checker.File{Weight: 1}, reason: "value -3"},
		{name: "dynamic sets the weight", content: ptr("7"), probe: checker.File{Weight: 3, Dynamic: true}, up: true, weight: 21, reason: "value 7, weight 21"},
		{name: "dynamic weight is capped", content: ptr("4000000000"), probe: checker.File{Weight: 1, Dynamic: true}, up: true, weight: checker.MaxWeight, reason: "value 4000000000, weight 2147483647"},
		{name: "reverse", content: ptr("2"), probe: checker.File{Weight: 1, Reverse: true}, reason: "value 2, times weight -2"},
		{name: "reverse of a negative", content: ptr("-2"), probe: checker.File{Weight: 5, Reverse: true}, up: true, weight: checker.NoWeight, reason: "value -2"},
		{name: "weight 0: 0 is up", content: ptr("0"), probe: checker.File{}, up: true, weight: checker.NoWeight, reason: "value 0"},
		{name: "weight 0: non-zero is down", content: ptr("1"), probe: checker.File{}, reason: "value 1"},
		{name: "leading digits count", content: ptr("12abc"), probe: checker.File{Weight: 1}, up: true, weight: checker.NoWeight, reason: "value 12"},
		{name: "empty", content: ptr(" \n"), probe: checker.File{Weight: 1}, reason: "FILE is empty"},
		{name: "not a number", content: ptr("up"), probe: checker.File{Weight: 1}, reason: "FILE does not start with a number"},
		{name: "a FIFO is never waited on", path: fifo, probe: checker.File{Weight: 1}, reason: "FILE is not a regular file"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = filepath.Join(dir, "w"+string(rune('a'+i)))
			}
			if tc.content != nil {
				require.NoError(t, os.WriteFile(path, []byte(*tc.content), 0o600))
			}
			p := tc.probe
			p.Path = path
			require.NoError(t, p.Validate())
			r := p.Probe(context.Background(), checker.Target{})
			assert.Equal(t, tc.up, r.Up)
			if !tc.up {
				tc.weight = checker.NoWeight
			}
			assert.Equal(t, tc.weight, r.Weight)
			assert.Equal(t, strings.Replace(tc.reason, "FILE", path, 1), r.Reason)
		})
	}
}

// TestFileRecovers writes, removes and rewrites the file: each probe reads
// it anew.
func TestFileRecovers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weight")
	p := &checker.File{Path: path, Weight: 1, Dynamic: true}
	steps := []struct {
		write  string // "" removes the file
		up     bool
		weight int
	}{
		{write: "5", up: true, weight: 5},
		{write: "0", weight: checker.NoWeight},
		{write: "", weight: checker.NoWeight},
		{write: "9", up: true, weight: 9},
	}
	for i, s := range steps {
		if s.write == "" {
			require.NoError(t, os.Remove(path))
		} else {
			require.NoError(t, os.WriteFile(path, []byte(s.write), 0o600))
		}
		r := p.Probe(context.Background(), checker.Target{})
		assert.Equal(t, s.up, r.Up, "step %d: %s", i, r.Reason)
		assert.Equal(t, s.weight, r.Weight, "step %d", i)
	}
}

func TestFileValidate(t *testing.T) {
	assert.EqualError(t, (&checker.File{}).Validate(), "file check without a path")
}
