package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/cmd/internal/alert"
)

// alertSource is the fake source with e-mail alert counters.
type alertSource struct {
	*fakeSource
	stats alert.Stats
}

func (a alertSource) Alerts() alert.Stats { return a.stats }

// TestCollectorSeveralChecksAndAlerts: each check of a real server with
// several has its series, and the alerts' counters are exported.
func TestCollectorSeveralChecksAndAlerts(t *testing.T) {
	src := source()
	st := src.snap.Services[0].Reals[1].Check
	st.Checks = []checker.CheckStatus{{Name: "tcp#1", Up: true}, {Name: "http#2", Up: false}}
	c := New(alertSource{src, alert.Stats{Queued: 5, Sent: 3, Failed: 1, Dropped: 2, Retries: 4}}, Options{})
	want := `
# HELP lvsctl_real_server_check_up Each check of a real server with several (keepalived's several checkers), named by its type and position ("http#1"): 1 up, 0 down. The real server is up only when every one is.
# TYPE lvsctl_real_server_check_up gauge
lvsctl_real_server_check_up{check="http#2",port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
lvsctl_real_server_check_up{check="tcp#1",port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1
# HELP lvsctl_alert_emails_total E-mail alerts (alert_email) by outcome: queued, sent, failed (every attempt failed) and dropped (the queue was full). Each failed or dropped mail is also logged.
# TYPE lvsctl_alert_emails_total counter
lvsctl_alert_emails_total{result="dropped"} 2
lvsctl_alert_emails_total{result="failed"} 1
lvsctl_alert_emails_total{result="queued"} 5
lvsctl_alert_emails_total{result="sent"} 3
# HELP lvsctl_alert_email_retries_total E-mail alert attempts after a failed one (with backoff).
# TYPE lvsctl_alert_email_retries_total counter
lvsctl_alert_email_retries_total 4
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
		"lvsctl_real_server_check_up", "lvsctl_alert_emails_total", "lvsctl_alert_email_retries_total"))
}
