package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// configCache keeps the decoded table of the last file that apply applied,
// next to the ownership record, so that applying an unchanged file again
// (config management re-running apply every few minutes) does not parse it
// again: for a table of thousands of services, parsing the HCL costs more
// than dumping the kernel. An entry is used only by the same lvsctl binary
// (its Go build ID), for the same file name and bytes (SHA-256), and while
// every other file the decoder read (password_file, ca_file: see
// lvshcl.FilesRead; relative paths resolved as the decoder does) still has
// the bytes it had, which each hit checks again, and every exec check's
// command is still found (lvshcl.ExecCommands; the decoder looks them up
// too, see configOptions). Only files that decoded
// without any diagnostic, error or warning, are kept: the verdict and the
// table are a function of those inputs, so a hit yields what a parse would.
// Anything unreadable or mismatched is a miss.
//
// The same file also keeps the decoded virtual_server blocks of the last
// file parsed (lvshcl.BlockCache, with each block's text), so
// that an edited file decodes only the blocks that changed: load adds them
// to blocks when the table itself is a miss, apply's decode uses them and
// store writes back the blocks that decode used. lvsctl run reads them at
// start, keeps them in memory across reloads and writes them back when it
// stops (useBlockCache). Blocks are a function of their text only (the
// build step, with every look-up outside the file, runs on every decode),
// so they are kept whatever the file's diagnostics.
type configCache struct {
	path  string
	build string // the running binary's Go build ID; "" disables the cache
	// lookPath finds exec checks' commands, as the decoder does
	// (configOptions.lookPath).
	lookPath func(string) (string, error)
	// blocks receives the cached blocks on a miss of the table; nil: not
	// wanted.
	blocks *lvshcl.BlockCache
}

// configCacheFormat changes whenever cachedConfig or the model changes
// shape in a way gob would not reject.
const configCacheFormat = 6 // 5: blocks keep their text, not its SHA-256; 6: blocks packed (blockEntries)

type cachedConfig struct {
	Format   int
	Build    string
	File     string // as given on the command line
	Digest   [sha256.Size]byte
	Reads    []fileStamp           // the other files the decoder read
	Programs []string              // the exec checks' commands, looked up again on a hit
	Services []ipvs.VirtualService // nil (and Digest zero): blocks only
	// Blocks are the decoded blocks of the last file parsed.
	Blocks blockEntries
}

// blockEntries are the config cache's blocks, which gob encodes as one
// byte string (GobEncode): as a slice of structs of two byte slices each,
// gob's encoding of them was a seventh of an edited apply on the host,
// and its decoding two allocations an entry.
type blockEntries []lvshcl.BlockEntry

// GobEncode packs es: for each entry, its text and its data, each after
// its length (a uvarint).
func (es blockEntries) GobEncode() ([]byte, error) {
	n := 0
	for _, e := range es {
		n += len(e.Text) + len(e.Data) + 2*binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(len(e.Text)))
		b = append(b, e.Text...)
		b = binary.AppendUvarint(b, uint64(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b, nil
}

// GobDecode unpacks what GobEncode packed: the entries share one copy of
// b.
func (es *blockEntries) GobDecode(b []byte) error {
	b = bytes.Clone(b) // gob reuses b
	var out blockEntries
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errors.New("config cache: block entries truncated")
		}
		field := b[k : k+int(n) : k+int(n)]
		b = b[k+int(n):]
		return field, nil
	}
	for len(b) > 0 {
		text, err := next()
		if err != nil {
			return err
		}
		data, err := next()
		if err != nil {
			return err
		}
		out = append(out, lvshcl.BlockEntry{Text: text, Data: data})
	}
	*es = out
	return nil
}

// fileStamp is one file the decoder read, and its bytes then.
type fileStamp struct {
	Path   string
	Digest [sha256.Size]byte
}

// maxStampedFile bounds what a stamp reads: passwords and CA bundles are
// small; a configuration that reads anything larger is not cached.
const maxStampedFile = 4 << 20

