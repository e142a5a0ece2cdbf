package hcl

import (
	"hash/maphash"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodedEntries are the entries of cache with a decoded form.
func decodedEntries(c *BlockCache) map[*blockEntry]*decodedBlock {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[*blockEntry]*decodedBlock{}
	for _, e := range c.entries {
		if e.dec != nil {
			out[e] = e.dec
		}
	}
	return out
}

// TestRebaseMatchesUnpack: moving a decoded block (the daemon's path for a
// block that moved) gives what decoding its entry there gives (the path
// from the on-disk cache), for every block of every test file, to places
// before and after it and in another file.
func TestRebaseMatchesUnpack(t *testing.T) {
	blocks := 0
	for name, src := range blockCacheFiles(t) {
		cache := NewBlockCache()
		Options{Blocks: cache}.Parse(src, name)
		for e, dec := range decodedEntries(cache) {
			blocks++
			for _, to := range []struct {
				at       cut
				filename string
			}{
				{dec.at, name},
				{cut{byte: dec.at.byte + 9, line: dec.at.line + 1}, name},
				{cut{byte: dec.at.byte + 1000, line: dec.at.line + 37}, "other.hcl"},
				{cut{byte: 0, line: 1}, name},
			} {
				want := unpackBlock(e.data, to.filename, to.at)
				require.NotNil(t, want, "%s: entry at %v", name, dec.at)
				got := rebaseBlock(dec.cb, to.at.line-dec.at.line, to.at.byte-dec.at.byte, to.filename)
				require.Equal(t, want, got, "%s: block at %v moved to %v", name, dec.at, to.at)
			}
		}
	}
	require.Greater(t, blocks, 100)
}

// TestDecodedBlocksUnchanged: a parse never modifies the syntax it was
// handed, so the decoded form the cache keeps (and hands to the next
// parse as it is) still encodes to the entry's bytes after parses that
// used it as it is, moved, and decoded.
func TestDecodedBlocksUnchanged(t *testing.T) {
	checked := 0
	for name, src := range blockCacheFiles(t) {
		cache := NewBlockCache()
		moved := append([]byte("# moved\n"), src...)
		for _, next := range [][]byte{src, src, moved, moved, src} {
			sameParse(t, cache, next, name)
		}
		for e, dec := range decodedEntries(cache) {
			data, err := encodeBlock(nil, dec.cb, dec.at)
			require.NoError(t, err)
			require.Equal(t, e.data, data, "%s: block at %v", name, dec.at)
			checked++
		}
	}
	require.Greater(t, checked, 100)
}

// TestBlockCacheHashCollision: an entry is found by a hash of its text,
// and used only if the text is the piece's: here every hash leads to
// another block's entry, and nothing is a hit.
func TestBlockCacheHashCollision(t *testing.T) {
	src := bigTable(6)
	filled := NewBlockCache()
	sameParse(t, filled, src, "x.hcl")
	entries := filled.Entries()
	require.Greater(t, len(entries), 3)

	cache := NewBlockCache()
	for i, e := range entries {
		other := entries[(i+1)%len(entries)]
		cache.entries[maphash.Bytes(cache.seed, other.Text)] = &blockEntry{text: e.Text, data: e.Data}
	}
	sameParse(t, cache, src, "x.hcl")
	hits, misses := cache.Stats()
	assert.Equal(t, 0, hits)
	assert.Equal(t, len(entries), misses)
}
