package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/ipvs"
)

// TestVMKilledApplyLeavesForeignAlone (issue 21, item 5): an apply is
// SIGKILLed while it creates services; someone else then creates, with
// ipvsadm, a service at an address the file declares but the killed apply
// had not reached. The next apply of the same file refuses it as a
// conflict (it differs from the file) and touches nothing; an apply of a
// file without it converges, taking over what the killed apply left, and
// leaves the foreign service alone. Neither deletes it.
func TestVMKilledApplyLeavesForeignAlone(t *testing.T) {
	requireVM(t)
	l := lab.New("vmkill-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("director"))
	ns := l.NSPath("director")

	const n = 5000 // services of two real servers: seconds of writes
	var src strings.Builder
	addr := func(net, i int) string { return fmt.Sprintf("10.%d.%d.%d", net, i/250, i%250+1) }
	declare := func(i int) {
		fmt.Fprintf(&src, "virtual_server \"s%d\" {\n  address = %q\n  port = 80\n  scheduler = \"rr\"\n  real_server { address = %q }\n  real_server { address = %q }\n}\n",
			i, addr(100, i), addr(200, i), addr(201, i))
	}
	for i := range n {
		declare(i)
	}
	dir := t.TempDir()
	big := filepath.Join(dir, "big.hcl")
	require.NoError(t, os.WriteFile(big, []byte(src.String()), 0o644))
	state := filepath.Join(dir, "state.json")

	// Kill the apply as soon as the kernel has its first service.
	cmd := exec.Command(os.Args[0], "apply", "-f", big, "--netns", ns, "--state", state)
	cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(60 * time.Second)
	for len(dump(t, ns)) == 0 {
		require.True(t, time.Now().Before(deadline), "the apply created no service within 60 s")
		time.Sleep(2 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	have := map[ipvs.ServiceKey]bool{}
	for _, s := range dump(t, ns) {
		have[s.Key] = true
	}
	t.Logf("the killed apply left %d of %d services", len(have), n)
	target := -1
	for i := n - 1; i >= 0; i-- {
		if !have[ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr(addr(100, i)), Port: 80}] {
			target = i
			break
		}
	}
	require.GreaterOrEqual(t, target, 0, "the apply was killed after it created every service: make n larger")
	vip := addr(100, target) + ":80"
	rec, err := ipvs.StateFile{Path: state}.Load()
	require.NoError(t, err)
	assert.Empty(t, rec.Owned, "a killed cold apply confirmed nothing")
	assert.Len(t, rec.Intended, n)

	// ipvsadm -A: the default scheduler (wlc), no real servers.
	r := ipvsadmIn(t, l, "director", nil, "-A", "-t", vip)
	require.Zero(t, r.code, string(r.stderr))
	foreignIntact := func() {
		t.Helper()
		r := ipvsadmIn(t, l, "director", nil, "-Ln", "-t", vip)
		require.Zero(t, r.code, "the foreign service %s still exists: %s", vip, r.stderr)
		assert.Contains(t, string(r.stdout), "TCP  "+vip+" wlc", "and is unchanged")
		assert.Equal(t, 1, strings.Count(string(r.stdout), "->"), "with no real servers (only the heading):\n%s", r.stdout)
	}

	cli := newVMCLI(t, ns)
	cli.state = state
	require.Equal(t, 1, cli.run("apply", "-f", big), cli.out.String())
	assert.Contains(t, cli.errOut.String(), "were not created by lvsctl: TCP "+vip)
	assert.Contains(t, cli.errOut.String(), "interrupted apply")
	assert.Zero(t, cli.writes)
	foreignIntact()

	// The same file without it: the rest converges.
	src.Reset()
	for i := range n {
		if i != target {
			declare(i)
		}
	}
	small := filepath.Join(dir, "small.hcl")
	require.NoError(t, os.WriteFile(small, []byte(src.String()), 0o644))
	require.Equal(t, 0, cli.run("apply", "-f", small), cli.errOut.String())
	assert.Contains(t, cli.out.String(), recoveredHeading)
	assert.Contains(t, cli.out.String(), "Foreign services (not created by lvsctl, left alone):\n    TCP "+vip+"\n")
	foreignIntact()
	table := dump(t, ns)
	require.Len(t, table, n)
	for _, s := range table {
		if s.Key.Addr.String()+":80" != vip {
			assert.Len(t, s.RealServers, 2, s.Key.String())
		}
	}
	rec, err = ipvs.StateFile{Path: state}.Load()
	require.NoError(t, err)
	assert.Len(t, rec.Owned, n-1)
	assert.False(t, slices.ContainsFunc(rec.Owned, func(k ipvs.ServiceKey) bool { return k.Addr.String()+":80" == vip }), "the foreign service is not owned")
	assert.Empty(t, rec.Intended)
	cli.writes = 0
	require.Equal(t, 0, cli.run("apply", "-f", small), cli.errOut.String())
	assert.Zero(t, cli.writes, "converged")
}
