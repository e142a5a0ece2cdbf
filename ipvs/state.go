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
//	{"version": 2, "services": ["TCP 10.0.0.1:80", "FWM 7 ipv4"],
//	 "intended": ["TCP 10.0.0.2:80"]}
//
// services are the owned keys, intended the keys an unfinished apply may
// have created (Record). Version 1 files, written by earlier releases, have
// no intended keys and every key confirmed; they are read as such and
// rewritten as version 2 by the next apply that changes the record. A
// missing file is an empty record; a file that does not parse, or of
// another version, is an error naming the file. Save replaces the file
// atomically (a synced temporary file renamed over it).
type StateFile struct {
	Path string
}

var _ Ownership = StateFile{}

type stateDoc struct {
	Version  int          `json:"version"`
	Services []ServiceKey `json:"services"`
	Intended []ServiceKey `json:"intended,omitempty"`
}

const stateVersion = 2

// Load reads the record: sorted sets, nil when empty.
func (f StateFile) Load() (Record, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, nil
	}
	if err != nil {
		return Record{}, err
	}
	var doc stateDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return Record{}, fmt.Errorf("%s: %w", f.Path, err)
	}
	switch doc.Version {
	case 1:
		if doc.Intended != nil {
			return Record{}, fmt.Errorf("%s: a version 1 state file has no \"intended\" keys", f.Path)
		}
		return Record{Owned: doc.Services}.normalize(), nil
	case stateVersion:
		return Record{Owned: doc.Services, Intended: doc.Intended}.normalize(), nil
	default:
		return Record{}, fmt.Errorf("%s: unsupported state version %d (this lvsctl reads versions 1 and %d)", f.Path, doc.Version, stateVersion)
	}
}

// Save writes the record, creating the directory if needed.
func (f StateFile) Save(rec Record) error {
	rec = rec.normalize()
	if rec.Owned == nil {
		rec.Owned = []ServiceKey{} // "services": [], not null
	}
	b, err := json.MarshalIndent(stateDoc{Version: stateVersion, Services: rec.Owned, Intended: rec.Intended}, "", "  ")
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

// MemOwnership is an in-memory Ownership for tests: Keys are the owned
// keys, Intended the intended ones.
type MemOwnership struct {
	Keys     []ServiceKey
	Intended []ServiceKey
	// Saves counts the calls to Save.
	Saves int
}

// Load returns the record.
func (m *MemOwnership) Load() (Record, error) {
	return Record{Owned: slices.Clone(m.Keys), Intended: slices.Clone(m.Intended)}, nil
}

// Save stores the record.
func (m *MemOwnership) Save(r Record) error {
	m.Keys, m.Intended = slices.Clone(r.Owned), slices.Clone(r.Intended)
	m.Saves++
	return nil
}
