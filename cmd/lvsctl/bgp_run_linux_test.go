package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
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

// `lvsctl run` announcing a VIP by BGP, for real: a router namespace runs
// Debian's bird2 with ECMP (merge paths on), two director namespaces run
// `lvsctl run` (this test binary as the CLI) with only a bgp block (the
// host has no IPVS): the announce tracks a vrrp_script (a flag file) and
// the director's eth1 (a second link whose switch end the test can take
// down). The sessions run on one bridge: router 10.88.0.1, directors
// 10.88.0.11 and .12, VIP 198.51.100.80 on the directors' lo
// (vip_interface = "lo": the host kernel has no dummy links).

const bgpRunVIP = "198.51.100.80"

// requireBirdRun fails in CI when the test cannot run (not root, no bird2)
// and skips elsewhere, with the reason.
func requireBirdRun(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	var bird string
	for _, tool := range []string{"bird", "birdc", "ip"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (.ci/host-deps installs bird2 and iproute2); CI must run the BGP tests", tool)
			}
			t.Skipf("%s is not installed (apt-get install bird2 iproute2)", tool)
		}
		if tool == "bird" {
			bird = p
		}
	}
	return bird
}

const bgpRunDirectorConf = `
vrrp_script "chk_local" {
  command  = ["/usr/bin/test", "-e", %q]
  interval = 0.1
  timeout  = 1
}

bgp {
  asn           = 65001
  router_id     = %q
  hold_time     = 9
  drain_time    = 1
  vip_interface = "lo"

  neighbor "router" {
    address = "10.88.0.1"
    asn     = 65000
  }

  announce "web" {
    vips            = [%q]
    track_script    = ["chk_local"]
    track_interface = ["eth1"]
  }
}
`

// birdRouterConf: one BGP session per director, ECMP into the kernel;
// error wait time 1,5 makes a rejoin after a close fast.
const birdRouterConf = `router id 10.88.0.1;
protocol device { scan time 1; }
protocol kernel { ipv4 { export all; import none; }; merge paths on; }
template bgp dir {
	local 10.88.0.1 as 65000;
	hold time 9;
	error wait time 1,5;
	ipv4 { import all; export none; };
}
protocol bgp d1 from dir { neighbor 10.88.0.11 as 65001; }
protocol bgp d2 from dir { neighbor 10.88.0.12 as 65001; }
`

var viaRE = regexp.MustCompile(`via (\S+)`)

// nextHops is the router's FIB next hops for the VIP, sorted.
func nextHops(t *testing.T, l *lab.Lab) []string {
	t.Helper()
	out, err := exec.Command("ip", "-n", l.NSName("r"), "route", "show", bgpRunVIP).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var hops []string
	for _, m := range viaRE.FindAllStringSubmatch(string(out), -1) {
		hops = append(hops, m[1])
	}
	slices.Sort(hops)
	return hops
}

type bgpDirector struct {
	name, addr, flag string
	args             []string
	d                *daemonProc
}

func (b *bgpDirector) start(t *testing.T) { b.d = startDaemon(t, b.args...) }

