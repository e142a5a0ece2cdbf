package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/cmd/internal/alert"
	"github.com/lvsctl/lvsctl/cmd/internal/daemon"
	"github.com/lvsctl/lvsctl/cmd/internal/director"
	"github.com/lvsctl/lvsctl/cmd/internal/metrics"
	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// This file is what `lvsctl run` offers the people who operate it, beside
// its real work: the status socket of `lvsctl status`, the Prometheus
// metrics of --metrics-listen and systemd's notify protocol. It only reads
// the daemon (daemon.Snapshot, director.Status) and never its kernel
// handle.

// runDir holds the status sockets.
const runDir = "/run/lvsctl"

// runOpsFlags are run's flags for operators.
type runOpsFlags struct {
	socket        string
	metricsListen string
}

func (f *runOpsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.socket, "socket", "", "status socket `PATH` for lvsctl status (default "+runDir+"/lvsctl.sock, or "+runDir+"/netns/NAME.sock with --netns)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "serve Prometheus metrics on `ADDR` (host:port, e.g. 127.0.0.1:9610) at /metrics; off by default. With --netns the address is inside that namespace")
}

// statusSocket is the status socket of the daemon of g's namespace: one per
// namespace, like the ownership record, unless override names one.
func statusSocket(override string, g *globals) string {
	if override != "" {
		return override
	}
	if g.netns == "" {
		return filepath.Join(runDir, "lvsctl.sock")
	}
	name := strings.Trim(strings.ReplaceAll(g.netns, "/", "_"), "_")
	return filepath.Join(runDir, "netns", name+".sock")
}

// runOps serves status and metrics for one `lvsctl run` and tells systemd
// how it goes. Create it with startRunOps; the daemon and the director are
// attached as run creates them.
type runOps struct {
	// alerts sends the e-mail alerts (alert_email); run.go sets it.
	alerts  *alert.Sender
	log     *slog.Logger
	file    string
	netns   string
	started time.Time
	build   buildInfo
	sd      notifier
	ctx     context.Context // until stop
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	daemon    atomic.Pointer[daemon.Daemon]
	director  atomic.Pointer[director.Director]
	collector *metrics.Collector // nil without --metrics-listen
	kernel    *tableReader

	mu         sync.Mutex
	stopped    bool
	generation int
	// loadsBefore is the daemon's Snapshot.Loads when SIGHUP came.
	loadsBefore int
	lastReload  *statusapi.Reload

	status  *statusapi.Server
	metrics *http.Server

	// Configurations (run_config.go): opt reads those the socket is
	// given; reloadCh hands them to the director; current is the latest
	// handed over, which the next is judged against (under mu, as are
	// waiters, the applies through the socket that wait for the daemon's
	// outcome); reloadMu makes reloads (SIGHUP, apply) take turns.
	opt      configOptions
	probe    ipvs.Prober // kernel capabilities (kernelcheck.go); nil: not asked
	reloadCh chan *lvshcl.Config
	current  *lvshcl.Config
	waiters  map[*lvshcl.Config]chan loadOutcome
	reloadMu sync.Mutex
}

// startRunOps opens the status socket and the metrics listener (errors are
// fatal: the operator asked for them) and starts telling systemd: READY
// once cfg is applied, watchdog pings, STOPPING when ctx ends. Call stop
// when run returns.
func startRunOps(ctx context.Context, f runOpsFlags, e *env, g *globals, file string, cfg *lvshcl.Config, log *slog.Logger) (*runOps, error) {
	ctx, cancel := context.WithCancel(ctx)
	o := &runOps{
		log: log, file: file, netns: g.netns, started: time.Now(), build: readBuildInfo(),
		sd: notifier{log: log}, ctx: ctx, cancel: cancel, generation: 1,
		opt: g.configOptions(), probe: e.probe, reloadCh: make(chan *lvshcl.Config), current: cfg,
	}
	if abs, err := filepath.Abs(file); err == nil {
		o.file = abs
	}
	var err error
	o.status, err = statusapi.ListenWith(statusSocket(f.socket, g),
		statusapi.Handlers{Status: o.statusDoc, Plan: o.planConfig, Apply: o.applyConfig}, log)
	if err != nil {
		cancel()
		return nil, err
	}
	if f.metricsListen != "" {
		if err := o.serveMetrics(f.metricsListen, e, g); err != nil {
			o.stop()
			return nil, err
		}
	}
	log.Info("status socket", "socket", o.status.Path())

	o.wg.Add(3)
	go func() {
		defer o.wg.Done()
		o.notifyReady(ctx, needsIPVS(cfg))
	}()
	go func() {
		defer o.wg.Done()
		o.sd.watchdog(ctx, o.alive)
	}()
	go func() {
		defer o.wg.Done()
		<-ctx.Done()
		o.sd.stopping()
	}()
	return o, nil
}

