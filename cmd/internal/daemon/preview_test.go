package daemon

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// TestPreview: the preview of a configuration starts from the desired
// table with the current health, so a server down by its check is not an
// add, and a server the configuration adds is presumed as a reload
// presumes it.
func TestPreview(t *testing.T) {
	f := newFixture(t)
	f.probes.set("10.0.1.2:80", false)
	var mu sync.Mutex
	var loads []string
	f.start(f.config(3, nil), Options{OnLoad: func(cfg *lvshcl.Config, ops []ipvs.Op, err error) {
		mu.Lock()
		defer mu.Unlock()
		loads = append(loads, render(ops)...)
	}})
	f.until(3*time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	mu.Lock()
	assert.Len(t, loads, 4, "the first load reports its ops: the service and three real servers")
	mu.Unlock()

	alpha := func(p *lvshcl.Pool) {
		// A fourth server, checked with alpha: presumed down.
		for i := range p.Members {
			if p.Members[i].Real.Addr == netip.MustParseAddr("10.0.1.4") {
				p.Members[i].Check.Timing.Alpha = true
			}
		}
	}
	weight := func(cfg *lvshcl.Config) *lvshcl.Config {
		cfg.Services[0].RealServers[0].Weight = 5
		return cfg
	}
	tests := []struct {
		name string
		cfg  *lvshcl.Config
		want []string
	}{
		{"unchanged: the down server is not an add", f.config(3, nil), []string{}},
		{"an edit", weight(f.config(3, nil)), []string{"~ real TCP 10.0.0.1:80 (web) -> 10.0.1.1:80 weight 2 -> 5"}},
		{"a new server, presumed up", f.config(4, nil), []string{"+ real TCP 10.0.0.1:80 (web) -> 10.0.1.4:80 fwd=nat weight=2"}},
		{"a new server with alpha, presumed down", f.config(4, alpha), []string{}},
		{"the down server removed: nothing to delete", &lvshcl.Config{
			Services: []ipvs.VirtualService{{Name: "web", Key: web, Scheduler: "wrr", RealServers: []ipvs.RealServer{
				f.config(3, nil).Services[0].RealServers[0], f.config(3, nil).Services[0].RealServers[2]}}},
			Pools: []lvshcl.Pool{{Service: web, Name: "web", Members: []lvshcl.Member{f.config(3, nil).Pools[0].Members[0], f.config(3, nil).Pools[0].Members[2]}}},
		}, []string{}},
	}
	before := f.k.writes()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			p, err := f.d.Preview(ctx, tt.cfg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, render(p.Ops))
			assert.Empty(t, p.Conflicts)
		})
	}
	assert.Equal(t, before, f.k.writes(), "a preview writes nothing")

	// A reload reports its ops to OnLoad.
	mu.Lock()
	loads = nil
	mu.Unlock()
	f.reload <- weight(f.config(3, nil))
	f.until(3*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(loads) == 1
	})
	assert.Equal(t, []string{"~ real TCP 10.0.0.1:80 (web) -> 10.0.1.1:80 weight 2 -> 5"}, loads)

	require.NoError(t, f.stop())
	_, err := f.d.Preview(context.Background(), f.config(3, nil))
	assert.ErrorIs(t, err, ErrStopped)
}

func render(ops []ipvs.Op) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.String()
	}
	return out
}
