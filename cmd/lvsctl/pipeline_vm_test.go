package main

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/ipvs"
)

// pipelineServices is n TCP services 10.40.x.y:80 with reals real servers
// each, in Diff's order.
func pipelineServices(n, reals int, sched ipvs.Scheduler) []ipvs.VirtualService {
	var out []ipvs.VirtualService
	for i := 0; i < n; i++ {
		s := ipvs.VirtualService{
			Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{10, 40, byte(i >> 8), byte(i)}), Port: 80},
			Scheduler: sched,
		}
		for j := 0; j < reals; j++ {
			s.RealServers = append(s.RealServers, ipvs.RealServer{
				Addr: netip.AddrFrom4([4]byte{172, 20, byte(j), byte(i)}), Port: 8080, Weight: uint32(j + 1), Forwarding: ipvs.NAT,
			})
		}
		out = append(out, s.Normalize())
	}
	return out
}

// TestVMPipelinedApply checks Netlink.Apply's batches against the kernel:
// thousands of ops over several batches build exactly the table asked for;
// a rejected op in the middle of a batch is reported as the first failure
// with the count before it, while the kernel still applies the independent
// ops after it (OpError.Later); and a Reconciler undoes all of them.
func TestVMPipelinedApply(t *testing.T) {
	requireVM(t)
	l := lab.New("vmpipe-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("d"))
	ns := l.NSPath("d")
	ctx := context.Background()

	t.Run("many batches", func(t *testing.T) {
		k, err := ipvs.Open(ctx, ns)
		require.NoError(t, err)
		defer k.Close()
		want := pipelineServices(1200, 4, "wlc") // 6,000 ops: more than one batch
		ops := ipvs.Diff(nil, want)
		require.Len(t, ops, 6000)
		n, err := k.Apply(ctx, ops)
		require.NoError(t, err)
		assert.Equal(t, 6000, n)
		got, err := k.Services(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got)
		// An independent reader: the kernel's own text listing.
		proc := procIPVS(t, l, "d")
		assert.Equal(t, 6000, strings.Count(proc, "TCP  0A28")+strings.Count(proc, "-> AC14"), "services and real servers in /proc/net/ip_vs")
		n, err = k.Apply(ctx, ipvs.Diff(got, nil))
		require.NoError(t, err)
		assert.Equal(t, 1200, n, "deleting a service deletes its real servers")
		got, err = k.Services(ctx)
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	t.Run("failure in the middle of a batch", func(t *testing.T) {
		k, err := ipvs.Open(ctx, ns)
		require.NoError(t, err)
		defer k.Close()
		svcs := pipelineServices(3, 1, "rr")
		a, b, c := svcs[0], svcs[1], svcs[2]
		ops := []ipvs.Op{
			{Kind: ipvs.AddService, Service: a},
			{Kind: ipvs.AddRealServer, Service: b, Real: b.RealServers[0]}, // b does not exist
			{Kind: ipvs.AddService, Service: c},
			{Kind: ipvs.AddRealServer, Service: c, Real: c.RealServers[0]},
		}
		n, err := k.Apply(ctx, ops)
		assert.Equal(t, 1, n, "ops accepted before the failure")
		var oe *ipvs.OpError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, ops[1], oe.Op)
		assert.True(t, errors.Is(err, unix.ESRCH), "%v", err)
		assert.Contains(t, err.Error(), "service does not exist")
		assert.Equal(t, 2, oe.Later, "the kernel processed the rest of the batch")
		got, err := k.Services(ctx)
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, a.Key, got[0].Key)
		assert.Empty(t, got[0].RealServers)
		assert.Equal(t, c, got[1])
		_, err = k.Apply(ctx, ipvs.Diff(got, nil))
		require.NoError(t, err)
		// The socket is still usable after a rejection.
		_, err = k.Info(ctx)
		require.NoError(t, err)
	})

	t.Run("reconciler rolls back ops after the failure", func(t *testing.T) {
		k, err := ipvs.Open(ctx, ns)
		require.NoError(t, err)
		defer k.Close()
		want := pipelineServices(5, 2, "rr")
		bad := want[2]
		bad.Scheduler = "twos" // not in Linux 6.1: ENOENT
		want[2] = bad
		state := ipvs.StateFile{Path: t.TempDir() + "/state.json"}
		r := &ipvs.Reconciler{Kernel: k, Owned: state}
		p, err := r.Plan(ctx, want, false)
		require.NoError(t, err)
		res, err := r.Apply(ctx, p)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `scheduler "twos" is not available`)
		assert.Equal(t, 4+8, res.Applied, "every other service and its real servers were accepted")
		assert.Equal(t, 4, res.RolledBack, "one delete per service undoes it and its real servers")
		got, err := k.Services(ctx)
		require.NoError(t, err)
		assert.Empty(t, got, "rolled back")
		owned, err := state.Load()
		require.NoError(t, err)
		assert.Empty(t, owned)
	})
}

// procIPVS reads /proc/net/ip_vs in host's namespace.
func procIPVS(t *testing.T, l *lab.Lab, host string) string {
	t.Helper()
	r := execIn(t, l, host, nil, "cat", "/proc/net/ip_vs")
	require.Zero(t, r.code, "%s", r.stderr)
	return string(r.stdout)
}