// stop closes the listeners; STOPPING=1 has been sent.
func (o *runOps) stop() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
	o.cancel()
	o.wg.Wait()
	if o.metrics != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = o.metrics.Shutdown(ctx)
	}
	if o.status != nil {
		_ = o.status.Close()
	}
	if o.kernel != nil {
		o.kernel.close()
	}
}

// attach makes dm the IPVS daemon that status and metrics read; call it
// before dm runs. It returns dm.
func (o *runOps) attach(dm *daemon.Daemon) *daemon.Daemon {
	if o.collector != nil {
		dm.Observe(o.collector.Observer())
	}
	o.daemon.Store(dm)
	return dm
}

// attachDirector makes d the director whose VRRP status is reported. It
// returns d.
func (o *runOps) attachDirector(d *director.Director) *director.Director {
	o.director.Store(d)
	return d
}

// needsIPVS is the director's rule: a file with virtual services, or with
// neither VRRP instances nor a bgp block, runs the IPVS daemon.
func needsIPVS(cfg *lvshcl.Config) bool { return director.NeedsIPVS(cfg) }

// notifyReady sends READY=1 once the first configuration is applied: when
// the IPVS daemon published its first snapshot, or at once on a VRRP-only
// node.
func (o *runOps) notifyReady(ctx context.Context, ipvsNeeded bool) {
	for ipvsNeeded {
		var published <-chan struct{}
		if dm := o.daemon.Load(); dm != nil {
			published = dm.Published()
			if _, ok := dm.Snapshot(); ok {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-published:
		case <-time.After(50 * time.Millisecond): // until the daemon is attached
		}
	}
	o.sd.ready("running")
}

// reloading is called on SIGHUP or an apply through the socket, before
// the file is read.
func (o *runOps) reloading() {
	o.sd.reloading()
	loads := 0
	if s, ok := o.Daemon(); ok {
		loads = s.Loads
	}
	o.mu.Lock()
	o.loadsBefore = loads
	o.mu.Unlock()
}

// reloaded is called once a SIGHUP's file was handed to the daemon (err
// nil) or refused. READY=1 follows when the daemon has applied it (at most
// 30 s later: a reload the daemon refuses publishes nothing).
func (o *runOps) reloaded(err error) {
	o.reloadedVia("SIGHUP", o.file, err)
}

// reloadedVia is reloaded for a reload by via ("SIGHUP", "apply") of file.
func (o *runOps) reloadedVia(via, file string, err error) {
	o.mu.Lock()
	if o.stopped {
		o.mu.Unlock()
		return
	}
	r := &statusapi.Reload{At: time.Now(), OK: err == nil, Via: via, File: file}
	if err != nil {
		r.Error = err.Error()
	} else {
		o.generation++
	}
	o.lastReload = r
	dm := o.daemon.Load()
	if err != nil || dm == nil {
		o.mu.Unlock()
		status := "running"
		if err != nil {
			status = "running; the last reload was refused"
		}
		o.sd.ready(status)
		return
	}
	o.wg.Add(1) // under mu: stop has not begun waiting
	before := o.loadsBefore
	o.mu.Unlock()
	go func() {
		defer o.wg.Done()
		timeout := time.NewTimer(30 * time.Second)
		defer timeout.Stop()
		for {
			published := dm.Published()
			if s, ok := dm.Snapshot(); ok && s.Loads > before {
				break
			}
			select {
			case <-published:
				continue
			case <-o.ctx.Done():
				return
			case <-timeout.C:
				o.log.Warn("reload: the daemon did not apply the new configuration within 30s; telling systemd the reload is over")
			}
			break
		}
		o.sd.ready("running")
	}()
}

// alive reports whether the daemon still works: it publishes a snapshot at
// every pass, and passes at least every resync interval.
func (o *runOps) alive() (bool, string) {
	dm := o.daemon.Load()
	if dm == nil {
		return true, ""
	}
	s, ok := dm.Snapshot()
	if !ok {
		return true, "" // starting: TimeoutStartSec covers it
	}
	limit := 2*s.Resync + 30*time.Second
	if since := time.Since(s.At); since > limit {
		return false, fmt.Sprintf("no reconcile or resync for %s (resync every %s)", since.Round(time.Second), s.Resync)
	}
	return true, ""
}

// serveMetrics listens on addr and serves /metrics.
func (o *runOps) serveMetrics(addr string, e *env, g *globals) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics-listen: %w", err)
	}
	netnsPath := g.netnsPath()
	o.kernel = &tableReader{open: func(ctx context.Context) (lister, error) { return e.openLister(ctx, netnsPath) }}
	o.collector = metrics.New(o, metrics.Options{Build: metrics.BuildInfo{
		Version: o.build.Version, Revision: o.build.Revision, GoVersion: o.build.GoVersion,
	}})
	reg := metrics.NewRegistry(o.collector)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(o.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		// Each scrape dumps the kernel once; a few at a time at most.
		MaxRequestsInFlight: 3,
		Timeout:             30 * time.Second,
	}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "lvsctl run: metrics at /metrics\n")
	})
	o.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := o.metrics.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.log.Error("metrics listener stopped", "addr", addr, "err", err)
		}
	}()
	o.log.Info("serving metrics", "addr", ln.Addr().String(), "path", "/metrics")
	return nil
}

