package checker_test

import "github.com/lvsctl/lvsctl/checker"

// loopProbe runs a probe on the Pool's event loop (checker.LoopProbe).
func loopProbe(p checker.Prober, t checker.Target) (checker.Result, bool) {
	return checker.LoopProbe(p, t)
}
