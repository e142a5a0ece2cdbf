package hcl

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A BlockCache makes parsing an edited file cost what the edit touched.
// The file is cut at the ends of its top-level blocks (chunk.go); each
// piece that is one virtual_server block (with the comments before it) is
// looked up by the SHA-256 of its text. A hit is the block's decoded
// syntax struct, rebuilt from the cache with every range moved to where
// the block now is (blockcodec.go), without hclsyntax; a miss parses and
// decodes the piece and adds it. Everything else in the file (top-level
// attributes, the other block types, the last block, any piece that does
// not parse or decode cleanly) is parsed by hclsyntax at its real
// position, as before, and validation (build.go: duplicate names and
// keys, references between blocks, VRRP and BGP) always runs over the
// whole decoded file.
//
// Only a block that decodes without any diagnostic is kept, and decoding
// is a function of the block's text and where it starts (a piece starts at
// the beginning of a line, so columns do not move): a hit yields exactly
// what parsing the file would, ranges and so diagnostics included. A file
// the cutter does not model (heredocs, template sequences in strings: see
// topLevelCuts) or with a piece that does not parse is parsed whole, as
// without a cache.
//
// A BlockCache is safe for concurrent use. It keeps the blocks of the last
// two files it parsed: the daemon keeps one across SIGHUP reloads, and
// lvsctl apply persists its entries in its config cache (Entries,
// AddEntries). Entries are valid for the binary that made them only.
type BlockCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[[sha256.Size]byte]*blockEntry
	// Stats of the last parse: hits and misses of cacheable pieces.
	hits, misses int
}

type blockEntry struct {
	data []byte
	gen  uint64 // the last parse that used it
}

// BlockEntry is one cached block, for persisting a cache: the SHA-256 of
// the block's text and its encoded syntax.
type BlockEntry struct {
	Digest [sha256.Size]byte
	Data   []byte
}

// cachedBlock is what an entry holds: the virtual_server's syntax and the
// block's own ranges, for the stand-in block of the file's body.
type cachedBlock struct {
	Service         *serviceSyntax
	TypeRange       hcl.Range
	OpenBraceRange  hcl.Range
	CloseBraceRange hcl.Range
}

// NewBlockCache returns an empty cache.
func NewBlockCache() *BlockCache {
	return &BlockCache{entries: make(map[[sha256.Size]byte]*blockEntry)}
}

// Len is the number of cached blocks.
func (c *BlockCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Stats are the hits and misses of the last parse, counting the pieces
// that could be cached.
func (c *BlockCache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// Entries returns the blocks of the last parse, for persisting.
func (c *BlockCache) Entries() []BlockEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]BlockEntry, 0, len(c.entries))
	for k, e := range c.entries {
		if e.gen == c.gen {
			out = append(out, BlockEntry{Digest: k, Data: e.data})
		}
	}
	return out
}

// AddEntries adds persisted blocks (of the same binary: see Entries).
// An entry that does not decode is a miss when it is used.
func (c *BlockCache) AddEntries(es []BlockEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range es {
		c.entries[e.Digest] = &blockEntry{data: e.Data, gen: c.gen}
	}
}

func (c *BlockCache) get(key [sha256.Size]byte, gen uint64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		return nil
	}
	e.gen = gen
	return e.data
}

func (c *BlockCache) put(key [sha256.Size]byte, data []byte, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = &blockEntry{data: data, gen: gen}
}

func (c *BlockCache) drop(key [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// begin starts a parse: its generation.
func (c *BlockCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	return c.gen
}

// end forgets the blocks neither this parse nor the one before used.
func (c *BlockCache) end(gen uint64, hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.gen+1 < gen {
			delete(c.entries, k)
		}
	}
	c.hits, c.misses = hits, misses
}

// cachedServices maps the stand-in virtual_server blocks of a file parsed
// through the cache, by the byte offset where each starts, to their
// decoded syntax.
type cachedServices map[int]*serviceSyntax

// parse parses src through the cache. ok is false when the file is to be
// parsed whole (parseConfig): it cannot be cut, a piece has a syntax
// error, or two pieces set one attribute. The file's body holds, for each
// cached block, a stand-in block with the block's header and ranges and an
// empty body, in file order; cached maps those bodies to their syntax.
func (c *BlockCache) parse(src []byte, filename string) (f *hcl.File, cached cachedServices, ok bool) {
	cuts := topLevelCuts(src, 1)
	if len(cuts) < 2 {
		return nil, nil, false
	}
	gen := c.begin()
	type piece struct {
		body   *hclsyntax.Body // parsed at its position
		stub   *hclsyntax.Block
		svc    *serviceSyntax
		failed bool
		hit    bool
		miss   bool
	}
	pieces := make([]piece, len(cuts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(cuts)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(cuts) {
					return
				}
				end := len(src)
				if i+1 < len(cuts) {
					end = cuts[i+1].byte
				}
				text := src[cuts[i].byte:end]
				p := &pieces[i]
				if i+1 < len(cuts) {
					// The last piece is parsed: its end is the file's.
					p.svc, p.stub, p.hit, p.miss = c.block(text, filename, cuts[i], gen)
					if p.svc != nil {
						continue
					}
				}
				start := hcl.Pos{Line: cuts[i].line, Column: 1, Byte: cuts[i].byte}
				pf, diags := hclsyntax.ParseConfig(text, filename, start)
				b, isSyntax := pf.Body.(*hclsyntax.Body)
				if diags.HasErrors() || !isSyntax {
					p.failed = true
					continue
				}
				p.body = b
			}
		})
	}
	wg.Wait()

	hits, misses := 0, 0
	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	cached = make(cachedServices)
	for i := range pieces {
		p := &pieces[i]
		if p.hit {
			hits++
		}
		if p.miss {
			misses++
		}
		if p.failed {
			c.end(gen, hits, misses)
			return nil, nil, false
		}
		if p.stub != nil {
			body.Blocks = append(body.Blocks, p.stub)
			cached[p.stub.TypeRange.Start.Byte] = p.svc
			continue
		}
		for name, a := range p.body.Attributes {
			if _, dup := body.Attributes[name]; dup {
				c.end(gen, hits, misses)
				return nil, nil, false
			}
			body.Attributes[name] = a
		}
		body.Blocks = append(body.Blocks, p.body.Blocks...)
	}
	c.end(gen, hits, misses)
	last := pieces[len(pieces)-1].body
	body.SrcRange = hcl.Range{Filename: filename, Start: hcl.InitialPos, End: last.SrcRange.End}
	body.EndRange = last.EndRange
	return &hcl.File{Body: body, Bytes: src}, cached, true
}

