package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
	"github.com/lvsctl/lvsctl/ipvs"
)

// lockedBuffer is a buffer the daemon's logger and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// shortDir is a temporary directory short enough for unix socket paths.
func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "lvsctl-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// fakeSystemd is a NOTIFY_SOCKET: it collects what the process sends.
type fakeSystemd struct {
	msgs chan string
}

func newFakeSystemd(t *testing.T) *fakeSystemd {
	path := filepath.Join(shortDir(t), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	f := &fakeSystemd{msgs: make(chan string, 1000)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			f.msgs <- string(buf[:n])
		}
	}()
	return f
}

// expect waits for a message starting with prefix, skipping others (such
// as watchdog pings), and returns it.
func (f *fakeSystemd) expect(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-f.msgs:
			if strings.HasPrefix(m, prefix) {
				return m
			}
		case <-timeout:
			t.Fatalf("systemd was not sent %q", prefix)
			return ""
		}
	}
}

func TestNotifierMessages(t *testing.T) {
	sd := newFakeSystemd(t)
	n := notifier{log: slog.New(slog.DiscardHandler)}
	n.ready("running")
	assert.Equal(t, "READY=1\nSTATUS=running", sd.expect(t, "READY=1"))
	n.reloading()
	assert.Regexp(t, `^RELOADING=1\nMONOTONIC_USEC=[0-9]+\nSTATUS=reloading$`, sd.expect(t, "RELOADING=1"))
	n.stopping()
	assert.Equal(t, "STOPPING=1\nSTATUS=stopping", sd.expect(t, "STOPPING=1"))

	// The watchdog pings every half WatchdogSec while the daemon is alive,
	// and withholds them while it is not.
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	var mu sync.Mutex
	alive := true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.watchdog(ctx, func() (bool, string) {
			mu.Lock()
			defer mu.Unlock()
			return alive, "stuck"
		})
	}()
	assert.Equal(t, "WATCHDOG=1", sd.expect(t, "WATCHDOG=1"))
	mu.Lock()
	alive = false
	mu.Unlock()
	time.Sleep(120 * time.Millisecond) // a ping may have been in flight
	for len(sd.msgs) > 0 {
		<-sd.msgs
	}
	time.Sleep(200 * time.Millisecond)
	assert.Empty(t, sd.msgs, "no ping while the daemon is stuck")
	cancel()
	<-done
}

func TestNotifierWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	var logs bytes.Buffer
	n := notifier{log: slog.New(slog.NewTextHandler(&logs, nil))}
	n.ready("running")
	n.stopping()
	assert.Empty(t, logs.String(), "a no-op without NOTIFY_SOCKET")
}

