//go:build !linux

package director

import (
	"context"
	"errors"
	"log/slog"
)

// NetlinkLinks is the LinkSource of the host; Linux only.
type NetlinkLinks struct {
	Logger *slog.Logger
}

// Watch implements LinkSource.
func (NetlinkLinks) Watch(context.Context, func(string, bool)) error {
	return errors.New("following link states needs Linux")
}
