package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sys/unix"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// checkKernel asks the running kernel (e.probe; nil: not asked) whether it
// has the schedulers and tunnel types that desired, the table decoded
// from file, uses, before plan shows or apply makes changes that the
// kernel would refuse (a scheduler module it lacks) or quietly turn into
// something else (a GUE or GRE real server on a kernel before 5.2 or 5.3
// becomes IP-in-IP). What it lacks is an error on its line of file, as
// validate reports, and exit status 1; nothing reaches the table. src is
// the file's bytes (nil: read it again); the file is parsed again only to
// place those errors, since desired may come from the config cache.
//
// A probe that cannot run (no CAP_SYS_ADMIN for its namespace, no IPVS)
// reports nothing: apply then meets the kernel's own refusal, as before.
func checkKernel(ctx context.Context, e *env, file string, src []byte, desired []ipvs.VirtualService, opt configOptions) error {
	if e.probe == nil {
		return nil
	}
	scheds, tunnels := ipvs.Uses(desired)
	caps, err := e.probe(ctx, scheds, tunnels)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil
	}
	if len(caps.MissingSchedulers) == 0 && len(caps.MissingTunnels) == 0 {
		return nil
	}
	var (
		cfg   *lvshcl.Config
		files lvshcl.Files
		diags hcl.Diagnostics
	)
	if src == nil {
		cfg, files, diags = opt.hclOptions().Load(file)
	} else {
		cfg, files, diags = opt.hclOptions().Parse(src, file)
	}
	if diags.HasErrors() {
		// The file changed since it was decoded: say what is missing
		// without positions.
		return &exitError{code: 1, err: fmt.Errorf("%s: the running kernel lacks %s", file, missingList(caps))}
	}
	diags = kernelDiagnostics(cfg, caps, kernelRelease())
	max := opt.maxErrors
	if max == 0 {
		max = lvshcl.DefaultMaxDiagnostics
	}
	if err := lvshcl.RenderDiagnostics(ctx, e.stderr, files, diags, max); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return &exitError{code: 1, err: fmt.Errorf("%s: %d error(s): the running kernel lacks %s, nothing applied", file, len(diags), missingList(caps))}
}

// kernelLacks is checkKernel for a configuration already decoded (the
// daemon's, for a plan or apply through its socket): the errors for what
// cfg uses and the running kernel lacks; none when probe is nil or cannot
// run.
func kernelLacks(ctx context.Context, probe ipvs.Prober, cfg *lvshcl.Config) hcl.Diagnostics {
	if probe == nil {
		return nil
	}
	scheds, tunnels := ipvs.Uses(cfg.Services)
	caps, err := probe(ctx, scheds, tunnels)
	if err != nil || len(caps.MissingSchedulers) == 0 && len(caps.MissingTunnels) == 0 {
		return nil
	}
	return kernelDiagnostics(cfg, caps, kernelRelease())
}

// kernelDiagnostics are the errors for what cfg uses and caps lacks, one
// per place in the file: a scheduler value (or the block of a service
// that takes the default), a tunnel type value (once, however many real
// servers inherit it). release names the kernel in the messages.
func kernelDiagnostics(cfg *lvshcl.Config, caps ipvs.Capabilities, release string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := make(map[hcl.Pos]bool)
	add := func(r hcl.Range, summary, detail string, args ...any) {
		if seen[r.Start] {
			return
		}
		seen[r.Start] = true
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail:   fmt.Sprintf(detail, args...),
			Subject:  r.Ptr(),
		})
	}
	for i, vs := range cfg.Services {
		if i >= len(cfg.Sources) {
			break
		}
		src := cfg.Sources[i]
		sched := vs.Normalize().Scheduler
		if !caps.HasScheduler(sched) {
			r, how := src.Block, fmt.Sprintf("takes the default scheduler %q", sched)
			if src.Scheduler != nil {
				r, how = *src.Scheduler, fmt.Sprintf("uses the scheduler %q", sched)
			}
			add(r, "Scheduler not in this kernel",
				"virtual_server %q %s, and the running kernel (%s) refused a service with it: it has no module ip_vs_%s, built in or loadable. apply would fail at this service. Choose a scheduler this kernel has, or run a kernel with ip_vs_%s (twos is in Linux 6.2 and later).",
				vs.Name, how, release, sched, sched)
		}
		for j, rs := range vs.RealServers {
			if rs.Forwarding != ipvs.Tunnel || caps.HasTunnel(rs.Tunnel.Type) || j >= len(src.RealTunnels) || src.RealTunnels[j] == nil {
				continue
			}
			add(*src.RealTunnels[j], "Tunnel type not in this kernel",
				"The running kernel (%s) does not keep a %q tunnel on a real server: it made the probe's real server IP-in-IP, or refused it (GUE needs Linux 5.2, GRE 5.3). Packets would reach real server %s of virtual_server %q in another encapsulation than it decapsulates. Use type = \"ipip\", or a newer kernel.",
				release, rs.Tunnel.Type, rs.Key(), vs.Name)
		}
	}
	return diags
}

// missingList names what caps lacks, for a one-line message.
func missingList(caps ipvs.Capabilities) string {
	var s string
	for _, x := range caps.MissingSchedulers {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("scheduler %q", x)
	}
	for _, x := range caps.MissingTunnels {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("tunnel type %q", x)
	}
	return s
}

// kernelRelease is uname -r ("Linux" if it cannot be read).
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "Linux"
	}
	return unix.ByteSliceToString(u.Release[:])
}
