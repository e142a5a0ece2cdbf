package metrics

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// bgpAlertsTest is a `promtool test rules` file for the BGP alerts of
// docs/monitoring/lvsctl-alerts.yml: a session down for minutes fires, a
// 30 s blip does not; a withheld VIP fires, an announced one does not; BFD
// down fires; a running speaker does not.
const bgpAlertsTest = `
rule_files: [%q]
evaluation_interval: 30s
tests:
  - interval: 30s
    input_series:
      - series: 'lvsctl_bgp_speaker_running{instance="d1"}'
        values: '1x8'
      - series: 'lvsctl_bgp_neighbor_up{instance="d1",neighbor="tor1",address="10.0.0.1"}'
        values: '1x8'
      - series: 'lvsctl_bgp_neighbor_up{instance="d1",neighbor="tor2",address="10.0.0.2"}'
        values: '0x8'
      - series: 'lvsctl_bgp_neighbor_up{instance="d1",neighbor="tor3",address="10.0.0.3"}'
        values: '1 1 1 0 1 1 1 1 1'
      - series: 'lvsctl_bgp_neighbor_bfd_up{instance="d1",neighbor="tor1",address="10.0.0.1"}'
        values: '1 1 0 0 0 0 0 0 0'
      - series: 'lvsctl_bgp_prefix_announced{instance="d1",prefix="192.0.2.10/32"}'
        values: '1x8'
      - series: 'lvsctl_bgp_prefix_announced{instance="d1",prefix="192.0.2.11/32"}'
        values: '0x8'
    alert_rule_test:
      - eval_time: 2m
        alertname: LvsctlBGPNeighborDown
        exp_alerts:
          - exp_labels: {severity: critical, instance: d1, neighbor: tor2, address: 10.0.0.2}
            exp_annotations:
              summary: "BGP session tor2 (10.0.0.2) of d1 is not established"
              description: "That router has no next hop via this director: the other directors carry its share. ` + "`lvsctl status`" + ` shows the session's state and why it went down."
      - eval_time: 2m
        alertname: LvsctlBGPSpeakerNotRunning
        exp_alerts: []
      - eval_time: 2m
        alertname: LvsctlBGPBFDDown
        exp_alerts:
          - exp_labels: {severity: warning, instance: d1, neighbor: tor1, address: 10.0.0.1}
            exp_annotations:
              summary: "BFD session with tor1 (10.0.0.1) of d1 is not up"
              description: "Without BFD a dead link is noticed only at the hold time. Check the router's BFD configuration and that UDP 3784 passes."
      - eval_time: 2m
        alertname: LvsctlBGPVIPWithheld
        exp_alerts:
          - exp_labels: {severity: warning, instance: d1, prefix: 192.0.2.11/32}
            exp_annotations:
              summary: "192.0.2.11/32 is withheld by d1"
              description: "The VIP is on vip_interface but not announced: a tracked service lost its quorum, a tracked interface is down or a track_script fails (` + "`lvsctl status`" + ` says which). The other directors carry its traffic."
`

// TestMonitoringBGPAlerts runs the BGP alerts on made-up series with
// `promtool test rules`; CI installs promtool (see
// TestMonitoringRulesPromtool).
func TestMonitoringBGPAlerts(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool is missing (CI is set): install Debian's prometheus package (.ci/host-deps): %v", err)
		}
		t.Skipf("promtool is not installed (Debian package prometheus); CI runs this check: %v", err)
	}
	rules, err := filepath.Abs(filepath.Join(monitoringDir, "lvsctl-alerts.yml"))
	require.NoError(t, err)
	test := filepath.Join(t.TempDir(), "bgp-alerts-test.yml")
	require.NoError(t, os.WriteFile(test, fmt.Appendf(nil, bgpAlertsTest, rules), 0o644))
	out, err := exec.Command(promtool, "test", "rules", test).CombinedOutput()
	require.NoError(t, err, "promtool test rules:\n%s", out)
}