func TestBGPRunBirdECMP(t *testing.T) {
	bird := requireBirdRun(t)
	l := lab.New(fmt.Sprintf("lvb%d-", os.Getpid()%100000))
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	require.NoError(t, l.AddHost("sw"))
	require.NoError(t, l.AddBridge("sw", "br0", ""))
	dir := t.TempDir()
	dirs := []*bgpDirector{{name: "d1", addr: "10.88.0.11"}, {name: "d2", addr: "10.88.0.12"}}
	hosts := []struct{ name, addr string }{{"r", "10.88.0.1/24"}}
	for _, d := range dirs {
		hosts = append(hosts, struct{ name, addr string }{d.name, d.addr + "/24"})
	}
	for _, h := range hosts {
		require.NoError(t, l.AddHost(h.name))
		require.NoError(t, l.Link("sw", h.name, "", h.name, "eth0", h.addr))
		require.NoError(t, l.Enslave("sw", h.name, "br0"))
	}
	for i, d := range dirs {
		require.NoError(t, l.Link("sw", d.name+"b", "", d.name, "eth1", fmt.Sprintf("10.89.0.%d/24", 11+i)))
	}

	conf := filepath.Join(dir, "bird.conf")
	require.NoError(t, os.WriteFile(conf, []byte(birdRouterConf), 0o600))
	birdOut := &syncBuffer{}
	bc := exec.Command("ip", "netns", "exec", l.NSName("r"), bird, "-f", "-c", conf, "-s", filepath.Join(dir, "bird.ctl"), "-P", filepath.Join(dir, "bird.pid"))
	bc.Stdout, bc.Stderr = birdOut, birdOut
	require.NoError(t, bc.Start())
	t.Cleanup(func() {
		_ = bc.Process.Kill()
		_ = bc.Wait()
		if t.Failed() {
			t.Logf("bird:\n%s", birdOut.String())
		}
	})

	for _, d := range dirs {
		d.flag = filepath.Join(dir, d.name+".ok")
		require.NoError(t, os.WriteFile(d.flag, nil, 0o644))
		cfg := filepath.Join(dir, d.name+".hcl")
		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(bgpRunDirectorConf, d.flag, d.addr, bgpRunVIP)), 0o644))
		d.args = []string{"-f", cfg, "--netns", l.NSPath(d.name), "--state", filepath.Join(dir, d.name+".state.json")}
	}
	both := []string{"10.88.0.11", "10.88.0.12"}
	only2 := []string{"10.88.0.12"}
	hops := func(want []string) func() bool {
		return func() bool { return slices.Equal(nextHops(t, l), want) }
	}
	vipOnLo := func(name string) bool {
		return slices.Contains(addrsIn(t, l, name, "lo"), bgpRunVIP+"/32")
	}

	start := time.Now()
	for _, d := range dirs {
		d.start(t)
	}
	took := waitUntil(t, 10*time.Second, "one next hop per director", hops(both))
	t.Logf("start: the router's FIB has both next hops %v after the daemons started", took.Round(time.Millisecond))
	for _, d := range dirs {
		assert.True(t, vipOnLo(d.name), "%s holds the VIP on lo", d.name)
		assert.NotContains(t, d.d.logText(), "BGP is not run yet")
		assert.Contains(t, d.d.logText(), "running BGP only, without IPVS")
	}
	d1 := dirs[0]
	parent := t // the daemons restarted by a subtest outlive it

	t.Run("lvsctl status shows the session and the prefix", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "status", "--netns", l.NSPath(d1.name))
		cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
		b, err := cmd.CombinedOutput()
		out := string(b)
		require.NoError(t, err, "%s", out)
		assert.Contains(t, out, "router")
		assert.Contains(t, out, "established")
		assert.Contains(t, out, bgpRunVIP+"/32")
	})

	t.Run("failing track_script withdraws, passing announces again", func(t *testing.T) {
		require.NoError(t, os.Remove(d1.flag))
		took := waitUntil(t, time.Second, "d1's next hop removed", hops(only2))
		t.Logf("track_script failing: d1's next hop left the FIB %v after the flag file went (script interval 0.1 s)", took.Round(time.Millisecond))
		assert.True(t, vipOnLo(d1.name), "a withdrawn VIP stays on vip_interface while the daemon runs")
		require.NoError(t, os.WriteFile(d1.flag, nil, 0o644))
		took = waitUntil(t, 10*time.Second, "d1's next hop back", hops(both))
		t.Logf("track_script passing again: d1's next hop back %v after the flag file returned", took.Round(time.Millisecond))
	})

	t.Run("SIGTERM withdraws before closing, then rejoin", func(t *testing.T) {
		d1.d.signal(t, syscall.SIGTERM)
		took := waitUntil(t, time.Second, "d1's next hop removed on SIGTERM", hops(only2))
		t.Logf("SIGTERM: d1's next hop left the FIB %v after the signal", took.Round(time.Millisecond))
		require.NoError(t, d1.d.wait(t))
		assert.False(t, vipOnLo(d1.name), "the VIP leaves lo once the daemon stopped")
		log := d1.d.logText()
		assert.Less(t, strings.Index(log, "bgp: withdrawing everything"), strings.Index(log, "bgp speaker stopped"), "withdraw, drain, then close:\n%s", log)

		restarted := time.Now()
		d1.start(parent)
		waitUntil(t, 10*time.Second, "d1 rejoins", hops(both))
		t.Logf("rejoin after SIGTERM: both next hops %v after the restart", time.Since(restarted).Round(time.Millisecond))
	})

	t.Run("kill -9 closes the session, then rejoin", func(t *testing.T) {
		require.NoError(t, d1.d.cmd.Process.Kill())
		killed := time.Now()
		took := waitUntil(t, time.Second, "d1's next hop removed on kill -9", hops(only2))
		t.Logf("kill -9: d1's next hop left the FIB %v after the kill (the kernel closes the TCP session)", took.Round(time.Millisecond))
		<-d1.d.done
		assert.Less(t, time.Since(killed), 5*time.Second)

		restarted := time.Now()
		d1.start(parent)
		waitUntil(t, 10*time.Second, "d1 rejoins after kill -9", hops(both))
		t.Logf("rejoin after kill -9: both next hops %v after the restart", time.Since(restarted).Round(time.Millisecond))
		assert.True(t, vipOnLo(d1.name), "the VIP left on lo by the killed daemon is taken over")
	})

	t.Run("tracked interface down withdraws", func(t *testing.T) {
		require.NoError(t, l.Down("sw", d1.name+"b"))
		took := waitUntil(t, time.Second, "d1's next hop removed on eth1 down", hops(only2))
		t.Logf("track_interface down: d1's next hop left the FIB %v after eth1's peer went down", took.Round(time.Millisecond))
		require.NoError(t, l.Up("sw", d1.name+"b", ""))
		took = waitUntil(t, 10*time.Second, "d1's next hop back on eth1 up", hops(both))
		t.Logf("track_interface up: d1's next hop back %v after eth1's peer came up", took.Round(time.Millisecond))
	})

	t.Run("SIGHUP: a new VIP is announced, the session stays up", func(t *testing.T) {
		d2 := dirs[1]
		cfg := d2.args[1]
		b, err := os.ReadFile(cfg)
		require.NoError(t, err)
		const vip2 = "198.51.100.81"
		edited := strings.Replace(string(b), fmt.Sprintf("vips            = [%q]", bgpRunVIP), fmt.Sprintf("vips = [%q, %q]", bgpRunVIP, vip2), 1)
		require.NotEqual(t, string(b), edited)
		require.NoError(t, os.WriteFile(cfg, []byte(edited), 0o644))
		hupped := time.Now()
		d2.d.signal(t, syscall.SIGHUP)
		took := waitUntil(t, 3*time.Second, "the new VIP reaches the router via d2", func() bool {
			out, err := exec.Command("ip", "-n", l.NSName("r"), "route", "show", vip2).CombinedOutput()
			return err == nil && strings.Contains(string(out), "via 10.88.0.12")
		})
		t.Logf("SIGHUP: the new VIP in the router's FIB %v after the signal", took.Round(time.Millisecond))
		assert.Less(t, time.Since(hupped), 3*time.Second)
		assert.Equal(t, both, nextHops(t, l), "the first VIP keeps both next hops")
		assert.True(t, slices.Contains(addrsIn(t, l, d2.name, "lo"), vip2+"/32"), "the new VIP is on d2's lo")

		cmd := exec.Command(os.Args[0], "status", "--netns", l.NSPath(d2.name), "-o", "json")
		cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
		out, err := cmd.Output()
		require.NoError(t, err)
		var st statusapi.Status
		require.NoError(t, json.Unmarshal(out, &st))
		require.NotNil(t, st.BGP)
		require.Len(t, st.BGP.Neighbors, 1)
		assert.Equal(t, "established", st.BGP.Neighbors[0].State)
		assert.Equal(t, uint64(1), st.BGP.Neighbors[0].Established, "the session was not reset by the reload")
		assert.ElementsMatch(t, []string{bgpRunVIP + "/32", vip2 + "/32"}, st.BGP.Announced)
		assert.NotContains(t, d2.d.logText(), "bgp speaker stopped")
	})

	t.Run("SIGHUP: a changed hold_time is applied by difference, no flap", func(t *testing.T) {
		d2 := dirs[1]
		cfg := d2.args[1]
		b, err := os.ReadFile(cfg)
		require.NoError(t, err)
		edited := strings.Replace(string(b), "hold_time     = 9", "hold_time     = 12", 1)
		require.NotEqual(t, string(b), edited)
		require.NoError(t, os.WriteFile(cfg, []byte(edited), 0o644))
		d2.d.signal(t, syscall.SIGHUP)
		waitUntil(t, 3*time.Second, "reconfigured", func() bool {
			return strings.Contains(d2.d.logText(), "bgp: neighbors reconfigured by difference")
		})
		// Both next hops stay, the whole time.
		for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
			require.Equal(t, both, nextHops(t, l), "a hold time reload flapped d2's route")
			time.Sleep(20 * time.Millisecond)
		}
		cmd := exec.Command(os.Args[0], "status", "--netns", l.NSPath(d2.name), "-o", "json")
		cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
		out, err := cmd.Output()
		require.NoError(t, err)
		var st statusapi.Status
		require.NoError(t, json.Unmarshal(out, &st))
		require.Len(t, st.BGP.Neighbors, 1)
		assert.Equal(t, "established", st.BGP.Neighbors[0].State)
		assert.Equal(t, uint64(1), st.BGP.Neighbors[0].Established, "the session was not reset")
		assert.Zero(t, st.BGP.Withdraws["restart"])
		assert.NotContains(t, d2.d.logText(), "bgp speaker stopped")
	})

	t.Logf("whole scenario: %v", time.Since(start).Round(time.Millisecond))
}

