package statusapi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigResources: plan and apply round-trip their request and plan;
// a handler's error is the client's error; without handlers the resources
// do not exist; with no daemon, the error is ErrNoDaemon.
func TestConfigResources(t *testing.T) {
	dir, err := os.MkdirTemp("", "sapi-")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "s.sock")
	var got []ConfigRequest
	srv, err := ListenWith(path, Handlers{
		Status: func() Status { return Status{PID: 1} },
		Plan: func(_ context.Context, req ConfigRequest) (Plan, error) {
			got = append(got, req)
			p := Plan{Source: SourceDaemon, Ops: []Op{{Kind: OpAddService, Key: "TCP 10.0.0.1:80", Text: "+ service"}}}
			p.Changes.Count(OpAddService)
			return p, nil
		},
		Apply: func(context.Context, ConfigRequest) (Plan, error) {
			return Plan{}, errors.New("lvsctl run is stopping")
		},
	}, nil)
	require.NoError(t, err)
	defer srv.Close()

	ctx := context.Background()
	req := ConfigRequest{File: "/etc/lvsctl/lvsctl.hcl", Source: []byte("virtual_server \"a\" {}\x00\xff"), AllowDestroy: true}
	p, err := PlanConfig(ctx, path, req)
	require.NoError(t, err)
	assert.Equal(t, []ConfigRequest{req}, got, "the bytes arrive as sent")
	assert.Equal(t, Changes{Add: Counts{Service: 1}}, p.Changes)
	assert.Equal(t, SourceDaemon, p.Source)

	_, err = ApplyConfig(ctx, path, req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "503 Service Unavailable: lvsctl run is stopping")

	// A daemon without the resources (an older lvsctl run).
	old := filepath.Join(dir, "old.sock")
	srv2, err := Listen(old, func() Status { return Status{} }, nil)
	require.NoError(t, err)
	defer srv2.Close()
	_, err = PlanConfig(ctx, old, req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not take configurations over its socket (an older version)")

	_, err = PlanConfig(ctx, filepath.Join(dir, "none.sock"), req)
	assert.ErrorIs(t, err, ErrNoDaemon)
}
