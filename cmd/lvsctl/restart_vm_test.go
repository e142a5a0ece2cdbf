package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/ipvs"
)

// restartConfig: one NAT service over two TCP-checked backends, alpha
// as given.
const restartConfig = `
virtual_server "web" {
  address            = "10.0.1.100"
  port               = 80
  scheduler          = "rr"
  forwarding         = "nat"
  delay_loop         = 1
  connect_timeout    = 1
  retry              = 0
  warmup             = 0
  alpha              = %t
  check "tcp" {}
  real_server { address = "10.0.2.11" }
  real_server { address = "10.0.2.12" }
}
`

// tableSampler reads the director's table every interval and records
// every distinct state it sees after the first, in order.
type tableSampler struct {
	mu      sync.Mutex
	first   string
	changes []string
	samples int
	errs    int
	stop    chan struct{}
	done    chan struct{}
}

func sampleTable(t *testing.T, ns string, every time.Duration) *tableSampler {
	t.Helper()
	k, err := ipvs.Open(context.Background(), ns)
	require.NoError(t, err)
	s := &tableSampler{stop: make(chan struct{}), done: make(chan struct{})}
	render := func() (string, error) {
		svcs, err := k.Services(context.Background())
		if err != nil {
			return "", err
		}
		var parts []string
		for _, vs := range svcs {
			for _, r := range vs.RealServers {
				parts = append(parts, fmt.Sprintf("%s->%s/%d", vs.Key, r.Key(), r.Weight))
			}
		}
		slices.Sort(parts)
		return strings.Join(parts, " "), nil
	}
	first, err := render()
	require.NoError(t, err)
	s.first = first
	go func() {
		defer close(s.done)
		defer k.Close()
		last := first
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			cur, err := render()
			s.mu.Lock()
			s.samples++
			if err != nil {
				s.errs++
			} else if cur != last {
				s.changes = append(s.changes, cur)
				last = cur
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.end)
	return s
}

func (s *tableSampler) end() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// clientLoop sends one request through the VIP every 20 ms until stopped.
type clientLoop struct {
	ok, failed atomic.Int64
	stop, done chan struct{}
	mu         sync.Mutex
	errs       map[string]int
}

func startClients(l *lab.Lab, url string) *clientLoop {
	c := &clientLoop{stop: make(chan struct{}), done: make(chan struct{}), errs: map[string]int{}}
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_, err := l.Get(ctx, "client", url)
			cancel()
			if err != nil {
				c.failed.Add(1)
				c.mu.Lock()
				c.errs[err.Error()]++
				c.mu.Unlock()
			} else {
				c.ok.Add(1)
			}
		}
	}()
	return c
}

func (c *clientLoop) end() {
	close(c.stop)
	<-c.done
}

// TestVMRestartKeepsHealth: a daemon restarted (SIGTERM, then run again)
// while one backend is down by health takes every server's state from the
// table: nothing in the table changes, the new daemon writes nothing at
// start, and no client request fails; with alpha = true too. Then the
// down backend recovers and is restored as usual.
func TestVMRestartKeepsHealth(t *testing.T) {
	requireVM(t)
	l := lab.New("vmrst-")
	t.Cleanup(func() { l.Close() })
	_, err := l.NATTopology(2)
	require.NoError(t, err)
	serve := func(name, addr string) func() {
		stop, err := l.Serve(name, addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, name)
		}))
		require.NoError(t, err)
		return stop
	}
	serve("be1", "10.0.2.11:80")
	// be2 has no listener: its TCP check is refused.

	dir := t.TempDir()
	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(restartConfig, false)), 0o644))
	ns := l.NSPath("director")
	args := []string{"-f", cfg, "--netns", ns, "--state", filepath.Join(dir, "state.json")}
	d := startDaemon(t, args...)
	w := tableWatch{t: t, ns: ns}
	converged := map[string]uint32{"10.0.2.11": 1}
	w.until(10*time.Second, "be2 out, be1 in", func() bool { return maps.Equal(w.reals(80), converged) })

	outer := t
	for _, alpha := range []bool{false, true} {
		t.Run(fmt.Sprintf("alpha=%t", alpha), func(t *testing.T) {
			w := tableWatch{t: t, ns: ns}
			require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(restartConfig, alpha)), 0o644))
			s := sampleTable(t, ns, 20*time.Millisecond)
			c := startClients(l, "http://10.0.1.100/")
			time.Sleep(300 * time.Millisecond)
			d.signal(t, syscall.SIGTERM)
			require.NoError(t, d.wait(t))
			d = startDaemon(outer, args...) // it outlives the subtest
			w.until(10*time.Second, "restarted daemon running", func() bool { return strings.Contains(d.logText(), "msg=running") })
			// Two delay_loops: every server's first probe has confirmed
			// what the table said.
			time.Sleep(2500 * time.Millisecond)
			c.end()
			s.end()

			s.mu.Lock()
			defer s.mu.Unlock()
			t.Logf("table sampled %d times (%d read errors); requests %d ok, %d failed %v",
				s.samples, s.errs, c.ok.Load(), c.failed.Load(), c.errs)
			assert.Greater(t, s.samples, 100, "sampled every 20 ms for over 2.5 s")
			assert.Zero(t, s.errs)
			assert.Empty(t, s.changes, "the table never changes (it was %q)", s.first)
			assert.Zero(t, c.failed.Load(), "no request fails")
			assert.Positive(t, c.ok.Load())
			assert.Contains(t, d.logText(), "writes=0", "the restarted daemon writes nothing at start")
			assert.NotContains(t, d.logText(), "msg=apply")
			assert.NotContains(t, d.logText(), "msg=applied")
			assert.Equal(t, converged, w.reals(80))
		})
	}

	t.Run("the down backend recovers", func(t *testing.T) {
		w := tableWatch{t: t, ns: ns}
		serve("be2", "10.0.2.12:80")
		took := w.until(10*time.Second, "be2 restored", func() bool { return len(w.reals(80)) == 2 })
		t.Logf("restored %v after it began to listen", took.Round(time.Millisecond))
		assert.LessOrEqual(t, took, restoreBound)
	})
}
