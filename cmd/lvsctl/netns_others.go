//go:build !linux

package main

import "errors"

func reexecInNetns(path string) error {
	if path == "" {
		return nil
	}
	return errors.New("--netns needs Linux")
}
