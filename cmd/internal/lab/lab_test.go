package lab

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNATTopologyRoutes builds the NAT lab on the host (namespaces and veth
// need no IPVS) and checks that the client reaches the director and the
// director reaches each backend.
func TestNATTopologyRoutes(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("network namespace tests need root, and CI runs as root")
		}
		t.Skip("network namespace tests need root")
	}
	l := New("labtest-")
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	backends, err := l.NATTopology(2)
	require.NoError(t, err)
	require.Len(t, backends, 2)

	ctx := context.Background()
	require.NoError(t, l.ServeHTTP("director", "10.0.1.100:8080", "director"))
	require.NoError(t, l.ServeHTTP("be1", "10.0.2.11:80", "be1"))
	require.NoError(t, l.ServeHTTP("be2", "10.0.2.12:80", "be2"))

	body, err := l.Get(ctx, "client", "http://10.0.1.100:8080/")
	require.NoError(t, err)
	assert.Equal(t, "director", body)
	for _, be := range []string{"be1", "be2"} {
		body, err := l.Get(ctx, "director", "http://"+map[string]string{"be1": "10.0.2.11", "be2": "10.0.2.12"}[be]+"/")
		require.NoError(t, err)
		assert.Equal(t, be, body)
	}
}
