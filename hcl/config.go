package hcl

import (
	"cmp"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/realserver"
)

// Config is a decoded, validated lvsctl configuration.
type Config struct {
	Services []ipvs.VirtualService // in file order
	// Pools holds each service's health policy, parallel to Services.
	Pools []Pool
	// FlushOnExit makes `lvsctl run` remove the services it owns when it
	// stops (top-level flush_on_exit); by default the table stays.
	FlushOnExit bool
	// RealServer is the realserver block: how backends of this cluster
	// are prepared by `lvsctl realserver start -f`. Nil if absent.
	RealServer *realserver.Config
	// VRRP is the vrrp_instance, vrrp_script and vrrp_sync_group blocks:
	// the VIPs `lvsctl run` moves between directors. Empty if none.
	VRRP VRRP
	// Sync is the sync block: the kernel's connection sync daemon,
	// following a VRRP instance. Nil if absent.
	Sync *Sync
	// Timeouts is the timeouts block (timeouts.go): the kernel's IPVS
	// connection timeouts, a zero field unchanged. Nil if absent.
	Timeouts *ipvs.Timeouts
	// Alert is the alert_email block (alert.go): where `lvsctl run` sends
	// keepalived's e-mail alerts. Nil if absent.
	Alert *AlertEmail
	// BGP is the bgp block (bgp.go): the speaker announcing VIPs to the
	// routers. Nil if absent.
	BGP *BGP
	// Guard is the top-level allow_empty and allow_destroy (guard.go).
	Guard Guard
	// Sources says where each service is written, parallel to Services.
	Sources []Source
	// Resolved are the real and sorry servers given by host name, with
	// the address each resolved to (resolve.go), in file order.
	Resolved []Resolved
}

// Files maps file names to parsed files for rendering diagnostics.
type Files map[string]*hcl.File

// Load reads and validates one file under the default limits (see
// Limits). On any error it returns nil Config and all diagnostics.
func Load(filename string) (*Config, Files, hcl.Diagnostics) {
	return Limits{}.Load(filename)
}

// Parse is Load for in-memory source.
func Parse(src []byte, filename string) (*Config, Files, hcl.Diagnostics) {
	return Limits{}.Parse(src, filename)
}

func load(files Files, f *hcl.File, diags hcl.Diagnostics) (*Config, Files, hcl.Diagnostics) {
	return loadWith(Options{}, files, f, nil, diags)
}

// loadWith decodes and validates f; cached are its virtual_server blocks
// that a BlockCache decoded (nil: none).
func loadWith(opts Options, files Files, f *hcl.File, cached cachedServices, diags hcl.Diagnostics) (*Config, Files, hcl.Diagnostics) {
	if diags.HasErrors() || f == nil {
		// The structure of a file with syntax errors is a guess; decoding
		// it would mostly add noise.
		return nil, files, diags
	}
	syn, more := decodeFile(f.Body, cached)
	diags = append(diags, more...)
	services, pools, sources, resolved, more := build(syn, opts)
	diags = append(diags, more...)
	var rs *realserver.Config
	if syn.RealServerSetup != nil {
		rs, more = buildRealServerSetup(syn, services)
		diags = append(diags, more...)
	}
	vr, more := buildVRRP(syn)
	diags = append(diags, more...)
	sy, more := buildSync(f.Body, vr)
	diags = append(diags, more...)
	timeouts, more := buildTimeouts(f.Body)
	diags = append(diags, more...)
	alert, alertDef, more := buildAlert(f.Body)
	diags = append(diags, more...)
	diags = append(diags, silentAlert(alert, alertDef, pools, vr)...)
	bgpCfg, more := buildBGP(f.Body, services, sources, vr, sy)
	diags = append(diags, more...)
	diags = dropScriptsUsedByBGP(diags, bgpCfg)
	guard, more := buildGuard(f, syn)
	diags = append(diags, more...)
	sortDiagnostics(diags)
	if !diags.HasErrors() && (bgpCfg == nil || len(bgpCfg.Announces) == 0) {
		// A node that only announces VIPs (a BGP twin of a VRRP-only
		// node, in front of a local proxy) configures something.
		diags = append(diags, guard.emptyDiagnostic(f)...)
	}
	if diags.HasErrors() {
		return nil, files, diags
	}
	cfg := &Config{Services: services, Pools: pools, RealServer: rs, VRRP: vr, Sync: sy, Timeouts: timeouts, Alert: alert, Resolved: resolved, Guard: guard, Sources: sources, BGP: bgpCfg}
	if syn.FlushOnExit.ok() {
		cfg.FlushOnExit = syn.FlushOnExit.Val
	}
	return cfg, files, diags
}

// sortDiagnostics orders diags by where they point, so that they read top
// to bottom (hcl reports unknown arguments in map order).
func sortDiagnostics(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		if a.Subject == nil || b.Subject == nil {
			switch {
			case a.Subject != nil:
				return 1
			case b.Subject != nil:
				return -1
			}
			return 0
		}
		return cmp.Or(
			cmp.Compare(a.Subject.Filename, b.Subject.Filename),
			cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte),
		)
	})
}
