package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

// runConfig is the daemon's configuration in TestVMRun: a NAT web service
// on :80 checked by TCP with a sorry server, and an inhibiting service on
// :8080 checked by HTTP. Timings are short so the test is quick.
const runConfig = `
virtual_server "web" {
  address            = "10.0.1.100"
  port               = 80
  scheduler          = "rr"
  forwarding         = "nat"
  delay_loop         = 1
  connect_timeout    = 1
  retry              = 0
  delay_before_retry = 0.5
  warmup             = 0
  check "tcp" {}
  sorry_server { address = "10.0.2.14" }
  real_server {
    address = "10.0.2.11"
    weight  = %d
  }
  real_server { address = "10.0.2.12" }
  real_server { address = "10.0.2.13" }
}

virtual_server "drain" {
  address            = "10.0.1.100"
  port               = 8080
  scheduler          = "rr"
  forwarding         = "nat"
  inhibit_on_failure = true
  delay_loop         = 1
  connect_timeout    = 1
  retry              = 1
  delay_before_retry = 0.5
  warmup             = 0
  check "http" {
    url {
      path   = "/health"
      status = "200"
    }
  }
  real_server { address = "10.0.2.11" }
  real_server { address = "10.0.2.12" }
}
`

// Bounds for the web service, as the issue states them:
// connect_timeout + retry*delay_before_retry + delay_loop + 0.5 s.
const evictBound = 1*time.Second + 0*500*time.Millisecond + 1*time.Second + 500*time.Millisecond

// restoreBound: one delay_loop wait, one probe, the coalesce window, slack.
const restoreBound = 1*time.Second + 1*time.Second + 500*time.Millisecond

// daemonProc is `lvsctl run` as a child process (this test binary acting as
// the command), with its log collected.
type daemonProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan error
}

func startDaemon(t *testing.T, args ...string) *daemonProc {
	t.Helper()
	return startDaemonBin(t, os.Args[0], args...)
}

// startDaemonBin is startDaemon with the lvsctl binary bin (the test
// binary, or a built lvsctl put into the guest with LVSCTL_VM_FILES).
func startDaemonBin(t *testing.T, bin string, args ...string) *daemonProc {
	t.Helper()
	d := &daemonProc{done: make(chan error, 1)}
	d.cmd = exec.Command(bin, append([]string{"run"}, args...)...)
	d.cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
	stderr, err := d.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, d.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
		}
		d.done <- d.cmd.Wait()
	}()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
		}
		t.Logf("daemon log (pid %d):\n%s", d.cmd.Process.Pid, d.logText())
	})
	return d
}

func (d *daemonProc) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

func (d *daemonProc) signal(t *testing.T, sig syscall.Signal) {
	require.NoError(t, d.cmd.Process.Signal(sig))
}

func (d *daemonProc) wait(t *testing.T) error {
	select {
	case err := <-d.done:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("daemon did not exit")
		return nil
	}
}

// tableWatch reads one service's real servers from the director's kernel.
type tableWatch struct {
	t  *testing.T
	ns string
}

func (w tableWatch) reals(port uint16) map[string]uint32 {
	k, err := ipvs.Open(context.Background(), w.ns)
	require.NoError(w.t, err)
	defer k.Close()
	svcs, err := k.Services(context.Background())
	require.NoError(w.t, err)
	out := map[string]uint32{}
	for _, s := range svcs {
		if s.Key.Port == port {
			for _, r := range s.RealServers {
				out[r.Addr.String()] = r.Weight
			}
		}
	}
	return out
}

// until polls every 50 ms for at most limit and returns how long cond took.
func (w tableWatch) until(limit time.Duration, what string, cond func() bool) time.Duration {
	w.t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("%s: not within %v", what, limit)
	return 0
}

