//go:build !linux

package checker_test

import "github.com/lvsctl/lvsctl/checker"

// loopProbe: only Linux has the event loop.
func loopProbe(checker.Prober, checker.Target) (checker.Result, bool) {
	return checker.Result{}, false
}
