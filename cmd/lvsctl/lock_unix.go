//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockState takes an exclusive lock beside the ownership record so that two
// applies to one namespace never interleave. It fails at once if another
// lvsctl holds it.
func lockState(statePath string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(statePath), 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	f, err := os.OpenFile(statePath+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", statePath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another lvsctl is applying to this namespace (lock %s.lock is held)", statePath)
		}
		return nil, fmt.Errorf("lock %s: %w", statePath, err)
	}
	return func() { f.Close() }, nil
}
