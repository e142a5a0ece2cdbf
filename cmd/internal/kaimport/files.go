package kaimport

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// The import reads the keepalived files, and looks at the programs their
// commands name, through files: the host's file system, or Options.FS (the
// tests and the fuzzer, which must never read the host's files).

// Limits on what the reader takes in. keepalived has none of them; they
// stop a hostile or mistaken configuration (an include of /dev/zero, a file
// that includes itself twice per level) before it exhausts the machine.
type Limits struct {
	// FileSize is the largest file read, in bytes.
	FileSize int64
	// TotalSize is the most read over all files, in bytes.
	TotalSize int64
	// Files is the most files read, the top one included; each match of a
	// glob counts.
	Files int
	// Depth is the deepest nesting of includes.
	Depth int
}

// DefaultLimits are far above real configurations: the largest Debian
// sample is 2 KiB; a director with 10,000 services in one file per service
// reads about 10,000 files of 1 KiB.
func DefaultLimits() Limits {
	return Limits{FileSize: 16 << 20, TotalSize: 64 << 20, Files: 20000, Depth: 32}
}

// fileSource is where the import reads. Names are as written (relative to the
// current directory, or absolute).
type fileSource interface {
	// stat follows symbolic links.
	stat(name string) (fs.FileInfo, error)
	// readFile reads a regular file, at most limit bytes: errTooBig past
	// that, errNotRegular for anything but a regular file (a device, a
	// FIFO, a socket, a directory, a file of /proc or /sys).
	readFile(name string, limit int64) ([]byte, error)
	// head reads the first n bytes of a regular file (fewer if it is
	// shorter).
	head(name string, n int) ([]byte, error)
	glob(pattern string) ([]string, error)
	abs(name string) string
	// realpath resolves symbolic links (name itself if it cannot).
	realpath(name string) string
	// owner is the lstat of name and its owner; false when unknown.
	owner(name string) (st fs.FileInfo, uid, gid uint32, ok bool)
}

var (
	errTooBig     = errors.New("file too big")
	errNotRegular = errors.New("not a regular file")
)

// hostFiles are the host's.
type hostFiles struct{}

func (hostFiles) stat(name string) (fs.FileInfo, error)        { return os.Stat(name) }
func (hostFiles) glob(pattern string) ([]string, error)        { return filepath.Glob(pattern) }
func (hostFiles) readFile(n string, lim int64) ([]byte, error) { return readHostFile(n, lim) }

func (hostFiles) head(name string, n int) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if err := regular(st); err != nil {
		return nil, err
	}
	f, err := openNonblock(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	n, err = io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:n], err
}

func (hostFiles) realpath(name string) string {
	if p, err := filepath.EvalSymlinks(name); err == nil {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
	}
	return name
}

func (hostFiles) owner(name string) (fs.FileInfo, uint32, uint32, bool) {
	st, err := os.Lstat(name)
	if err != nil {
		return nil, 0, 0, false
	}
	uid, gid, ok := fileOwner(st)
	return st, uid, gid, ok
}

func (hostFiles) abs(name string) string {
	if a, err := filepath.Abs(name); err == nil {
		return a
	}
	return name
}

// readHostFile checks the type before opening (opening a FIFO would wait
// for a writer), opens without blocking, and checks again on the open file
// (it may have been replaced in between).
func readHostFile(name string, limit int64) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if err := regular(st); err != nil {
		return nil, err
	}
	f, err := openNonblock(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := regular(st); err != nil {
		return nil, err
	}
	if pseudo, err := pseudoFile(f); err != nil {
		return nil, err
	} else if pseudo != "" {
		return nil, fmt.Errorf("%w: a file of %s", errNotRegular, pseudo)
	}
	return readLimited(f, limit)
}

func regular(st fs.FileInfo) error {
	m := st.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return fmt.Errorf("%w: a directory", errNotRegular)
	case m&fs.ModeNamedPipe != 0:
		return fmt.Errorf("%w: a FIFO", errNotRegular)
	case m&fs.ModeSocket != 0:
		return fmt.Errorf("%w: a socket", errNotRegular)
	case m&fs.ModeDevice != 0:
		return fmt.Errorf("%w: a device", errNotRegular)
	}
	return fmt.Errorf("%w: mode %v", errNotRegular, m)
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", errTooBig, limit)
	}
	return data, nil
}

// fsFiles serve an fs.FS: an absolute name is taken relative to its root,
// a relative one too (the current directory is the root).
type fsFiles struct{ fsys fs.FS }

// fsName is name in fsys, and whether it can be there ("../x" cannot).
func fsName(name string) (string, bool) {
	n := strings.TrimPrefix(path.Clean(filepath.ToSlash(name)), "/")
	if n == "" {
		n = "."
	}
	return n, fs.ValidPath(n)
}

func (f fsFiles) stat(name string) (fs.FileInfo, error) {
	n, ok := fsName(name)
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return fs.Stat(f.fsys, n)
}

func (f fsFiles) readFile(name string, limit int64) ([]byte, error) {
	n, ok := fsName(name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	st, err := fs.Stat(f.fsys, n)
	if err != nil {
		return nil, err
	}
	if err := regular(st); err != nil {
		return nil, err
	}
	file, err := f.fsys.Open(n)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return readLimited(file, limit)
}

func (f fsFiles) head(name string, n int) ([]byte, error) {
	data, err := f.readFile(name, 1<<30)
	if len(data) > n {
		data = data[:n]
	}
	return data, err
}

func (f fsFiles) glob(pattern string) ([]string, error) {
	n, ok := fsName(pattern)
	if !ok {
		return nil, nil
	}
	m, err := fs.Glob(f.fsys, n)
	if err != nil || !filepath.IsAbs(pattern) {
		return m, err
	}
	for i := range m {
		m[i] = "/" + m[i]
	}
	return m, nil
}

func (f fsFiles) realpath(name string) string { return f.abs(name) }

// owner: an fs.FS has no owners.
func (fsFiles) owner(string) (fs.FileInfo, uint32, uint32, bool) { return nil, 0, 0, false }

func (fsFiles) abs(name string) string {
	n, _ := fsName(name)
	return "/" + n
}
