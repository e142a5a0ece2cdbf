package director

import (
	"context"
	"time"

	"github.com/lvsctl/lvsctl/cmd/internal/daemon"
)

// The "first check result" signal of the announcer (SetSettled). At a
// start or reload the daemon presumes the health of the real servers it
// has not probed yet (from the kernel's table at a restart, up at a cold
// start: daemon/presume.go), and reports the quorum that follows. BGP must
// not announce on it: a director restarted beside a dead backend pool
// would attract traffic until its first probes. A virtual service is
// settled when every checked real server has had its first check round
// (checker.Status.Checked) since it was added; a service without checks
// is settled at once.

// SnapshotSource is what the settle watcher reads of the IPVS daemon
// (*daemon.Daemon implements it).
type SnapshotSource interface {
	Snapshot() (daemon.Snapshot, bool)
	Published() <-chan struct{}
}

// settledServices says, for each service of s, whether it is settled.
func settledServices(s daemon.Snapshot) map[string]bool {
	out := make(map[string]bool, len(s.Services))
	for _, svc := range s.Services {
		ok := true
		for _, r := range svc.Reals {
			if !r.Sorry && r.Check != nil && !r.Check.Checked {
				ok = false
			}
		}
		out[svc.Name] = ok
	}
	return out
}

// watchSettled passes src's settled services to set until ctx ends. A
// first probe that confirms a presumption publishes nothing, so while a
// service is unsettled the snapshot is read every poll; once all are, the
// next publication (a reload, a transition, a resync) is awaited.
func watchSettled(ctx context.Context, src SnapshotSource, set func(string, bool), poll time.Duration, after func(time.Duration) <-chan time.Time) {
	for {
		published := src.Published()
		all := false
		if snap, ok := src.Snapshot(); ok {
			all = true
			for name, settled := range settledServices(snap) {
				set(name, settled)
				all = all && settled
			}
		}
		var tick <-chan time.Time
		if !all {
			tick = after(poll)
		}
		select {
		case <-ctx.Done():
			return
		case <-published:
		case <-tick:
		}
	}
}
