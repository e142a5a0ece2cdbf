package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/gob"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	got, hit := cache.load(cfg, src)
	require.True(t, hit)
	assert.Equal(t, loadHCL(t, cfg), got, "the cached table is the parsed one")

	// A hit is used: doctor the entry (same bytes, same binary) and plan
	// shows the doctored table.
	doctored := append([]ipvs.VirtualService(nil), got...)
	doctored[0].RealServers = append([]ipvs.RealServer(nil), got[0].RealServers...)
	doctored[0].RealServers[0].Weight = 9
	require.NoError(t, cache.store(cfg, src, doctored))
	require.Equal(t, 2, h.run("plan", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "weight 1 -> 9")

	for name, c := range map[string]configCache{
		"other binary": {path: cache.path, build: cache.build + "x"},
		"no build ID":  {path: cache.path},
	} {
		_, hit := c.load(cfg, src)
		assert.False(t, hit, name)
	}
	_, hit = cache.load(cfg, append([]byte("# edited\n"), src...))
	assert.False(t, hit, "other bytes")
	require.NoError(t, os.WriteFile(cachePath, []byte("garbage"), 0o600))
	_, hit = cache.load(cfg, src)
	assert.False(t, hit, "unreadable entry")

	// An edited file is parsed, and its errors reported, whatever the cache.
	require.NoError(t, cache.store(cfg, src, doctored))
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
	warnSrc, err := os.ReadFile(warn)
	require.NoError(t, err)
	for range 2 {
		require.Equal(t, 0, h.run("apply", "-f", warn), h.errOut.String())
		assert.Contains(t, h.errOut.String(), "notify_up never runs")
		_, hit := cache.load(warn, warnSrc)
		assert.False(t, hit, "only its blocks are kept")
	}
}

// servicesConfig is n virtual services of two real servers each, weight w
// in the one named "s<edit>".
func servicesConfig(n, edit, w int) string {
	var b strings.Builder
	for i := range n {
		weight := 1
		if i == edit {
			weight = w
		}
		fmt.Fprintf(&b, "# service %d\nvirtual_server \"s%d\" {\n  address = \"10.0.%d.%d\"\n  port = 80\n  real_server {\n    address = \"10.1.%d.%d\"\n    weight = %d\n  }\n  real_server { address = \"10.2.%d.%d\" }\n}\n",
			i, i, i>>8, i&0xff, i>>8, i&0xff, weight, i>>8, i&0xff)
	}
	return b.String()
}

// TestConfigCacheBlocks: apply keeps the decoded blocks of the file it
// parsed, and the apply of an edited file decodes only the edited block,
// with the result of a full parse.
func TestConfigCacheBlocks(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, servicesConfig(20, -1, 0))
	state := filepath.Join(h.env.stateDir, "state.json")
	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())

	// One weight edited, and a comment at the top: every block moves.
	edited := "# edited\n" + servicesConfig(20, 7, 9)
	require.NoError(t, os.WriteFile(cfg, []byte(edited), 0o644))
	cache := cacheFor(state)
	_, hit := cache.load(cfg, []byte(edited))
	require.False(t, hit)
	opt := configOptions{blocks: cache.blocks}
	got, _, diags := opt.hclOptions().Parse([]byte(edited), cfg)
	require.Empty(t, diags)
	hits, misses := cache.blocks.Stats()
	assert.Equal(t, 17, hits, "all but the first (with the new comment), the edited and the last block")
	assert.Equal(t, 2, misses)
	assert.Equal(t, loadHCL(t, cfg), got.Services)

	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "weight 1 -> 9")
}

// TestRunBlockCache: lvsctl run's cache starts from the blocks on disk,
// serves every decode of the process, and is written back.
func TestRunBlockCache(t *testing.T) {
	h := newHarness(t)
	state := filepath.Join(h.env.stateDir, "state.json")
	src := []byte(servicesConfig(10, -1, 0))

	g := &globals{stateFile: state}
	save := g.useBlockCache(h.env)
	_, _, diags := g.configOptions().hclOptions().Parse(src, "a.hcl")
	require.Empty(t, diags)
	hits, misses := g.blocks.Stats()
	assert.Equal(t, [2]int{0, 9}, [2]int{hits, misses}, "nothing on disk yet: every block but the last decoded and kept")
	_, _, diags = g.configOptions().hclOptions().Parse(src, "a.hcl") // a SIGHUP
	require.Empty(t, diags)
	hits, misses = g.blocks.Stats()
	assert.Equal(t, [2]int{9, 0}, [2]int{hits, misses}, "kept in memory")
	save()

	next := &globals{stateFile: state}
	next.useBlockCache(h.env)
	_, _, diags = next.configOptions().hclOptions().Parse(append([]byte("# edited\n"), src...), "a.hcl")
	require.Empty(t, diags)
	hits, misses = next.blocks.Stats()
	assert.Equal(t, [2]int{8, 1}, [2]int{hits, misses}, "read back at the next start (the first block has the new comment)")
}

