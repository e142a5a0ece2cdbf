package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/ipvs"
)

// TestConfigCache checks when apply and plan use the decoded table of an
// unchanged file instead of parsing it, and that a hit is what a parse
// gives.
func TestConfigCache(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, fmt.Sprintf(webConfig, 1))
	src, err := os.ReadFile(cfg)
	require.NoError(t, err)
	cachePath := filepath.Join(h.env.stateDir, "state.json.config-cache")
	cache := cacheFor(filepath.Join(h.env.stateDir, "state.json"))
	require.NotEmpty(t, cache.build, "the test binary has a Go build ID")

	require.Equal(t, 2, h.run("plan", "-f", cfg), h.errOut.String())
	assert.NoFileExists(t, cachePath, "plan writes nothing")
	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	require.FileExists(t, cachePath)
	got, hit := cache.load(src)
	require.True(t, hit)
	assert.Equal(t, loadHCL(t, cfg), got, "the cached table is the parsed one")

	// A hit is used: doctor the entry (same bytes, same binary) and plan
	// shows the doctored table.
	doctored := append([]ipvs.VirtualService(nil), got...)
	doctored[0].RealServers = append([]ipvs.RealServer(nil), got[0].RealServers...)
	doctored[0].RealServers[0].Weight = 9
	require.NoError(t, cache.store(src, doctored))
	require.Equal(t, 2, h.run("plan", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "weight 1 -> 9")

	for name, c := range map[string]configCache{
		"other binary": {path: cache.path, build: cache.build + "x"},
		"no build ID":  {path: cache.path},
	} {
		_, hit := c.load(src)
		assert.False(t, hit, name)
	}
	_, hit = cache.load(append([]byte("# edited\n"), src...))
	assert.False(t, hit, "other bytes")
	require.NoError(t, os.WriteFile(cachePath, []byte("garbage"), 0o600))
	_, hit = cache.load(src)
	assert.False(t, hit, "unreadable entry")

	// An edited file is parsed, and its errors reported, whatever the cache.
	require.NoError(t, cache.store(src, doctored))
	require.NoError(t, os.WriteFile(cfg, append(src, "virtual_server {\n"...), 0o644))
	require.Equal(t, 1, h.run("apply", "-f", cfg))
	assert.Contains(t, h.errOut.String(), "lvsctl.hcl:")

	// A file with a warning is applied but not remembered, so the warning
	// shows every time.
	os.Remove(cachePath)
	warn := writeConfig(t, `
virtual_server "web" {
  address   = "10.0.0.1"
  port      = 80
  scheduler = "rr"
  real_server {
    address   = "10.0.1.1"
    notify_up = ["/bin/alert"]
  }
}
`)
	for range 2 {
		require.Equal(t, 0, h.run("apply", "-f", warn), h.errOut.String())
		assert.Contains(t, h.errOut.String(), "notify_up never runs")
		assert.NoFileExists(t, cachePath)
	}
}