// TestRunServesStatusMetricsAndSystemd runs `lvsctl run` in-process on a
// fake kernel with a TCP check of a local listener, under a fake systemd:
// READY after the first apply, status and metrics while it runs,
// RELOADING/READY around SIGHUP, STOPPING at the end.
func TestRunServesStatusMetricsAndSystemd(t *testing.T) {
	sd := newFakeSystemd(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer backend.Close()
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := backend.Addr().(*net.TCPAddr).Port
	config := func(weight int) string {
		return fmt.Sprintf(`
virtual_server "web" {
  address         = "10.0.0.1"
  port            = 80
  delay_loop      = 1
  connect_timeout = 1
  warmup          = 0
  check "tcp" {}
  real_server {
    address = "127.0.0.1"
    port    = %d
    weight  = %d
  }
}
`, port, weight)
	}
	cfg := writeConfig(t, config(2))
	real := ipvs.RealServer{Addr: netip.MustParseAddr("127.0.0.1"), Port: uint16(port), Weight: 2}
	listed := ipvs.ListedService{}
	listed.Service = ipvs.VirtualService{Key: web(t), RealServers: []ipvs.RealServer{real}}
	listed.Stats = ipvs.Stats{Conns: 5, InBytes: 1 << 40}
	listed.Reals = []ipvs.RealStatus{{Real: real, Stats: ipvs.Stats{Conns: 5, InBytes: 1 << 40}, ActiveConns: 1}}

	h := newHarness(t).withLister(&fakeLister{table: []ipvs.ListedService{listed}})
	logs := &lockedBuffer{}
	h.env.stderr = logs
	sock := filepath.Join(shortDir(t), "lvsctl.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"run", "-f", cfg, "--socket", sock, "--metrics-listen", "127.0.0.1:0"}, h.env)
	}()

	assert.Equal(t, "READY=1\nSTATUS=running", sd.expect(t, "READY=1"))
	fi, err := os.Lstat(sock)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket|0o600, fi.Mode())
	assert.Equal(t, "WATCHDOG=1", sd.expect(t, "WATCHDOG=1"))

	// Metrics: where the log says they are.
	m := regexp.MustCompile(`msg="serving metrics" addr=(127\.0\.0\.1:[0-9]+)`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, logs.String())
	mfs := scrape(t, http.DefaultClient, "http://"+m[1]+"/metrics")
	rl := map[string]string{"service": "web", "vip": "10.0.0.1", "port": "80", "proto": "tcp", "real": "127.0.0.1:" + strconv.Itoa(port)}
	assert.Equal(t, 5.0, value(t, mfs, "lvsctl_real_server_connections_total", rl))
	assert.Equal(t, float64(1<<40), value(t, mfs, "lvsctl_real_server_in_bytes_total", rl))
	assert.Equal(t, 1.0, value(t, mfs, "lvsctl_real_server_up", rl))
	assert.Equal(t, 2.0, value(t, mfs, "lvsctl_real_server_configured_weight", rl))
	assert.Equal(t, 1.0, value(t, mfs, "lvsctl_config_generation", nil))
	assert.Equal(t, 2.0, value(t, mfs, "lvsctl_reconcile_operations_total", map[string]string{"op": "add_real_server"})+
		value(t, mfs, "lvsctl_reconcile_operations_total", map[string]string{"op": "add_service"}))
	assert.Contains(t, mfs, "go_goroutines", "the Go collector is registered")

	// Status, as text and as JSON.
	status := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		e := *h.env
		e.stdout, e.stderr = &out, &errOut
		code := run(context.Background(), append([]string{"status", "--socket", sock}, args...), &e)
		return code, out.String(), errOut.String()
	}
	code, out, _ := status()
	require.Equal(t, 0, code)
	assert.Contains(t, out, "config: "+cfg+", generation 1")
	assert.Contains(t, out, `virtual_server "web"  TCP 10.0.0.1:80  wlc  quorum up`)
	assert.Regexp(t, `127\.0\.0\.1:`+strconv.Itoa(port)+`\s+up\s+2/2\s`, out)
	t.Logf("lvsctl status:\n%s", out)

	// A reload: RELOADING, then READY once the daemon applied it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // the test process must survive SIGHUP
	defer signal.Stop(hup)
	require.NoError(t, os.WriteFile(cfg, []byte(config(3)), 0o644))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	sd.expect(t, "RELOADING=1")
	assert.Equal(t, "READY=1\nSTATUS=running", sd.expect(t, "READY=1"))
	code, out, _ = status("-o", "json")
	require.Equal(t, 0, code)
	var st statusapi.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, 2, st.Config.Generation)
	require.NotNil(t, st.Config.LastReload)
	assert.True(t, st.Config.LastReload.OK)
	require.Len(t, st.Pools, 1)
	require.Len(t, st.Pools[0].Reals, 1)
	r := st.Pools[0].Reals[0]
	assert.Equal(t, statusapi.StateUp, r.State)
	assert.EqualValues(t, 3, r.Weight)
	assert.EqualValues(t, 3, r.ConfiguredWeight)

	// An invalid file: RELOADING, READY, and the status says why.
	require.NoError(t, os.WriteFile(cfg, []byte("virtual_server \"web\" {\n  port = 0\n"), 0o644))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	sd.expect(t, "RELOADING=1")
	assert.Contains(t, sd.expect(t, "READY=1"), "refused")
	_, out, _ = status()
	assert.Contains(t, out, "generation 2")
	assert.Regexp(t, `last reload \S+ ago: refused \(1 error, the first: .*lvsctl.hcl:1:22: Error: Unclosed configuration block`, out)

	// An invalid file with a secret on an offending line and thousands of
	// errors (the quadratic renderer took minutes on 2,000): the status
	// says why, the log holds the first diagnostics, and neither shows
	// the secret.
	const secret = "hunter2-reload-secret"
	var many strings.Builder
	many.WriteString("virtual_server \"db\" {\n  address = \"10.0.0.2\"\n  port = 3306\n  check \"mysql\" { password = \"" + secret + "\" }\n")
	for i := range 2000 {
		fmt.Fprintf(&many, "  bogus_%d = 1\n", i)
	}
	many.WriteString("}\n")
	require.NoError(t, os.WriteFile(cfg, []byte(many.String()), 0o644))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	sd.expect(t, "RELOADING=1")
	assert.Contains(t, sd.expect(t, "READY=1"), "refused")
	_, out, _ = status()
	assert.Contains(t, out, "generation 2")
	assert.Regexp(t, `refused \(2001 errors, the first: \S*lvsctl.hcl:4:`, out)
	assert.NotContains(t, out, secret)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "more errors") }, 10*time.Second, 10*time.Millisecond)
	assert.NotContains(t, logs.String(), secret)

	cancel()
	sd.expect(t, "STOPPING=1")
	select {
	case code := <-exited:
		assert.Equal(t, 0, code, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
	_, err = os.Lstat(sock)
	assert.ErrorIs(t, err, os.ErrNotExist, "the socket goes with the daemon")

	code, _, errOut := status()
	assert.Equal(t, exitNotRunning, code)
	assert.Contains(t, errOut, "lvsctl: no lvsctl run is serving on "+sock)
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "127.0.0.1:"+strconv.Itoa(port)) && !strings.Contains(line, "msg=\"status socket\"") {
			assert.Contains(t, line, "service=", "a line about a real server names its service: %s", line)
		}
	}
}

func web(t *testing.T) ipvs.ServiceKey {
	k, err := ipvs.ParseServiceKey("TCP 10.0.0.1:80")
	require.NoError(t, err)
	return k
}

// scrape fetches and parses a Prometheus text exposition with client.
func scrape(t *testing.T, client *http.Client, url string) map[string]*dtoFamily {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "the exposition parses")
	return mfs
}

// value is the value of the sample of family name whose labels include
// want; it fails the test if there is none.
func value(t *testing.T, mfs map[string]*dtoFamily, name string, want map[string]string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	require.True(t, ok, "no metric %s", name)
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
	}
	t.Fatalf("no sample of %s with %v", name, want)
	return 0
}

type dtoFamily = dto.MetricFamily
