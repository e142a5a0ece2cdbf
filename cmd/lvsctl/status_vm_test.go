package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// statusConfig is a NAT web service of two checked backends.
const statusConfig = `
virtual_server "web" {
  address            = "10.0.1.100"
  port               = 80
  scheduler          = "rr"
  forwarding         = "nat"
  delay_loop         = 1
  connect_timeout    = 1
  retry              = 0
  warmup             = 0
  check "tcp" {}
  real_server {
    address = "10.0.2.11"
    weight  = 2
  }
  real_server { address = "10.0.2.12" }
}
`

// nsClient is an HTTP client whose connections are made inside host's
// namespace: the daemon's metrics listener is there.
func nsClient(l *lab.Lab, host string) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := l.Do(host, func() error {
			var err error
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	return &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

// ipvsadmStats reads the real servers' counters with ipvsadm -L -n --stats
// --exact in host's namespace: "10.0.2.11:80" -> conns, inpkts, outpkts,
// inbytes, outbytes.
func ipvsadmStats(t *testing.T, l *lab.Lab, host string) map[string][5]float64 {
	t.Helper()
	r := ipvsadmIn(t, l, host, nil, "-L", "-n", "--stats", "--exact")
	require.Zero(t, r.code, string(r.stderr))
	out := map[string][5]float64{}
	sc := bufio.NewScanner(bytes.NewReader(r.stdout))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 7 || f[0] != "->" {
			continue
		}
		var v [5]float64
		for i := range v {
			n, err := strconv.ParseUint(f[2+i], 10, 64)
			require.NoError(t, err, sc.Text())
			v[i] = float64(n)
		}
		out[f[1]] = v
	}
	return out
}

func TestVMStatusAndMetrics(t *testing.T) {
	requireVM(t)
	l := lab.New("vmstat-")
	t.Cleanup(func() { l.Close() })
	_, err := l.NATTopology(2)
	require.NoError(t, err)
	stops := map[string]func(){}
	for i := 1; i <= 2; i++ {
		name := fmt.Sprintf("be%d", i)
		stop, err := l.Serve(name, fmt.Sprintf("10.0.2.1%d:80", i), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, name)
		}))
		require.NoError(t, err)
		stops[name] = stop
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(statusConfig), 0o644))
	ns := l.NSPath("director")
	sock := filepath.Join(dir, "lvsctl.sock")
	start := time.Now()
	d := startDaemon(t, "-f", cfg, "--netns", ns, "--state", filepath.Join(dir, "state.json"),
		"--socket", sock, "--metrics-listen", "127.0.0.1:9610")
	w := tableWatch{t: t, ns: ns}
	w.until(10*time.Second, "daemon applies the table", func() bool { return len(w.reals(80)) == 2 })
	t.Logf("table applied %v after start", time.Since(start).Round(time.Millisecond))

	status := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		e := defaultEnv()
		e.stdout, e.stderr = &out, &errOut
		code := run(context.Background(), append([]string{"status", "--socket", sock}, args...), e)
		return code, out.String() + errOut.String()
	}

	// Real traffic through the VIP, from the client.
	const requests = 20
	for i := 0; i < requests; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := l.Get(ctx, "client", "http://10.0.1.100/")
		cancel()
		require.NoError(t, err)
	}

	// The kernel folds its per-CPU counters into what it reports every 2 s
	// (the rate estimator): wait until two reads 2 s apart agree and count
	// every request.
	settle := time.Now()
	var last map[string][5]float64
	for {
		now := ipvsadmStats(t, l, "director")
		if now["10.0.2.11:80"][0]+now["10.0.2.12:80"][0] == requests && fmt.Sprint(now) == fmt.Sprint(last) {
			break
		}
		require.Less(t, time.Since(settle), 15*time.Second, "the kernel's counters did not settle: %v", now)
		last = now
		time.Sleep(2100 * time.Millisecond)
	}
	t.Logf("kernel counters settled in %v", time.Since(settle).Round(time.Millisecond))

	client := nsClient(l, "director")
	const url = "http://127.0.0.1:9610/metrics"
	t.Run("counters equal the kernel's", func(t *testing.T) {
		before := ipvsadmStats(t, l, "director")
		scrapeStart := time.Now()
		mfs := scrape(t, client, url)
		t.Logf("scrape: %v", time.Since(scrapeStart).Round(time.Microsecond))
		after := ipvsadmStats(t, l, "director")
		require.Equal(t, before, after, "the table was quiet during the scrape")
		var conns float64
		for _, be := range []string{"10.0.2.11:80", "10.0.2.12:80"} {
			rl := map[string]string{"service": "web", "vip": "10.0.1.100", "port": "80", "proto": "tcp", "real": be}
			k := before[be]
			assert.Equal(t, k[0], value(t, mfs, "lvsctl_real_server_connections_total", rl), be)
			assert.Equal(t, k[1], value(t, mfs, "lvsctl_real_server_in_packets_total", rl), be)
			assert.Equal(t, k[2], value(t, mfs, "lvsctl_real_server_out_packets_total", rl), be)
			assert.Equal(t, k[3], value(t, mfs, "lvsctl_real_server_in_bytes_total", rl), be)
			assert.Equal(t, k[4], value(t, mfs, "lvsctl_real_server_out_bytes_total", rl), be)
			assert.Equal(t, 1.0, value(t, mfs, "lvsctl_real_server_up", rl), be)
			assert.Equal(t, 1.0, value(t, mfs, "lvsctl_real_server_in_table", rl), be)
			assert.Equal(t, 1.0, value(t, mfs, "lvsctl_ipvs_scrape_success", nil))
			conns += k[0]
		}
		assert.Equal(t, float64(requests), conns, "one connection per request")
		assert.Equal(t, float64(requests), value(t, mfs, "lvsctl_virtual_server_connections_total",
			map[string]string{"service": "web", "vip": "10.0.1.100", "port": "80", "proto": "tcp"}))
		rl := map[string]string{"real": "10.0.2.11:80"}
		assert.Equal(t, 2.0, value(t, mfs, "lvsctl_real_server_weight", rl))
		assert.Equal(t, 2.0, value(t, mfs, "lvsctl_real_server_configured_weight", rl))
		logExposition(t, client, url, `real="10.0.2.11:80"`)
		probes := mfs["lvsctl_real_server_check_duration_seconds"]
		require.NotNil(t, probes)
		assert.Positive(t, probes.GetMetric()[0].GetHistogram().GetSampleCount(), "probes are timed")
	})

	t.Run("status shows the pool", func(t *testing.T) {
		code, out := status()
		require.Equal(t, 0, code, out)
		t.Logf("lvsctl status:\n%s", out)
		assert.Contains(t, out, "config: "+cfg+", generation 1")
		assert.Contains(t, out, "netns: "+ns)
		assert.Regexp(t, `10\.0\.2\.11:80\s+up\s+2/2\s`, out)
		assert.Regexp(t, `10\.0\.2\.12:80\s+up\s+1/1\s`, out)
	})

	t.Run("a killed backend shows in the health gauge and in status", func(t *testing.T) {
		w := tableWatch{t: t, ns: ns}
		stops["be2"]()
		killed := time.Now()
		rl := map[string]string{"real": "10.0.2.12:80"}
		var mfs map[string]*dtoFamily
		var down time.Duration
		w.until(10*time.Second, "be2 down and evicted in the metrics", func() bool {
			mfs = scrape(t, client, url)
			if down == 0 && value(t, mfs, "lvsctl_real_server_up", rl) == 0 {
				down = time.Since(killed)
			}
			// The health gauge moves first; the eviction follows after
			// the coalescing window. The kernel (in_table) may show it a
			// moment before the daemon publishes its operation counters.
			return down != 0 && value(t, mfs, "lvsctl_real_server_in_table", rl) == 0 &&
				value(t, mfs, "lvsctl_reconcile_operations_total", map[string]string{"op": "delete_real_server"}) == 1
		})
		t.Logf("health gauge down %v after the kill, evicted in the metrics after %v",
			down.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
		assert.Equal(t, 1.0, value(t, mfs, "lvsctl_real_server_transitions_total", rl))
		assert.Equal(t, 1.0, value(t, mfs, "lvsctl_real_server_check_result", map[string]string{"real": "10.0.2.12:80", "result": "failure"}))
		assert.Equal(t, 1.0, value(t, mfs, "lvsctl_reconcile_operations_total", map[string]string{"op": "delete_real_server"}))
		w.until(5*time.Second, "be2 out of the table", func() bool { _, ok := w.reals(80)["10.0.2.12"]; return !ok })

		code, out := status()
		require.Equal(t, 0, code, out)
		t.Logf("lvsctl status:\n%s", out)
		assert.Regexp(t, `10\.0\.2\.12:80\s+down\s+-/1\s+\S+\s+connect: connection refused`, out)
		code, out = status("-o", "json")
		require.Equal(t, 0, code)
		assert.Contains(t, out, `"state": "down"`)
	})

	d.signal(t, syscall.SIGTERM)
	require.NoError(t, d.wait(t))
	code, out := status()
	assert.Equal(t, exitNotRunning, code)
	assert.Contains(t, out, "no lvsctl run is serving")
}

// logExposition logs the exposition's lvsctl_ lines that contain match.
func logExposition(t *testing.T, client *http.Client, url, match string) {
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "lvsctl_") && strings.Contains(l, match) && !strings.Contains(l, "_bucket") {
			lines = append(lines, l)
		}
	}
	t.Logf("metrics of %s:\n%s", match, strings.Join(lines, "\n"))
}
