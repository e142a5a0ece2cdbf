package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
)

// More of issue 19's "done when" with `lvsctl run` directors (this test
// binary as the CLI) in host namespaces: FRR as the router, three
// directors, BFD 100 ms x 3, IPv6 VIPs over IPv6 sessions. One bridge
// joins the router (10.88.0.1, fd88::1) and the directors (10.88.0.1N,
// fd88::1N); each director announces one VIP on lo while its
// track_script (a flag file) passes. The routers' configurations follow
// bgp/bird_linux_test.go's, quoted in docs/scale-out.md.

// bgpLabTools fails in CI (CI=true) and skips elsewhere, with the reason,
// when the host lacks root or one of the programs.
func bgpLabTools(t *testing.T, progs ...string) {
	t.Helper()
	requireRoot(t)
	for _, p := range append([]string{"ip"}, progs...) {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (.ci/host-deps installs bird2, frr, nftables and iproute2); CI must run the BGP tests: %v", p, err)
			}
			t.Skipf("%s is not installed: %v", p, err)
		}
	}
}

// runLab is a router "r" and directors d1..dN on one bridge, each director
// running `lvsctl run` with the configuration of runLabConf.
type runLab struct {
	l    *lab.Lab
	dir  string
	v6   bool
	vip  string
	dirs []*bgpDirector
}

func routerAddr(v6 bool) string {
	if v6 {
		return "fd88::1"
	}
	return "10.88.0.1"
}

func runLabDirectorAddr(i int, v6 bool) string {
	if v6 {
		return fmt.Sprintf("fd88::%d", 11+i)
	}
	return fmt.Sprintf("10.88.0.%d", 11+i)
}

// newRunLab builds the namespaces of n directors; the sessions run over
// IPv6 if v6 (the router ID stays IPv4).
func newRunLab(t *testing.T, prefix string, n int, v6 bool, vip string) *runLab {
	t.Helper()
	l := lab.New(fmt.Sprintf("%s%d-", prefix, os.Getpid()%100000))
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	require.NoError(t, l.AddHost("sw"))
	require.NoError(t, l.AddBridge("sw", "br0", ""))
	rl := &runLab{l: l, dir: t.TempDir(), v6: v6, vip: vip}
	hosts := []struct{ name, v4, v6 string }{{"r", "10.88.0.1/24", "fd88::1/64"}}
	for i := range n {
		d := &bgpDirector{name: fmt.Sprintf("d%d", i+1), addr: runLabDirectorAddr(i, false)}
		rl.dirs = append(rl.dirs, d)
		hosts = append(hosts, struct{ name, v4, v6 string }{d.name, d.addr + "/24", runLabDirectorAddr(i, true) + "/64"})
	}
	for _, h := range hosts {
		require.NoError(t, l.AddHost(h.name))
		require.NoError(t, l.Link("sw", h.name, "", h.name, "eth0", h.v4))
		require.NoError(t, l.Enslave("sw", h.name, "br0"))
		if v6 {
			require.NoError(t, l.AddAddr(h.name, "eth0", h.v6))
		}
	}
	return rl
}

// hop is director i's next hop as the router's FIB shows it.
func (rl *runLab) hop(i int) string { return runLabDirectorAddr(i, rl.v6) }

// hops is the next hops of directors is, sorted.
func (rl *runLab) hops(is ...int) []string {
	var out []string
	for _, i := range is {
		out = append(out, rl.hop(i))
	}
	slices.Sort(out)
	return out
}

// fib is the router's next hops for the VIP's host route, sorted.
func (rl *runLab) fib(t *testing.T) []string {
	t.Helper()
	fam, bits := "-4", "/32"
	if rl.v6 {
		fam, bits = "-6", "/128"
	}
	out, err := exec.Command("ip", fam, "-n", rl.l.NSName("r"), "route", "show", "exact", rl.vip+bits).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var hops []string
	for _, m := range viaRE.FindAllStringSubmatch(string(out), -1) {
		hops = append(hops, m[1])
	}
	slices.Sort(hops)
	return hops
}

