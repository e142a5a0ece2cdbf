package statusapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 21, 7, 0, 1, 0, time.UTC)

func sample() Status {
	now := t0.Add(2*time.Hour + 3*time.Minute)
	return Status{
		PID: 812, Version: "v0.3.0", Started: t0, Now: now, Netns: "director",
		Config: Config{File: "/etc/lvsctl/lvsctl.hcl", Generation: 2, LoadedAt: now.Add(-12 * time.Minute),
			LastReload: &Reload{At: now.Add(-12 * time.Minute), OK: true}},
		IPVS: true, LastReconcile: now.Add(-time.Second),
		Counters: Counters{Reconciles: 5, Resyncs: 120, Writes: 9, Repairs: 1},
		Pools: []Pool{{
			Name: "web", Service: "TCP 10.0.1.100:80", Scheduler: "rr", QuorumUp: true, InSync: true,
			Reals: []Real{
				{Address: "10.0.2.11:80", Forwarding: "nat", State: StateUp, HasCheck: true, Checked: true, InTable: true, Weight: 1, ConfiguredWeight: 1,
					Since: t0, Reason: "connected", LastCheck: &Check{At: now.Add(-time.Second), Result: ResultSuccess, Reason: "connected", TookSeconds: 0.0004}},
				{Address: "10.0.2.12:80", Forwarding: "nat", State: StateDown, HasCheck: true, Checked: true, ConfiguredWeight: 1, Transitions: 1,
					Since: now.Add(-35 * time.Second), Reason: "connect: connection refused",
					LastCheck: &Check{At: now.Add(-time.Second), Result: ResultFailure, Reason: "connect: connection refused", TookSeconds: 0.0003}},
				{Address: "10.0.2.13:80", Forwarding: "nat", State: StateUp, InTable: true, Weight: 2, ConfiguredWeight: 2},
				{Address: "10.0.2.14:80", Forwarding: "nat", State: StateSorry, ConfiguredWeight: 1},
			},
		}},
		VRRP: []VRRP{{Name: "VI_1", Interface: "eth0", VRID: 51, Version: 2, State: "MASTER", Since: now.Add(-5 * time.Minute),
			Priority: 150, BasePriority: 100, Master: "10.0.1.1"}},
	}
}

func TestWrite(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Write(&b, sample()))
	want := `lvsctl run: pid 812, up 2h3m (since 2026-11-21 07:00:01 UTC), lvsctl v0.3.0
netns: director
config: /etc/lvsctl/lvsctl.hcl, generation 2 (applied 12m ago); last reload 12m ago: ok
ipvs: 5 reconciles, 120 resyncs, 9 writes, 1 drift repairs; last pass 1s ago

virtual_server "web"  TCP 10.0.1.100:80  rr  quorum up
  REAL          STATE  WEIGHT  SINCE  REASON                       LAST CHECK
  10.0.2.11:80  up     1/1     2h3m   connected                    success 0.4ms, 1s ago
  10.0.2.12:80  down   -/1     35s    connect: connection refused  failure 0.3ms, 1s ago
  10.0.2.13:80  up     2/2     -      no check                     -
  10.0.2.14:80  sorry  -/1     -      sorry server: standing by    -

vrrp_instance "VI_1"  eth0 vrid 51 (v2)  MASTER for 5m  priority 150 (base 100)  master 10.0.1.1
`
	assert.Equal(t, want, b.String())
}

