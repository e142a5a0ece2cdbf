package metrics

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/cmd/internal/alert"
	"github.com/lvsctl/lvsctl/cmd/internal/daemon"
	"github.com/lvsctl/lvsctl/cmd/internal/director"
	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/vrrp"
)

// Source is what a scrape reads. Its methods are called from the scrape's
// goroutine, concurrently with the daemon.
type Source interface {
	// Daemon is the IPVS daemon's latest snapshot; false when there is
	// none (a VRRP-only node, or before the first apply).
	Daemon() (daemon.Snapshot, bool)
	// Table dumps the kernel's IPVS table with its counters. Collect calls
	// it at most once per scrape, and only when Daemon returned a snapshot.
	Table(ctx context.Context) ([]ipvs.ServiceStatus, error)
	// VRRP is the status of the VRRP instances.
	VRRP() []director.InstanceStatus
	// Config is what `lvsctl run` knows of its configuration file.
	Config() ConfigInfo
}

// ConfigInfo describes the configuration a daemon runs.
type ConfigInfo struct {
	// Generation counts the configurations handed to the daemon: 1 at
	// start, one more per accepted reload.
	Generation int
	// LastReload is when SIGHUP last re-read the file (zero: never);
	// LastReloadOK whether that file was valid.
	LastReload   time.Time
	LastReloadOK bool
}

// BuildInfo labels lvsctl_build_info.
type BuildInfo struct {
	Version, Revision, GoVersion string
}

// Options configure a Collector.
type Options struct {
	// ScrapeTimeout bounds the kernel dump of one scrape (default 10 s).
	ScrapeTimeout time.Duration
	Build         BuildInfo
}

// Buckets of the duration histograms, in seconds: from a local TCP connect
// (sub-millisecond) to a check's timeout, and from an in-memory reconcile
// to a resync of a large table.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Collector is the prometheus.Collector of `lvsctl run`.
type Collector struct {
	src     Source
	timeout time.Duration
	build   BuildInfo

	mu     sync.Mutex
	checks map[checker.Target]*histogram
	passes map[daemon.PassKind]*histogram
	loads  int // Snapshot.Loads when checks was last pruned
}

// New returns a Collector reading src.
func New(src Source, o Options) *Collector {
	if o.ScrapeTimeout <= 0 {
		o.ScrapeTimeout = 10 * time.Second
	}
	return &Collector{
		src: src, timeout: o.ScrapeTimeout, build: o.Build,
		checks: map[checker.Target]*histogram{},
		passes: map[daemon.PassKind]*histogram{},
	}
}

// NewRegistry returns a registry with c and the Go runtime and process
// collectors: what --metrics-listen serves.
func NewRegistry(c *Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Observer feeds the duration histograms from the daemon: register it with
// daemon.Daemon.Observe.
func (c *Collector) Observer() daemon.Observer {
	return daemon.Observer{Probe: c.observeProbe, Pass: c.observePass}
}

func (c *Collector) observeProbe(t checker.Target, r checker.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.checks[t]
	if h == nil {
		h = newHistogram()
		c.checks[t] = h
	}
	h.observe(r.Took)
}

func (c *Collector) observePass(p daemon.Pass) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.passes[p.Kind]
	if h == nil {
		h = newHistogram()
		c.passes[p.Kind] = h
	}
	h.observe(p.Took)
}

// Label names.
var (
	serviceLabels = []string{"service", "service_key", "vip", "port", "proto"}
	realLabels    = []string{"service", "service_key", "vip", "port", "proto", "real"}
	// The kernel's series cover every service of the namespace, lvsctl's
	// and others': "owned" says which ("true", "false").
	kernelServiceLabels = []string{"service", "service_key", "vip", "port", "proto", "owned"}
	kernelRealLabels    = []string{"service", "service_key", "vip", "port", "proto", "real", "owned"}
	vrrpLabels          = []string{"vrrp_instance", "interface", "vrid"}
)

func desc(name, help string, labels []string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string(nil), labels...), extra...), nil)
}