func (rl *runLab) fibIs(t *testing.T, want []string) func() bool {
	return func() bool { return slices.Equal(rl.fib(t), want) }
}

// runLabConf is a director's configuration: one neighbor, the router, with
// BFD 100 ms x 3 if bfd; one announce of vip tracking a flag file.
func runLabConf(flag, routerID, neighbor, vip string, bfd bool) string {
	b := ""
	if bfd {
		b = `
    bfd {
      min_tx     = "100ms"
      min_rx     = "100ms"
      multiplier = 3
    }
`
	}
	return fmt.Sprintf(`
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
    address = %q
    asn     = 65000
%s  }

  announce "web" {
    vips         = [%q]
    track_script = ["chk_local"]
  }
}
`, flag, routerID, neighbor, b, vip)
}

// configure writes each director's flag file and configuration.
func (rl *runLab) configure(t *testing.T, bfd bool) {
	t.Helper()
	for _, d := range rl.dirs {
		d.flag = filepath.Join(rl.dir, d.name+".ok")
		require.NoError(t, os.WriteFile(d.flag, nil, 0o644))
		cfg := filepath.Join(rl.dir, d.name+".hcl")
		require.NoError(t, os.WriteFile(cfg, []byte(runLabConf(d.flag, d.addr, routerAddr(rl.v6), rl.vip, bfd)), 0o644))
		d.args = []string{"-f", cfg, "--netns", rl.l.NSPath(d.name), "--state", filepath.Join(rl.dir, d.name+".state.json")}
	}
}

