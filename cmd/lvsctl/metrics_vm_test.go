package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// TestVMMetricsWholeTable: the metrics cover every service of the
// namespace, lvsctl's (owned="true") and one made with ipvsadm
// (owned="false"), as node_exporter's ipvs collector would; and a real
// server down by health, which lvsctl takes out of the table, keeps its
// weight series at 0 and says "down" in lvsctl_real_server_state.
func TestVMMetricsWholeTable(t *testing.T) {
	requireVM(t)
	l := lab.New("vmmet-")
	t.Cleanup(func() { l.Close() })
	_, err := l.NATTopology(2)
	require.NoError(t, err)
	// be1 answers; be2 does not, so its check fails.
	stop, err := l.Serve("be1", "10.0.2.11:80", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "be1")
	}))
	require.NoError(t, err)
	t.Cleanup(stop)
	r := ipvsadmIn(t, l, "director", []byte("-A -u 10.9.9.9:53 -s rr\n-a -u 10.9.9.9:53 -r 10.0.2.11:53 -m -w 4\n"), "-R")
	require.Zero(t, r.code, "ipvsadm -R: %s", r.stderr)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(statusConfig), 0o644))
	ns := l.NSPath("director")
	d := startDaemon(t, "-f", cfg, "--netns", ns, "--state", filepath.Join(dir, "state.json"),
		"--metrics-listen", "127.0.0.1:9611")
	w := tableWatch{t: t, ns: ns}
	w.until(15*time.Second, "be2 is taken out for failing its check", func() bool {
		reals := w.reals(80)
		_, be1 := reals["10.0.2.11"]
		_, be2 := reals["10.0.2.12"]
		return be1 && !be2 && strings.Contains(d.logText(), "real server down")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_, err = l.Get(ctx, "client", "http://10.0.1.100/")
	cancel()
	require.NoError(t, err, "the VIP serves from be1")

	mfs := scrape(t, nsClient(l, "director"), "http://127.0.0.1:9611/metrics")
	web := map[string]string{"service": "web", "service_key": "TCP 10.0.1.100:80", "vip": "10.0.1.100", "port": "80", "proto": "tcp"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	be1, be2 := with(web, "real", "10.0.2.11:80"), with(web, "real", "10.0.2.12:80")

	// The owned service: be1 up at its weight, be2 down, at weight 0, not gone.
	assert.Equal(t, 2.0, value(t, mfs, "lvsctl_real_server_weight", with(be1, "owned", "true")))
	assert.Equal(t, 1.0, value(t, mfs, "lvsctl_real_server_state", with(be1, "state", "up")))
	assert.Equal(t, 0.0, value(t, mfs, "lvsctl_real_server_weight", with(be2, "owned", "true")))
	assert.Equal(t, 0.0, value(t, mfs, "lvsctl_real_server_active_connections", with(be2, "owned", "true")))
	assert.Equal(t, 1.0, value(t, mfs, "lvsctl_real_server_state", with(be2, "state", "down")))
	assert.Equal(t, 0.0, value(t, mfs, "lvsctl_real_server_state", with(be2, "state", "up")))
	assert.Equal(t, 0.0, value(t, mfs, "lvsctl_real_server_up", be2))
	value(t, mfs, "lvsctl_virtual_server_connections_total", with(web, "owned", "true")) // present (its count lags: the kernel folds it every 2 s)

	// The foreign service, with its real server, as ipvsadm made them.
	dns := map[string]string{"service": "", "service_key": "UDP 10.9.9.9:53", "vip": "10.9.9.9", "port": "53", "proto": "udp", "owned": "false"}
	assert.Equal(t, 0.0, value(t, mfs, "lvsctl_virtual_server_connections_total", dns))
	assert.Equal(t, 4.0, value(t, mfs, "lvsctl_real_server_weight", with(dns, "real", "10.0.2.11:53")))
	assert.Equal(t, 1.0, value(t, mfs, "lvsctl_ipvs_scrape_success", nil))
}
