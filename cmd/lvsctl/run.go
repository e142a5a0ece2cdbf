package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/lvsctl/lvsctl/cmd/internal/alert"
	"github.com/lvsctl/lvsctl/cmd/internal/daemon"
	"github.com/lvsctl/lvsctl/cmd/internal/director"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// runGCPercent is lvsctl run's GOGC unless the environment sets one.
const runGCPercent = 50

func newRunCmd(e *env, g *globals) *cobra.Command {
	var (
		file        string
		adopt       bool
		flushOnExit bool
		logFormat   string
		logLevel    string
		resync      time.Duration
		opsFlags    runOpsFlags // status socket, metrics (run_ops.go)
	)
	cmd := &cobra.Command{
		Use:   "run -f FILE",
		Short: "Run the director daemon: health checks that keep the IPVS table, and VRRP",
		Long: `run applies the file like "lvsctl apply", then health-checks every real server
that has a check block and keeps the kernel's table equal to the file plus the
servers' health:

  - a failed real server is removed, or kept with weight 0 when its virtual
    service sets inhibit_on_failure = true (established connections drain);
  - it is restored with its configured (or dynamic) weight when it recovers;
  - while the quorum is lost, the sorry_server takes the traffic alone (the
    live real servers leave too, as in keepalived);
  - quorum_up / quorum_down and notify_up / notify_down hooks run (argv, no
    shell, bounded in time; a failing hook is logged, never fatal).

It also runs the file's vrrp_instance blocks (VRRP v2/v3, interoperable with
keepalived) with their track_script, track_interface and track_virtual_server
tracking, sync groups and notify hooks, and its bgp block (docs/bgp.md): each
announce block's VIPs are put on vip_interface and announced to the
neighbors while every service it tracks holds its quorum on real check
results (never on a quorum presumed at start or reload), every tracked
interface is up and every tracked vrrp_script passes. A file with VRRP
instances or a bgp block and no virtual_server never opens IPVS, so such a
node runs on a kernel without it.

Until its first probe, a real server's state is presumed. At a restart (its
virtual service is already in the kernel) it comes from the table: in it
with a weight = up; absent, or at weight 0 under inhibit_on_failure = down;
the first probe confirms or corrects it. A restart on a converged table thus
writes nothing until a probe disagrees, whatever the servers' health, and
"lvsctl status" says "presumed from the table, not yet checked". At a cold
start a server is presumed up (down with alpha = true), except that a check
that tests a role (mysql with read_only, replication_running or
max_replication_lag) never presumes one up: such a server joins only after
a successful probe. Servers added by SIGHUP follow the cold-start rule.

Transitions are coalesced (50 ms) so a mass failure is one reconcile. Every
resync interval (the shortest delay_loop, at least 10 s and at most 60 s) the kernel is read once
and anything changed behind lvsctl's back (ipvsadm -d ...) is repaired and
logged.

Signals: SIGHUP re-reads the file; an invalid file is reported and the running
configuration is kept, as is one that configures nothing (without
allow_empty = true) or that would delete more than half of the services, or
of a service's real servers (without allow_destroy = true); a valid one is
applied by difference, and real servers that stay keep their health. A reload
is diffed against the table lvsctl last wrote, without reading the kernel;
drift is repaired by a resync 2 s later (a reload reads the kernel first when a
write failed or the last resync found drift).
"lvsctl plan -f" and "lvsctl apply -f" talk to the daemon over its socket:
apply is a reload that answers with the changes made (docs/plan.md). SIGTERM or SIGINT stop the checks and leave the
IPVS table in place, so traffic flows through a restart (--flush-on-exit, or
flush_on_exit = true at the top of the file, removes what lvsctl owns
instead). On SIGHUP only the VRRP instances whose settings changed restart;
on SIGTERM every instance leaves gracefully (priority-0 advert, VIPs removed,
notify_stop). With a bgp block, SIGTERM first withdraws every VIP, waits
drain_time with the sessions up and IPVS forwarding, closes the sessions,
takes the VIPs off vip_interface and restores sloppy_tcp/sloppy_sctp; then
the rest stops. A SIGHUP that leaves the bgp block's settings unchanged
leaves the sessions alone.

"lvsctl status" asks the daemon for its pools, health and VRRP state over a
root-only unix socket (--socket). --metrics-listen serves Prometheus metrics
(docs/metrics.md). Under systemd (Type=notify, docs/systemd/lvsctl.service)
it reports READY, RELOADING and STOPPING and pings the watchdog.`,
		Example: `  sudo lvsctl run -f /etc/lvsctl/lvsctl.hcl
  sudo lvsctl run -f lvsctl.hcl --log-format json --log-level debug
  sudo kill -HUP $(pidof lvsctl)    # reload`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(e.stderr, logFormat, logLevel)
			if err != nil {
				return err
			}
			// Probers that log on their own (the MySQL check's "too many
			// connections") use the default logger: make it the daemon's.
			slog.SetDefault(logger)
			if g.netns != "" {
				// Checks and hooks must run where the real servers are
				// reachable: inside the director's namespace. The
				// re-executed process reads (and reports on) the file.
				if err := reexecInNetns(g.netnsPath()); err != nil {
					return err
				}
			}
			// Decoded blocks of the last parse (configcache.go): an edited
			// file decodes what changed, at start and at every reload.
			defer g.useBlockCache(e)()
			cfg, err := loadConfig(cmd.Context(), file, e.stderr, g.configOptions())
			if err != nil {
				return err
			}
			if cfg.Empty() && !cfg.Guard.AllowEmpty {
				return &exitError{code: 1, err: fmt.Errorf("refused: %w", &emptyError{file: file})} // a backend's file
			}
			ctx := cmd.Context()
			unlock, err := lockExclusive(ctx, g.ownership(e).Path, roleRun, readersWait)
			if err != nil {
				return err
			}
			defer unlock()
			ops, err := startRunOps(ctx, opsFlags, e, g, file, cfg, logger)
			if err != nil {
				return err
			}
			defer ops.stop()
			// E-mail alerts (alert_email): one sender for the process, its
			// queue sent by its own goroutine; reloads reconfigure it.
			alerts := alert.New(alert.Options{Logger: logger})
			alerts.Load(cfg.Alert)
			ops.alerts = alerts
			// The sender outlives the signal: at stop, the mails queued
			// (the last transitions' too) are sent for up to
			// DefaultFlushTimeout, never longer; the rest are logged as
			// dropped.
			go alerts.Run(context.WithoutCancel(ctx))
			defer func() {
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), alert.DefaultFlushTimeout)
				defer cancel()
				alerts.Flush(fctx)
			}()

			go watchReload(ctx, file, g.configOptions(), logger, ops)
			var steadyGC sync.Once
			// IPVS is opened only when the file has virtual services: a
			// VRRP-only node runs on a kernel without IPVS.
			startIPVS := func(ctx context.Context, onQuorum func(string, bool)) (director.Daemon, func(), error) {
				k, err := e.openKernel(ctx, g.netnsPath())
				if err != nil {
					return nil, nil, err
				}
				return ops.attach(daemon.New(daemon.Options{
					Kernel:      k,
					Owned:       g.ownership(e),
					Logger:      logger,
					Adopt:       adopt,
					FlushOnExit: flushOnExit || cfg.FlushOnExit,
					Resync:      resync,
					OnQuorum:    onQuorum,
					OnLoad: func(c *lvshcl.Config, o []ipvs.Op, err error) {
						steadyGC.Do(func() {
							if os.Getenv("GOGC") == "" {
								// Once running, the heap is small, live
								// and steady (the configuration, the
								// checks' state): collecting at 50 %
								// growth instead of Go's 100 % keeps
								// about 4 MiB less RSS at 1,000 checks
								// (docs/BENCHMARKS.md, issue 22), for GC
								// work the checks' near-zero allocation
								// keeps small. Start-up ran at 100; a
								// reload's parse still runs at 200
								// (config.go).
								debug.SetGCPercent(runGCPercent)
							}
						})
						ops.daemonLoaded(c, o, err)
					},
					Alerts: alerts,
				})), func() { k.Close() }, nil
			}
			d := ops.attachDirector(director.New(director.Options{Logger: logger, StartIPVS: startIPVS,
				VRRP: director.VRRPOptions{OnTransition: alerts.VRRPTransition}}))
			logger.Info("starting", "config", file, "netns", g.netns, "pid", os.Getpid())
			return d.Run(ctx, cfg, ops.reloadCh)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "lvsctl.hcl", "configuration `FILE`")
	cmd.Flags().BoolVar(&adopt, "adopt", false, "take over services in the file that exist but were not created by lvsctl")
	cmd.Flags().BoolVar(&flushOnExit, "flush-on-exit", false, "remove the services lvsctl owns when stopping (default: leave the table)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format: `text` or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	cmd.Flags().DurationVar(&resync, "resync", 0, "how often to read the kernel and repair drift (default: shortest delay_loop, at least 10s, at most 60s)")
	opsFlags.register(cmd.Flags())
	return cmd
}

