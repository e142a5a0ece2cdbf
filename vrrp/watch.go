package vrrp

// The kinds of deletion a watch reports (watch_linux.go): what an
// instance's master (linuxSystem.pending) or Statics then checks.
const (
	delAddr uint32 = 1 << iota
	delRoute
	delRule
)