// block returns the decoded virtual_server of text, a piece starting at
// at, and its stand-in block, from the cache or decoded and added to it;
// nil if the piece is not one virtual_server block that decodes cleanly.
// hit and miss say which, for a piece that is such a block.
func (c *BlockCache) block(text []byte, filename string, at cut, gen uint64) (svc *serviceSyntax, stub *hclsyntax.Block, hit, miss bool) {
	if !mayBeService(text) {
		return nil, nil, false, false
	}
	key := sha256.Sum256(text)
	if data := c.get(key, gen); data != nil {
		if svc, stub := unpackBlock(data, filename, at); svc != nil {
			return svc, stub, true, false
		}
		c.drop(key)
	}
	svc, stub, data := packBlock(text, filename, at)
	if svc == nil {
		return nil, nil, false, false
	}
	c.put(key, data, gen)
	return svc, stub, false, true
}

// mayBeService is a quick look for a virtual_server block in text.
func mayBeService(text []byte) bool {
	const kw = blockVirtualServer
	for i := 0; i+len(kw) <= len(text); i++ {
		if text[i] == 'v' && string(text[i:i+len(kw)]) == kw {
			return true
		}
	}
	return false
}

// packBlock parses and decodes text, a piece starting at at, and encodes
// it; nil unless it is exactly one virtual_server block with one label
// that parses and decodes without any diagnostic.
func packBlock(text []byte, filename string, at cut) (*serviceSyntax, *hclsyntax.Block, []byte) {
	f, diags := hclsyntax.ParseConfig(text, filename, hcl.Pos{Line: at.line, Column: 1, Byte: at.byte})
	if len(diags) > 0 {
		return nil, nil, nil
	}
	b, ok := f.Body.(*hclsyntax.Body)
	if !ok || len(b.Attributes) > 0 || len(b.Blocks) != 1 {
		return nil, nil, nil
	}
	blk := b.Blocks[0]
	if blk.Type != blockVirtualServer || len(blk.Labels) != 1 {
		return nil, nil, nil
	}
	d := &decoder{}
	svc := d.service(blk.AsHCLBlock())
	if len(d.diags) > 0 {
		return nil, nil, nil
	}
	data, err := encodeBlock(nil, &cachedBlock{Service: svc, TypeRange: blk.TypeRange, OpenBraceRange: blk.OpenBraceRange, CloseBraceRange: blk.CloseBraceRange}, at)
	if err != nil {
		return nil, nil, nil
	}
	// The block as a stand-in: its body is decoded already.
	stub := *blk
	stub.Body = &hclsyntax.Body{SrcRange: blk.Body.SrcRange, EndRange: blk.Body.EndRange}
	return svc, &stub, data
}

// unpackBlock decodes an entry for a piece starting at at; nil if it
// does not decode.
func unpackBlock(data []byte, filename string, at cut) (*serviceSyntax, *hclsyntax.Block) {
	var cb cachedBlock
	d := blockDecoder{buf: data, line: at.line - 1, byte: at.byte, filename: filename}
	if err := d.decodeBlock(&cb); err != nil || cb.Service == nil {
		return nil, nil
	}
	s := cb.Service
	stub := &hclsyntax.Block{
		Type:            blockVirtualServer,
		Labels:          []string{s.Name},
		Body:            &hclsyntax.Body{SrcRange: hcl.RangeBetween(cb.OpenBraceRange, cb.CloseBraceRange), EndRange: cb.CloseBraceRange},
		TypeRange:       cb.TypeRange,
		LabelRanges:     []hcl.Range{s.NameRange},
		OpenBraceRange:  cb.OpenBraceRange,
		CloseBraceRange: cb.CloseBraceRange,
	}
	return s, stub
}