// Daemon, Table, VRRP and Config make runOps the metrics.Source.

func (o *runOps) Daemon() (daemon.Snapshot, bool) {
	dm := o.daemon.Load()
	if dm == nil {
		return daemon.Snapshot{}, false
	}
	return dm.Snapshot()
}

func (o *runOps) Table(ctx context.Context) ([]ipvs.ServiceStatus, error) {
	return o.kernel.table(ctx)
}

func (o *runOps) VRRP() []director.InstanceStatus {
	if d := o.director.Load(); d != nil {
		return d.Status().VRRP.Instances
	}
	return nil
}

func (o *runOps) Config() metrics.ConfigInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	ci := metrics.ConfigInfo{Generation: o.generation}
	if r := o.lastReload; r != nil {
		ci.LastReload, ci.LastReloadOK = r.At, r.OK
	}
	return ci
}

// tableReader dumps the kernel's table for the metrics on a netlink handle
// of its own, opened at the first scrape. The daemon's handle belongs to
// its goroutine, and a dump through it would have to wait for (and delay)
// reconciles; a second socket is cheap, the kernel serializes its readers
// and writers, and a dump only reads. Scrapes take turns on the handle, and
// a failed dump closes it (a cancelled request can leave it unusable); the
// next scrape opens another.
type tableReader struct {
	open func(context.Context) (lister, error)
	mu   sync.Mutex
	l    lister
}

func (r *tableReader) table(ctx context.Context) ([]ipvs.ServiceStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.l == nil {
		l, err := r.open(ctx)
		if err != nil {
			return nil, err
		}
		r.l = l
	}
	listed, err := r.l.List(ctx)
	if err != nil {
		r.l.Close()
		r.l = nil
		return nil, err
	}
	out := make([]ipvs.ServiceStatus, len(listed))
	for i, ls := range listed {
		out[i] = ls.ServiceStatus
	}
	return out, nil
}

func (r *tableReader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.l != nil {
		r.l.Close()
		r.l = nil
	}
}

// statusDoc is the answer to `lvsctl status`.
func (o *runOps) statusDoc() statusapi.Status {
	st := statusapi.Status{
		PID: os.Getpid(), Version: o.build.String(), Started: o.started, Now: time.Now(), Netns: o.netns,
		Pools: []statusapi.Pool{}, VRRP: []statusapi.VRRP{},
	}
	o.mu.Lock()
	st.Config = statusapi.Config{File: o.file, Generation: o.generation}
	if r := o.lastReload; r != nil {
		rc := *r
		st.Config.LastReload = &rc
	}
	o.mu.Unlock()
	if s, ok := o.Daemon(); ok {
		st.IPVS = true
		st.Config.LoadedAt = s.LoadedAt
		st.LastReconcile = s.At
		st.Counters = statusapi.Counters{Reconciles: s.Stats.Reconciles, Resyncs: s.Stats.Resyncs, Writes: s.Stats.Writes, Repairs: s.Stats.Repairs}
		for _, svc := range s.Services {
			st.Pools = append(st.Pools, poolStatus(svc))
		}
	}
	for _, in := range o.VRRP() {
		v := statusapi.VRRP{
			Name: in.Name, Interface: in.Interface, VRID: in.VRID, Version: in.Version, State: in.State.String(),
			Since: in.Since, Fault: in.Fault, Priority: in.Priority, BasePriority: in.BasePriority,
			SyncGroup: in.SyncGroup, Error: in.Err,
		}
		if in.Master.IsValid() {
			v.Master = in.Master.String()
		}
		st.VRRP = append(st.VRRP, v)
	}
	if sy := o.Sync(); sy.Configured {
		st.Sync = syncStatus(sy)
	}
	if b := o.BGP(); b.Configured {
		st.BGP = bgpStatus(b)
	}
	return st
}

// BGP is the announcer's state (metrics.BGPSource).
func (o *runOps) BGP() director.BGPStatus {
	if d := o.director.Load(); d != nil {
		return d.Status().BGP
	}
	return director.BGPStatus{}
}

