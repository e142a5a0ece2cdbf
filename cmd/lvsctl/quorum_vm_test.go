package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// quorumKeepalived: three backends of weight 1, quorum 2, a sorry server.
const quorumKeepalived = `virtual_server 10.0.1.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 2
    sorry_server 10.0.2.14 80
    real_server 10.0.2.11 80 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.0.2.12 80 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.0.2.13 80 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
`

// TestVMQuorumSorryServer: issue 18's case side by side with keepalived
// 2.2.7 on the same kernel, the same backends and the same failures: with
// quorum 2 and a sorry server, losing two of three backends leaves the
// sorry server alone in the table (the live backend is taken out), and
// one coming back restores both live backends and removes the sorry
// server. keepalived runs first, then lvsctl with the imported file.
func TestVMQuorumSorryServer(t *testing.T) {
	requireVM(t)
	l := lab.New("vmquo-")
	t.Cleanup(func() { l.Close() })
	backends, err := l.NATTopology(4)
	require.NoError(t, err)
	stops := map[int]func(){}
	serve := func(i int) {
		stop, err := l.Serve(fmt.Sprintf("be%d", i), backends[i-1].String()+":80", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "be%d", i)
		}))
		require.NoError(t, err)
		stops[i] = stop
	}
	for i := 1; i <= 4; i++ {
		serve(i)
	}
	ns := l.NSPath("director")
	dir := t.TempDir()
	kaConf := filepath.Join(dir, "keepalived.conf")
	require.NoError(t, os.WriteFile(kaConf, []byte(quorumKeepalived), 0o644))

	// The table once it has settled: the same for 3 s.
	settled := func(what string) []string {
		t.Helper()
		var last []string
		since := time.Now()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			now := savedTable(t, l, "director")
			if !slices.Equal(now, last) {
				last, since = now, time.Now()
			} else if time.Since(since) > 3*time.Second && len(now) > 0 {
				return now
			}
		}
		t.Fatalf("%s: the table does not settle: %v", what, last)
		return nil
	}
	// scenario runs the failures and returns the three tables.
	scenario := func() (all, lost, back []string) {
		all = settled("all up")
		stops[2]()
		stops[3]()
		lost = settled("two down")
		serve(2)
		back = settled("one back")
		serve(3)
		settled("all back")
		return all, lost, back
	}

	ka := startKaChecker(t, l, "director", kaConf)
	kaAll, kaLost, kaBack := scenario()
	ka.kill()
	r := ipvsadmIn(t, l, "director", nil, "-C")
	require.Zero(t, r.code, "%s", r.stderr)

	cli := newVMCLI(t, ns)
	out := filepath.Join(dir, "lvsctl.hcl")
	require.Equal(t, 0, cli.run("import", "keepalived", kaConf, "-o", out), cli.errOut.String())
	d := startDaemon(t, "-f", out, "--netns", ns, "--state", filepath.Join(dir, "state.json"))
	lvAll, lvLost, lvBack := scenario()
	_ = d

	t.Logf("keepalived: all %v; lost %v; back %v", kaAll, kaLost, kaBack)
	assert.Equal(t, kaAll, lvAll, "all up")
	assert.Equal(t, kaLost, lvLost, "quorum lost: keepalived (first) and lvsctl")
	assert.Equal(t, kaBack, lvBack, "quorum back")
	assert.Len(t, kaLost, 2, "the service and the sorry server alone")
	assert.Contains(t, kaLost[1], "10.0.2.14:80")
}