// runLabBirdConf is bird2's configuration for n directors: ECMP into the
// kernel, the sessions over IPv4 or IPv6, BFD 100 ms x 3 if bfd.
func runLabBirdConf(n int, v6, bfd bool) string {
	var b strings.Builder
	b.WriteString("router id 10.88.0.1;\nprotocol device { scan time 1; }\n")
	b.WriteString("protocol kernel { ipv4 { export all; import none; }; merge paths on; }\n")
	b.WriteString("protocol kernel { ipv6 { export all; import none; }; merge paths on; }\n")
	if bfd {
		b.WriteString("protocol bfd {\n\tinterface \"eth0\" {\n\t\tmin rx interval 100 ms;\n\t\tmin tx interval 100 ms;\n\t\tmultiplier 3;\n\t};\n}\n")
	}
	for i := range n {
		fmt.Fprintf(&b, "protocol bgp d%d {\n", i+1)
		fmt.Fprintf(&b, "\tlocal %s as 65000;\n", routerAddr(v6))
		fmt.Fprintf(&b, "\tneighbor %s as 65001;\n", runLabDirectorAddr(i, v6))
		b.WriteString("\thold time 9;\n\terror wait time 1,5;\n")
		if bfd {
			b.WriteString("\tbfd on;\n")
		}
		if v6 {
			b.WriteString("\tipv6 { import all; export none; };\n")
		} else {
			b.WriteString("\tipv4 { import all; export none; };\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// startBird runs bird2 in the router namespace and returns its control
// socket.
func (rl *runLab) startBird(t *testing.T, conf string) string {
	t.Helper()
	cf := filepath.Join(rl.dir, "bird.conf")
	require.NoError(t, os.WriteFile(cf, []byte(conf), 0o600))
	sock := filepath.Join(rl.dir, "bird.ctl")
	out := &syncBuffer{}
	cmd := exec.Command("ip", "netns", "exec", rl.l.NSName("r"), "bird", "-f", "-c", cf, "-s", sock, "-P", filepath.Join(rl.dir, "bird.pid"))
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("bird.conf:\n%s\nbird:\n%s", conf, out.String())
		}
	})
	return sock
}

func birdc(sock string, args ...string) string {
	out, err := exec.Command("birdc", append([]string{"-s", sock}, args...)...).CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

const (
	frrZebra = "/usr/lib/frr/zebra"
	frrBGPd  = "/usr/lib/frr/bgpd"
)

// runLabFRRConf is bgpd's configuration for n IPv4 directors, as
// bgp/bird_linux_test.go's frrConf (docs/scale-out.md) with this lab's
// addresses.
func runLabFRRConf(n int) string {
	var b strings.Builder
	b.WriteString("router bgp 65000\n bgp router-id 10.88.0.1\n no bgp ebgp-requires-policy\n")
	for i := range n {
		a := runLabDirectorAddr(i, false)
		fmt.Fprintf(&b, " neighbor %s remote-as 65001\n", a)
		fmt.Fprintf(&b, " neighbor %s timers 3 9\n", a)
		fmt.Fprintf(&b, " neighbor %s timers connect 1\n", a)
	}
	b.WriteString(" address-family ipv4 unicast\n  maximum-paths 8\n exit-address-family\n")
	return b.String()
}

// startFRR runs zebra and bgpd in the router namespace under their own
// path space (-N), as bgp/bird_linux_test.go's startFRR does.
func (rl *runLab) startFRR(t *testing.T, conf string) {
	t.Helper()
	u, err := user.Lookup("frr")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no frr user (apt-get install frr); CI must run the FRR test: %v", err)
		}
		t.Skipf("no frr user (apt-get install frr): %v", err)
	}
	var uid, gid int
	_, err = fmt.Sscan(u.Uid, &uid)
	require.NoError(t, err)
	_, err = fmt.Sscan(u.Gid, &gid)
	require.NoError(t, err)
	ns := rl.l.NSName("r")
	rundir := filepath.Join("/var/run/frr", ns)
	_ = os.RemoveAll(rundir)
	require.NoError(t, os.MkdirAll(rundir, 0o755))
	t.Cleanup(func() { _ = os.RemoveAll(rundir) })
	require.NoError(t, os.Chown(rundir, uid, gid))
	for _, d := range []string{filepath.Dir(rl.dir), rl.dir} { // frr reads its files as frr
		require.NoError(t, os.Chmod(d, 0o755))
	}
	for _, d := range []struct{ bin, conf string }{{frrZebra, ""}, {frrBGPd, conf}} {
		cf := filepath.Join(rl.dir, filepath.Base(d.bin)+".conf")
		require.NoError(t, os.WriteFile(cf, []byte(d.conf), 0o644))
		out := &syncBuffer{}
		cmd := exec.Command("ip", "netns", "exec", ns, d.bin, "-N", ns, "-f", cf, "-P", "0", "--log", "stdout")
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("%s:\n%s", d.bin, out.String())
			}
		})
		if d.bin == frrZebra { // bgpd needs zebra's socket
			sock := filepath.Join(rundir, "zserv.api")
			waitUntil(t, 10*time.Second, "zebra's socket", func() bool { _, err := os.Stat(sock); return err == nil })
		}
	}
}

// status is a director's `lvsctl status -o json`.
func (rl *runLab) status(t *testing.T, d *bgpDirector) statusapi.Status {
	t.Helper()
	cmd := exec.Command(os.Args[0], "status", "--netns", rl.l.NSPath(d.name), "-o", "json")
	cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
	out, err := cmd.Output()
	require.NoError(t, err)
	var st statusapi.Status
	require.NoError(t, json.Unmarshal(out, &st))
	require.NotNil(t, st.BGP)
	return st
}

