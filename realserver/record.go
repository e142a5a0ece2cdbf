package realserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
)

// Record is what start changed in one namespace, so that stop can undo
// exactly that: every sysctl it wrote with the value it found, every
// address it added, and the link state it changed. Things that were already
// right are not in it, so stop leaves them alone.
type Record struct {
	Version   int             `json:"version"`
	Namespace Identity        `json:"namespace"`
	Config    Config          `json:"config"`
	Sysctls   []SysctlChange  `json:"sysctls,omitempty"`
	Addresses []AddressChange `json:"addresses,omitempty"`
	Links     []LinkChange    `json:"links,omitempty"`
	// FOU lists the GUE receive ports start opened.
	FOU []uint16 `json:"fou,omitempty"`
}

// SysctlChange is a sysctl start wrote: Previous is what it found, Set
// what it wrote.
type SysctlChange struct {
	Sysctl
	Previous string `json:"previous"`
	Set      string `json:"set"`
}

// AddressChange is an address start added.
type AddressChange struct {
	Link   string       `json:"link"`
	Prefix netip.Prefix `json:"prefix"`
}

// LinkChange is a link start created or brought up.
type LinkChange struct {
	Name    string `json:"name"`
	Created bool   `json:"created,omitempty"`
	SetUp   bool   `json:"set_up,omitempty"`
}

const recordVersion = 1

// Empty reports whether r records no change.
func (r *Record) Empty() bool {
	return r == nil || len(r.Sysctls) == 0 && len(r.Addresses) == 0 && len(r.Links) == 0 && len(r.FOU) == 0
}

func (r *Record) sysctl(k Sysctl) (int, bool) {
	i := slices.IndexFunc(r.Sysctls, func(c SysctlChange) bool { return c.Sysctl == k })
	return i, i >= 0
}

func (r *Record) address(link string, p netip.Prefix) bool {
	return slices.Contains(r.Addresses, AddressChange{Link: link, Prefix: p})
}

func (r *Record) link(name string) (int, bool) {
	i := slices.IndexFunc(r.Links, func(l LinkChange) bool { return l.Name == name })
	return i, i >= 0
}

func (r *Record) clone() *Record {
	c := *r
	c.Config.VIPs = slices.Clone(r.Config.VIPs)
	c.Sysctls = slices.Clone(r.Sysctls)
	c.Addresses = slices.Clone(r.Addresses)
	c.Links = slices.Clone(r.Links)
	c.FOU = slices.Clone(r.FOU)
	return &c
}

// check validates a record read from disk: it names only sysctls
// realserver manages, under /proc/sys/net/ipv4/conf.
func (r *Record) check() error {
	if r.Version != recordVersion {
		return fmt.Errorf("unsupported record version %d", r.Version)
	}
	for _, s := range r.Sysctls {
		if err := s.Sysctl.check(); err != nil {
			return err
		}
	}
	for _, a := range r.Addresses {
		if !a.Prefix.IsValid() || a.Link == "" {
			return fmt.Errorf("invalid address entry %+v", a)
		}
	}
	return nil
}

// RecordFile keeps a Record as JSON in one file. A missing file is no
// record. Save replaces the file atomically (write, fsync, rename).
type RecordFile struct {
	Path string
}

// Load reads the record; it returns nil, nil when there is none.
func (f RecordFile) Load() (*Record, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return &r, nil
}

// Save writes r, creating the directory if needed. An empty record removes
// the file: there is nothing left to undo.
func (f RecordFile) Save(r *Record) error {
	if r.Empty() {
		return f.Remove()
	}
	r.Version = recordVersion
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".realserver-*")
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
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return err
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Remove deletes the record; a missing one is fine.
func (f RecordFile) Remove() error {
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
