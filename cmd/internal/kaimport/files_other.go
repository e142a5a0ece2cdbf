//go:build !linux

package kaimport

import "os"

func openNonblock(name string) (*os.File, error) { return os.Open(name) }

// pseudoFile knows the pseudo file systems of Linux only.
func pseudoFile(*os.File) (string, error) { return "", nil }