func bgpStatus(b director.BGPStatus) *statusapi.BGP {
	out := &statusapi.BGP{
		Running: b.Running, Error: b.Error, Neighbors: []statusapi.BGPNeighbor{}, Announced: []string{}, Withheld: []statusapi.BGPWithheld{},
		Announces: b.Announces, Withdraws: b.Withdraws, VIPInterface: b.VIPInterface, VIPs: []string{}, VIPError: b.VIPError,
		SloppyTCP: b.SloppyTCP, SloppySCTP: b.SloppySCTP,
	}
	for _, n := range b.Neighbors {
		out.Neighbors = append(out.Neighbors, statusapi.BGPNeighbor{Name: n.Name, Address: n.Address.String(), ASN: n.ASN,
			State: n.State.String(), Since: n.Since, Reason: n.Reason, Established: n.Established,
			BFD: n.BFD.String(), BFDSince: n.BFDSince})
	}
	for _, p := range b.Announced {
		out.Announced = append(out.Announced, p.String())
	}
	for _, w := range b.Withheld {
		out.Withheld = append(out.Withheld, statusapi.BGPWithheld{Announce: w.Announce, Reason: w.Reason})
	}
	for _, p := range b.VIPAddrs {
		out.VIPs = append(out.VIPs, p.String())
	}
	return out
}

// Sync is the sync daemons' state (metrics.SyncSource).
func (o *runOps) Sync() director.SyncStatus {
	if d := o.director.Load(); d != nil {
		return d.Status().Sync
	}
	return director.SyncStatus{}
}

func syncStatus(sy director.SyncStatus) *statusapi.Sync {
	out := &statusapi.Sync{VRRPInstance: sy.VRRPInstance, Want: []string{}, Running: []statusapi.SyncDaemon{},
		CheckedAt: sy.CheckedAt, Error: sy.Error, Failures: sy.Failures}
	if sy.WantMaster {
		out.Want = append(out.Want, ipvs.SyncMaster.String())
	}
	if sy.WantBackup {
		out.Want = append(out.Want, ipvs.SyncBackup.String())
	}
	for _, d := range sy.Running {
		sd := statusapi.SyncDaemon{State: d.State.String(), Interface: d.Interface, SyncID: d.SyncID, MaxLen: d.MaxLen, Port: d.Port, TTL: d.TTL}
		if d.Group.IsValid() {
			sd.Group = d.Group.String()
		}
		out.Running = append(out.Running, sd)
	}
	return out
}

func poolStatus(s daemon.ServiceState) statusapi.Pool {
	p := statusapi.Pool{
		Name: s.Name, Service: s.Config.Key.String(), Scheduler: string(s.Config.Scheduler),
		QuorumUp: s.QuorumUp, InSync: s.Known, Reals: []statusapi.Real{},
	}
	for _, r := range s.Reals {
		rs := statusapi.Real{
			Address: r.Real.Key().String(), Forwarding: r.Real.Forwarding.String(), State: statusapi.StateUp,
			InTable: r.InTable, Weight: r.Weight, ConfiguredWeight: r.Real.Weight,
		}
		switch c := r.Check; {
		case r.Sorry:
			rs.State = statusapi.StateSorry
		case c != nil:
			rs.HasCheck, rs.Checked = true, c.Checked
			if !c.Up {
				rs.State = statusapi.StateDown
			}
			rs.Since, rs.Reason, rs.Transitions = c.Since, c.Reason, c.Transitions
			if !c.LastAt.IsZero() {
				rs.LastCheck = &statusapi.Check{At: c.LastAt, Result: checkResult(c.Last), Reason: c.Last.Reason, TookSeconds: c.Last.Took.Seconds()}
			}
			for _, cs := range c.Checks {
				rc := statusapi.RealCheck{Name: cs.Name, State: statusapi.StateUp, Checked: cs.Checked, Since: cs.Since, Reason: cs.Reason, Transitions: cs.Transitions}
				if !cs.Up {
					rc.State = statusapi.StateDown
				}
				if !cs.LastAt.IsZero() {
					rc.LastCheck = &statusapi.Check{At: cs.LastAt, Result: checkResult(cs.Last), Reason: cs.Last.Reason, TookSeconds: cs.Last.Took.Seconds()}
				}
				rs.Checks = append(rs.Checks, rc)
			}
		}
		p.Reals = append(p.Reals, rs)
	}
	return p
}

func checkResult(r checker.Result) string {
	switch {
	case r.Keep:
		return statusapi.ResultInconclusive
	case r.Up:
		return statusapi.ResultSuccess
	}
	return statusapi.ResultFailure
}