// The metrics; docs/metrics.md documents each.
var (
	// From the kernel, one dump per scrape.
	vsConns    = desc("lvsctl_virtual_server_connections_total", "Connections the kernel scheduled for the virtual service (every service of the namespace; owned says whether lvsctl's).", kernelServiceLabels)
	vsInPkts   = desc("lvsctl_virtual_server_in_packets_total", "Packets from clients to the virtual service.", kernelServiceLabels)
	vsOutPkts  = desc("lvsctl_virtual_server_out_packets_total", "Packets from the virtual service to clients.", kernelServiceLabels)
	vsInBytes  = desc("lvsctl_virtual_server_in_bytes_total", "Bytes from clients to the virtual service.", kernelServiceLabels)
	vsOutBytes = desc("lvsctl_virtual_server_out_bytes_total", "Bytes from the virtual service to clients.", kernelServiceLabels)
	rsConns    = desc("lvsctl_real_server_connections_total", "Connections the kernel scheduled to the real server.", kernelRealLabels)
	rsInPkts   = desc("lvsctl_real_server_in_packets_total", "Packets from clients forwarded to the real server.", kernelRealLabels)
	rsOutPkts  = desc("lvsctl_real_server_out_packets_total", "Packets from the real server to clients.", kernelRealLabels)
	rsInBytes  = desc("lvsctl_real_server_in_bytes_total", "Bytes from clients forwarded to the real server.", kernelRealLabels)
	rsOutBytes = desc("lvsctl_real_server_out_bytes_total", "Bytes from the real server to clients.", kernelRealLabels)
	rsActive   = desc("lvsctl_real_server_active_connections", "Active connections (ipvsadm ActiveConn).", kernelRealLabels)
	rsInactive = desc("lvsctl_real_server_inactive_connections", "Inactive connections (ipvsadm InActConn).", kernelRealLabels)
	rsWeight   = desc("lvsctl_real_server_weight", "The real server's weight in the kernel's table now; 0 for a configured real server left out of the table (down by health, evicted).", kernelRealLabels)
	rsInTable  = desc("lvsctl_real_server_in_table", "1 if the configured real server is in the kernel's table, 0 if not (evicted).", realLabels)
	scrapeOK   = desc("lvsctl_ipvs_scrape_success", "1 if this scrape's dump of the kernel's IPVS table succeeded.", nil)
	scrapeTook = desc("lvsctl_ipvs_scrape_duration_seconds", "How long this scrape's dump of the kernel's IPVS table took.", nil)

	// From the daemon's memory.
	rsConfWeight = desc("lvsctl_real_server_configured_weight", "The real server's weight in the configuration.", realLabels)
	rsUp         = desc("lvsctl_real_server_up", "Health: 1 up (or without a check), 0 down.", realLabels)
	rsState      = desc("lvsctl_real_server_state", "The configured real server's state, one series per state with value 1 for the current one: up (healthy, in the table), down (down by health: weight 0 or left out of the table), missing (healthy but not in the kernel's table until the next resync).", realLabels, "state")
	vsInSync     = desc("lvsctl_virtual_server_in_sync", "0 after the kernel refused a write for the virtual service, until a resync repairs it; 1 otherwise.", serviceLabels)
	rsCheckRes   = desc("lvsctl_real_server_check_result", "The latest probe's result, one series per result with value 1 for the current one: success, failure, or inconclusive (state kept).", realLabels, "result")
	rsCheckAt    = desc("lvsctl_real_server_last_check_timestamp_seconds", "When the latest probe ended, Unix time.", realLabels)
	rsCheckTook  = desc("lvsctl_real_server_check_duration_seconds", "How long each probe took, retries included.", realLabels)
	rsSince      = desc("lvsctl_real_server_state_since_timestamp_seconds", "When the real server's health last changed (or its check started), Unix time.", realLabels)
	rsCheckUp    = desc("lvsctl_real_server_check_up", "Each check of a real server with several (keepalived's several checkers), named by its type and position (\"http#1\"): 1 up, 0 down. The real server is up only when every one is.", realLabels, "check")
	rsTrans      = desc("lvsctl_real_server_transitions_total", "Health transitions (up to down or down to up) since the check started.", realLabels)
	vsQuorum     = desc("lvsctl_virtual_server_quorum_up", "1 if the virtual service holds its quorum.", serviceLabels)
	passTook     = desc("lvsctl_reconcile_duration_seconds", "How long each pass over the kernel's table took, by kind: health (after health transitions, from memory), resync (periodic dump and drift repair), load (start and reload).", nil, "kind")
	opsTotal     = desc("lvsctl_reconcile_operations_total", "Operations the kernel accepted, by kind.", nil, "op")
	repairs      = desc("lvsctl_drift_repairs_total", "Operations that repaired changes made behind lvsctl's back.", nil)
	lastPass     = desc("lvsctl_last_reconcile_timestamp_seconds", "When the daemon's latest pass ended, Unix time.", nil)
	generation   = desc("lvsctl_config_generation", "Configurations applied: 1 at start, one more per accepted reload.", nil)
	reloadOK     = desc("lvsctl_config_last_reload_success", "1 if the latest SIGHUP read a valid file (absent before the first reload).", nil)
	reloadAt     = desc("lvsctl_config_last_reload_timestamp_seconds", "When SIGHUP last re-read the file, Unix time.", nil)
	buildInfo    = desc("lvsctl_build_info", "Always 1; the labels say which lvsctl runs.", nil, "version", "revision", "goversion")

	// From the VRRP instances.
	vrrpState      = desc("lvsctl_vrrp_state", "The instance's state, one series per state with value 1 for the current one.", vrrpLabels, "state")
	vrrpPrio       = desc("lvsctl_vrrp_priority", "Effective priority: base plus tracking weights.", vrrpLabels)
	vrrpBasePrio   = desc("lvsctl_vrrp_base_priority", "Configured priority.", vrrpLabels)
	vrrpSent       = desc("lvsctl_vrrp_adverts_sent_total", "Advertisements sent.", vrrpLabels)
	vrrpReceived   = desc("lvsctl_vrrp_adverts_received_total", "Valid advertisements received for the instance's VRID.", vrrpLabels)
	vrrpInvalid    = desc("lvsctl_vrrp_adverts_invalid_total", "Advertisements dropped, by reason.", vrrpLabels, "reason")
	vrrpPrio0Sent  = desc("lvsctl_vrrp_priority_zero_sent_total", "Priority-0 advertisements sent (master leaving).", vrrpLabels)
	vrrpPrio0Recv  = desc("lvsctl_vrrp_priority_zero_received_total", "Priority-0 advertisements received.", vrrpLabels)
	vrrpSendErrors = desc("lvsctl_vrrp_send_errors_total", "Advertisements that could not be sent.", vrrpLabels)
	vrrpTrans      = desc("lvsctl_vrrp_transitions_total", "State transitions.", vrrpLabels)
	vrrpMaster     = desc("lvsctl_vrrp_became_master_total", "Transitions to MASTER.", vrrpLabels)

	// From the connection sync daemons (a SyncSource with a sync block).
	syncWanted   = desc("lvsctl_sync_daemon_wanted", "1 if the sync daemon of this state should run now.", nil, "state")
	syncRunning  = desc("lvsctl_sync_daemon_running", "1 if the sync daemon of this state ran at the latest check.", nil, "state")
	syncFailures = desc("lvsctl_sync_daemon_failures_total", "Failed attempts to read, start or stop the sync daemons (each is retried).", nil)
)

