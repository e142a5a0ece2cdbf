package kaimport

import (
	"io/fs"
	"os"
	"syscall"
)

func fileOwner(st fs.FileInfo) (uid, gid uint32, ok bool) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Uid, s.Gid, true
	}
	return 0, 0, false
}

func openNonblock(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}

// Magic numbers of the pseudo file systems whose regular files are not
// files: their size is 0 and their contents are the kernel's (environ,
// memory maps, settings).
const (
	procMagic  = 0x9fa0
	sysfsMagic = 0x62656572
)

// pseudoFile names the pseudo file system f is on ("/proc", "/sys"), or
// is empty.
func pseudoFile(f *os.File) (string, error) {
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err != nil {
		return "", err
	}
	switch st.Type {
	case procMagic:
		return "/proc", nil
	case sysfsMagic:
		return "/sys", nil
	}
	return "", nil
}
