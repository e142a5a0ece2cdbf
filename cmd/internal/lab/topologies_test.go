package lab

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("network namespace tests need root, and CI runs as root")
		}
		t.Skip("network namespace tests need root")
	}
}

// TestDRTopologyReaches: one L2 segment, everyone reaches everyone (no
// IPVS needed; the VIP answers from the director itself here).
func TestDRTopologyReaches(t *testing.T) {
	requireRoot(t)
	l := New("labdr-")
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	top, err := l.DRTopology(2)
	require.NoError(t, err)
	require.Len(t, top.Backends, 2)

	ctx := context.Background()
	require.NoError(t, l.ServeHTTP("director", top.VIP.String()+":8080", "director"))
	body, err := l.Get(ctx, "client", fmt.Sprintf("http://%s:8080/", top.VIP))
	require.NoError(t, err)
	assert.Equal(t, "director", body)
	for i, b := range top.Backends {
		name := fmt.Sprintf("be%d", i+1)
		require.NoError(t, l.ServeHTTP(name, b.String()+":80", name))
		for _, from := range []string{"client", "director"} {
			body, err := l.Get(ctx, from, "http://"+b.String()+"/")
			require.NoError(t, err, "%s -> %s", from, name)
			assert.Equal(t, name, body)
		}
	}
}

// TestTUNTopologyRoutes: client, director and backends on their own
// subnets, reachable through the router.
func TestTUNTopologyRoutes(t *testing.T) {
	requireRoot(t)
	l := New("labtun-")
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	top, err := l.TUNTopology(2)
	require.NoError(t, err)

	ctx := context.Background()
	require.NoError(t, l.ServeHTTP("director", top.VIP.String()+":8080", "director"))
	require.NoError(t, l.ServeHTTP("client", top.Client.String()+":8080", "client"))
	body, err := l.Get(ctx, "client", fmt.Sprintf("http://%s:8080/", top.VIP))
	require.NoError(t, err)
	assert.Equal(t, "director", body)
	for i, b := range top.Backends {
		name := fmt.Sprintf("be%d", i+1)
		require.NoError(t, l.ServeHTTP(name, b.String()+":80", name))
		body, err := l.Get(ctx, "director", "http://"+b.String()+"/")
		require.NoError(t, err, "director -> %s", name)
		assert.Equal(t, name, body)
		body, err = l.Get(ctx, name, fmt.Sprintf("http://%s:8080/", top.Client))
		require.NoError(t, err, "%s -> client", name)
		assert.Equal(t, "client", body)
	}
}