// AlertSource is a Source that also reports the e-mail alerts.
type AlertSource interface {
	Alerts() alert.Stats
}

var (
	alertMails   = desc("lvsctl_alert_emails_total", "E-mail alerts (alert_email) by outcome: queued, sent, failed (every attempt failed) and dropped (the queue was full). Each failed or dropped mail is also logged.", nil, "result")
	alertRetries = desc("lvsctl_alert_email_retries_total", "E-mail alert attempts after a failed one (with backoff).", nil)
)

// SyncSource is a Source that also reports the connection sync daemons.
type SyncSource interface {
	Sync() director.SyncStatus
}

var allDescs = []*prometheus.Desc{
	vsConns, vsInPkts, vsOutPkts, vsInBytes, vsOutBytes,
	rsConns, rsInPkts, rsOutPkts, rsInBytes, rsOutBytes, rsActive, rsInactive, rsWeight, rsInTable,
	scrapeOK, scrapeTook,
	rsConfWeight, rsUp, rsState, vsInSync, rsCheckRes, rsCheckAt, rsCheckTook, rsCheckUp, rsSince, rsTrans, vsQuorum,
	passTook, opsTotal, repairs, lastPass, generation, reloadOK, reloadAt, buildInfo,
	vrrpState, vrrpPrio, vrrpBasePrio, vrrpSent, vrrpReceived, vrrpInvalid, vrrpPrio0Sent, vrrpPrio0Recv, vrrpSendErrors, vrrpTrans, vrrpMaster,
	syncWanted, syncRunning, syncFailures,
	alertMails, alertRetries,
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
	for _, d := range bgpDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one snapshot of the daemon, at
// most one dump of the kernel, one status of the VRRP instances.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ch <- gauge(buildInfo, 1, c.build.Version, c.build.Revision, c.build.GoVersion)
	cfg := c.src.Config()
	ch <- gauge(generation, float64(cfg.Generation))
	if !cfg.LastReload.IsZero() {
		ch <- gauge(reloadOK, boolf(cfg.LastReloadOK))
		ch <- gauge(reloadAt, unix(cfg.LastReload))
	}
	if snap, ok := c.src.Daemon(); ok {
		c.collectDaemon(ch, snap)
		c.collectKernel(ch, snap)
	}
	for _, in := range c.src.VRRP() {
		collectVRRP(ch, in)
	}
	if as, ok := c.src.(AlertSource); ok {
		st := as.Alerts()
		for _, r := range []struct {
			name string
			n    uint64
		}{{"queued", st.Queued}, {"sent", st.Sent}, {"failed", st.Failed}, {"dropped", st.Dropped}} {
			ch <- counter(alertMails, float64(r.n), r.name)
		}
		ch <- counter(alertRetries, float64(st.Retries))
	}
	if ss, ok := c.src.(SyncSource); ok {
		if sy := ss.Sync(); sy.Configured {
			collectSync(ch, sy)
		}
	}
	if bs, ok := c.src.(BGPSource); ok {
		if b := bs.BGP(); b.Configured {
			collectBGP(ch, b)
		}
	}
}