// lifecycle runs, on director 0 of a lab whose directors all announce, the
// transitions the issue times: track_script failing then passing, SIGTERM,
// kill -9, each followed by a rejoin. parent owns the restarted daemons.
func (rl *runLab) lifecycle(t, parent *testing.T, router string) {
	d1 := rl.dirs[0]
	all := make([]int, len(rl.dirs))
	for i := range all {
		all[i] = i
	}
	rest := all[1:]

	require.NoError(t, os.Remove(d1.flag))
	took := waitUntil(t, time.Second, "d1's next hop removed", rl.fibIs(t, rl.hops(rest...)))
	t.Logf("%s: track_script failing: d1's next hop left the FIB after the flag file went: %v", router, took.Round(time.Millisecond))
	require.NoError(t, os.WriteFile(d1.flag, nil, 0o644))
	took = waitUntil(t, 10*time.Second, "d1's next hop back", rl.fibIs(t, rl.hops(all...)))
	t.Logf("%s: track_script passing again: d1's next hop back: %v", router, took.Round(time.Millisecond))

	d1.d.signal(t, syscall.SIGTERM)
	took = waitUntil(t, time.Second, "d1's next hop removed on SIGTERM", rl.fibIs(t, rl.hops(rest...)))
	t.Logf("%s: SIGTERM: d1's next hop left the FIB after: %v", router, took.Round(time.Millisecond))
	require.NoError(t, d1.d.wait(t))
	d1.start(parent)
	took = waitUntil(t, 10*time.Second, "d1 rejoins after SIGTERM", rl.fibIs(t, rl.hops(all...)))
	t.Logf("%s: rejoin after SIGTERM: all next hops after the restart: %v", router, took.Round(time.Millisecond))

	require.NoError(t, d1.d.cmd.Process.Kill())
	took = waitUntil(t, time.Second, "d1's next hop removed on kill -9", rl.fibIs(t, rl.hops(rest...)))
	t.Logf("%s: kill -9: d1's next hop left the FIB after: %v", router, took.Round(time.Millisecond))
	<-d1.d.done
	d1.start(parent)
	took = waitUntil(t, 10*time.Second, "d1 rejoins after kill -9", rl.fibIs(t, rl.hops(all...)))
	t.Logf("%s: rejoin after kill -9: all next hops after the restart: %v", router, took.Round(time.Millisecond))
}

// TestBGPRunFRRECMP is TestBGPRunBirdECMP's timings with FRR 8 as the
// router (zebra installing bgpd's multipath routes).
func TestBGPRunFRRECMP(t *testing.T) {
	bgpLabTools(t, frrZebra, frrBGPd)
	rl := newRunLab(t, "lvf", 2, false, bgpRunVIP)
	rl.startFRR(t, runLabFRRConf(2))
	rl.configure(t, false)
	for _, d := range rl.dirs {
		d.start(t)
	}
	took := waitUntil(t, 10*time.Second, "one next hop per director", rl.fibIs(t, rl.hops(0, 1)))
	t.Logf("frr: start: both next hops in the FIB after the daemons started: %v", took.Round(time.Millisecond))
	rl.lifecycle(t, t, "frr")
}

