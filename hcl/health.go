package hcl

import (
	"time"

	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/ipvs"
)

// Pool is how `lvsctl run` keeps one virtual service's real servers: which
// are checked and how, what happens to a failed one, the sorry server and the
// quorum. Config.Pools holds one per virtual service, in the same order as
// Config.Services.
type Pool struct {
	Service ipvs.ServiceKey
	Name    string
	// InhibitOnFailure keeps a failed real server with weight 0 instead of
	// removing it, so its established connections drain.
	InhibitOnFailure bool
	// SorryServer, if set, takes the traffic while the quorum is lost (the
	// live real servers are then taken out, as keepalived does).
	SorryServer *ipvs.RealServer
	// SorryInhibit keeps the sorry server in the table with weight 0
	// while it is not used, instead of removing it (sorry_server_inhibit).
	SorryInhibit bool
	// Quorum is the sum of the weights of the up real servers below which
	// the pool is down (default 1); Hysteresis widens it both ways.
	Quorum     int
	Hysteresis int
	QuorumUp   *Hook
	QuorumDown *Hook
	Members    []Member
	// SMTPAlert is the virtual_server's smtp_alert, nil when absent: see
	// AlertEmail.ForService and ForReal.
	SMTPAlert *bool
}

// Member is one real server of a Pool.
type Member struct {
	Real ipvs.RealKey
	// Check is nil for a real server without a check: always up.
	Check      *checker.Spec
	NotifyUp   *Hook
	NotifyDown *Hook
	// InhibitOnFailure, if set, overrides the pool's for this real server.
	InhibitOnFailure *bool
	// SMTPAlert holds the smtp_alert of each check that sets one, by the
	// check's name (Spec.Name, Check.Name; "" for a server with one
	// check): see AlertEmail.ForReal.
	SMTPAlert map[string]bool
}

// Inhibits says whether m stays in the table with weight 0 when it is out
// of the pool (failed, or while the sorry server serves), given the pool's
// InhibitOnFailure.
func (m Member) Inhibits(pool bool) bool {
	if m.InhibitOnFailure != nil {
		return *m.InhibitOnFailure
	}
	return pool
}

// Hook is a program run on an event: argv without a shell, bounded in time.
type Hook struct {
	Argv    []string
	Timeout time.Duration
}

// DefaultHookTimeout bounds a hook that sets no timeout.
const DefaultHookTimeout = 10 * time.Second