func TestVMRun(t *testing.T) {
	requireVM(t)
	l := lab.New("vmrun-")
	t.Cleanup(func() { l.Close() })
	backends, err := l.NATTopology(4)
	require.NoError(t, err)
	require.Len(t, backends, 4)

	// be1..be3 serve the web service; be4 is the sorry server. be1 and be2
	// also serve :8080 with a /health endpoint the test can fail.
	stops := map[string]func(){}
	serveWeb := func(i int) {
		name := fmt.Sprintf("be%d", i)
		stop, err := l.Serve(name, fmt.Sprintf("10.0.2.1%d:80", i), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, name)
		}))
		require.NoError(t, err)
		stops[name] = stop
	}
	for i := 1; i <= 3; i++ {
		serveWeb(i)
	}
	require.NoError(t, l.ServeHTTP("be4", "10.0.2.14:80", "sorry"))
	var sick [3]atomic.Bool
	for i := 1; i <= 2; i++ {
		name := fmt.Sprintf("be%d", i)
		_, err := l.Serve(name, fmt.Sprintf("10.0.2.1%d:8080", i), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/health" && sick[i].Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			io.WriteString(w, name)
		}))
		require.NoError(t, err)
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(runConfig, 1)), 0o644))
	ns := l.NSPath("director")
	state := filepath.Join(dir, "state.json")
	args := []string{"-f", cfg, "--netns", ns, "--state", state}
	d := startDaemon(t, args...)
	w := tableWatch{t: t, ns: ns}
	w.until(10*time.Second, "daemon applies the table", func() bool {
		return len(w.reals(80)) == 3 && len(w.reals(8080)) == 2
	})
	get := func(port int) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return l.Get(ctx, "client", fmt.Sprintf("http://10.0.1.100:%d/", port))
	}

	t.Run("killed backend is evicted and restored", func(t *testing.T) {
		stops["be2"]()
		took := w.until(10*time.Second, "be2 evicted", func() bool { _, ok := w.reals(80)["10.0.2.12"]; return !ok })
		t.Logf("eviction (connection refused): %v (bound %v)", took.Round(time.Millisecond), evictBound)
		assert.LessOrEqual(t, took, evictBound)
		assert.Contains(t, d.logText(), "connection refused")
		for i := 0; i < 4; i++ {
			body, err := get(80)
			require.NoError(t, err)
			assert.NotEqual(t, "be2", body)
		}
		serveWeb(2)
		took = w.until(10*time.Second, "be2 restored", func() bool { _, ok := w.reals(80)["10.0.2.12"]; return ok })
		t.Logf("restore: %v (bound %v)", took.Round(time.Millisecond), restoreBound)
		assert.LessOrEqual(t, took, restoreBound)
	})

	t.Run("blackholed backend is evicted by timeout", func(t *testing.T) {
		require.NoError(t, l.Down("director", "be3"))
		took := w.until(10*time.Second, "be3 evicted", func() bool { _, ok := w.reals(80)["10.0.2.13"]; return !ok })
		t.Logf("eviction (blackhole): %v (bound %v)", took.Round(time.Millisecond), evictBound)
		assert.LessOrEqual(t, took, evictBound)
		assert.Contains(t, d.logText(), "timeout")
		require.NoError(t, l.Up("director", "be3", ""))
		w.until(restoreBound+time.Second, "be3 restored", func() bool { _, ok := w.reals(80)["10.0.2.13"]; return ok })
	})

	t.Run("inhibit keeps weight 0 and open connections work", func(t *testing.T) {
		// One keep-alive connection through the VIP, made from the client.
		var conn net.Conn
		require.NoError(t, l.Do("client", func() error {
			var err error
			conn, err = net.DialTimeout("tcp", "10.0.1.100:8080", 3*time.Second)
			return err
		}))
		defer conn.Close()
		br := bufio.NewReader(conn)
		ask := func() string {
			_, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: vip\r\n\r\n")
			require.NoError(t, err)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		owner := ask()
		require.Contains(t, []string{"be1", "be2"}, owner)
		idx := int(owner[2] - '0')
		sick[idx].Store(true)
		addr := fmt.Sprintf("10.0.2.1%d", idx)
		w.until(10*time.Second, owner+" inhibited", func() bool { wt, ok := w.reals(8080)[addr]; return ok && wt == 0 })
		assert.Equal(t, owner, ask(), "the established connection still reaches its backend")
		for i := 0; i < 3; i++ {
			body, err := get(8080)
			require.NoError(t, err)
			assert.NotEqual(t, owner, body, "new connections avoid the weight-0 server")
		}
		sick[idx].Store(false)
		w.until(10*time.Second, owner+" back", func() bool { return w.reals(8080)[addr] == 1 })
	})

	t.Run("sorry server when all are down", func(t *testing.T) {
		for _, be := range []string{"be1", "be2", "be3"} {
			stops[be]()
		}
		w.until(10*time.Second, "sorry server in", func() bool {
			r := w.reals(80)
			_, sorry := r["10.0.2.14"]
			return len(r) == 1 && sorry
		})
		body, err := get(80)
		require.NoError(t, err)
		assert.Equal(t, "sorry", body)
		for i := 1; i <= 3; i++ {
			serveWeb(i)
		}
		w.until(10*time.Second, "sorry server out", func() bool {
			r := w.reals(80)
			_, sorry := r["10.0.2.14"]
			return len(r) == 3 && !sorry
		})
	})

	t.Run("ipvsadm -d is repaired", func(t *testing.T) {
		require.NoError(t, l.Do("director", func() error {
			out, err := exec.Command("ipvsadm", "-d", "-t", "10.0.1.100:80", "-r", "10.0.2.11:80").CombinedOutput()
			if err != nil {
				return fmt.Errorf("ipvsadm: %v: %s", err, out)
			}
			return nil
		}))
		took := w.until(15*time.Second, "repair", func() bool { _, ok := w.reals(80)["10.0.2.11"]; return ok })
		t.Logf("drift repaired in %v", took.Round(time.Millisecond))
		assert.Contains(t, d.logText(), "drift repaired")
	})

	t.Run("SIGHUP with a broken file keeps serving, a valid one applies", func(t *testing.T) {
		require.NoError(t, os.WriteFile(cfg, []byte("virtual_server \"web\" {\n  port = 0\n"), 0o644))
		d.signal(t, syscall.SIGHUP)
		w.until(5*time.Second, "reload refused", func() bool { return strings.Contains(d.logText(), "reload refused") })
		assert.Len(t, w.reals(80), 3)
		_, err := get(80)
		require.NoError(t, err)

		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(runConfig, 3)), 0o644))
		d.signal(t, syscall.SIGHUP)
		w.until(5*time.Second, "weight 3 applied", func() bool { return w.reals(80)["10.0.2.11"] == 3 })
	})

	t.Run("kill -9 and restart drop no request", func(t *testing.T) {
		var ok, failed atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < 2000; i++ { // bounded: at most 2000 requests
				select {
				case <-stop:
					return
				default:
				}
				if _, err := get(80); err != nil {
					failed.Add(1)
				} else {
					ok.Add(1)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		time.Sleep(500 * time.Millisecond)
		d.signal(t, syscall.SIGKILL)
		d.wait(t)
		time.Sleep(time.Second)
		d2 := startDaemon(t, args...)
		w.until(10*time.Second, "restarted daemon running", func() bool { return strings.Contains(d2.logText(), "msg=running") })
		time.Sleep(2 * time.Second)
		close(stop)
		<-done
		t.Logf("requests during kill -9 and restart: %d ok, %d failed", ok.Load(), failed.Load())
		assert.Zero(t, failed.Load())
		assert.Positive(t, ok.Load())
		assert.NotContains(t, d2.logText(), "msg=apply", "a restart on a converged table writes nothing")

		// SIGTERM leaves the table in place.
		d2.signal(t, syscall.SIGTERM)
		require.NoError(t, d2.wait(t))
		assert.Len(t, w.reals(80), 3)
		assert.EqualValues(t, 3, w.reals(80)["10.0.2.11"])
	})
}