// TestConfigCacheFilesRead: a cached decode is used only while the other
// files the configuration reads are as they were; once one is missing or
// invalid, plan and apply report what validate reports, and fail.
func TestConfigCacheFilesRead(t *testing.T) {
	const db = `
virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  check "mysql" {
    user          = "monitor"
    password_file = "monitor.pw"
    tls           = true
    ca_file       = "ca.pem"
  }
  real_server { address = "10.0.0.1" }
}
`
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		diag   string // "" : still valid, parsed again
	}{
		{name: "password_file deleted", diag: "Invalid password_file",
			change: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "monitor.pw"))) }},
		{name: "password_file emptied", diag: "Invalid password_file",
			change: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "monitor.pw"), "") }},
		{name: "ca_file no longer PEM", diag: "Invalid ca_file",
			change: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "ca.pem"), "not a certificate\n") }},
		{name: "password changed",
			change: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "monitor.pw"), "other\n") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			cfg := writeConfig(t, db)
			dir := filepath.Dir(cfg)
			writeFile(t, filepath.Join(dir, "monitor.pw"), "s3cret\n")
			writeFile(t, filepath.Join(dir, "ca.pem"), selfSignedPEM(t))
			src, err := os.ReadFile(cfg)
			require.NoError(t, err)
			cache := cacheFor(filepath.Join(h.env.stateDir, "state.json"))

			require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
			_, hit := cache.load(cfg, src)
			require.True(t, hit, "a clean file is cached, with the files it reads")

			tc.change(t, dir)
			_, hit = cache.load(cfg, src)
			assert.False(t, hit, "a file it read changed")
			if tc.diag == "" {
				require.Equal(t, 0, h.run("plan", "-f", cfg), h.errOut.String())
				require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
				_, hit = cache.load(cfg, src)
				assert.True(t, hit, "cached again with the new stamp")
				return
			}
			// validate warns of a missing file (it may run without the
			// secrets); --strict, plan and apply refuse it.
			require.Equal(t, 1, h.run("validate", "--strict", "-f", cfg))
			require.Contains(t, h.errOut.String(), tc.diag)
			require.Equal(t, 1, h.run("plan", "-f", cfg))
			want := h.errOut.String()
			require.Contains(t, want, tc.diag)
			require.Contains(t, want, "lvsctl.hcl:")
			assert.Equal(t, 1, h.run("apply", "-f", cfg))
			assert.Equal(t, want, h.errOut.String(), "apply reports what plan reports")
		})
	}
}

// TestConfigCacheOtherName: the same bytes under another name resolve
// their relative files elsewhere: a miss.
func TestConfigCacheOtherName(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, fmt.Sprintf(webConfig, 1))
	src, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	cache := cacheFor(filepath.Join(h.env.stateDir, "state.json"))
	_, hit := cache.load(cfg, src)
	assert.True(t, hit)
	_, hit = cache.load(cfg+".copy", src)
	assert.False(t, hit)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

// selfSignedPEM is a CA certificate in PEM.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Unix(0, 0).AddDate(100, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestRunSavesBlockCache: lvsctl run decodes through the block cache and
// writes its blocks next to the ownership record when it stops, so that
// the next start (and apply) decodes only edited blocks. It fails when run
// does not use useBlockCache.
func TestRunSavesBlockCache(t *testing.T) {
	h := newHarness(t)
	cfg := writeConfig(t, servicesConfig(10, -1, 0))
	cache := cacheFor(filepath.Join(h.env.stateDir, "state.json"))
	t.Cleanup(func() { // after the daemon stopped (cleanups run last first)
		cc, ok := cache.read()
		if assert.True(t, ok, "lvsctl run left no config cache") {
			assert.Len(t, cc.Blocks, 9, "every block but the last")
			assert.Nil(t, cc.Services, "run keeps the blocks only")
		}
	})
	d := startInProcess(t, h, cfg)
	require.Eventually(t, func() bool { return strings.Contains(d.logs.String(), "msg=running") },
		10*time.Second, 20*time.Millisecond, d.logs.String())
}

// TestBlockEntriesGob: the config cache's blocks come back as they were
// stored, including empty ones, and a damaged packing is an error, not a
// panic or a wrong entry.
func TestBlockEntriesGob(t *testing.T) {
	es := blockEntries{
		{Text: []byte("virtual_server \"a\" {}\n"), Data: []byte{1, 2, 3}},
		{Text: []byte{}, Data: []byte{}},
		{Text: bytes.Repeat([]byte("x"), 300), Data: bytes.Repeat([]byte{7}, 200)},
	}
	var b bytes.Buffer
	require.NoError(t, gob.NewEncoder(&b).Encode(cachedConfig{Blocks: es}))
	var got cachedConfig
	require.NoError(t, gob.NewDecoder(bytes.NewReader(b.Bytes())).Decode(&got))
	require.Len(t, got.Blocks, len(es))
	for i := range es {
		assert.Equal(t, string(es[i].Text), string(got.Blocks[i].Text), "entry %d", i)
		assert.Equal(t, es[i].Data, got.Blocks[i].Data, "entry %d", i)
	}

	packed, err := es.GobEncode()
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"cut in a text", packed[:10]},
		{"no data after a text", packed[:1+len(es[0].Text)]},
		{"length beyond the end", []byte{0x7f, 'a'}},
		{"length overflowing", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out blockEntries
			assert.Error(t, out.GobDecode(c.b))
		})
	}
}
