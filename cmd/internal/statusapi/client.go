package statusapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
)

// ErrNoDaemon means that no `lvsctl run` serves the socket.
var ErrNoDaemon = errors.New("no lvsctl run is serving")

// Get asks the daemon serving the socket at path for its Status. When none
// does, the error matches ErrNoDaemon and says what to try.
func Get(ctx context.Context, path string) (Status, json.RawMessage, error) {
	tr := transport(path)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://lvsctl"+Path, nil)
	if err != nil {
		return Status{}, nil, err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return Status{}, nil, dialError(path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return Status{}, nil, fmt.Errorf("status from %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Status{}, nil, fmt.Errorf("status from %s: %s", path, resp.Status)
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return Status{}, nil, fmt.Errorf("status from %s: %w", path, err)
	}
	return st, body, nil
}

// transport dials the socket at path.
func transport(path string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableKeepAlives: true,
	}
}

// dialError explains a failed request: no daemon, a stale socket, or not
// enough privileges.
func dialError(path string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w on %s (is it running? for a daemon started with --netns or --socket, give the same flag)", ErrNoDaemon, path)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w on %s (the socket is stale: the daemon is gone)", ErrNoDaemon, path)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("status socket %s: permission denied: it is root-only", path)
	}
	return fmt.Errorf("status socket %s: %w", path, err)
}
