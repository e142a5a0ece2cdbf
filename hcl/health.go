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
	// SorryServer, if set, is added when no real server is up and removed
	// when one is.
	SorryServer *ipvs.RealServer
	// Quorum is the sum of the weights of the up real servers below which
	// the pool is down (default 1); Hysteresis widens it both ways.
	Quorum     int
	Hysteresis int
	QuorumUp   *Hook
	QuorumDown *Hook
	Members    []Member
}

// Member is one real server of a Pool.
type Member struct {
	Real ipvs.RealKey
	// Check is nil for a real server without a check: always up.
	Check      *checker.Spec
	NotifyUp   *Hook
	NotifyDown *Hook
}

// Hook is a program run on an event: argv without a shell, bounded in time.
type Hook struct {
	Argv    []string
	Timeout time.Duration
}

// DefaultHookTimeout bounds a hook that sets no timeout.
const DefaultHookTimeout = 10 * time.Second
