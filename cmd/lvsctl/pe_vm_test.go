package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// TestVMPersistenceEngine: persistence_engine = "sip" reaches the kernel
// (ipvsadm shows "pe sip"), is read back (a second apply changes
// nothing), and taking it out of the file removes it with one edit.
func TestVMPersistenceEngine(t *testing.T) {
	requireVM(t)
	l := lab.New("vmpe-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("director"))
	const svc = `virtual_server "sip" {
  address             = "10.0.0.1"
  port                = 5060
  protocol            = "udp"
  persistence_timeout = 60
  %s
  real_server { address = "10.0.1.1" }
}
`
	with := writeHCL(t, "with.hcl", strings.Replace(svc, "%s", `persistence_engine = "sip"`, 1))
	without := writeHCL(t, "without.hcl", strings.Replace(svc, "%s", "", 1))
	cli := newVMCLI(t, l.NSPath("director"))

	require.Equal(t, 0, cli.run("apply", "-f", with), cli.errOut.String())
	r := ipvsadmIn(t, l, "director", nil, "-Ln")
	require.Zero(t, r.code, "%s", r.stderr)
	assert.Contains(t, string(r.stdout), "persistent 60 pe sip")
	require.Equal(t, 0, cli.run("apply", "-f", with), cli.errOut.String())
	assert.Contains(t, cli.out.String(), "No changes", "read back from the kernel")

	require.Equal(t, 0, cli.run("apply", "-f", without), cli.errOut.String())
	assert.Contains(t, cli.out.String(), "~ service")
	r = ipvsadmIn(t, l, "director", nil, "-Ln")
	assert.NotContains(t, string(r.stdout), "pe sip")
}