func collectSync(ch chan<- prometheus.Metric, sy director.SyncStatus) {
	for _, st := range []ipvs.SyncState{ipvs.SyncMaster, ipvs.SyncBackup} {
		want := (st == ipvs.SyncMaster && sy.WantMaster) || (st == ipvs.SyncBackup && sy.WantBackup)
		running := slices.ContainsFunc(sy.Running, func(d ipvs.SyncDaemon) bool { return d.State == st })
		ch <- gauge(syncWanted, boolf(want), st.String())
		ch <- gauge(syncRunning, boolf(running), st.String())
	}
	ch <- counter(syncFailures, float64(sy.Failures))
}

func (c *Collector) collectDaemon(ch chan<- prometheus.Metric, snap daemon.Snapshot) {
	ch <- counter(repairs, float64(snap.Stats.Repairs))
	if !snap.At.IsZero() {
		ch <- gauge(lastPass, unix(snap.At))
	}
	for _, k := range []ipvs.OpKind{ipvs.AddService, ipvs.EditService, ipvs.DeleteService, ipvs.AddRealServer, ipvs.EditRealServer, ipvs.DeleteRealServer} {
		ch <- counter(opsTotal, float64(snap.Ops[k]), opLabel(k))
	}

	passes, checks := c.histograms(snap)
	for _, kind := range []daemon.PassKind{daemon.PassHealth, daemon.PassResync, daemon.PassLoad} {
		ch <- passes[kind].metric(passTook, string(kind))
	}
	for _, s := range snap.Services {
		sl := svcLabels(s.Name, s.Config.Key)
		ch <- gauge(vsQuorum, boolf(s.QuorumUp), sl...)
		ch <- gauge(vsInSync, boolf(s.Known), sl...)
		for _, r := range s.Reals {
			rl := append(sl[:len(sl):len(sl)], r.Real.Key().String())
			if !r.Sorry {
				ch <- gauge(rsConfWeight, float64(r.Real.Weight), rl...)
			}
			st := r.Check
			if st == nil {
				if !r.Sorry {
					ch <- gauge(rsUp, 1, rl...)
				}
				continue
			}
			ch <- gauge(rsUp, boolf(st.Up), rl...)
			for _, cs := range st.Checks {
				ch <- gauge(rsCheckUp, boolf(cs.Up), append(rl[:len(rl):len(rl)], cs.Name)...)
			}
			ch <- gauge(rsSince, unix(st.Since), rl...)
			ch <- counter(rsTrans, float64(st.Transitions), rl...)
			if !st.LastAt.IsZero() {
				ch <- gauge(rsCheckAt, unix(st.LastAt), rl...)
				result := "failure"
				switch {
				case st.Last.Keep:
					result = "inconclusive"
				case st.Last.Up:
					result = "success"
				}
				for _, v := range []string{"success", "failure", "inconclusive"} {
					ch <- gauge(rsCheckRes, boolf(v == result), append(rl[:len(rl):len(rl)], v)...)
				}
			}
			ch <- checks[st.Target].metric(rsCheckTook, rl...)
		}
	}
}

