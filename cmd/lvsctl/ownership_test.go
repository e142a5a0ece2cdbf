package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/ipvs"
)

// TestPlanAfterKilledApply: what plan and apply say about the keys a
// killed apply intended: a service consistent with the file is recovered,
// anything else is a conflict said to be possibly the interrupted apply's.
func TestPlanAfterKilledApply(t *testing.T) {
	h := newHarness(t)
	key := func(addr string) ipvs.ServiceKey {
		return ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr(addr), Port: 80}
	}
	// The killed apply created web without its real server; someone
	// else created api with another scheduler.
	h.kernel = ipvs.NewFake(
		ipvs.VirtualService{Key: key("10.0.0.1"), Scheduler: "rr"},
		ipvs.VirtualService{Key: key("10.0.0.2"), Scheduler: "wlc"},
	)
	state := filepath.Join(h.env.stateDir, "state.json")
	require.NoError(t, os.WriteFile(state, []byte(`{"version": 2, "services": [], "intended": ["TCP 10.0.0.1:80", "TCP 10.0.0.2:80"]}`), 0o600))
	cfg := writeConfig(t, `
virtual_server "web" {
  address   = "10.0.0.1"
  port      = 80
  scheduler = "rr"
  real_server { address = "10.0.1.1" }
}
virtual_server "api" {
  address   = "10.0.0.2"
  port      = 80
  scheduler = "rr"
}
`)
	require.Equal(t, 2, h.run("plan", "-f", cfg), h.errOut.String())
	assert.Equal(t, `Plan: 1 to add, 0 to change, 0 to delete.
  + real TCP 10.0.0.1:80 (web) -> 10.0.1.1:80 fwd=nat weight=1
Recovered services (left by an interrupted apply, consistent with the file, now owned):
    TCP 10.0.0.1:80
Conflicts (in the file, but created by someone else; use --adopt to take them over):
    TCP 10.0.0.2:80
  (an interrupted apply may have created 1 of them, but what is there differs from the file: check, then --adopt)
`, h.out.String())

	require.Equal(t, 1, h.run("apply", "-f", cfg))
	assert.Contains(t, h.errOut.String(), "TCP 10.0.0.2:80 (an interrupted apply may have created 1 of them, but they differ from the configuration; remove them, or adopt them with --adopt)")
	assert.Zero(t, h.kernel.Writes)

	require.Equal(t, 0, h.run("apply", "-f", cfg, "--adopt"), h.errOut.String())
	rec, err := ipvs.StateFile{Path: state}.Load()
	require.NoError(t, err)
	assert.Equal(t, ipvs.Record{Owned: []ipvs.ServiceKey{key("10.0.0.1"), key("10.0.0.2")}}, rec)
	b, err := os.ReadFile(state)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"version": 2`)
}

// TestApplyConfirmsRecoveredWithoutOps: a recovered service identical to
// the file needs no op, and apply still confirms it.
func TestApplyConfirmsRecoveredWithoutOps(t *testing.T) {
	h := newHarness(t)
	k := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}
	h.kernel = ipvs.NewFake(ipvs.VirtualService{Key: k, Scheduler: "rr"})
	state := filepath.Join(h.env.stateDir, "state.json")
	require.NoError(t, os.WriteFile(state, []byte(`{"version": 2, "services": [], "intended": ["TCP 10.0.0.1:80"]}`), 0o600))
	cfg := writeConfig(t, "virtual_server \"web\" {\n  address = \"10.0.0.1\"\n  port = 80\n  scheduler = \"rr\"\n}\n")
	require.Equal(t, 0, h.run("plan", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "No changes")
	assert.Contains(t, h.out.String(), "Recovered services")
	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	rec, err := ipvs.StateFile{Path: state}.Load()
	require.NoError(t, err)
	assert.Equal(t, ipvs.Record{Owned: []ipvs.ServiceKey{k}}, rec)
	require.Equal(t, 0, h.run("plan", "-f", cfg), h.errOut.String())
	assert.NotContains(t, h.out.String(), "Recovered")
}

// TestApplyForgetsOwnedKeysWithoutService: an owned key that names no
// service (deleted by hand) and that the file no longer declares leaves
// the record on the next apply, though no op is needed, so a service
// someone creates there later is foreign.
func TestApplyForgetsOwnedKeysWithoutService(t *testing.T) {
	h := newHarness(t)
	state := filepath.Join(h.env.stateDir, "state.json")
	cfg := writeConfig(t, fmt.Sprintf(webConfig, 1))
	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	// An earlier release owned 10.0.0.9:80 too, since deleted by hand.
	require.NoError(t, os.WriteFile(state, []byte(`{"version": 1, "services": ["TCP 10.0.0.1:80", "TCP 10.0.0.9:80"]}`), 0o600))
	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "No changes")
	rec, err := ipvs.StateFile{Path: state}.Load()
	require.NoError(t, err)
	gone := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.0.0.9"), Port: 80}
	assert.NotContains(t, rec.Owned, gone)

	// ipvsadm -A -t 10.0.0.9:80
	h.kernel = ipvs.NewFake(append(mustServices(t, h.kernel), ipvs.VirtualService{Key: gone, Scheduler: "wlc"})...)
	require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
	assert.Contains(t, h.out.String(), "Foreign services (not created by lvsctl, left alone):\n    TCP 10.0.0.9:80\n")
	assert.Len(t, mustServices(t, h.kernel), 2)
}

func mustServices(t *testing.T, k ipvs.Kernel) []ipvs.VirtualService {
	t.Helper()
	s, err := k.Services(context.Background())
	require.NoError(t, err)
	return s
}