// TestBGPRunBirdThreeDirectors: three directors, three next hops. The
// third runs a virtual_server (on the in-memory IPVS kernel, as
// TestBGPRunBirdQuorum: the host has none) whose one backend answers a real
// tcp check; its backend dying loses the quorum and its next hop, the
// others stay. The second fails its track_script, then the lifecycle of
// the first.
func TestBGPRunBirdThreeDirectors(t *testing.T) {
	bgpLabTools(t, "bird", "birdc")
	rl := newRunLab(t, "lv3", 3, false, bgpRunVIP)
	rl.startBird(t, runLabBirdConf(3, false, false))
	rl.configure(t, false)
	require.NoError(t, rl.l.AddHost("be"))
	require.NoError(t, rl.l.Link("sw", "be", "", "be", "eth0", "10.88.0.50/24"))
	require.NoError(t, rl.l.Enslave("sw", "be", "br0"))
	stopBackend, err := rl.l.Serve("be", "10.88.0.50:80", nil)
	require.NoError(t, err)
	d3 := rl.dirs[2]
	quorumConf := strings.Replace(fmt.Sprintf(bgpRunQuorumConf, bgpRunVIP, bgpRunVIP), `router_id     = "10.88.0.11"`, fmt.Sprintf("router_id     = %q", d3.addr), 1)
	require.Contains(t, quorumConf, d3.addr)
	require.NoError(t, os.WriteFile(d3.args[1], []byte(quorumConf), 0o644))
	for _, d := range rl.dirs[:2] {
		d.start(t)
	}
	d3.d = startFakeIPVSDaemon(t, d3.args...)
	took := waitUntil(t, 10*time.Second, "three next hops", rl.fibIs(t, rl.hops(0, 1, 2)))
	t.Logf("bird, 3 directors: start: three next hops in the FIB after the daemons started: %v", took.Round(time.Millisecond))

	// d3's backend dies: connection refused at the next probe (delay_loop
	// 0.2 s), quorum lost, d3 withdrawn; d1 and d2 stay.
	stopBackend()
	took = waitUntil(t, time.Second, "d3's next hop removed on quorum loss", rl.fibIs(t, rl.hops(0, 1)))
	t.Logf("bird, 3 directors: quorum lost on d3: its next hop left the FIB after the backend died: %v", took.Round(time.Millisecond))
	assert.Contains(t, d3.d.logText(), `msg="bgp: withdrawn" prefix=`+bgpRunVIP+`/32 reason=quorum`)
	st := rl.status(t, d3)
	assert.Equal(t, "established", st.BGP.Neighbors[0].State, "a withheld announce keeps the session")
	assert.Equal(t, uint64(1), st.BGP.Withdraws["quorum"])

	// The middle one fails its script: the ECMP route keeps the others.
	d2 := rl.dirs[1]
	require.NoError(t, os.Remove(d2.flag))
	took = waitUntil(t, time.Second, "d2's next hop removed", rl.fibIs(t, rl.hops(0)))
	t.Logf("bird, 3 directors: track_script failing on d2: its next hop left the FIB after: %v", took.Round(time.Millisecond))
	st = rl.status(t, d2)
	require.Len(t, st.BGP.Withheld, 1)
	assert.Equal(t, "web", st.BGP.Withheld[0].Announce)
	assert.Equal(t, "established", st.BGP.Neighbors[0].State, "a withheld announce keeps the session")
	require.NoError(t, os.WriteFile(d2.flag, nil, 0o644))
	took = waitUntil(t, 10*time.Second, "d2's next hop back", rl.fibIs(t, rl.hops(0, 1)))
	t.Logf("bird, 3 directors: track_script passing on d2: its next hop back after: %v", took.Round(time.Millisecond))

	// d3's backend comes back: d3 announces again.
	stopBackend, err = rl.l.Serve("be", "10.88.0.50:80", nil)
	require.NoError(t, err)
	defer stopBackend()
	took = waitUntil(t, 10*time.Second, "d3's next hop back", rl.fibIs(t, rl.hops(0, 1, 2)))
	t.Logf("bird, 3 directors: quorum regained on d3: three next hops again after the backend came back: %v", took.Round(time.Millisecond))

	rl.lifecycle(t, t, "bird, 3 directors")
}

