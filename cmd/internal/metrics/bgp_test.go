package metrics

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/bgp"
	"github.com/lvsctl/lvsctl/cmd/internal/director"
)

// bgpSource is a source with a bgp block.
type bgpSource struct {
	*fakeSource
	bgp director.BGPStatus
}

func (s bgpSource) BGP() director.BGPStatus { return s.bgp }

func bgpSample() director.BGPStatus {
	return director.BGPStatus{
		Configured: true, Running: true,
		Neighbors: []director.BGPNeighborStatus{
			{Name: "tor1", Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000, State: bgp.StateEstablished, Established: 2, BFD: bgp.BFDUp, BFDDowns: 1},
			{Name: "tor2", Address: netip.MustParseAddr("10.0.0.2"), ASN: 65000, State: bgp.StateActive},
		},
		Announced: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")},
		VIPAddrs:  []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("192.0.2.11/32")},
		Announces: map[string]uint64{director.AnnounceLoad: 2, director.AnnounceRecovered: 1},
		Withdraws: map[string]uint64{director.WithdrawQuorum: 1},
		SloppyTCP: true,
	}
}

func TestCollectorBGP(t *testing.T) {
	c := New(bgpSource{fakeSource: source(), bgp: bgpSample()}, Options{})
	want := `
# HELP lvsctl_bgp_neighbor_up 1 while the BGP session is established.
# TYPE lvsctl_bgp_neighbor_up gauge
lvsctl_bgp_neighbor_up{address="10.0.0.1",neighbor="tor1"} 1
lvsctl_bgp_neighbor_up{address="10.0.0.2",neighbor="tor2"} 0
# HELP lvsctl_bgp_prefix_announced 1 while the VIP is announced, 0 while it is withheld (on vip_interface, not announced).
# TYPE lvsctl_bgp_prefix_announced gauge
lvsctl_bgp_prefix_announced{prefix="192.0.2.10/32"} 1
lvsctl_bgp_prefix_announced{prefix="192.0.2.11/32"} 0
# HELP lvsctl_bgp_announcements_total Prefixes announced, by reason: load (first since the speaker started), recovered (after a withdrawal).
# TYPE lvsctl_bgp_announcements_total counter
lvsctl_bgp_announcements_total{reason="load"} 2
lvsctl_bgp_announcements_total{reason="recovered"} 1
# HELP lvsctl_bgp_neighbor_established_total Times the BGP session was established.
# TYPE lvsctl_bgp_neighbor_established_total counter
lvsctl_bgp_neighbor_established_total{address="10.0.0.1",neighbor="tor1"} 2
lvsctl_bgp_neighbor_established_total{address="10.0.0.2",neighbor="tor2"} 0
# HELP lvsctl_bgp_neighbor_bfd_up 1 while the neighbor's BFD session is up; only for neighbors with a bfd block.
# TYPE lvsctl_bgp_neighbor_bfd_up gauge
lvsctl_bgp_neighbor_bfd_up{address="10.0.0.1",neighbor="tor1"} 1
# HELP lvsctl_bgp_neighbor_bfd_down_total Times the neighbor's BFD session left the up state; only for neighbors with a bfd block.
# TYPE lvsctl_bgp_neighbor_bfd_down_total counter
lvsctl_bgp_neighbor_bfd_down_total{address="10.0.0.1",neighbor="tor1"} 1
# HELP lvsctl_bgp_sloppy 1 while lvsctl holds net.ipv4.vs.sloppy_<protocol> at 1.
# TYPE lvsctl_bgp_sloppy gauge
lvsctl_bgp_sloppy{protocol="sctp"} 0
lvsctl_bgp_sloppy{protocol="tcp"} 1
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
		"lvsctl_bgp_neighbor_up", "lvsctl_bgp_prefix_announced", "lvsctl_bgp_announcements_total", "lvsctl_bgp_neighbor_established_total", "lvsctl_bgp_sloppy",
		"lvsctl_bgp_neighbor_bfd_up", "lvsctl_bgp_neighbor_bfd_down_total"))
	// Every reason is a series from the start, so that rate() sees the
	// first withdrawal.
	assert.Equal(t, 8, testutil.CollectAndCount(c, "lvsctl_bgp_withdrawals_total"))
	assert.Equal(t, 12, testutil.CollectAndCount(c, "lvsctl_bgp_neighbor_state"), "6 states x 2 neighbors")

	t.Run("no bgp block: no series", func(t *testing.T) {
		c := New(bgpSource{fakeSource: source()}, Options{})
		assert.Zero(t, testutil.CollectAndCount(c, "lvsctl_bgp_speaker_running", "lvsctl_bgp_neighbor_up"))
	})
}

// TestCollectorBGPPromtool lints the bgp series with `promtool check
// metrics` (names, units, _total on counters, help).
func TestCollectorBGPPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool is missing (CI is set): install Debian's prometheus package (.ci/host-deps): %v", err)
		}
		t.Skipf("promtool is not installed (Debian package prometheus); CI runs this check: %v", err)
	}
	reg := NewRegistry(New(bgpSource{fakeSource: source(), bgp: bgpSample()}, Options{}))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var b bytes.Buffer
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "lvsctl_bgp_") {
			_, err := expfmt.MetricFamilyToText(&b, mf)
			require.NoError(t, err)
		}
	}
	require.NotZero(t, b.Len())
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &b
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s", out)
}
