package ipvs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// StateFile keeps the ownership record as JSON in one file:
//
//	{"version": 1, "services": ["TCP 10.0.0.1:80", "FWM 7 ipv4"]}
//
// A missing file is an empty record. Save replaces the file atomically.
type StateFile struct {
	Path string
}

var _ Ownership = StateFile{}

type stateDoc struct {
	Version  int          `json:"version"`
	Services []ServiceKey `json:"services"`
}

const stateVersion = 1

// Load reads the record.
func (f StateFile) Load() ([]ServiceKey, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc stateDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	if doc.Version != stateVersion {
		return nil, fmt.Errorf("%s: unsupported state version %d", f.Path, doc.Version)
	}
	return doc.Services, nil
}

// Save writes the record, creating the directory if needed.
func (f StateFile) Save(keys []ServiceKey) error {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, ServiceKey.Compare)
	b, err := json.MarshalIndent(stateDoc{Version: stateVersion, Services: slices.Compact(keys)}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}

// MemOwnership is an in-memory Ownership for tests.
type MemOwnership struct{ Keys []ServiceKey }

// Load returns the keys.
func (m *MemOwnership) Load() ([]ServiceKey, error) { return slices.Clone(m.Keys), nil }

// Save stores the keys.
func (m *MemOwnership) Save(k []ServiceKey) error {
	m.Keys = slices.Clone(k)
	return nil
}