// TestBGPRunBirdBFD: BFD 100 ms x 3 between bird2 and each director's
// embedded speaker. Cutting director 1 off at the router (nftables drops
// everything from it, so only BFD can tell: the hold time is 9 s) removes
// its next hop within 1 s; lifting the cut brings it back within 10 s.
func TestBGPRunBirdBFD(t *testing.T) {
	bgpLabTools(t, "bird", "birdc", "nft")
	rl := newRunLab(t, "lvd", 2, false, bgpRunVIP)
	sock := rl.startBird(t, runLabBirdConf(2, false, true))
	rl.configure(t, true)
	for _, d := range rl.dirs {
		d.start(t)
	}
	took := waitUntil(t, 10*time.Second, "one next hop per director", rl.fibIs(t, rl.hops(0, 1)))
	t.Logf("bird, BFD: start: both next hops in the FIB after the daemons started: %v", took.Round(time.Millisecond))
	// GoBGP starts a BFD session up to 2 s after its neighbor (1 s tickers).
	took = waitUntil(t, 10*time.Second, "bird's BFD sessions up", func() bool {
		return strings.Count(birdc(sock, "show", "bfd", "sessions"), " Up ") == 2
	})
	t.Logf("bird, BFD: both BFD sessions up in bird after the FIB had both next hops: %v", took.Round(time.Millisecond))
	for _, d := range rl.dirs {
		took := waitUntil(t, 3*time.Second, d.name+"'s lvsctl status shows BFD up", func() bool {
			return rl.status(t, d).BGP.Neighbors[0].BFD == "up"
		})
		t.Logf("bird, BFD: %s's lvsctl status shows BFD up after bird did: %v", d.name, took.Round(time.Millisecond))
	}

	ns := rl.l.NSName("r")
	nft := func(cmd string) {
		out, err := exec.Command("ip", "netns", "exec", ns, "nft", cmd).CombinedOutput()
		require.NoError(t, err, "nft %s: %s", cmd, out)
	}
	nft("add table inet lvcut")
	nft("add chain inet lvcut in { type filter hook input priority 0 ; }")
	nft("add rule inet lvcut in ip saddr " + rl.hop(0) + " drop")
	took = waitUntil(t, time.Second, "d1's next hop removed by BFD", rl.fibIs(t, rl.hops(1)))
	t.Logf("bird, BFD: d1 cut off at the router: its next hop left the FIB after: %v", took.Round(time.Millisecond))
	assert.NotContains(t, birdc(sock, "show", "protocols", "d1"), "Established", "bird's session d1 went down with BFD")
	// The router now sends BFD Down to d1, whose session leaves up too.
	d1 := rl.dirs[0]
	took = waitUntil(t, 2*time.Second, "d1's lvsctl status shows BFD not up", func() bool {
		return rl.status(t, d1).BGP.Neighbors[0].BFD != "up"
	})
	t.Logf("bird, BFD: d1's lvsctl status shows BFD %q after: %v", rl.status(t, d1).BGP.Neighbors[0].BFD, took.Round(time.Millisecond))

	nft("delete table inet lvcut")
	took = waitUntil(t, 10*time.Second, "d1 rejoins once the cut is lifted", rl.fibIs(t, rl.hops(0, 1)))
	t.Logf("bird, BFD: cut lifted: d1's next hop back in the FIB after: %v", took.Round(time.Millisecond))
	waitUntil(t, 5*time.Second, "d1's lvsctl status shows BFD up again", func() bool {
		return rl.status(t, d1).BGP.Neighbors[0].BFD == "up"
	})
}

// TestBGPRunBirdIPv6: IPv6 VIPs announced over IPv6 sessions; the router's
// FIB holds the VIP's /128 via each director's IPv6 address.
func TestBGPRunBirdIPv6(t *testing.T) {
	bgpLabTools(t, "bird", "birdc")
	const vip6 = "2001:db8:80::80"
	rl := newRunLab(t, "lv6", 2, true, vip6)
	sock := rl.startBird(t, runLabBirdConf(2, true, false))
	rl.configure(t, false)
	for _, d := range rl.dirs {
		d.start(t)
	}
	took := waitUntil(t, 10*time.Second, "one /128 next hop per director", rl.fibIs(t, rl.hops(0, 1)))
	t.Logf("bird, IPv6: start: both /128 next hops in the FIB after the daemons started: %v", took.Round(time.Millisecond))
	assert.Contains(t, birdc(sock, "show", "protocols", "all", "d1"), "Neighbor address: "+rl.hop(0), "the session runs over IPv6")
	for _, d := range rl.dirs {
		assert.Contains(t, addrsIn(t, rl.l, d.name, "lo"), vip6+"/128", "%s holds the VIP on lo", d.name)
		st := rl.status(t, d)
		assert.Equal(t, []string{vip6 + "/128"}, st.BGP.Announced)
		require.Len(t, st.BGP.Neighbors, 1)
		assert.Equal(t, routerAddr(true), st.BGP.Neighbors[0].Address)
	}
	rl.lifecycle(t, t, "bird, IPv6")
}
