//go:build linux && !nobgp

package bgp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The namespace tier: a router namespace runs a real router (Debian's bird2
// or frr, installed by .ci/host-deps) whose kernel protocol installs what BGP
// learns, and each director namespace runs a Speaker, joined to the router by
// its own veth pair (director i: router side "di" 10.77.i.1/24 and
// fd77:i::1/64, director side "eth0" 10.77.i.2/24 and fd77:i::2/64). A
// Speaker has to run inside its director namespace, and a Go process cannot
// move all its threads there, so the test re-executes its own binary under
// `ip netns exec` as a helper (TestBirdHelperProcess) driven line by line
// over stdin/stdout. The routers' configurations are rendered by birdConf
// and frrConf, which docs/scale-out.md quotes (TestScaleOutDocConfigs).

const helperEnv = "LVSCTL_BGP_HELPER"

// requireLab fails the test in CI (CI=true) and skips it elsewhere, with the
// reason, when the host cannot run it: root and the named programs.
func requireLab(t *testing.T, progs ...string) {
	t.Helper()
	miss := func(why string) { t.Helper(); labMissing(t, why) }
	if os.Geteuid() != 0 {
		miss("not root (network namespaces)")
	}
	for _, p := range append([]string{"ip"}, progs...) {
		if _, err := exec.LookPath(p); err != nil {
			miss(fmt.Sprintf("%s not installed: %v", p, err))
		}
	}
}

func labMissing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("namespace tier cannot run in CI: %s (.ci/host-deps installs bird2, frr and nftables; the tests run as root)", why)
	}
	t.Skipf("skipping the namespace tier: %s", why)
}

// requireBird is requireLab for the bird2 router.
func requireBird(t *testing.T) { requireLab(t, "bird", "birdc") }

const (
	frrZebra = "/usr/lib/frr/zebra"
	frrBGPd  = "/usr/lib/frr/bgpd"
)

