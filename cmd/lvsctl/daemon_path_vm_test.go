package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
	"github.com/lvsctl/lvsctl/ipvs"
)

// daemonPathConf: four NAT services on the VIP, web checked by TCP (be1
// with weight %d, be2), the others unchecked, and a VRRP instance whose
// VIP 10.0.1.200 the director holds alone.
const daemonPathConf = `
virtual_server "web" {
  address         = "10.0.1.100"
  port            = 80
  scheduler       = "rr"
  forwarding      = "nat"
  delay_loop      = 1
  connect_timeout = 1
  warmup          = 0
  check "tcp" {}
  real_server {
    address = "10.0.2.11"
    weight  = %d
  }
  real_server { address = "10.0.2.12" }
}
`

const daemonPathRest = `
virtual_server "db" {
  address    = "10.0.1.100"
  port       = 3306
  forwarding = "nat"
  real_server { address = "10.0.2.11" }
}

virtual_server "api" {
  address    = "10.0.1.100"
  port       = 443
  forwarding = "nat"
  real_server { address = "10.0.2.11" }
}

virtual_server "mail" {
  address    = "10.0.1.100"
  port       = 25
  forwarding = "nat"
  real_server { address = "10.0.2.11" }
}
`

const daemonPathVRRP = `
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 61
  version           = 3
  priority          = 100
  advert_interval   = 0.1
  garp_master_delay = 0
  virtual_ipaddress = ["10.0.1.200/24"]
}
`

