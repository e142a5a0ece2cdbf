package hcl

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A BlockCache makes parsing an edited file cost what the edit touched.
// The file is cut at the ends of its top-level blocks (chunk.go); each
// piece that is one virtual_server block (with the comments before it) is
// looked up by its text (by a hash/maphash hash, the text compared on a
// hit: cheaper than a SHA-256, which without the CPU's SHA instructions,
// as in an emulated guest, was a sixth of an edited parse). A hit is the
// block's decoded
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
// An entry keeps its block decoded too once a parse in this process used
// it (decodedBlock, blockrebase.go): the next parse that hits it uses the
// syntax as it is if the block has not moved, or a copy with its ranges
// moved if it has, and does not decode the bytes again.
//
// A BlockCache is safe for concurrent use. It keeps the blocks of the last
// two files it parsed: the daemon keeps one across SIGHUP reloads, and
// lvsctl apply persists its entries in its config cache (Entries,
// AddEntries). Entries are valid for the binary that made them only.
type BlockCache struct {
	mu      sync.Mutex
	gen     uint64
	seed    maphash.Seed
	entries map[uint64]*blockEntry // by the hash of the text (blockKey)
	nums    numMemo                // the numbers decoded from entries
	// Stats of the last parse: hits and misses of cacheable pieces.
	hits, misses int
}

type blockEntry struct {
	text []byte // the block's text, compared on a hit
	data []byte
	gen  uint64        // the last parse that used it
	dec  *decodedBlock // its decoded form, once a parse used it
}