// stamp reads path as a hit would, for its digest; ok is false if it is
// not a regular file of at most maxStampedFile bytes that can be read.
func stamp(path string) (fileStamp, bool) {
	f, err := os.Open(path)
	if err != nil {
		return fileStamp{}, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > maxStampedFile {
		return fileStamp{}, false
	}
	h := sha256.New()
	if n, err := io.Copy(h, io.LimitReader(f, maxStampedFile+1)); err != nil || n > maxStampedFile {
		return fileStamp{}, false
	}
	st := fileStamp{Path: path}
	h.Sum(st.Digest[:0])
	return st, true
}

func cacheFor(statePath string) configCache {
	return configCache{path: statePath + ".config-cache", build: readBuildID(), lookPath: exec.LookPath, blocks: lvshcl.NewBlockCache()}
}

// read decodes the cache file; false if there is none of this binary.
func (c configCache) read() (cachedConfig, bool) {
	var cc cachedConfig
	if c.build == "" {
		return cc, false
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return cc, false
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&cc); err != nil {
		return cc, false
	}
	return cc, cc.Format == configCacheFormat && cc.Build == c.build
}

// load returns the cached table for src, the bytes of file, if there is
// one and the files its decode read are unchanged. Otherwise it adds the
// cached blocks to c.blocks.
func (c configCache) load(file string, src []byte) ([]ipvs.VirtualService, bool) {
	cc, ok := c.read()
	if !ok {
		return nil, false
	}
	if cc.Services == nil || cc.File != file || cc.Digest != sha256.Sum256(src) {
		if c.blocks != nil {
			c.blocks.AddEntries(cc.Blocks)
		}
		return nil, false
	}
	for _, want := range cc.Reads {
		if got, ok := stamp(want.Path); !ok || got != want {
			return nil, false
		}
	}
	for _, p := range cc.Programs {
		if c.lookPath == nil {
			return nil, false
		}
		if _, err := c.lookPath(p); err != nil {
			return nil, false
		}
	}
	return cc.Services, true
}

// store records services as the decoded table of src, the bytes of file,
// atomically, with a stamp of each other file its decode read, and the
// blocks c.blocks' last parse used. A nil services, or a configuration
// whose reads cannot be told or stamped, stores the blocks only.
func (c configCache) store(file string, src []byte, services []ipvs.VirtualService) error {
	if c.build == "" {
		return nil
	}
	cc := cachedConfig{Format: configCacheFormat, Build: c.build}
	if c.blocks != nil {
		cc.Blocks = c.blocks.Entries()
	}
	if services != nil {
		paths, readsOK := lvshcl.FilesRead(src, file)
		programs, programsOK := lvshcl.ExecCommands(src, file)
		table := cachedConfig{Format: configCacheFormat, Build: c.build, File: file, Digest: sha256.Sum256(src), Programs: programs, Services: services, Blocks: cc.Blocks}
		for _, p := range paths {
			st, ok := stamp(p)
			if !ok {
				readsOK = false
				break
			}
			table.Reads = append(table.Reads, st)
		}
		if readsOK && programsOK {
			cc = table
		}
	}
	return c.write(cc)
}

// storeBlocks writes the blocks c.blocks' last parse used, keeping the
// cached table there is.
func (c configCache) storeBlocks() error {
	if c.build == "" || c.blocks == nil {
		return nil
	}
	cc, ok := c.read()
	if !ok {
		cc = cachedConfig{Format: configCacheFormat, Build: c.build}
	}
	cc.Blocks = c.blocks.Entries()
	return c.write(cc)
}

// useBlockCache makes the configuration options of g (configOptions) use
// the blocks cached next to the ownership record, for lvsctl run: one
// cache for the start, every SIGHUP and every plan or apply through the
// socket. The returned function writes the blocks of the last parse back,
// for the next start.
func (g *globals) useBlockCache(e *env) (save func()) {
	c := cacheFor(g.ownership(e).Path)
	if cc, ok := c.read(); ok {
		c.blocks.AddEntries(cc.Blocks)
	}
	g.blocks = c.blocks
	return func() { _ = c.storeBlocks() } // best effort: the next start parses more
}

// write replaces the cache file with cc, atomically.
func (c configCache) write(cc cachedConfig) error {
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".config-cache-*")
	if err != nil {
		return fmt.Errorf("write config cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	// Straight to the file: gob writes each message with one write.
	if err := gob.NewEncoder(tmp).Encode(cc); err != nil {
		tmp.Close()
		return fmt.Errorf("write config cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("write config cache: %w", err)
	}
	return nil
}

// readBuildID is the Go build ID of the running executable ("" if it
// cannot be read): it changes with every change to the program.
func readBuildID() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := elf.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return ""
	}
	data, err := s.Data()
	if err != nil || len(data) == 0 {
		return ""
	}
	return string(data)
}
