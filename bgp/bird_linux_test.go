//go:build linux && !nobgp

package bgp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The bird tier: a router namespace runs bird2 (Debian's, installed by
// .ci/host-deps) with a kernel protocol exporting what BGP learns, a director
// namespace runs a Speaker, joined by a veth pair. The speaker has to run
// inside the director namespace, and a Go process cannot move all its threads
// there, so the test re-executes its own binary under `ip netns exec` as a
// helper (TestBirdHelperProcess) driven line by line over stdin/stdout.

const helperEnv = "LVSCTL_BGP_HELPER"

// requireBird fails the test in CI (CI=true) and skips it elsewhere, with the
// reason, when the host cannot run it.
func requireBird(t *testing.T) string {
	t.Helper()
	miss := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("bird tier cannot run in CI: %s (.ci/host-deps installs bird2; the tests run as root)", why)
		}
		t.Skipf("skipping the bird tier: %s", why)
	}
	if os.Geteuid() != 0 {
		miss("not root (network namespaces)")
	}
	bird, err := exec.LookPath("bird")
	if err != nil {
		miss("bird not installed (apt-get install bird2)")
	}
	if _, err := exec.LookPath("birdc"); err != nil {
		miss("birdc not installed (apt-get install bird2)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		miss("ip (iproute2) not installed")
	}
	return bird
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type birdLab struct {
	router, director string
	sock             string
}

func newBirdLab(t *testing.T, bird string) *birdLab {
	t.Helper()
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	l := &birdLab{router: "lvbgpr" + id, director: "lvbgpd" + id}
	for _, ns := range []string{l.router, l.director} {
		_ = exec.Command("ip", "netns", "del", ns).Run() // leftover of a killed run
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	run(t, "ip", "-n", l.router, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", l.director)
	run(t, "ip", "-n", l.router, "addr", "add", "10.77.0.1/24", "dev", "eth0")
	run(t, "ip", "-n", l.director, "addr", "add", "10.77.0.2/24", "dev", "eth0")
	run(t, "ip", "-n", l.router, "link", "set", "eth0", "up")
	run(t, "ip", "-n", l.director, "link", "set", "eth0", "up")

	dir := t.TempDir()
	l.sock = filepath.Join(dir, "bird.ctl")
	conf := filepath.Join(dir, "bird.conf")
	// error wait time 1,5: reconnect fast after the director's Cease.
	cfg := `router id 10.77.0.1;
protocol device { scan time 1; }
protocol kernel { ipv4 { export all; import none; }; merge paths on; }
protocol bgp d1 {
	local 10.77.0.1 as 65000;
	neighbor 10.77.0.2 as 65001;
	hold time 9;
	error wait time 1,5;
	ipv4 { import all; export none; };
}
`
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", l.router, bird, "-f", "-c", conf, "-s", l.sock, "-P", filepath.Join(dir, "bird.pid"))
	cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bird: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return l
}

// route returns the router's FIB entry for vip ("" when there is none).
func (l *birdLab) route(t *testing.T, vip string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "ip", "-n", l.router, "route", "show", vip))
}

func (l *birdLab) waitRoute(t *testing.T, vip string, present bool) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := l.route(t, vip)
		if (r != "") == present {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("router FIB for %s: %q, want present=%v", vip, r, present)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *birdLab) established(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command("birdc", "-s", l.sock, "show", "protocols", "d1").CombinedOutput()
	return err == nil && strings.Contains(string(out), "Established")
}

// helper is the speaker running in the director namespace.
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

func startHelper(t *testing.T, l *birdLab, drain time.Duration) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", l.director, exe, "-test.run=^TestBirdHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+drain.String())
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

// TestBirdHelperProcess is the director side of the bird tier; it does
// nothing unless started by startHelper.
func TestBirdHelperProcess(t *testing.T) {
	drainS := os.Getenv(helperEnv)
	if drainS == "" {
		return
	}
	drain, err := time.ParseDuration(drainS)
	if err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{}, 1)
	s, err := New(Config{
		ASN: 65001, RouterID: netip.MustParseAddr("10.77.0.2"), DrainTime: drain, HoldTime: 9 * time.Second,
		Neighbors: []Neighbor{{Name: "router", Address: netip.MustParseAddr("10.77.0.1"), ASN: 65000}},
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, nil)),
		OnPeer: func(ev PeerEvent) {
			if ev.State == StateEstablished {
				select {
				case up <- struct{}{}:
				default:
				}
			}
		},
	})
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
			select {
			case <-up:
				reply(nil)
			case <-time.After(30 * time.Second):
				reply(fmt.Errorf("no session after 30 s"))
			}
		case "announce":
			var as []Announcement
			for _, p := range f[1:] {
				pr, err := netip.ParsePrefix(p)
				if err != nil {
					reply(err)
					continue
				}
				as = append(as, Announcement{Prefix: pr})
			}
			reply(s.SetAnnounced(ctx, as))
		case "stop":
			reply(s.Stop(ctx))
		default:
			reply(fmt.Errorf("unknown command %q", f[0]))
		}
	}
}

func TestBirdAnnounceWithdrawStop(t *testing.T) {
	bird := requireBird(t)
	l := newBirdLab(t, bird)
	const drain = 2 * time.Second
	h := startHelper(t, l, drain)

	const vip, vip2 = "198.51.100.10", "198.51.100.11"
	h.do(t, "announce "+vip+"/32 "+vip2+"/32")
	for _, v := range []string{vip, vip2} {
		if r := l.waitRoute(t, v, true); !strings.Contains(r, "via 10.77.0.2") {
			t.Errorf("router FIB for %s: %q, want via the director 10.77.0.2", v, r)
		}
	}

	h.do(t, "announce "+vip2+"/32") // withdraw vip only
	l.waitRoute(t, vip, false)
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
	l.waitRoute(t, vip2, false)
	if !l.established(t) {
		t.Error("the session was down when the route went: Stop closed before withdrawing")
	}
	<-stopped
	deadline := time.Now().Add(5 * time.Second)
	for l.established(t) {
		if time.Now().After(deadline) {
			t.Fatal("bird's session still established after Stop")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