// newLogger builds the daemon's slog logger.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: lv, ReplaceAttr: logAttr}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// roleRun marks the state lock of lvsctl run, which holds it for its whole
// life: apply then says that the daemon owns the table.
const roleRun = "run"

// Alerts reports the e-mail alerts to the metrics (metrics.AlertSource).
func (o *runOps) Alerts() alert.Stats {
	if o.alerts == nil {
		return alert.Stats{}
	}
	return o.alerts.Stats()
}

// watchReload re-reads file on every SIGHUP (within opt's limits) and
// hands valid configurations to the daemon (ops.submit, which refuses an
// empty or too destructive one); an invalid one is logged with its
// diagnostics (capped, secrets masked) and dropped. ops hears each
// reload's start and outcome (systemd, status) before the diagnostics are
// rendered.
func watchReload(ctx context.Context, file string, opt configOptions, logger *slog.Logger, ops *runOps) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if !reloadOnce(ctx, file, opt, logger, ops) {
			return
		}
	}
}

// reloadOnce is one SIGHUP; it returns false when ctx ends.
func reloadOnce(ctx context.Context, file string, opt configOptions, logger *slog.Logger, ops *runOps) bool {
	ops.reloadMu.Lock()
	defer ops.reloadMu.Unlock()
	logger.Info("SIGHUP: reloading", "config", file)
	ops.reloading()
	cfg, files, diags := opt.hclOptions().Load(file)
	if errs := diags.Errs(); len(errs) > 0 {
		// The first error as its diagnostic's first line
		// (FILE:LINE:COL: Error: Summary), rendered as the log's
		// are: masked.
		var first bytes.Buffer
		_ = lvshcl.RenderDiagnostics(ctx, &first, files, hcl.Diagnostics{firstError(diags)}, 1)
		head, _, _ := strings.Cut(first.String(), "\n")
		ops.reloaded(fmt.Errorf("%s, the first: %s", plural(len(errs), "error"), head))
		var buf bytes.Buffer
		if err := lvshcl.RenderDiagnostics(ctx, &buf, files, diags, lvshcl.DefaultMaxDiagnostics); err != nil {
			return false // stopping
		}
		logger.Error("reload refused; keeping the running configuration",
			"config", file, "via", "SIGHUP", "reason", "invalid file", "errors", len(errs), "diagnostics", strings.TrimSpace(buf.String()))
		return true
	}
	if len(diags) > 0 {
		// Warnings, as at start: a check that is not run (check "bfd")
		// says so at every load.
		var buf bytes.Buffer
		if err := lvshcl.RenderDiagnostics(ctx, &buf, files, diags, lvshcl.DefaultMaxDiagnostics); err != nil {
			return false // stopping
		}
		logger.Warn("reload: the file has warnings", "config", file, "via", "SIGHUP", "warnings", len(diags), "diagnostics", strings.TrimSpace(buf.String()))
	}
	if err := ops.submit(ctx, file, cfg, false); err != nil {
		if ctx.Err() != nil {
			return false
		}
		ops.reloaded(err)
		logger.Error("reload refused; keeping the running configuration", "config", file, "via", "SIGHUP", "err", err)
		return true
	}
	ops.reloaded(nil)
	return true
}

// firstError is the first error of diags, which has one.
func firstError(diags hcl.Diagnostics) *hcl.Diagnostic {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			return d
		}
	}
	return nil
}