// cliRun runs this test binary as lvsctl and returns its exit status and
// outputs.
func cliRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// TestVMDaemonPath is issue 15's "Done when" for plan and apply through a
// running daemon and the refusal of destructive input: with lvsctl run
// active and a backend down by health, plan on the unchanged file says
// nothing to do; plan on an edited file shows exactly the edit; apply
// through the daemon applies it and reports the ops; an empty file and a
// file that drops 3 of 4 services are refused by apply and by SIGHUP (the
// table and VRRP untouched, the refusal logged), and accepted with the
// explicit override.
func TestVMDaemonPath(t *testing.T) {
	requireVM(t)
	l := lab.New("vmdp-")
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
	full := func(weight int) string { return fmt.Sprintf(daemonPathConf, weight) + daemonPathRest + daemonPathVRRP }
	require.NoError(t, os.WriteFile(cfg, []byte(full(1)), 0o644))
	ns := l.NSPath("director")
	state := filepath.Join(dir, "state.json")
	common := []string{"--netns", ns, "--state", state}
	d := startDaemon(t, append([]string{"-f", cfg}, common...)...)
	w := tableWatch{t: t, ns: ns}
	dump := func() []string {
		k, err := ipvs.Open(context.Background(), ns)
		require.NoError(t, err)
		defer k.Close()
		svcs, err := k.Services(context.Background())
		require.NoError(t, err)
		return render(ipvs.Diff(nil, svcs))
	}
	w.until(10*time.Second, "daemon applies the table", func() bool { return len(dump()) == 4+5 })
	status := func() statusapi.Status {
		code, out, errOut := cliRun(t, append([]string{"status", "-o", "json"}, common...)...)
		require.Equal(t, 0, code, errOut)
		var st statusapi.Status
		require.NoError(t, json.Unmarshal([]byte(out), &st))
		return st
	}
	hasVIP := func() bool {
		found := false
		require.NoError(t, l.Do("director", func() error {
			ifc, err := net.InterfaceByName("eth0")
			if err != nil {
				return err
			}
			addrs, err := ifc.Addrs()
			for _, a := range addrs {
				found = found || strings.HasPrefix(a.String(), "10.0.1.200/")
			}
			return err
		}))
		return found
	}
	w.until(10*time.Second, "VRRP master with the VIP", func() bool {
		st := status()
		return len(st.VRRP) == 1 && st.VRRP[0].State == "MASTER" && hasVIP()
	})
	masterSince := status().VRRP[0].Since

	// be2 down by health: evicted.
	stops["be2"]()
	w.until(10*time.Second, "be2 evicted", func() bool { _, ok := w.reals(80)["10.0.2.12"]; return !ok })

	plan := func(file string, extra ...string) (int, string, string) {
		return cliRun(t, append(append([]string{"plan", "-f", file}, common...), extra...)...)
	}
	apply := func(file string, extra ...string) (int, string, string) {
		return cliRun(t, append(append([]string{"apply", "-f", file}, common...), extra...)...)
	}

	t.Run("plan of the unchanged file: nothing to do while be2 is down", func(t *testing.T) {
		code, out, errOut := plan(cfg)
		assert.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, "No changes: lvsctl run's table")
		assert.NotContains(t, out, "10.0.2.12")
	})

	edited := filepath.Join(dir, "edited.hcl")
	require.NoError(t, os.WriteFile(edited, []byte(full(3)), 0o644))
	editLine := "~ real TCP 10.0.1.100:80 (web) -> 10.0.2.11:80 weight 1 -> 3"

	t.Run("plan of an edited file: exactly the edit", func(t *testing.T) {
		code, out, errOut := plan(edited)
		assert.Equal(t, 2, code, errOut)
		assert.Equal(t, "Plan (by lvsctl run, with the current health): 0 to add, 1 to change, 0 to delete.\n  "+editLine+"\n", out)
		code, out, _ = plan(edited, "-o", "json")
		assert.Equal(t, 2, code)
		var p statusapi.Plan
		require.NoError(t, json.Unmarshal([]byte(out), &p))
		assert.Equal(t, statusapi.SourceDaemon, p.Source)
		assert.Equal(t, statusapi.Changes{Edit: statusapi.Counts{RealServer: 1}}, p.Changes)
	})

	t.Run("apply through the daemon applies it and reports the ops", func(t *testing.T) {
		code, out, errOut := apply(edited)
		require.Equal(t, 0, code, out+errOut)
		assert.Equal(t, editLine+"\nApplied 1 change (by lvsctl run, as a reload of "+edited+").\n", out)
		assert.NotContains(t, errOut, "another lvsctl")
		assert.EqualValues(t, 3, w.reals(80)["10.0.2.11"])
		_, down := w.reals(80)["10.0.2.12"]
		assert.False(t, down, "be2 is still down by health")
		st := status()
		require.NotNil(t, st.Config.LastReload)
		assert.True(t, st.Config.LastReload.OK)
		assert.Equal(t, "apply", st.Config.LastReload.Via)
	})
	// The daemon's own file now says what it runs.
	require.NoError(t, os.WriteFile(cfg, []byte(full(3)), 0o644))
	before := dump()

	dropped := fmt.Sprintf(daemonPathConf, 3) + daemonPathVRRP
	refusals := []struct {
		name, src, why string
	}{
		{"empty file", "", "Empty configuration"},
		{"3 of 4 services dropped", dropped, "would delete 3 of 4 owned services (mail, api, db)"},
	}
	untouched := func(t *testing.T) {
		t.Helper()
		assert.Equal(t, before, dump(), "the table is untouched")
		st := status()
		require.Len(t, st.VRRP, 1)
		assert.Equal(t, "MASTER", st.VRRP[0].State)
		assert.Equal(t, masterSince, st.VRRP[0].Since, "VRRP was not restarted")
		assert.True(t, hasVIP())
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.hcl")
			require.NoError(t, os.WriteFile(bad, []byte(tt.src), 0o644))
			logged := strings.Count(d.logText(), "reload refused")
			code, out, errOut := apply(bad)
			assert.Equal(t, 1, code, out)
			assert.Contains(t, out+errOut, tt.why)
			assert.Contains(t, errOut, "kept the running configuration")
			untouched(t)
			assert.Greater(t, strings.Count(d.logText(), "reload refused"), logged, "apply's refusal is logged")

			require.NoError(t, os.WriteFile(cfg, []byte(tt.src), 0o644))
			logged = strings.Count(d.logText(), "reload refused")
			d.signal(t, syscall.SIGHUP)
			w.until(5*time.Second, "SIGHUP refused and logged", func() bool {
				return strings.Count(d.logText(), "reload refused") > logged
			})
			st := status()
			require.NotNil(t, st.Config.LastReload)
			assert.False(t, st.Config.LastReload.OK)
			assert.Contains(t, st.Config.LastReload.Error, tt.why)
			time.Sleep(300 * time.Millisecond) // a (wrong) reconcile would have run
			untouched(t)
			require.NoError(t, os.WriteFile(cfg, []byte(full(3)), 0o644))
		})
	}

	t.Run("accepted with the override", func(t *testing.T) {
		few := filepath.Join(t.TempDir(), "few.hcl")
		require.NoError(t, os.WriteFile(few, []byte(dropped), 0o644))
		code, out, errOut := apply(few, "--allow-destroy")
		require.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, "- service TCP 10.0.1.100:3306 (db)")
		assert.Contains(t, out, "Applied 3 changes")
		assert.Len(t, dump(), 2, "web and be1")
		assert.True(t, hasVIP(), "VRRP unchanged")

		// allow_empty by SIGHUP: every owned service deleted, VRRP stopped.
		require.NoError(t, os.WriteFile(cfg, []byte("allow_empty = true\n"), 0o644))
		d.signal(t, syscall.SIGHUP)
		w.until(10*time.Second, "the table emptied", func() bool { return len(dump()) == 0 })
		w.until(10*time.Second, "the VIP released", func() bool { return !hasVIP() })
		st := status()
		assert.True(t, st.Config.LastReload.OK, st.Config.LastReload.Error)
	})
}
