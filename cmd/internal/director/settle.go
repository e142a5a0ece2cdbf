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
// would attract traffic until its first probes.
//
// A virtual service is settled when every checked real server has had its
// first check round (checker.Status.Checked) since it was added, and the
// daemon has applied those results: while the service holds its quorum,
// each checked server's place in the table agrees with its health (an up
// server is in the table, a down one is not, or is at weight 0). A first
// probe that contradicts the presumption updates the server's status at
// once but the quorum only at the daemon's next (coalesced) reconcile: in
// between, the quorum the announcer holds is still the presumed one. A
// service is settled once per load: a later transition of one of its
// servers does not unsettle it (the quorum it may change arrives by
// SetQuorum); a reload that adds a real server unsettles its service
// (Director.Run) until that server is settled in turn.
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
			c := r.Check
			if r.Sorry || c == nil {
				continue
			}
			applied := !svc.QuorumUp || // quorum lost: the live servers leave the table too
				(c.Up && r.InTable) || (!c.Up && (!r.InTable || r.Weight == 0))
			if !c.Checked || !applied {
				ok = false
			}
		}
		out[svc.Name] = ok
	}
	return out
}

// watchSettled tells set, once per load, each service of src that is
// settled, until ctx ends. A first probe that confirms a presumption
// publishes nothing, so while a service is unsettled the snapshot is read
// every poll; once all are, the next publication (a reload, a transition,
// a resync) is awaited.
func watchSettled(ctx context.Context, src SnapshotSource, set func(string, bool), poll time.Duration, after func(time.Duration) <-chan time.Time) {
	told := map[string]bool{} // settled services already told, this load
	loads := -1
	for {
		published := src.Published()
		all := false
		if snap, ok := src.Snapshot(); ok {
			if snap.Loads != loads {
				loads, told = snap.Loads, map[string]bool{}
			}
			all = true
			for name, settled := range settledServices(snap) {
				switch {
				case told[name]:
				case settled:
					told[name] = true
					set(name, true)
				default:
					all = false
				}
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