// The quorum case: the host has no IPVS, so the director runs `lvsctl run`
// against the in-memory kernel (ipvs.Fake) in a helper process (this test
// binary, TestBGPRunFakeIPVSHelper); everything else is real: the health
// checks against a backend namespace, the quorum, the speaker, bird2.

const bgpRunFakeIPVSEnv = "LVSCTL_BGP_RUN_FAKE_IPVS"

// TestBGPRunFakeIPVSHelper is `lvsctl run` with an in-memory IPVS kernel;
// it does nothing unless started by startFakeIPVSDaemon. (--netns
// re-executes it inside the namespace, the variable with it.)
func TestBGPRunFakeIPVSHelper(t *testing.T) {
	raw := os.Getenv(bgpRunFakeIPVSEnv)
	if raw == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := defaultEnv()
	k := ipvs.NewFake()
	e.openKernel = func(context.Context, string) (ipvs.Kernel, error) { return k, nil }
	e.probe = nil
	os.Exit(run(ctx, args, e))
}

func startFakeIPVSDaemon(t *testing.T, args ...string) *daemonProc {
	t.Helper()
	raw, err := json.Marshal(append([]string{"run"}, args...))
	require.NoError(t, err)
	d := &daemonProc{done: make(chan error, 1)}
	d.cmd = exec.Command(os.Args[0], "-test.run=^TestBGPRunFakeIPVSHelper$")
	d.cmd.Env = append(os.Environ(), bgpRunFakeIPVSEnv+"="+string(raw))
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

const bgpRunQuorumConf = `
virtual_server "web" {
  address            = %q
  port               = 80
  scheduler          = "mh"
  scheduler_flags    = ["mh-port"]
  forwarding         = "dr"
  delay_loop         = 0.2
  connect_timeout    = 3
  retry              = 0
  check "tcp" {}
  real_server { address = "10.88.0.50" }
}

bgp {
  asn           = 65001
  router_id     = "10.88.0.11"
  hold_time     = 9
  drain_time    = 1
  vip_interface = "lo"
  sloppy_tcp    = true

  neighbor "router" {
    address = "10.88.0.1"
    asn     = 65000
  }

  announce "web" {
    vips                 = [%q]
    track_virtual_server = ["web"]
  }
}
`

// TestBGPRunBirdQuorum: a freshly started director whose backend does not
// answer yet (its first probe hangs for connect_timeout, 3 s) never
// announces on the quorum presumed at start, although its session is up;
// it announces once the backend answers, and withdraws when the backend
// dies (quorum lost).
func TestBGPRunBirdQuorum(t *testing.T) {
	bird := requireBirdRun(t)
	l := lab.New(fmt.Sprintf("lvq%d-", os.Getpid()%100000))
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	require.NoError(t, l.AddHost("sw"))
	require.NoError(t, l.AddBridge("sw", "br0", ""))
	for _, h := range []struct{ name, addr string }{{"r", "10.88.0.1/24"}, {"d1", "10.88.0.11/24"}, {"be", ""}} {
		require.NoError(t, l.AddHost(h.name))
		require.NoError(t, l.Link("sw", h.name, "", h.name, "eth0", h.addr))
		require.NoError(t, l.Enslave("sw", h.name, "br0"))
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bird.conf")
	require.NoError(t, os.WriteFile(conf, []byte(birdRouterConf), 0o600))
	birdOut := &syncBuffer{}
	bc := exec.Command("ip", "netns", "exec", l.NSName("r"), bird, "-f", "-c", conf, "-s", filepath.Join(dir, "bird.ctl"), "-P", filepath.Join(dir, "bird.pid"))
	bc.Stdout, bc.Stderr = birdOut, birdOut
	require.NoError(t, bc.Start())
	t.Cleanup(func() {
		_ = bc.Process.Kill()
		_ = bc.Wait()
		if t.Failed() {
			t.Logf("bird:\n%s", birdOut.String())
		}
	})
	established := func() bool {
		out, err := exec.Command("birdc", "-s", filepath.Join(dir, "bird.ctl"), "show", "protocols", "d1").CombinedOutput()
		return err == nil && strings.Contains(string(out), "Established")
	}
	d1 := []string{"10.88.0.11"}
	hops := func(want []string) func() bool {
		return func() bool { return slices.Equal(nextHops(t, l), want) }
	}

	cfg := filepath.Join(dir, "d1.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(bgpRunQuorumConf, bgpRunVIP, bgpRunVIP)), 0o644))
	started := time.Now()
	d := startFakeIPVSDaemon(t, "-f", cfg, "--netns", l.NSPath("d1"), "--state", filepath.Join(dir, "state.json"))

	// The backend has no address yet: the first probe waits for its
	// connect_timeout. The session comes up meanwhile; nothing is announced.
	took := waitUntil(t, 10*time.Second, "session established", established)
	t.Logf("session established %v after start; the first probe is still pending", took.Round(time.Millisecond))
	require.Less(t, time.Since(started), 2500*time.Millisecond, "the session came up too late to prove anything (first probe at 3 s)")
	for time.Since(started) < 3500*time.Millisecond {
		require.Empty(t, nextHops(t, l), "announced on the quorum presumed at start")
		time.Sleep(20 * time.Millisecond)
	}
	assert.Contains(t, d.logText(), `msg="bgp: announce withheld" announce=web reason="virtual_server web: waiting for its first check results"`)

	// The backend comes up: announced at its first successful probe.
	require.NoError(t, l.AddAddr("be", "eth0", "10.88.0.50/24"))
	stopBackend, err := l.Serve("be", "10.88.0.50:80", nil)
	require.NoError(t, err)
	took = waitUntil(t, 10*time.Second, "announced once the backend answers", hops(d1))
	t.Logf("quorum: announced %v after the backend came up (next probe + rise)", took.Round(time.Millisecond))

	// The backend dies: connection refused at the next probe (delay_loop
	// 0.2 s), quorum lost, withdrawn.
	stopBackend()
	took = waitUntil(t, time.Second, "withdrawn on quorum loss", hops(nil))
	t.Logf("quorum lost: d1's next hop left the FIB %v after the backend died (delay_loop 0.2 s + probe + coalescing)", took.Round(time.Millisecond))
	log := d.logText()
	// Not even for a moment between the first (failed) probe and the
	// reconcile that loses the quorum.
	assert.Less(t, strings.Index(log, `msg="real server up"`), strings.Index(log, `msg="bgp: announced"`),
		"announced before the backend's first successful probe:\n%s", log)
	assert.Contains(t, log, `msg="quorum lost"`)
	assert.Contains(t, log, `msg="bgp: withdrawn" prefix=`+bgpRunVIP+`/32 reason=quorum`)
}