// histograms copies the duration histograms of the passes and of the
// checked real servers of snap, so that the probes are not held up while
// a scrape writes them out. After a reload it forgets the histograms of the
// real servers the reload removed.
func (c *Collector) histograms(snap daemon.Snapshot) (map[daemon.PassKind]*histogram, map[checker.Target]*histogram) {
	c.mu.Lock()
	defer c.mu.Unlock()
	passes := map[daemon.PassKind]*histogram{}
	for _, kind := range []daemon.PassKind{daemon.PassHealth, daemon.PassResync, daemon.PassLoad} {
		passes[kind] = c.passes[kind].clone()
	}
	checks := map[checker.Target]*histogram{}
	for _, s := range snap.Services {
		for _, r := range s.Reals {
			if r.Check != nil {
				checks[r.Check.Target] = c.checks[r.Check.Target].clone()
			}
		}
	}
	if snap.Loads != c.loads {
		c.loads = snap.Loads
		for t := range c.checks {
			if _, ok := checks[t]; !ok {
				delete(c.checks, t)
			}
		}
	}
	return passes, checks
}

// collectKernel dumps the kernel once and exposes the counters of every
// service in the namespace, owned="true" for the configured ones (labelled
// with their names) and owned="false" for those of other tools. A
// configured real server that is not in the table (down by health without
// inhibit_on_failure, or evicted) keeps its weight and connection series at
// 0, and lvsctl_real_server_state says why. When the dump fails, only the
// states are exposed, from the daemon's memory.
func (c *Collector) collectKernel(ch chan<- prometheus.Metric, snap daemon.Snapshot) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	table, err := c.src.Table(ctx)
	ch <- gauge(scrapeTook, time.Since(start).Seconds())
	ch <- gauge(scrapeOK, boolf(err == nil))
	if err != nil {
		for _, s := range snap.Services {
			collectStates(ch, s, nil)
		}
		return
	}
	owned := make(map[ipvs.ServiceKey]*daemon.ServiceState, len(snap.Services))
	for i := range snap.Services {
		owned[snap.Services[i].Config.Key] = &snap.Services[i]
	}
	byKey := make(map[ipvs.ServiceKey]*ipvs.ServiceStatus, len(table))
	for i := range table {
		st := &table[i]
		byKey[st.Service.Key] = st
		s := owned[st.Service.Key]
		name, own := "", "false"
		if s != nil {
			name, own = s.Name, "true"
		}
		sl := svcLabels(name, st.Service.Key)
		kl := append(sl[:len(sl):len(sl)], own)
		stats(ch, st.Stats, kl, vsConns, vsInPkts, vsOutPkts, vsInBytes, vsOutBytes)
		for _, r := range st.Reals {
			rl := append(sl[:len(sl):len(sl)], r.Real.Key().String(), own)
			stats(ch, r.Stats, rl, rsConns, rsInPkts, rsOutPkts, rsInBytes, rsOutBytes)
			ch <- gauge(rsActive, float64(r.ActiveConns), rl...)
			ch <- gauge(rsInactive, float64(r.InactiveConns), rl...)
			ch <- gauge(rsWeight, float64(r.Real.Weight), rl...)
		}
	}
	for _, s := range snap.Services {
		inKernel := map[ipvs.RealKey]bool{}
		if st := byKey[s.Config.Key]; st != nil {
			for _, r := range st.Reals {
				inKernel[r.Real.Key()] = true
			}
		}
		sl := svcLabels(s.Name, s.Config.Key)
		for _, r := range s.Reals {
			if r.Sorry {
				continue
			}
			rl := append(sl[:len(sl):len(sl)], r.Real.Key().String())
			in := inKernel[r.Real.Key()]
			ch <- gauge(rsInTable, boolf(in), rl...)
			if !in {
				// Its series stay, at 0, so that a graph or an alert sees
				// it down rather than gone.
				kl := append(rl[:len(rl):len(rl)], "true")
				ch <- gauge(rsWeight, 0, kl...)
				ch <- gauge(rsActive, 0, kl...)
				ch <- gauge(rsInactive, 0, kl...)
			}
		}
		collectStates(ch, s, inKernel)
	}
}

// realStates are the values of lvsctl_real_server_state's "state" label.
var realStates = []string{"up", "down", "missing"}

