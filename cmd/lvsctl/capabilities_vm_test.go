package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/ipvs"
)

// TestVMKernelCapabilities: the probe asks the 6.1 test kernel, which has
// every scheduler but twos (Linux 6.2) and both GUE and GRE tunnels
// (5.2, 5.3); plan and apply then report twos on the scheduler's line
// before anything reaches the table, and the probe leaves no trace in
// any namespace we see.
func TestVMKernelCapabilities(t *testing.T) {
	requireVM(t)
	ctx := context.Background()
	// An independent witness that this kernel lacks twos: its module
	// files (the probe itself never looks at them).
	out, err := exec.Command("sh", "-c", "find /lib/modules -name 'ip_vs_twos*'").Output()
	require.NoError(t, err)
	require.Empty(t, bytes.TrimSpace(out), "this kernel has the twos scheduler; the test needs one without it")

	start := time.Now()
	caps, err := ipvs.ProbeCapabilities(ctx, []ipvs.Scheduler{"rr", "twos", "wlc", "mh"}, []ipvs.TunnelType{ipvs.GUE, ipvs.GRE})
	t.Logf("probe of 4 schedulers and 2 tunnel types: %v", time.Since(start))
	require.NoError(t, err)
	assert.Equal(t, []ipvs.Scheduler{"twos"}, caps.MissingSchedulers)
	assert.Empty(t, caps.MissingTunnels, "Linux 6.1 keeps GUE and GRE real servers")
	assert.Empty(t, dump(t, ""), "the probe's services were in a namespace of their own")

	l := lab.New("vmcap-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("director"))
	ns := l.NSPath("director")
	dir := t.TempDir()
	file := filepath.Join(dir, "twos.hcl")
	src, err := os.ReadFile("testdata/vm/twos.hcl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, src, 0o644))
	for _, cmd := range []string{"plan", "apply"} {
		var stdout, stderr bytes.Buffer
		e := &env{
			stdout: &stdout, stderr: &stderr,
			openKernel: func(ctx context.Context, ns string) (ipvs.Kernel, error) { return ipvs.Open(ctx, ns) },
			stateDir:   dir,
			probe:      ipvs.ProbeCapabilities,
		}
		code := run(ctx, []string{cmd, "-f", file, "--netns", ns, "--state", filepath.Join(dir, "state.json")}, e)
		t.Logf("lvsctl %s -> %d\n%s%s", cmd, code, stdout.String(), stderr.String())
		assert.Equal(t, 1, code, cmd)
		assert.Contains(t, stderr.String(), file+`:14:15: Error: Scheduler not in this kernel`, cmd)
		assert.Contains(t, stderr.String(), `virtual_server "twos" uses the scheduler "twos"`, cmd)
		assert.NotContains(t, stderr.String(), "rolled back", cmd+": the kernel was not asked to add anything")
		assert.NotContains(t, stdout.String(), "+ service", cmd+": no plan is shown")
		assert.Empty(t, dump(t, ns), cmd+" left the table as it was")
	}
}
