package daemon

import (
	"context"
	"fmt"
	"slices"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// PresumedFromTable is the reason `lvsctl status` shows for a real server
// whose state was taken from the kernel's table at start and that has not
// been probed since.
const PresumedFromTable = "presumed from the table, not yet checked"

// presumeFromTable reads the kernel once at start and, for every checked
// real server of a configured service that the kernel already holds, takes
// its state from the table: the previous daemon wrote it from its own
// probes. (The ownership record need not be read: a configured service in
// the kernel is either lvsctl's, or adopted with --adopt, or a conflict
// that stops the daemon at its first apply.) A real server
// present with a weight other than 0 is up; one absent, or at weight 0
// (inhibit_on_failure) while configured with more, is down. Each is then
// confirmed or contradicted by its first probe, which decides alone as
// any first probe does. So a restart on a converged table writes nothing
// until a probe disagrees, whatever the servers' health. Services the
// kernel does not hold get the pool's cold-start presumption.
func (d *Daemon) presumeFromTable(ctx context.Context, cfg *lvshcl.Config) (map[checker.Target]checker.Presumption, error) {
	if len(cfg.Services) == 0 {
		return nil, nil
	}
	kernel, err := d.o.Kernel.Services(ctx)
	if err != nil {
		return nil, fmt.Errorf("read IPVS table: %w", err)
	}
	d.startDump = kernel
	held := make(map[ipvs.ServiceKey]map[ipvs.RealKey]uint32, len(kernel))
	for _, s := range kernel {
		reals := make(map[ipvs.RealKey]uint32, len(s.RealServers))
		for _, r := range s.RealServers {
			reals[unmap(r.Key())] = r.Weight
		}
		held[normKey(s.Key)] = reals
	}
	out := map[checker.Target]checker.Presumption{}
	for i, vs := range cfg.Services {
		vs = vs.Normalize()
		reals, ok := held[vs.Key]
		if !ok || i >= len(cfg.Pools) {
			continue
		}
		configured := make(map[ipvs.RealKey]uint32, len(vs.RealServers))
		for _, r := range vs.RealServers {
			configured[unmap(r.Key())] = r.Weight
		}
		for _, m := range cfg.Pools[i].Members {
			if m.Check == nil {
				continue
			}
			w, present := reals[unmap(m.Real)]
			up := present && (w > 0 || configured[unmap(m.Real)] == 0)
			out[m.Check.Target] = checker.Presumption{Up: up, Reason: PresumedFromTable}
		}
	}
	return out, nil
}

// normKey is k as the kernel reports it: address unmapped, family set.
func normKey(k ipvs.ServiceKey) ipvs.ServiceKey {
	k.Addr = k.Addr.Unmap()
	if k.Family == 0 {
		k.Family = ipvs.FamilyOf(k.Addr)
	}
	return k
}

func unmap(k ipvs.RealKey) ipvs.RealKey {
	k.Addr = k.Addr.Unmap()
	return k
}

// quorumFromTable evaluates, once at start, the quorum of every service
// whose real servers' states were taken from the table. Their first probes
// confirm those states without a transition, so no reconcile would: a
// restart while a pool is below its quorum must say so now (quorum_down,
// and VRRP's track_virtual_server), as the previous daemon had. Services
// with cold-start presumptions keep the quorum presumed held until their
// first transitions, as in keepalived.
func (d *Daemon) quorumFromTable(presumed map[checker.Target]checker.Presumption) {
	if len(presumed) == 0 {
		return
	}
	for _, k := range d.keys {
		s := d.services[k]
		fromTable := slices.ContainsFunc(s.pool.Members, func(m lvshcl.Member) bool {
			if m.Check == nil {
				return false
			}
			_, ok := presumed[m.Check.Target]
			return ok
		})
		if fromTable {
			_, upWeight := d.desired(s)
			d.checkQuorum(s, upWeight)
		}
	}
}

// dumpedKernel answers its first Services with a dump just read (Run's
// goroutine owns the table, so it is current), then is its Kernel.
type dumpedKernel struct {
	ipvs.Kernel
	svcs []ipvs.VirtualService
	used bool
}

func (k *dumpedKernel) Services(ctx context.Context) ([]ipvs.VirtualService, error) {
	if k.used {
		return k.Kernel.Services(ctx)
	}
	k.used = true
	return k.svcs, nil
}
