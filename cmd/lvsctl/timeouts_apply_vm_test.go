package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/ipvs"
)

// TestVMApplyTimeouts: the timeouts block, applied by lvsctl apply to a
// namespace on a real kernel, is what ipvsadm -L --timeout shows there;
// plan shows it as a change before and none after, and a timeout left out
// keeps the kernel's (tcpfin 120).
func TestVMApplyTimeouts(t *testing.T) {
	requireVM(t)
	ctx := context.Background()
	l := lab.New("vmtoa-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("director"))
	ns := l.NSPath("director")
	dir := t.TempDir()
	file := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(file, []byte(`
virtual_server "web" {
  address = "10.0.0.1"
  port    = 80
  real_server { address = "10.0.1.1" }
}
timeouts {
  tcp = "2h"
  udp = 30
}
`), 0o644))
	lvsctl := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		e := &env{
			stdout: &stdout, stderr: &stderr,
			openKernel: func(ctx context.Context, ns string) (ipvs.Kernel, error) { return ipvs.Open(ctx, ns) },
			stateDir:   dir,
		}
		code := run(ctx, append(args, "-f", file, "--netns", ns, "--state", filepath.Join(dir, "state.json")), e)
		t.Logf("lvsctl %v -> %d\n%s%s", args, code, stdout.String(), stderr.String())
		return code, stdout.String()
	}
	before := ipvsadmIn(t, l, "director", nil, "-L", "--timeout")
	require.Zero(t, before.code, "%s", before.stderr)
	require.Equal(t, "Timeout (tcp tcpfin udp): 900 120 300\n", string(before.stdout), "a new namespace has the kernel's defaults")

	code, out := lvsctl("plan")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "  ~ timeouts tcp 900s -> 7200s, udp 300s -> 30s\n")
	code, out = lvsctl("apply")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "~ timeouts tcp 900s -> 7200s, udp 300s -> 30s\nApplied 3 changes.\n")

	r := ipvsadmIn(t, l, "director", nil, "-L", "--timeout")
	require.Zero(t, r.code, "%s", r.stderr)
	assert.Equal(t, "Timeout (tcp tcpfin udp): 7200 120 30\n", string(r.stdout))

	for _, cmd := range []string{"plan", "apply"} {
		code, out = lvsctl(cmd)
		assert.Equal(t, 0, code, cmd)
		assert.Contains(t, out, "No changes", cmd)
	}
}
