package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/ipvs"
)

// TestVMSetTimeouts: ipvs.SetTimeouts (keepalived's lvs_timeouts,
// ipvsadm --set) changes the namespace's timeouts as ipvsadm shows them,
// and a zero leaves that one alone.
func TestVMSetTimeouts(t *testing.T) {
	requireVM(t)
	l := lab.New("vmto-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("director"))
	k, err := ipvs.Open(context.Background(), l.NSPath("director"))
	require.NoError(t, err)
	defer k.Close()
	before, err := k.Timeouts(context.Background())
	require.NoError(t, err)

	require.NoError(t, k.SetTimeouts(context.Background(), ipvs.Timeouts{TCP: 7200 * time.Second, UDP: 30 * time.Second}))
	got, err := k.Timeouts(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ipvs.Timeouts{TCP: 7200 * time.Second, TCPFin: before.TCPFin, UDP: 30 * time.Second}, got)
	r := ipvsadmIn(t, l, "director", nil, "-L", "--timeout")
	require.Zero(t, r.code, "%s", r.stderr)
	assert.Contains(t, string(r.stdout), "Timeout (tcp tcpfin udp): 7200 ")
	assert.Contains(t, string(r.stdout), " 30\n")
}
