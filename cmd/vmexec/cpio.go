package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// File type bits of a cpio c_mode (same values as the Linux S_IF* constants).
const (
	cpioDir     = 0o040000
	cpioRegular = 0o100000
	cpioSymlink = 0o120000
	cpioCharDev = 0o020000
)

// cpioWriter writes an uncompressed "newc" (SVR4, no CRC) cpio archive, the
// format the kernel unpacks as an initramfs. Names are relative ("bin/sh").
// Parent directories are emitted on demand, before their contents, because the
// kernel does not create them itself; each name is written at most once.
type cpioWriter struct {
	w    io.Writer
	ino  uint32
	seen map[string]bool
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: w, ino: 1, seen: map[string]bool{}}
}

// header writes one entry header and its padded name: 110 bytes of "070701" and
// 13 hex fields, then the NUL-terminated name, padded to a multiple of 4.
func (c *cpioWriter) header(name string, mode uint32, size int, mtime int64, rdevMajor, rdevMinor uint32) error {
	nlink := 1
	if mode&0o170000 == cpioDir {
		nlink = 2
	}
	c.ino++
	h := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, uint32(mtime), size, 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	_, err := io.WriteString(c.w, h+name+"\x00"+padding(len(h)+len(name)+1))
	return err
}

func padding(n int) string { return strings.Repeat("\x00", (4-n%4)%4) }

// parents emits the missing parent directories of name, outermost first.
func (c *cpioWriter) parents(name string) error {
	dir := path.Dir(name)
	if dir == "." || dir == "/" || c.seen[dir] {
		return nil
	}
	return c.Dir(dir, 0o755, 0)
}

// begin checks name and creates its parents; false means "already written".
func (c *cpioWriter) begin(name string) (bool, error) {
	if name == "" || name != path.Clean(name) || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "../") {
		return false, fmt.Errorf("cpio: bad entry name %q", name)
	}
	if c.seen[name] {
		return false, nil
	}
	if err := c.parents(name); err != nil {
		return false, err
	}
	c.seen[name] = true
	return true, nil
}

// Has reports whether name is already in the archive.
func (c *cpioWriter) Has(name string) bool { return c.seen[name] }

// Dir adds a directory; adding an existing one again is a no-op.
func (c *cpioWriter) Dir(name string, perm fs.FileMode, mtime int64) error {
	if ok, err := c.begin(name); !ok || err != nil {
		return err
	}
	return c.header(name, cpioDir|uint32(perm.Perm()), 0, mtime, 0, 0)
}

// File adds a regular file with the given contents.
func (c *cpioWriter) File(name string, perm fs.FileMode, mtime int64, data []byte) error {
	if ok, err := c.begin(name); err != nil || !ok {
		return firstErr(err, fmt.Errorf("cpio: duplicate entry %q", name))
	}
	if err := c.header(name, cpioRegular|uint32(perm&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid)), len(data), mtime, 0, 0); err != nil {
		return err
	}
	if _, err := c.w.Write(data); err != nil {
		return err
	}
	_, err := io.WriteString(c.w, padding(len(data)))
	return err
}

// Symlink adds a symbolic link; the target is stored as the entry's data.
func (c *cpioWriter) Symlink(name, target string) error {
	if ok, err := c.begin(name); err != nil || !ok {
		return firstErr(err, fmt.Errorf("cpio: duplicate entry %q", name))
	}
	if err := c.header(name, cpioSymlink|0o777, len(target), 0, 0, 0); err != nil {
		return err
	}
	_, err := io.WriteString(c.w, target+padding(len(target)))
	return err
}

// CharDev adds a character device node; skipped if the name already exists.
func (c *cpioWriter) CharDev(name string, perm fs.FileMode, major, minor uint32) error {
	if ok, err := c.begin(name); !ok || err != nil {
		return err
	}
	return c.header(name, cpioCharDev|uint32(perm.Perm()), 0, 0, major, minor)
}

// Close writes the trailer entry. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	return c.header("TRAILER!!!", 0, 0, 0, 0, 0)
}

func firstErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// AddHostFile copies the regular file at src into the archive as name.
func (c *cpioWriter) AddHostFile(src, name string, perm fs.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("cpio: %w", err)
	}
	var mtime int64
	if st, err := os.Stat(src); err == nil {
		mtime = st.ModTime().Unix()
	}
	return c.File(name, perm, mtime, data)
}

// AddTree copies the directory tree at src into the archive under prefix
// ("" for the root), keeping symlinks as symlinks. Names already in the
// archive are an error for files (directories are merged).
func (c *cpioWriter) AddTree(src, prefix string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cpio: %w", err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		if name == "." || name == "" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("cpio: %w", err)
		}
		switch {
		case d.IsDir():
			return c.Dir(name, info.Mode(), info.ModTime().Unix())
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("cpio: %w", err)
			}
			return c.Symlink(name, target)
		case d.Type().IsRegular():
			return c.AddHostFile(p, name, info.Mode())
		default:
			return fmt.Errorf("cpio: %s: unsupported file type %v", p, d.Type())
		}
	})
}
