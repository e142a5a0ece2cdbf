package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/gob"
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
type configCache struct {
	path  string
	build string // the running binary's Go build ID; "" disables the cache
	// lookPath finds exec checks' commands, as the decoder does
	// (configOptions.lookPath).
	lookPath func(string) (string, error)
}

// configCacheFormat changes whenever cachedConfig or the model changes
// shape in a way gob would not reject.
const configCacheFormat = 3

type cachedConfig struct {
	Format   int
	Build    string
	File     string // as given on the command line
	Digest   [sha256.Size]byte
	Reads    []fileStamp // the other files the decoder read
	Programs []string    // the exec checks' commands, looked up again on a hit
	Services []ipvs.VirtualService
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
	return configCache{path: statePath + ".config-cache", build: readBuildID(), lookPath: exec.LookPath}
}

// load returns the cached table for src, the bytes of file, if there is
// one and the files its decode read are unchanged.
func (c configCache) load(file string, src []byte) ([]ipvs.VirtualService, bool) {
	if c.build == "" {
		return nil, false
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return nil, false
	}
	var cc cachedConfig
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&cc); err != nil {
		return nil, false
	}
	if cc.Format != configCacheFormat || cc.Build != c.build || cc.File != file || cc.Digest != sha256.Sum256(src) {
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
// atomically, with a stamp of each other file its decode read. A
// configuration whose reads cannot be told or stamped is not stored.
func (c configCache) store(file string, src []byte, services []ipvs.VirtualService) error {
	if c.build == "" {
		return nil
	}
	paths, ok := lvshcl.FilesRead(src, file)
	if !ok {
		return nil
	}
	programs, ok := lvshcl.ExecCommands(src, file)
	if !ok {
		return nil
	}
	cc := cachedConfig{Format: configCacheFormat, Build: c.build, File: file, Digest: sha256.Sum256(src), Programs: programs, Services: services}
	for _, p := range paths {
		st, ok := stamp(p)
		if !ok {
			return nil
		}
		cc.Reads = append(cc.Reads, st)
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(cc); err != nil {
		return fmt.Errorf("encode config cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".config-cache-*")
	if err != nil {
		return fmt.Errorf("write config cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
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