// collectStates exposes the state of each configured real server of s:
// down by health, else up when inKernel says it is in the table (or
// inKernel is nil: the dump failed), else missing.
func collectStates(ch chan<- prometheus.Metric, s daemon.ServiceState, inKernel map[ipvs.RealKey]bool) {
	sl := svcLabels(s.Name, s.Config.Key)
	for _, r := range s.Reals {
		if r.Sorry {
			continue
		}
		state := "up"
		switch {
		case r.Check != nil && !r.Check.Up:
			state = "down"
		case inKernel != nil && !inKernel[r.Real.Key()]:
			state = "missing"
		}
		rl := append(sl[:len(sl):len(sl)], r.Real.Key().String())
		for _, v := range realStates {
			ch <- gauge(rsState, boolf(v == state), append(rl[:len(rl):len(rl)], v)...)
		}
	}
}

func stats(ch chan<- prometheus.Metric, s ipvs.Stats, labels []string, conns, inPkts, outPkts, inBytes, outBytes *prometheus.Desc) {
	ch <- counter(conns, float64(s.Conns), labels...)
	ch <- counter(inPkts, float64(s.InPkts), labels...)
	ch <- counter(outPkts, float64(s.OutPkts), labels...)
	ch <- counter(inBytes, float64(s.InBytes), labels...)
	ch <- counter(outBytes, float64(s.OutBytes), labels...)
}

func collectVRRP(ch chan<- prometheus.Metric, in director.InstanceStatus) {
	l := []string{in.Name, in.Interface, strconv.Itoa(int(in.VRID))}
	for _, s := range []vrrp.State{vrrp.StateInit, vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault, vrrp.StateStop} {
		ch <- gauge(vrrpState, boolf(in.State == s), append(l[:3:3], s.String())...)
	}
	ch <- gauge(vrrpPrio, float64(in.Priority), l...)
	ch <- gauge(vrrpBasePrio, float64(in.BasePriority), l...)
	n := in.Counters
	ch <- counter(vrrpSent, float64(n.AdvertsSent), l...)
	ch <- counter(vrrpReceived, float64(n.AdvertsReceived), l...)
	ch <- counter(vrrpPrio0Sent, float64(n.PriorityZeroSent), l...)
	ch <- counter(vrrpPrio0Recv, float64(n.PriorityZeroReceived), l...)
	ch <- counter(vrrpSendErrors, float64(n.SendErrors), l...)
	ch <- counter(vrrpTrans, float64(in.Transitions), l...)
	ch <- counter(vrrpMaster, float64(n.BecameMaster), l...)
	for _, r := range []vrrp.DropReason{vrrp.DropTTL, vrrp.DropLength, vrrp.DropVersion, vrrp.DropType, vrrp.DropVRID,
		vrrp.DropChecksum, vrrp.DropAuth, vrrp.DropInterval, vrrp.DropAddresses, vrrp.DropPeer} {
		ch <- counter(vrrpInvalid, float64(n.Dropped[r]), append(l[:3:3], string(r))...)
	}
}

// svcLabels are the labels of a virtual service: its name and its key, as
// the logs and the hooks name it (docs/names.md), and its VIP, port and
// protocol; a firewall-mark service has proto "fwmark", port "0" and its
// key ("FWM 7 ipv4") as vip.
func svcLabels(name string, k ipvs.ServiceKey) []string {
	if k.IsFWMark() {
		return []string{name, k.String(), k.String(), "0", "fwmark"}
	}
	return []string{name, k.String(), k.Addr.String(), strconv.Itoa(int(k.Port)), strings.ToLower(k.Protocol.String())}
}

// opLabel is an op kind as a label value: "add_real_server".
func opLabel(k ipvs.OpKind) string { return strings.ReplaceAll(k.String(), " ", "_") }

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// histogram accumulates durations for a const histogram; its owner locks.
type histogram struct {
	count   uint64
	sum     float64
	buckets []uint64 // per upper bound, not cumulative
}

func newHistogram() *histogram { return &histogram{buckets: make([]uint64, len(durationBuckets))} }

// clone copies h; a nil h is an empty histogram.
func (h *histogram) clone() *histogram {
	if h == nil {
		return newHistogram()
	}
	c := *h
	c.buckets = slices.Clone(h.buckets)
	return &c
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	h.count++
	h.sum += s
	for i, ub := range durationBuckets {
		if s <= ub {
			h.buckets[i]++
			break
		}
	}
}

func (h *histogram) metric(d *prometheus.Desc, labels ...string) prometheus.Metric {
	cum := make(map[float64]uint64, len(durationBuckets))
	var n uint64
	for i, ub := range durationBuckets {
		n += h.buckets[i]
		cum[ub] = n
	}
	return prometheus.MustNewConstHistogram(d, h.count, h.sum, cum, labels...)
}