// requireFRR is requireLab for the frr router.
func requireFRR(t *testing.T) {
	requireLab(t, frrZebra, frrBGPd, "vtysh")
	if _, err := user.Lookup("frr"); err != nil {
		labMissing(t, "no frr user (apt-get install frr)")
	}
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type lab struct {
	router    string
	directors []string // namespace of director i+1
	dir       string
}

func routerAddr(i int, v6 bool) string {
	if v6 {
		return fmt.Sprintf("fd77:%d::1", i)
	}
	return fmt.Sprintf("10.77.%d.1", i)
}

func directorAddr(i int, v6 bool) string {
	if v6 {
		return fmt.Sprintf("fd77:%d::2", i)
	}
	return fmt.Sprintf("10.77.%d.2", i)
}

func newLab(t *testing.T, directors int) *lab {
	t.Helper()
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	l := &lab{router: "lvbgpr" + id, dir: t.TempDir()}
	for i := 1; i <= directors; i++ {
		l.directors = append(l.directors, fmt.Sprintf("lvbgpd%s-%d", id, i))
	}
	for _, ns := range append([]string{l.router}, l.directors...) {
		_ = exec.Command("ip", "netns", "del", ns).Run() // leftover of a killed run
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	for i, d := range l.directors {
		i++
		rl := fmt.Sprintf("d%d", i)
		run(t, "ip", "-n", l.router, "link", "add", rl, "type", "veth", "peer", "name", "eth0", "netns", d)
		run(t, "ip", "-n", l.router, "addr", "add", routerAddr(i, false)+"/24", "dev", rl)
		run(t, "ip", "-n", l.router, "addr", "add", routerAddr(i, true)+"/64", "dev", rl, "nodad")
		run(t, "ip", "-n", d, "addr", "add", directorAddr(i, false)+"/24", "dev", "eth0")
		run(t, "ip", "-n", d, "addr", "add", directorAddr(i, true)+"/64", "dev", "eth0", "nodad")
		run(t, "ip", "-n", l.router, "link", "set", rl, "up")
		run(t, "ip", "-n", d, "link", "set", "eth0", "up")
	}
	return l
}

// route returns the router's FIB entry for vip ("" when there is none).
func (l *lab) route(t *testing.T, vip string) string {
	t.Helper()
	fam := "-4"
	if strings.Contains(vip, ":") {
		fam = "-6"
	}
	return strings.TrimSpace(run(t, "ip", fam, "-n", l.router, "route", "show", vip))
}

// nextHops returns the directors the router's FIB sends vip to (by number).
func nextHops(route string) []int {
	var out []int
	for _, f := range strings.Split(route, "via ")[1:] {
		var i int
		if _, err := fmt.Sscanf(f, "10.77.%d.2", &i); err == nil {
			out = append(out, i)
		} else if _, err := fmt.Sscanf(f, "fd77:%d::2", &i); err == nil {
			out = append(out, i)
		}
	}
	return out
}

// waitRoute polls the router's FIB every 5 ms until vip is routed to
// exactly the directors want (none: no route), and returns how long that
// took.
func (l *lab) waitRoute(t *testing.T, vip string, timeout time.Duration, want ...int) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		r := l.route(t, vip)
		if fmt.Sprint(nextHops(r)) == fmt.Sprint(want) && (r == "") == (len(want) == 0) {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("router FIB for %s after %v: %q, want next hops via directors %v", vip, timeout, r, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The router's configurations. birdConf and frrConf render what the tests
// run and what docs/scale-out.md shows for two directors.

type routerOpts struct {
	directors int
	v6        bool // the sessions run over IPv6 (and carry IPv6 only)
	bfd       bool // BFD 100 ms x 3 on every session
}

func birdConf(o routerOpts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router id %s;\n", routerAddr(1, false))
	b.WriteString(`protocol device { scan time 1; }
protocol kernel { ipv4 { export all; import none; }; merge paths on; }
protocol kernel { ipv6 { export all; import none; }; merge paths on; }
`)
	if o.bfd {
		b.WriteString(`protocol bfd {
	interface "d*" {
		min rx interval 100 ms;
		min tx interval 100 ms;
		multiplier 3;
	};
}
`)
	}
	for i := 1; i <= o.directors; i++ {
		fmt.Fprintf(&b, "protocol bgp director%d {\n", i)
		fmt.Fprintf(&b, "\tlocal %s as 65000;\n", routerAddr(i, o.v6))
		fmt.Fprintf(&b, "\tneighbor %s as 65001;\n", directorAddr(i, o.v6))
		b.WriteString("\thold time 9;\n\terror wait time 1,5;\n")
		if o.bfd {
			b.WriteString("\tbfd on;\n")
		}
		if o.v6 {
			b.WriteString("\tipv6 { import all; export none; };\n")
		} else {
			b.WriteString("\tipv4 { import all; export none; };\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func frrConf(o routerOpts) string {
	var b strings.Builder
	b.WriteString("router bgp 65000\n")
	fmt.Fprintf(&b, " bgp router-id %s\n", routerAddr(1, false))
	b.WriteString(" no bgp ebgp-requires-policy\n")
	for i := 1; i <= o.directors; i++ {
		a := directorAddr(i, o.v6)
		fmt.Fprintf(&b, " neighbor %s remote-as 65001\n", a)
		fmt.Fprintf(&b, " neighbor %s timers 3 9\n", a)
		fmt.Fprintf(&b, " neighbor %s timers connect 1\n", a)
	}
	b.WriteString(" address-family ipv4 unicast\n  maximum-paths 8\n exit-address-family\n")
	return b.String()
}

type bird struct{ sock string }

func (l *lab) startBird(t *testing.T, conf string) *bird {
	t.Helper()
	b := &bird{sock: filepath.Join(l.dir, "bird.ctl")}
	cf := filepath.Join(l.dir, "bird.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("bird.conf:\n%s", conf)
	cmd := exec.Command("ip", "netns", "exec", l.router, "bird", "-f", "-c", cf, "-s", b.sock, "-P", filepath.Join(l.dir, "bird.pid"))
	cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bird: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return b
}

func (b *bird) show(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("birdc", append([]string{"-s", b.sock}, args...)...).CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

func (b *bird) established(t *testing.T, proto string) bool {
	t.Helper()
	return strings.Contains(b.show(t, "show", "protocols", proto), "Established")
}

// startFRR runs zebra and bgpd in the router namespace under their own
// path space (-N), as the frr user, with conf as bgpd's configuration.
func (l *lab) startFRR(t *testing.T, conf string) {
	t.Helper()
	u, err := user.Lookup("frr")
	if err != nil {
		t.Fatal(err)
	}
	var uid, gid int
	fmt.Sscan(u.Uid, &uid)
	fmt.Sscan(u.Gid, &gid)
	// The daemons write their pid files and sockets there as frr.
	rundir := filepath.Join("/var/run/frr", l.router)
	_ = os.RemoveAll(rundir)
	if err := os.MkdirAll(rundir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(rundir) })
	if err := os.Chown(rundir, uid, gid); err != nil {
		t.Fatal(err)
	}
	// frr reads its configuration as frr: open the test's directories.
	for _, d := range []string{filepath.Dir(l.dir), l.dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("bgpd.conf:\n%s", conf)
	for _, d := range []struct{ bin, conf string }{{frrZebra, ""}, {frrBGPd, conf}} {
		cf := filepath.Join(l.dir, filepath.Base(d.bin)+".conf")
		if err := os.WriteFile(cf, []byte(d.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", "netns", "exec", l.router, d.bin, "-N", l.router, "-f", cf, "-P", "0", "--log", "stdout")
		cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", d.bin, err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		if d.bin == frrZebra { // bgpd needs zebra's socket
			sock := filepath.Join(rundir, "zserv.api")
			deadline := time.Now().Add(10 * time.Second)
			for _, err := os.Stat(sock); err != nil; _, err = os.Stat(sock) {
				if time.Now().After(deadline) {
					t.Fatalf("zebra never created %s", sock)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// helperConfig is a director's speaker, passed to the helper process.
type helperConfig struct {
	RouterID  string
	Drain     time.Duration
	Neighbors []string // router addresses, AS 65000
	BFD       bool
}

// helper is the speaker running in a director namespace.
type helper struct {
	in  io.WriteCloser
	out *bufio.Scanner
	cmd *exec.Cmd
}

func (h *helper) do(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(h.in, line); err != nil {
		t.Fatalf("helper %q: %v", line, err)
	}
	if !h.out.Scan() {
		t.Fatalf("helper %q: no answer: %v", line, h.out.Err())
	}
	if got := h.out.Text(); got != "ok" {
		t.Fatalf("helper %q: %s", line, got)
	}
}

// startHelper runs the speaker of director i (1-based) with one neighbor,
// the router over IPv4 or IPv6, and waits until the session is established.
func (l *lab) startHelper(t *testing.T, i int, v6, bfd bool, drain time.Duration) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := json.Marshal(helperConfig{RouterID: directorAddr(i, false), Drain: drain, Neighbors: []string{routerAddr(i, v6)}, BFD: bfd})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", l.directors[i-1], exe, "-test.run=^TestBirdHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(hc))
	cmd.Stderr = testWriter{t}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	h := &helper{in: in, out: bufio.NewScanner(out), cmd: cmd}
	h.do(t, "wait-established")
	return h
}

// TestBirdHelperProcess is the director side of the namespace tier; it does
// nothing unless started by startHelper.
func TestBirdHelperProcess(t *testing.T) {
	env := os.Getenv(helperEnv)
	if env == "" {
		return
	}
	var hc helperConfig
	if err := json.Unmarshal([]byte(env), &hc); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		ASN: 65001, RouterID: netip.MustParseAddr(hc.RouterID), DrainTime: hc.Drain, HoldTime: 9 * time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	for i, a := range hc.Neighbors {
		n := Neighbor{Name: fmt.Sprintf("router%d", i+1), Address: netip.MustParseAddr(a), ASN: 65000}
		if hc.BFD {
			n.BFD = &BFD{MinTx: 100 * time.Millisecond, MinRx: 100 * time.Millisecond, Multiplier: 3}
		}
		cfg.Neighbors = append(cfg.Neighbors, n)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(os.Stdin)
	reply := func(err error) {
		if err != nil {
			fmt.Println(strings.ReplaceAll(err.Error(), "\n", "; "))
			return
		}
		fmt.Println("ok")
	}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "wait-established":
			reply(waitPeers(ctx, s, 30*time.Second))
		case "announce":
			var as []Announcement
			var perr error
			for _, p := range f[1:] {
				pr, err := netip.ParsePrefix(p)
				if err != nil {
					perr = err
					break
				}
				as = append(as, Announcement{Prefix: pr})
			}
			if perr != nil {
				reply(perr)
				continue
			}
			reply(s.SetAnnounced(ctx, as))
		case "hold", "bfd-interval": // a reload changing one setting of every neighbor
			d, err := time.ParseDuration(strings.Join(f[1:], ""))
			if err != nil {
				reply(err)
				continue
			}
			next := cfg
			next.Neighbors = slices.Clone(cfg.Neighbors)
			for i := range next.Neighbors {
				n := &next.Neighbors[i]
				if f[0] == "hold" {
					n.HoldTime = d
				} else if n.BFD != nil {
					n.BFD = &BFD{MinTx: d, MinRx: d, Multiplier: n.BFD.Multiplier}
				}
			}
			err = s.SetConfig(ctx, next)
			if err == nil {
				cfg = next
			}
			reply(err)
		case "stop":
			reply(s.Stop(ctx))
		default:
			reply(fmt.Errorf("unknown command %q", f[0]))
		}
	}
}

// waitPeers waits until every session of s is established.
func waitPeers(ctx context.Context, s *Speaker, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		peers, err := s.Peers(ctx)
		if err != nil {
			return err
		}
		up := 0
		for _, p := range peers {
			if p.State == StateEstablished {
				up++
			}
		}
		if up == len(peers) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sessions not established after %v: %+v", timeout, peers)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBirdAnnounceWithdrawStop(t *testing.T) {
	requireBird(t)
	l := newLab(t, 1)
	b := l.startBird(t, birdConf(routerOpts{directors: 1}))
	const drain = 2 * time.Second
	h := l.startHelper(t, 1, false, false, drain)

	const vip, vip2 = "198.51.100.10", "198.51.100.11"
	h.do(t, "announce "+vip+"/32 "+vip2+"/32")
	l.waitRoute(t, vip, 10*time.Second, 1)
	l.waitRoute(t, vip2, 10*time.Second, 1)

	h.do(t, "announce "+vip2+"/32") // withdraw vip only
	took := l.waitRoute(t, vip, 5*time.Second)
	t.Logf("withdraw reached bird's FIB in %v", took)
	if l.route(t, vip2) == "" {
		t.Errorf("withdrawing %s also removed %s", vip, vip2)
	}

	// Stop withdraws first: the route goes while the session is still up
	// (the drain), and only then the session closes.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		h.do(t, "stop")
	}()
	l.waitRoute(t, vip2, 5*time.Second)
	if !b.established(t, "director1") {
		t.Error("the session was down when the route went: Stop closed before withdrawing")
	}
	<-stopped
	deadline := time.Now().Add(5 * time.Second)
	for b.established(t, "director1") {
		if time.Now().After(deadline) {
			t.Fatal("bird's session still established after Stop")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
