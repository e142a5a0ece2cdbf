package daemon

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// TestResolvedLogged: a real server given by host name is logged with the
// address it resolved to, at start and at every reload.
func TestResolvedLogged(t *testing.T) {
	f := newFixture(t)
	withName := func(addr string) *lvshcl.Config {
		c := f.config(1, nil)
		c.Resolved = []lvshcl.Resolved{{Host: "web1", Addr: netip.MustParseAddr(addr),
			Range: hcl.Range{Filename: "lvsctl.hcl", Start: hcl.Pos{Line: 5, Column: 27}}}}
		return c
	}
	var log syncBuffer
	f.start(withName("10.0.1.1"), Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	line := func(addr string) string {
		return `msg="real server host name resolved" host=web1 address=` + addr + ` at=lvsctl.hcl:5:27`
	}
	f.until(time.Second, func() bool { return strings.Contains(log.String(), line("10.0.1.1")) })
	f.reload <- withName("10.0.1.9")
	f.until(time.Second, func() bool { return strings.Contains(log.String(), line("10.0.1.9")) })
}
