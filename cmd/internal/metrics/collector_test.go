package metrics

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/cmd/internal/daemon"
	"github.com/lvsctl/lvsctl/cmd/internal/director"
	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/vrrp"
)

// fakeSource is a Source with a fixed snapshot, table and VRRP status; it
// counts the kernel dumps.
type fakeSource struct {
	snap     *daemon.Snapshot
	table    []ipvs.ServiceStatus
	tableErr error
	vrrp     []director.InstanceStatus
	cfg      ConfigInfo
	dumps    atomic.Int32
}

func (f *fakeSource) Daemon() (daemon.Snapshot, bool) {
	if f.snap == nil {
		return daemon.Snapshot{}, false
	}
	return *f.snap, true
}

func (f *fakeSource) Table(context.Context) ([]ipvs.ServiceStatus, error) {
	f.dumps.Add(1)
	return f.table, f.tableErr
}

func (f *fakeSource) VRRP() []director.InstanceStatus { return f.vrrp }
func (f *fakeSource) Config() ConfigInfo              { return f.cfg }

var (
	t0  = time.Unix(1700000000, 0)
	web = ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.0.1.100"), Port: 80}
	fwm = ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 7}
)

func real(addr string, weight uint32) ipvs.RealServer {
	ap := netip.MustParseAddrPort(addr)
	return ipvs.RealServer{Addr: ap.Addr(), Port: ap.Port(), Weight: weight}
}

func status(addr string, up bool, took time.Duration) *checker.Status {
	return &checker.Status{
		Target: checker.Target{Service: "web", Addr: netip.MustParseAddrPort(addr)},
		Up:     up, Checked: true, Weight: checker.NoWeight, Since: t0, Transitions: 2,
		Last: checker.Result{Up: up, Took: took}, LastAt: t0.Add(time.Minute),
	}
}

// source is one web service: be1 up in the table at weight 3, be2 down and
// evicted, a sorry server, plus an unchecked fwmark service; one VRRP
// instance.
func source() *fakeSource {
	be1, be2, sorry := real("10.0.2.11:80", 3), real("10.0.2.12:80", 1), real("10.0.2.14:80", 1)
	snap := &daemon.Snapshot{
		Loads: 1, At: t0.Add(2 * time.Minute), Resync: time.Second,
		Stats: daemon.Stats{Repairs: 4},
		Ops:   map[ipvs.OpKind]uint64{ipvs.AddService: 2, ipvs.AddRealServer: 3, ipvs.DeleteRealServer: 1},
		Services: []daemon.ServiceState{
			{Name: "web", Config: ipvs.VirtualService{Key: web}, Known: true, QuorumUp: true, Reals: []daemon.RealState{
				{Real: be1, InTable: true, Weight: 3, Check: status("10.0.2.11:80", true, 2*time.Millisecond)},
				{Real: be2, Check: status("10.0.2.12:80", false, time.Second)},
				{Real: sorry, Sorry: true},
			}},
			{Name: "mark", Config: ipvs.VirtualService{Key: fwm}, Known: true, QuorumUp: false, Reals: []daemon.RealState{
				{Real: real("[2001:db8::1]:0", 1), InTable: true, Weight: 1},
			}},
		},
	}
	big := uint64(1) << 40 // 64-bit counters
	table := []ipvs.ServiceStatus{
		{Service: ipvs.VirtualService{Key: web}, Stats: ipvs.Stats{Conns: 10, InPkts: 100, OutPkts: 90, InBytes: big, OutBytes: 2 * big},
			Reals: []ipvs.RealStatus{{Real: be1, Stats: ipvs.Stats{Conns: 10, InPkts: 100, OutPkts: 90, InBytes: big, OutBytes: 2 * big}, ActiveConns: 2, InactiveConns: 5}}},
		{Service: ipvs.VirtualService{Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.UDP, Addr: netip.MustParseAddr("10.9.9.9"), Port: 53}},
			Stats: ipvs.Stats{Conns: 1, OutBytes: 7},
			Reals: []ipvs.RealStatus{{Real: real("10.9.9.10:53", 2), Stats: ipvs.Stats{Conns: 1}, ActiveConns: 1}}}, // foreign: owned="false"
	}
	vi := director.InstanceStatus{Status: vrrp.Status{
		Name: "VI_1", Interface: "eth0", VRID: 51, State: vrrp.StateMaster, Priority: 150, BasePriority: 100, Transitions: 2,
		Counters: vrrp.Counters{AdvertsSent: 40, AdvertsReceived: 3, BecameMaster: 1, Dropped: map[vrrp.DropReason]uint64{vrrp.DropAuth: 2}},
	}}
	return &fakeSource{snap: snap, table: table, vrrp: []director.InstanceStatus{vi},
		cfg: ConfigInfo{Generation: 3, LastReload: t0.Add(time.Hour), LastReloadOK: false}}
}