func socketPath(t *testing.T) string {
	// Unix socket paths are short (108 bytes): keep it under /tmp.
	dir, err := os.MkdirTemp("", "lvsctl-status-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "run", "lvsctl.sock")
}

func TestRoundTrip(t *testing.T) {
	path := socketPath(t)
	want := sample()
	srv, err := Listen(path, func() Status { return want }, nil)
	require.NoError(t, err)

	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket|0o600, fi.Mode(), "root-only socket")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary socket left behind")

	got, raw, err := Get(context.Background(), path)
	require.NoError(t, err)
	assert.True(t, json.Valid(raw))
	// Times survive JSON with their instant, not their location.
	assert.True(t, want.Started.Equal(got.Started))
	got.Started, got.Now = want.Started, want.Now
	got.Config.LoadedAt, got.Config.LastReload.At, got.LastReconcile = want.Config.LoadedAt, want.Config.LastReload.At, want.LastReconcile
	for i := range got.Pools[0].Reals {
		r, w := &got.Pools[0].Reals[i], want.Pools[0].Reals[i]
		r.Since = w.Since
		if r.LastCheck != nil {
			r.LastCheck.At = w.LastCheck.At
		}
	}
	got.VRRP[0].Since = want.VRRP[0].Since
	assert.Equal(t, want, got)

	// A second daemon on the same socket is refused.
	_, err = Listen(path, func() Status { return want }, nil)
	assert.ErrorContains(t, err, "another lvsctl run is serving it")

	require.NoError(t, srv.Close())
	_, err = os.Lstat(path)
	assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the socket")
	_, _, err = Get(context.Background(), path)
	assert.ErrorIs(t, err, ErrNoDaemon)
	assert.ErrorContains(t, err, "is it running?")
}

func TestStaleSocketIsReplaced(t *testing.T) {
	path := socketPath(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	// A socket file nobody listens on, as kill -9 leaves it.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	ln.SetUnlinkOnClose(false)
	ln.Close()
	_, _, err = Get(context.Background(), path)
	require.ErrorIs(t, err, ErrNoDaemon)
	assert.ErrorContains(t, err, "stale")

	srv, err := Listen(path, func() Status { return Status{PID: 7} }, nil)
	require.NoError(t, err)
	defer srv.Close()
	st, _, err := Get(context.Background(), path)
	require.NoError(t, err)
	assert.Equal(t, 7, st.PID)
}

func TestNotASocketIsLeftAlone(t *testing.T) {
	path := socketPath(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte("precious"), 0o644))
	_, err := Listen(path, func() Status { return Status{} }, nil)
	assert.ErrorContains(t, err, "not a socket")
	b, _ := os.ReadFile(path)
	assert.Equal(t, "precious", string(b))
}

func TestPermissionDeniedIsExplained(t *testing.T) {
	err := dialError("/run/lvsctl/lvsctl.sock", os.ErrPermission)
	assert.EqualError(t, err, "status socket /run/lvsctl/lvsctl.sock: permission denied: it is root-only")
}

func TestWriteBGP(t *testing.T) {
	st := sample()
	st.Pools, st.VRRP, st.IPVS = nil, nil, false
	st.BGP = &BGP{
		Running: true, VIPInterface: "lvsctl0", VIPs: []string{"192.0.2.10/32", "192.0.2.11/32"}, SloppyTCP: true,
		Neighbors: []BGPNeighbor{
			{Name: "tor1", Address: "10.0.0.1", ASN: 65000, State: "established", Since: st.Now.Add(-2 * time.Minute), Reason: "open-msg-negotiated",
				BFD: "up", BFDSince: st.Now.Add(-time.Minute)},
			{Name: "tor2", Address: "10.0.0.2", ASN: 65000, State: "active", Reason: "connection refused"},
		},
		Announced: []string{"192.0.2.10/32"},
		Withheld:  []BGPWithheld{{Announce: "api", Reason: "virtual_server api: quorum lost"}},
		Announces: map[string]uint64{"recovered": 1, "load": 2},
		Withdraws: map[string]uint64{"quorum": 1},
	}
	var b bytes.Buffer
	require.NoError(t, Write(&b, st))
	want := `
bgp: speaker running; vip_interface lvsctl0 (192.0.2.10/32, 192.0.2.11/32); sloppy_tcp on
  neighbor "tor1"  10.0.0.1 AS 65000  established for 2m  bfd up for 1m
  neighbor "tor2"  10.0.0.2 AS 65000  active  (connection refused)
  announced: 192.0.2.10/32
  withheld: announce "api": virtual_server api: quorum lost
  announces: load 2, recovered 1; withdraws: quorum 1
`
	assert.True(t, strings.HasSuffix(b.String(), want), "got:\n%s", b.String())

	// JSON keeps the maps and the lists (empty lists as []).
	raw, err := json.Marshal(st)
	require.NoError(t, err)
	var back Status
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, st.BGP, back.BGP)
}
