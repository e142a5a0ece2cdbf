//go:build !linux

package realserver

import (
	"errors"
	"runtime"
)

// Netns is a network namespace. Preparing a real server is a Linux
// feature: on this system Open always fails.
type Netns struct{ System }

// Open fails: real server setup needs Linux.
func Open(netnsPath string) (*Netns, error) {
	return nil, errors.New("lvsctl realserver needs Linux; this is " + runtime.GOOS)
}