func TestCollectorKernelCounters(t *testing.T) {
	src := source()
	c := New(src, Options{})
	// Every service of the table, owned or not; be2 (down by health, left
	// out of the table) and the fwmark service's real server (its service
	// is missing from the table) keep weight and connection series at 0.
	want := `
# HELP lvsctl_real_server_connections_total Connections the kernel scheduled to the real server.
# TYPE lvsctl_real_server_connections_total counter
lvsctl_real_server_connections_total{owned="false",port="53",proto="udp",real="10.9.9.10:53",service="",service_key="UDP 10.9.9.9:53",vip="10.9.9.9"} 1
lvsctl_real_server_connections_total{owned="true",port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 10
# HELP lvsctl_real_server_in_bytes_total Bytes from clients forwarded to the real server.
# TYPE lvsctl_real_server_in_bytes_total counter
lvsctl_real_server_in_bytes_total{owned="false",port="53",proto="udp",real="10.9.9.10:53",service="",service_key="UDP 10.9.9.9:53",vip="10.9.9.9"} 0
lvsctl_real_server_in_bytes_total{owned="true",port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1.099511627776e+12
# HELP lvsctl_real_server_active_connections Active connections (ipvsadm ActiveConn).
# TYPE lvsctl_real_server_active_connections gauge
lvsctl_real_server_active_connections{owned="false",port="53",proto="udp",real="10.9.9.10:53",service="",service_key="UDP 10.9.9.9:53",vip="10.9.9.9"} 1
lvsctl_real_server_active_connections{owned="true",port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",vip="FWM 7 ipv6"} 0
lvsctl_real_server_active_connections{owned="true",port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 2
lvsctl_real_server_active_connections{owned="true",port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
# HELP lvsctl_real_server_inactive_connections Inactive connections (ipvsadm InActConn).
# TYPE lvsctl_real_server_inactive_connections gauge
lvsctl_real_server_inactive_connections{owned="false",port="53",proto="udp",real="10.9.9.10:53",service="",service_key="UDP 10.9.9.9:53",vip="10.9.9.9"} 0
lvsctl_real_server_inactive_connections{owned="true",port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",vip="FWM 7 ipv6"} 0
lvsctl_real_server_inactive_connections{owned="true",port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 5
lvsctl_real_server_inactive_connections{owned="true",port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
# HELP lvsctl_real_server_weight The real server's weight in the kernel's table now; 0 for a configured real server left out of the table (down by health, evicted).
# TYPE lvsctl_real_server_weight gauge
lvsctl_real_server_weight{owned="false",port="53",proto="udp",real="10.9.9.10:53",service="",service_key="UDP 10.9.9.9:53",vip="10.9.9.9"} 2
lvsctl_real_server_weight{owned="true",port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",vip="FWM 7 ipv6"} 0
lvsctl_real_server_weight{owned="true",port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 3
lvsctl_real_server_weight{owned="true",port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
# HELP lvsctl_real_server_in_table 1 if the configured real server is in the kernel's table, 0 if not (evicted).
# TYPE lvsctl_real_server_in_table gauge
lvsctl_real_server_in_table{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",vip="FWM 7 ipv6"} 0
lvsctl_real_server_in_table{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1
lvsctl_real_server_in_table{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
# HELP lvsctl_real_server_state The configured real server's state, one series per state with value 1 for the current one: up (healthy, in the table), down (down by health: weight 0 or left out of the table), missing (healthy but not in the kernel's table until the next resync).
# TYPE lvsctl_real_server_state gauge
lvsctl_real_server_state{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",state="down",vip="FWM 7 ipv6"} 0
lvsctl_real_server_state{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",state="missing",vip="FWM 7 ipv6"} 1
lvsctl_real_server_state{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",state="up",vip="FWM 7 ipv6"} 0
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",state="down",vip="10.0.1.100"} 0
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",state="missing",vip="10.0.1.100"} 0
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",state="up",vip="10.0.1.100"} 1
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",state="down",vip="10.0.1.100"} 1
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",state="missing",vip="10.0.1.100"} 0
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",state="up",vip="10.0.1.100"} 0
# HELP lvsctl_virtual_server_out_bytes_total Bytes from the virtual service to clients.
# TYPE lvsctl_virtual_server_out_bytes_total counter
lvsctl_virtual_server_out_bytes_total{owned="false",port="53",proto="udp",service="",service_key="UDP 10.9.9.9:53",vip="10.9.9.9"} 7
lvsctl_virtual_server_out_bytes_total{owned="true",port="80",proto="tcp",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 2.199023255552e+12
# HELP lvsctl_ipvs_scrape_success 1 if this scrape's dump of the kernel's IPVS table succeeded.
# TYPE lvsctl_ipvs_scrape_success gauge
lvsctl_ipvs_scrape_success 1
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
		"lvsctl_real_server_connections_total", "lvsctl_real_server_in_bytes_total", "lvsctl_real_server_active_connections",
		"lvsctl_real_server_inactive_connections", "lvsctl_real_server_weight", "lvsctl_real_server_in_table",
		"lvsctl_real_server_state", "lvsctl_virtual_server_out_bytes_total", "lvsctl_ipvs_scrape_success"))
	assert.EqualValues(t, 1, src.dumps.Load(), "one kernel dump per scrape")
}

func TestCollectorHealthAndDaemon(t *testing.T) {
	src := source()
	c := New(src, Options{Build: BuildInfo{Version: "v1.2.3", Revision: "abc", GoVersion: "go1.26"}})
	obs := c.Observer()
	be1 := checker.Target{Service: "web", Addr: netip.MustParseAddrPort("10.0.2.11:80")}
	obs.Probe(be1, checker.Result{Up: true, Took: 2 * time.Millisecond})
	obs.Probe(be1, checker.Result{Up: true, Took: 3 * time.Second})
	obs.Pass(daemon.Pass{Kind: daemon.PassHealth, Took: 4 * time.Millisecond})

	want := `
# HELP lvsctl_real_server_up Health: 1 up (or without a check), 0 down.
# TYPE lvsctl_real_server_up gauge
lvsctl_real_server_up{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",vip="FWM 7 ipv6"} 1
lvsctl_real_server_up{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1
lvsctl_real_server_up{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
# HELP lvsctl_real_server_configured_weight The real server's weight in the configuration.
# TYPE lvsctl_real_server_configured_weight gauge
lvsctl_real_server_configured_weight{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",vip="FWM 7 ipv6"} 1
lvsctl_real_server_configured_weight{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 3
lvsctl_real_server_configured_weight{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1
# HELP lvsctl_real_server_check_result The latest probe's result, one series per result with value 1 for the current one: success, failure, or inconclusive (state kept).
# TYPE lvsctl_real_server_check_result gauge
lvsctl_real_server_check_result{port="80",proto="tcp",real="10.0.2.11:80",result="failure",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
lvsctl_real_server_check_result{port="80",proto="tcp",real="10.0.2.11:80",result="inconclusive",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
lvsctl_real_server_check_result{port="80",proto="tcp",real="10.0.2.11:80",result="success",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1
lvsctl_real_server_check_result{port="80",proto="tcp",real="10.0.2.12:80",result="failure",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1
lvsctl_real_server_check_result{port="80",proto="tcp",real="10.0.2.12:80",result="inconclusive",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
lvsctl_real_server_check_result{port="80",proto="tcp",real="10.0.2.12:80",result="success",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 0
# HELP lvsctl_real_server_transitions_total Health transitions (up to down or down to up) since the check started.
# TYPE lvsctl_real_server_transitions_total counter
lvsctl_real_server_transitions_total{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 2
lvsctl_real_server_transitions_total{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 2
# HELP lvsctl_virtual_server_quorum_up 1 if the virtual service holds its quorum.
# TYPE lvsctl_virtual_server_quorum_up gauge
lvsctl_virtual_server_quorum_up{port="0",proto="fwmark",service="mark",service_key="FWM 7 ipv6",vip="FWM 7 ipv6"} 0
lvsctl_virtual_server_quorum_up{port="80",proto="tcp",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1
# HELP lvsctl_reconcile_operations_total Operations the kernel accepted, by kind.
# TYPE lvsctl_reconcile_operations_total counter
lvsctl_reconcile_operations_total{op="add_real_server"} 3
lvsctl_reconcile_operations_total{op="add_service"} 2
lvsctl_reconcile_operations_total{op="delete_real_server"} 1
lvsctl_reconcile_operations_total{op="delete_service"} 0
lvsctl_reconcile_operations_total{op="edit_real_server"} 0
lvsctl_reconcile_operations_total{op="edit_service"} 0
# HELP lvsctl_drift_repairs_total Operations that repaired changes made behind lvsctl's back.
# TYPE lvsctl_drift_repairs_total counter
lvsctl_drift_repairs_total 4
# HELP lvsctl_config_generation Configurations applied: 1 at start, one more per accepted reload.
# TYPE lvsctl_config_generation gauge
lvsctl_config_generation 3
# HELP lvsctl_config_last_reload_success 1 if the latest SIGHUP read a valid file (absent before the first reload).
# TYPE lvsctl_config_last_reload_success gauge
lvsctl_config_last_reload_success 0
# HELP lvsctl_build_info Always 1; the labels say which lvsctl runs.
# TYPE lvsctl_build_info gauge
lvsctl_build_info{goversion="go1.26",revision="abc",version="v1.2.3"} 1
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
		"lvsctl_real_server_up", "lvsctl_real_server_configured_weight", "lvsctl_real_server_check_result",
		"lvsctl_real_server_transitions_total", "lvsctl_virtual_server_quorum_up", "lvsctl_reconcile_operations_total",
		"lvsctl_drift_repairs_total", "lvsctl_config_generation", "lvsctl_config_last_reload_success", "lvsctl_build_info"))

	// The histograms: be1's two probes (2 ms, 3 s); be2 has none yet.
	hist := `
# HELP lvsctl_real_server_check_duration_seconds How long each probe took, retries included.
# TYPE lvsctl_real_server_check_duration_seconds histogram
` + histLines("lvsctl_real_server_check_duration_seconds", `port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"`, 2.0e-3, 3) +
		histLines("lvsctl_real_server_check_duration_seconds", `port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"`) + `
# HELP lvsctl_reconcile_duration_seconds How long each pass over the kernel's table took, by kind: health (after health transitions, from memory), resync (periodic dump and drift repair), load (start and reload).
# TYPE lvsctl_reconcile_duration_seconds histogram
` + histLines("lvsctl_reconcile_duration_seconds", `kind="health"`, 0.004) +
		histLines("lvsctl_reconcile_duration_seconds", `kind="load"`) +
		histLines("lvsctl_reconcile_duration_seconds", `kind="resync"`)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(hist),
		"lvsctl_real_server_check_duration_seconds", "lvsctl_reconcile_duration_seconds"))
}

// histLines renders the exposition of a histogram of the observations obs.
func histLines(name, labels string, obs ...float64) string {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Buckets: durationBuckets})
	for _, o := range obs {
		h.Observe(o)
	}
	var b bytes.Buffer
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h)
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		_, _ = expfmt.MetricFamilyToText(&b, mf)
	}
	var out strings.Builder
	for _, line := range strings.Split(b.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// Insert our labels into each sample.
		if i := strings.IndexByte(line, '{'); i >= 0 {
			line = line[:i+1] + labels + "," + line[i+1:]
		} else {
			i := strings.IndexByte(line, ' ')
			line = line[:i] + "{" + labels + "}" + line[i:]
		}
		out.WriteString(line + "\n")
	}
	return out.String()
}

func TestCollectorVRRP(t *testing.T) {
	c := New(source(), Options{})
	want := `
# HELP lvsctl_vrrp_state The instance's state, one series per state with value 1 for the current one.
# TYPE lvsctl_vrrp_state gauge
lvsctl_vrrp_state{interface="eth0",state="BACKUP",vrid="51",vrrp_instance="VI_1"} 0
lvsctl_vrrp_state{interface="eth0",state="FAULT",vrid="51",vrrp_instance="VI_1"} 0
lvsctl_vrrp_state{interface="eth0",state="INIT",vrid="51",vrrp_instance="VI_1"} 0
lvsctl_vrrp_state{interface="eth0",state="MASTER",vrid="51",vrrp_instance="VI_1"} 1
lvsctl_vrrp_state{interface="eth0",state="STOP",vrid="51",vrrp_instance="VI_1"} 0
# HELP lvsctl_vrrp_priority Effective priority: base plus tracking weights.
# TYPE lvsctl_vrrp_priority gauge
lvsctl_vrrp_priority{interface="eth0",vrid="51",vrrp_instance="VI_1"} 150
# HELP lvsctl_vrrp_adverts_sent_total Advertisements sent.
# TYPE lvsctl_vrrp_adverts_sent_total counter
lvsctl_vrrp_adverts_sent_total{interface="eth0",vrid="51",vrrp_instance="VI_1"} 40
# HELP lvsctl_vrrp_transitions_total State transitions.
# TYPE lvsctl_vrrp_transitions_total counter
lvsctl_vrrp_transitions_total{interface="eth0",vrid="51",vrrp_instance="VI_1"} 2
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
		"lvsctl_vrrp_state", "lvsctl_vrrp_priority", "lvsctl_vrrp_adverts_sent_total", "lvsctl_vrrp_transitions_total"))
	assert.Equal(t, 10, testutil.CollectAndCount(c, "lvsctl_vrrp_adverts_invalid_total"), "one series per drop reason")
	auth := `
# HELP lvsctl_vrrp_adverts_invalid_total Advertisements dropped, by reason.
# TYPE lvsctl_vrrp_adverts_invalid_total counter
`
	for _, r := range []string{"addresses", "auth", "checksum", "interval", "length", "peer", "ttl", "type", "version", "vrid"} {
		v := "0"
		if r == "auth" {
			v = "2"
		}
		auth += `lvsctl_vrrp_adverts_invalid_total{interface="eth0",reason="` + r + `",vrid="51",vrrp_instance="VI_1"} ` + v + "\n"
	}
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(auth), "lvsctl_vrrp_adverts_invalid_total"))
}

// TestCollectorVRRPOnly: without an IPVS daemon the kernel is never read.
func TestCollectorVRRPOnly(t *testing.T) {
	src := source()
	src.snap = nil
	c := New(src, Options{})
	assert.Zero(t, testutil.CollectAndCount(c, "lvsctl_real_server_up", "lvsctl_ipvs_scrape_success"))
	assert.Equal(t, 5, testutil.CollectAndCount(c, "lvsctl_vrrp_state"))
	assert.Zero(t, src.dumps.Load())
}

// TestCollectorKernelError: a failed dump drops the kernel's counters and
// says so; the daemon's metrics stay.
func TestCollectorKernelError(t *testing.T) {
	src := source()
	src.tableErr = errors.New("netlink: broken")
	c := New(src, Options{})
	assert.Zero(t, testutil.CollectAndCount(c, "lvsctl_real_server_connections_total", "lvsctl_real_server_in_table"))
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP lvsctl_ipvs_scrape_success 1 if this scrape's dump of the kernel's IPVS table succeeded.
# TYPE lvsctl_ipvs_scrape_success gauge
lvsctl_ipvs_scrape_success 0
`), "lvsctl_ipvs_scrape_success"))
	assert.Equal(t, 3, testutil.CollectAndCount(c, "lvsctl_real_server_up"))
	// The states stay, from the daemon's memory alone: up or down, never
	// missing (the table is unknown).
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP lvsctl_real_server_state The configured real server's state, one series per state with value 1 for the current one: up (healthy, in the table), down (down by health: weight 0 or left out of the table), missing (healthy but not in the kernel's table until the next resync).
# TYPE lvsctl_real_server_state gauge
lvsctl_real_server_state{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",state="down",vip="FWM 7 ipv6"} 0
lvsctl_real_server_state{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",state="missing",vip="FWM 7 ipv6"} 0
lvsctl_real_server_state{port="0",proto="fwmark",real="[2001:db8::1]:0",service="mark",service_key="FWM 7 ipv6",state="up",vip="FWM 7 ipv6"} 1
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",state="down",vip="10.0.1.100"} 0
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",state="missing",vip="10.0.1.100"} 0
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.11:80",service="web",service_key="TCP 10.0.1.100:80",state="up",vip="10.0.1.100"} 1
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",state="down",vip="10.0.1.100"} 1
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",state="missing",vip="10.0.1.100"} 0
lvsctl_real_server_state{port="80",proto="tcp",real="10.0.2.12:80",service="web",service_key="TCP 10.0.1.100:80",state="up",vip="10.0.1.100"} 0
`), "lvsctl_real_server_state"))
}

// TestCollectorInSync: a service whose write the kernel refused (Known
// false) says so until a resync repairs it.
func TestCollectorInSync(t *testing.T) {
	src := source()
	src.snap.Services[1].Known = false
	c := New(src, Options{})
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP lvsctl_virtual_server_in_sync 0 after the kernel refused a write for the virtual service, until a resync repairs it; 1 otherwise.
# TYPE lvsctl_virtual_server_in_sync gauge
lvsctl_virtual_server_in_sync{port="0",proto="fwmark",service="mark",service_key="FWM 7 ipv6",vip="FWM 7 ipv6"} 0
lvsctl_virtual_server_in_sync{port="80",proto="tcp",service="web",service_key="TCP 10.0.1.100:80",vip="10.0.1.100"} 1
`), "lvsctl_virtual_server_in_sync"))
}

// TestRegistryIsConsistent gathers everything through a pedantic registry
// (descriptions match, no duplicate series) and parses the text format.
func TestRegistryIsConsistent(t *testing.T) {
	c := New(source(), Options{})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var b bytes.Buffer
	for _, mf := range mfs {
		_, err := expfmt.MetricFamilyToText(&b, mf)
		require.NoError(t, err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	parsed, err := p.TextToMetricFamilies(&b)
	require.NoError(t, err)
	assert.Len(t, parsed, len(mfs))
	_, err = NewRegistry(c).Gather()
	require.NoError(t, err)
}

// TestCheckHistogramsForgetRemovedServers: after a reload, the histogram of
// a real server that left the configuration goes.
func TestCheckHistogramsForgetRemovedServers(t *testing.T) {
	src := source()
	c := New(src, Options{})
	testutil.CollectAndCount(c)
	gone := checker.Target{Service: "old", Addr: netip.MustParseAddrPort("10.9.9.9:80")}
	c.Observer().Probe(gone, checker.Result{Took: time.Millisecond})
	testutil.CollectAndCount(c)
	assert.Len(t, c.checks, 1, "removed only when Loads changes")
	src.snap.Loads = 2
	testutil.CollectAndCount(c)
	assert.Empty(t, c.checks)
}
