package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lvsctl/lvsctl/ipvs"
)

// configCache keeps the decoded table of the last file that apply applied,
// next to the ownership record, so that applying an unchanged file again
// (config management re-running apply every few minutes) does not parse it
// again: for a table of thousands of services, parsing the HCL costs more
// than dumping the kernel. An entry is used only by the same lvsctl binary
// (its Go build ID) and for the same bytes (SHA-256), and only files that
// decoded without any diagnostic, error or warning, are kept: the table is
// a pure function of those two, so a hit yields what a parse would.
// Anything unreadable or mismatched is a miss.
type configCache struct {
	path  string
	build string // the running binary's Go build ID; "" disables the cache
}

// configCacheFormat changes whenever cachedConfig or the model changes
// shape in a way gob would not reject.
const configCacheFormat = 1

type cachedConfig struct {
	Format   int
	Build    string
	Digest   [sha256.Size]byte
	Services []ipvs.VirtualService
}

func cacheFor(statePath string) configCache {
	return configCache{path: statePath + ".config-cache", build: readBuildID()}
}

// load returns the cached table for src, if there is one.
func (c configCache) load(src []byte) ([]ipvs.VirtualService, bool) {
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
	if cc.Format != configCacheFormat || cc.Build != c.build || cc.Digest != sha256.Sum256(src) {
		return nil, false
	}
	return cc.Services, true
}

// store records services as the decoded table of src, atomically.
func (c configCache) store(src []byte, services []ipvs.VirtualService) error {
	if c.build == "" {
		return nil
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(cachedConfig{Format: configCacheFormat, Build: c.build, Digest: sha256.Sum256(src), Services: services}); err != nil {
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