// BlockEntry is one cached block, for persisting a cache: the block's
// text and its encoded syntax.
type BlockEntry struct {
	Text []byte
	Data []byte
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
	return &BlockCache{seed: maphash.MakeSeed(), entries: make(map[uint64]*blockEntry)}
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
	for _, e := range c.entries {
		if e.gen == c.gen {
			out = append(out, BlockEntry{Text: e.text, Data: e.data})
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
		c.entries[maphash.Bytes(c.seed, e.Text)] = &blockEntry{text: e.Text, data: e.Data, gen: c.gen}
	}
}

// get is the entry of text, whose hash is key.
func (c *BlockCache) get(key uint64, text []byte, gen uint64) ([]byte, *decodedBlock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || !bytes.Equal(e.text, text) {
		return nil, nil
	}
	e.gen = gen
	return e.data, e.dec
}

// put makes data the entry of text, whose hash is key (replacing the
// entry of another text of the same hash, if any).
func (c *BlockCache) put(key uint64, text, data []byte, dec *decodedBlock, gen uint64) {
	text = bytes.Clone(text) // not the whole file's bytes
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = &blockEntry{text: text, data: data, dec: dec, gen: gen}
}

// decoded records dec as the decoded form of the entry key, if it is
// still the entry of data.
func (c *BlockCache) decoded(key uint64, data []byte, dec *decodedBlock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil && len(e.data) == len(data) && (len(data) == 0 || &e.data[0] == &data[0]) {
		e.dec = dec
	}
}

// hit is the syntax of the entry key for a piece starting at at: its
// decoded form as it is if the block has not moved, a copy moved to at if
// it has, or else decoded from data (nil if that fails).
func (c *BlockCache) hit(key uint64, data []byte, dec *decodedBlock, filename string, at cut) (*serviceSyntax, *hclsyntax.Block) {
	var cb *cachedBlock
	switch {
	case dec != nil && dec.at == at && dec.filename == filename:
		return dec.cb.Service, dec.cb.stub()
	case dec != nil:
		cb = rebaseBlock(dec.cb, at.line-dec.at.line, at.byte-dec.at.byte, filename)
	default:
		// One allocation for the entry's decoded form and its syntax.
		both := new(struct {
			dec decodedBlock
			cb  cachedBlock
		})
		if !unpackInto(&both.cb, data, filename, at, &c.nums) {
			return nil, nil
		}
		both.dec = decodedBlock{cb: &both.cb, at: at, filename: filename}
		c.decoded(key, data, &both.dec)
		return both.cb.Service, both.cb.stub()
	}
	c.decoded(key, data, &decodedBlock{cb: cb, at: at, filename: filename})
	return cb.Service, cb.stub()
}

func (c *BlockCache) drop(key uint64, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil && len(e.data) == len(data) && (len(data) == 0 || &e.data[0] == &data[0]) {
		delete(c.entries, key)
	}
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

// cachedServices maps the virtual_server blocks of a file parsed through
// the cache, by the byte offset where each starts, to their decoded
// syntax: the stand-ins of hits, and the blocks decoded on a miss.
type cachedServices map[int]*serviceSyntax

// parse parses src through the cache. ok is false when the file is to be
// parsed whole (parseConfig): it cannot be cut, a piece has a syntax
// error, or two pieces set one attribute. The file's body holds, for each
// hit, a stand-in block with the block's header and ranges and an empty
// body, in file order; cached maps the cached blocks to their syntax.
//
// The pieces that are not hits are parsed in runs of consecutive pieces
// of chunkSize bytes or more, in parallel, as parseChunks does; each
// virtual_server block of a run that is its piece's only item is then
// decoded, and kept if it decoded without any diagnostic. Parsing a
// block in a run gives the ranges parsing its piece alone gives.
func (c *BlockCache) parse(src []byte, filename string) (f *hcl.File, cached cachedServices, ok bool) {
	cuts := topLevelCuts(src, 1)
	if len(cuts) < 2 {
		return nil, nil, false
	}
	gen := c.begin()
	end := func(i int) int {
		if i+1 < len(cuts) {
			return cuts[i+1].byte
		}
		return len(src)
	}
	type piece struct {
		candidate bool           // may be cached: one virtual_server, not the last piece
		key       uint64         // blockKey
		svc       *serviceSyntax // a hit
		stub      *hclsyntax.Block
	}
	pieces := make([]piece, len(cuts))
	parallel(len(cuts), func(i int) {
		p := &pieces[i]
		text := src[cuts[i].byte:end(i)]
		if i+1 == len(cuts) || !mayBeService(text) {
			return // the last piece is parsed: its end is the file's
		}
		p.candidate, p.key = true, maphash.Bytes(c.seed, text)
		if data, dec := c.get(p.key, text, gen); data != nil {
			if p.svc, p.stub = c.hit(p.key, data, dec, filename, cuts[i]); p.svc == nil {
				c.drop(p.key, data)
			}
		}
	})

	// Runs of the other pieces, cut after chunkSize bytes.
	type run struct {
		from, to int // pieces
		body     *hclsyntax.Body
		svcs     map[int]*serviceSyntax
		misses   int
		failed   bool
	}
	var runs []*run
	for i := 0; i < len(cuts); i++ {
		if pieces[i].svc != nil {
			continue
		}
		r := &run{from: i, to: i + 1}
		for r.to < len(cuts) && pieces[r.to].svc == nil && cuts[r.to].byte-cuts[i].byte < chunkSize {
			r.to++
		}
		runs = append(runs, r)
		i = r.to - 1
	}
	parallel(len(runs), func(k int) {
		r := runs[k]
		start := hcl.Pos{Line: cuts[r.from].line, Column: 1, Byte: cuts[r.from].byte}
		pf, diags := hclsyntax.ParseConfig(src[cuts[r.from].byte:end(r.to-1)], filename, start)
		b, isSyntax := pf.Body.(*hclsyntax.Body)
		if diags.HasErrors() || !isSyntax {
			r.failed = true
			return
		}
		r.body = b
		// Which piece each item is in, and how many each holds.
		pieceOf := func(off int) int {
			n, _ := slices.BinarySearchFunc(cuts[r.from:r.to], off, func(c cut, off int) int { return cmp.Compare(c.byte, off+1) })
			return r.from + n - 1
		}
		items := make(map[int]int, r.to-r.from)
		for _, a := range b.Attributes {
			items[pieceOf(a.SrcRange.Start.Byte)]++
		}
		for _, blk := range b.Blocks {
			items[pieceOf(blk.TypeRange.Start.Byte)]++
		}
		for _, blk := range b.Blocks {
			i := pieceOf(blk.TypeRange.Start.Byte)
			if !pieces[i].candidate || items[i] != 1 || blk.Type != blockVirtualServer || len(blk.Labels) != 1 {
				continue
			}
			cb, data := packBlock(blk, cuts[i])
			if cb == nil {
				continue
			}
			svc := cb.Service
			c.put(pieces[i].key, src[cuts[i].byte:end(i)], data, &decodedBlock{cb: cb, at: cuts[i], filename: filename}, gen)
			if r.svcs == nil {
				r.svcs = make(map[int]*serviceSyntax)
			}
			r.svcs[svc.DefRange.Start.Byte] = svc
			r.misses++
		}
	})

	hits, misses := 0, 0
	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	cached = make(cachedServices)
	k := 0
	for i := 0; i < len(cuts); i++ {
		if p := &pieces[i]; p.svc != nil {
			hits++
			body.Blocks = append(body.Blocks, p.stub)
			cached[p.stub.TypeRange.Start.Byte] = p.svc
			continue
		}
		r := runs[k]
		k++
		i = r.to - 1
		if r.failed {
			c.end(gen, hits, misses)
			return nil, nil, false
		}
		misses += r.misses
		for name, a := range r.body.Attributes {
			if _, dup := body.Attributes[name]; dup {
				c.end(gen, hits, misses)
				return nil, nil, false
			}
			body.Attributes[name] = a
		}
		body.Blocks = append(body.Blocks, r.body.Blocks...)
		maps.Copy(cached, r.svcs)
	}
	c.end(gen, hits, misses)
	last := runs[len(runs)-1].body // the last piece is never a hit
	body.SrcRange = hcl.Range{Filename: filename, Start: hcl.InitialPos, End: last.SrcRange.End}
	body.EndRange = last.EndRange
	return &hcl.File{Body: body, Bytes: src}, cached, true
}

// parallel calls f(0) to f(n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// mayBeService is a quick look for a virtual_server block in text.
func mayBeService(text []byte) bool {
	return bytes.Contains(text, []byte(blockVirtualServer))
}

// packBlock decodes blk, the only item of a piece starting at at, and
// encodes it; nil if it does not decode without any diagnostic or cannot
// be encoded.
func packBlock(blk *hclsyntax.Block, at cut) (*cachedBlock, []byte) {
	d := &decoder{}
	svc := d.service(blk.AsHCLBlock())
	if len(d.diags) > 0 {
		return nil, nil
	}
	cb := &cachedBlock{Service: svc, TypeRange: blk.TypeRange, OpenBraceRange: blk.OpenBraceRange, CloseBraceRange: blk.CloseBraceRange}
	data, err := encodeBlock(nil, cb, at)
	if err != nil {
		return nil, nil
	}
	return cb, data
}

// unpackBlock decodes an entry for a piece starting at at; nil if it
// does not decode.
func unpackBlock(data []byte, filename string, at cut) *cachedBlock {
	var cb cachedBlock
	if !unpackInto(&cb, data, filename, at, nil) {
		return nil
	}
	return &cb
}

// unpackInto decodes an entry for a piece starting at at into cb,
// sharing numbers through nums (nil: none); false if it does not decode.
func unpackInto(cb *cachedBlock, data []byte, filename string, at cut, nums *numMemo) bool {
	d := blockDecoder{buf: data, str: string(data), line: at.line - 1, byte: at.byte, filename: filename, nums: nums}
	return d.decodeBlock(cb) == nil && cb.Service != nil
}
