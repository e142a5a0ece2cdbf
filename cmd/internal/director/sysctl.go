package director

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// The bgp block's sloppy_tcp and sloppy_sctp: with them, IPVS creates a
// connection entry for any packet of a flow, not only for its SYN (INIT),
// so that a director takes over the flows of another one behind ECMP
// (with mh or sh every director picks the same backend). The value found
// at start is put back at stop, and when a reload turns the setting off.
const (
	sysctlSloppyTCP  = "net.ipv4.vs.sloppy_tcp"
	sysctlSloppySCTP = "net.ipv4.vs.sloppy_sctp"
)

// Sysctl reads and writes kernel parameters of the daemon's network
// namespace; ProcSysctl is the host's.
type Sysctl interface {
	Get(name string) (string, error)
	Set(name, value string) error
}

// ProcSysctl is /proc/sys, seen from the daemon's network namespace.
type ProcSysctl struct{}

func sysctlPath(name string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
}

// Get implements Sysctl.
func (ProcSysctl) Get(name string) (string, error) {
	b, err := os.ReadFile(sysctlPath(name))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Set implements Sysctl.
func (ProcSysctl) Set(name, value string) error {
	if err := os.WriteFile(sysctlPath(name), []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("write %s (read-only /proc/sys: ProtectKernelTunables= in the unit?): %w", name, err)
	}
	return nil
}

// sloppyMode is the sysctls the announcer set, with the values found
// before; Run's goroutine only.
type sloppyMode struct {
	sys   Sysctl
	log   *slog.Logger
	saved map[string]string // set by us -> the previous value
}

// apply sets or restores the sysctls for cfg.
func (s *sloppyMode) apply(cfg *lvshcl.BGP) {
	for _, p := range []struct {
		name string
		on   bool
	}{{sysctlSloppyTCP, cfg != nil && cfg.SloppyTCP}, {sysctlSloppySCTP, cfg != nil && cfg.SloppySCTP}} {
		_, ours := s.saved[p.name]
		switch {
		case p.on && !ours:
			prev, err := s.sys.Get(p.name)
			if err == nil {
				err = s.sys.Set(p.name, "1")
			}
			if err != nil {
				s.log.Error("bgp: cannot turn IPVS sloppy mode on: flows moved from another director break", "sysctl", p.name, "error", err)
				continue
			}
			s.saved[p.name] = prev
			s.log.Info("bgp: IPVS sloppy mode on", "sysctl", p.name, "previous", prev)
		case !p.on && ours:
			s.put(p.name)
		}
	}
}

// restore puts every sysctl set back.
func (s *sloppyMode) restore() {
	for name := range s.saved {
		s.put(name)
	}
}

func (s *sloppyMode) put(name string) {
	prev := s.saved[name]
	if err := s.sys.Set(name, prev); err != nil {
		s.log.Error("bgp: cannot restore a sysctl", "sysctl", name, "value", prev, "error", err)
		return
	}
	delete(s.saved, name)
	s.log.Info("bgp: sysctl restored", "sysctl", name, "value", prev)
}
