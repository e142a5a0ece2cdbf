// Command lvsdemo is the self-contained demo behind `make demo`. It runs as
// the program of a QEMU guest booting a stock Debian kernel (which has IPVS)
// and shows the product in five sections, each in network namespaces it
// builds and each closing with the one sentence it proves:
//
//  1. NAT: validate, plan and apply; the table as `lvsctl list` prints it;
//     traffic; a drain by editing the file.
//  2. DR: two backends prepared by `lvsctl realserver start`; two directors
//     under `lvsctl run` sharing the VIP with VRRP; traffic.
//  3. Health: a backend dies and comes back; `lvsctl run` evicts and
//     restores it; `lvsctl status` and a few /metrics lines.
//  4. VRRP failover: the master director stops, the VIP moves to the other,
//     traffic continues.
//  5. Migration: `lvsctl import keepalived` of a classic keepalived.conf,
//     and `lvsctl plan` of the result.
//
// It expects the lvsctl binary at /usr/bin/lvsctl, as the make target
// arranges; it refuses to run outside a guest.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

//go:embed demo.hcl
var natConfig string

//go:embed demo-dr.hcl
var drConfig string

//go:embed keepalived.conf
var keepalivedConf string

func main() {
	if os.Getenv("LVSCTL_IN_VM") != "1" {
		fmt.Fprintln(os.Stderr, "lvsdemo runs inside the QEMU guest: use `make demo`")
		os.Exit(2)
	}
	d := &demo{start: time.Now()}
	err := d.run(context.Background())
	d.summary(err)
	if err != nil {
		os.Exit(1)
	}
}

// demo runs the sections and remembers what each proved.
type demo struct {
	start  time.Time
	proved []string
}

// proves prints the sentence a section proves and remembers it.
func (d *demo) proves(s string) {
	fmt.Printf("\n  => %s\n", s)
	d.proved = append(d.proved, s)
}

func (d *demo) run(ctx context.Context) error {
	uname, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("A stock Debian kernel (%s) booted in QEMU.\n", strings.TrimSpace(string(uname)))
	for _, s := range []struct {
		title string
		fn    func(context.Context, *demo) error
	}{
		{"1. NAT: plan, apply, lvsctl list, traffic, a drain", natSection},
		{"2. DR: backends prepared by lvsctl realserver, two directors under lvsctl run", drSections},
		{"5. From keepalived: lvsctl import keepalived, then plan", importSection},
	} {
		section(s.title)
		if err := s.fn(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	return nil
}

func section(title string) {
	fmt.Printf("\n################ %s ################\n", title)
}

func (d *demo) summary(err error) {
	fmt.Printf("\n################ What this demo showed ################\n")
	for _, p := range d.proved {
		fmt.Println("  - " + p)
	}
	if err != nil {
		fmt.Printf("\ndemo failed: %v\n", err)
	}
	fmt.Printf("\nDemo complete in %.0f s inside the guest (make demo's total adds the VM boot).\n", time.Since(d.start).Seconds())
}

func natSection(ctx context.Context, d *demo) error {
	step("The lab: a client, a NAT director and two web backends, each in a network namespace")
	fmt.Println(`  client 10.0.1.2 ---- 10.0.1.1 director (VIP 10.0.1.100) 10.0.2.1 ---- be1 10.0.2.11
                                                                   \--- be2 10.0.2.12`)
	l := lab.New("nat-")
	defer l.Close()
	backends, err := l.NATTopology(2)
	if err != nil {
		return err
	}
	web := newFarm(l)
	for i, addr := range backends {
		if err := web.serve(fmt.Sprintf("be%d", i+1), addr.String()+":80"); err != nil {
			return err
		}
	}
	cfg := "/tmp/nat.hcl"
	if err := os.WriteFile(cfg, []byte(natConfig), 0o644); err != nil {
		return err
	}
	ns := "--netns=" + l.NSName("director")

	step("The configuration, %s", cfg)
	fmt.Print(indent(natConfig))
	if err := sh(0, "lvsctl", "validate", "-f", cfg); err != nil {
		return err
	}
	step("lvsctl plan: what apply would do (exit status 2: changes pending)")
	if err := sh(2, "lvsctl", "plan", "-f", cfg, ns); err != nil {
		return err
	}
	step("lvsctl apply, then the director's table as lvsctl list prints it (ipvsadm's format, byte for byte)")
	if err := sh(0, "lvsctl", "apply", "-f", cfg, ns); err != nil {
		return err
	}
	if err := sh(0, "lvsctl", "list", "-Ln", ns); err != nil {
		return err
	}
	step("Four requests from the client to http://10.0.1.100/ (a new connection each)")
	if err := requests(ctx, l, "client", "10.0.1.100", 4); err != nil {
		return err
	}
	step("Drain be2: weight 0 in the file; plan shows exactly one change, apply makes it")
	drained := strings.Replace(natConfig, "address = \"10.0.2.12\"\n    weight  = 1", "address = \"10.0.2.12\"\n    weight  = 0", 1)
	if err := os.WriteFile(cfg, []byte(drained), 0o644); err != nil {
		return err
	}
	if err := sh(2, "lvsctl", "plan", "-f", cfg, ns); err != nil {
		return err
	}
	if err := sh(0, "lvsctl", "apply", "-f", cfg, ns); err != nil {
		return err
	}
	if err := requests(ctx, l, "client", "10.0.1.100", 3); err != nil {
		return err
	}
	step("lvsctl apply again: converged, nothing to do")
	if err := sh(0, "lvsctl", "apply", "-f", cfg, ns); err != nil {
		return err
	}
	d.proves("NAT: lvsctl plans and applies exactly the difference between the file and the kernel, lists it as ipvsadm does, and the VIP serves traffic.")
	return nil
}

// The DR lab: client, two directors and two backends on one L2 segment.
const (
	drVIP    = "10.0.3.100"
	drPrefix = "dr-"
)

func drLab() (*lab.Lab, error) {
	l := lab.New(drPrefix)
	hosts := []struct{ name, addr string }{
		{"client", "10.0.3.2/24"}, {"dira", "10.0.3.1/24"}, {"dirb", "10.0.3.3/24"},
		{"be1", "10.0.3.11/24"}, {"be2", "10.0.3.12/24"},
	}
	if err := l.AddHost("switch"); err != nil {
		return l, err
	}
	if err := l.AddBridge("switch", "br0", ""); err != nil {
		return l, err
	}
	for _, h := range hosts {
		if err := l.AddHost(h.name); err != nil {
			return l, err
		}
		if err := l.Link("switch", h.name, "", h.name, "eth0", h.addr); err != nil {
			return l, err
		}
		if err := l.Enslave("switch", h.name, "br0"); err != nil {
			return l, err
		}
	}
	return l, nil
}

func drSections(ctx context.Context, d *demo) error {
	step("The lab: one L2 segment (a bridge), a client, directors A and B, backends be1 and be2")
	fmt.Println(`  client 10.0.3.2, director A 10.0.3.1, director B 10.0.3.3, be1 10.0.3.11, be2 10.0.3.12
  VIP 10.0.3.100: held by the VRRP master; replies go from the backends straight to the client`)
	l, err := drLab()
	defer l.Close()
	if err != nil {
		return err
	}
	web := newFarm(l)
	for _, be := range []string{"be1", "be2"} {
		if err := web.serve(be, ":80"); err != nil {
			return err
		}
	}

	// 2. DR.
	step("Prepare the backends: lvsctl realserver start puts the VIP on lo and silences ARP for it")
	for _, be := range []string{"be1", "be2"} {
		if err := sh(0, "lvsctl", "realserver", "start", "--vip", drVIP, "--netns", drPrefix+be); err != nil {
			return err
		}
	}
	if err := sh(0, "lvsctl", "realserver", "status", "--netns", drPrefix+"be1"); err != nil {
		return err
	}
	step("Both directors run lvsctl run with the same file, director A's (B's has priority 100)")
	fmt.Print(indent(strings.Replace(drConfig, "PRIORITY", "150", 1)))
	a, err := startDirector(l, "dira", 150)
	if err != nil {
		return err
	}
	defer a.stop()
	b, err := startDirector(l, "dirb", 100)
	if err != nil {
		return err
	}
	defer b.stop()
	if err := waitFor(10*time.Second, "director A holds the VIP", func() bool { return hasAddr(l, "dira", drVIP) }); err != nil {
		return errors.Join(err, a.logTail())
	}
	fmt.Println("  director A is VRRP master and holds the VIP")
	if err := sh(0, "lvsctl", "list", "-Ln", "--netns", drPrefix+"dira"); err != nil {
		return err
	}
	step("Four requests to http://%s/: round robin over the backends, replies bypass the director", drVIP)
	if err := requests(ctx, l, "client", drVIP, 4); err != nil {
		return err
	}
	d.proves("DR: lvsctl realserver prepared both backends in one command each, and the director forwards to them with direct routing.")

	section("3. Health: lvsctl run evicts and restores a backend")
	step("Kill be2's web server: the next HTTP check fails and lvsctl run removes it")
	web.stop("be2")
	t0 := time.Now()
	if err := waitTable("dira", "10.0.3.12", false, 10*time.Second); err != nil {
		return err
	}
	fmt.Printf("  be2 left director A's table %.1f s after it died\n", time.Since(t0).Seconds())
	if err := sh(0, "lvsctl", "status", "--netns", drPrefix+"dira"); err != nil {
		return err
	}
	if err := requests(ctx, l, "client", drVIP, 3); err != nil {
		return err
	}
	step("Start be2 again: the daemon restores it")
	if err := web.serve("be2", ":80"); err != nil {
		return err
	}
	t0 = time.Now()
	if err := waitTable("dira", "10.0.3.12", true, 10*time.Second); err != nil {
		return err
	}
	fmt.Printf("  be2 was back %.1f s after it answered again\n", time.Since(t0).Seconds())
	step("A few lines of director A's Prometheus metrics (--metrics-listen 127.0.0.1:9610)")
	if err := metrics(ctx, l, "dira"); err != nil {
		return err
	}
	if err := requests(ctx, l, "client", drVIP, 2); err != nil {
		return err
	}
	d.proves("Health: lvsctl run evicted the dead backend within seconds and restored it when it came back; lvsctl status and /metrics show it.")

	section("4. VRRP failover between the two directors")
	step("Stop director A (SIGTERM) while the client sends a request every 100 ms: A sends a priority-0 advert and gives the VIP up")
	ld := startLoad(ctx, l, "client", drVIP)
	time.Sleep(time.Second)
	t0 = time.Now()
	a.stop()
	if err := waitFor(10*time.Second, "director B holds the VIP", func() bool { return hasAddr(l, "dirb", drVIP) }); err != nil {
		return errors.Join(err, b.logTail())
	}
	moved := time.Since(t0)
	fmt.Printf("  the VIP moved to director B in %.1f s\n", moved.Seconds())
	if err := sh(0, "lvsctl", "status", "--netns", drPrefix+"dirb"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	ok, failed := ld.stop()
	fmt.Printf("  meanwhile the client's requests: %d answered, %d failed\n", ok, failed)
	step("Four more requests: traffic continues through director B")
	if err := requests(ctx, l, "client", drVIP, 4); err != nil {
		return err
	}
	d.proves(fmt.Sprintf("VRRP: when the master stopped, the VIP moved to the backup director in %.1f s and traffic continued (%d of %d requests during the failover failed).",
		moved.Seconds(), failed, ok+failed))
	return nil
}

func importSection(ctx context.Context, d *demo) error {
	in, out := "/tmp/keepalived.conf", "/tmp/imported.hcl"
	if err := os.WriteFile(in, []byte(keepalivedConf), 0o644); err != nil {
		return err
	}
	step("A classic keepalived.conf (%s): Mycat behind a VIP, DR, TCP checks", in)
	fmt.Print(indent(keepalivedConf))
	step("lvsctl import keepalived translates it, noting what differs")
	if err := sh(0, "lvsctl", "import", "keepalived", in, "-o", out); err != nil {
		return err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	fmt.Print(indent(string(b)))
	l := lab.New("imp-")
	defer l.Close()
	if err := l.AddHost("director"); err != nil {
		return err
	}
	step("lvsctl plan of the result against a director's empty table (exit status 2: changes pending)")
	if err := sh(2, "lvsctl", "plan", "-f", out, "--netns", l.NSName("director")); err != nil {
		return err
	}
	d.proves("Migration: a keepalived.conf becomes an lvsctl file in one command, and plan shows what it would program.")
	return nil
}

// director is `lvsctl run` in one of the DR lab's directors.
type director struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer
	once sync.Once
}

func startDirector(l *lab.Lab, name string, priority int) (*director, error) {
	cfg := fmt.Sprintf("/tmp/%s.hcl", name)
	if err := os.WriteFile(cfg, []byte(strings.Replace(drConfig, "PRIORITY", fmt.Sprint(priority), 1)), 0o644); err != nil {
		return nil, err
	}
	args := []string{"run", "-f", cfg, "--netns", l.NSName(name), "--metrics-listen", "127.0.0.1:9610"}
	fmt.Printf("$ lvsctl %s &\n", strings.Join(args, " "))
	d := &director{name: name, log: &syncBuffer{}}
	d.cmd = exec.Command("lvsctl", args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	return d, nil
}

// stop sends SIGTERM and waits (once).
func (d *director) stop() {
	d.once.Do(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		d.cmd.Wait()
	})
}

func (d *director) logTail() error {
	return fmt.Errorf("%s's log:\n%s", d.name, d.log.String())
}

// farm is the labs' web servers, by host, so that one can die and return.
type farm struct {
	l     *lab.Lab
	stops map[string]func()
}

func newFarm(l *lab.Lab) *farm { return &farm{l: l, stops: map[string]func(){}} }

func (f *farm) serve(host, addr string) error {
	stop, err := f.l.Serve(host, addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	}))
	if err != nil {
		return err
	}
	f.stops[host] = stop
	return nil
}

func (f *farm) stop(host string) {
	if stop := f.stops[host]; stop != nil {
		stop()
		delete(f.stops, host)
	}
}

// load sends a request to the VIP every 100 ms until stopped, and counts
// the answers and the failures.
type load struct {
	stopc chan struct{}
	done  chan [2]int
}

func startLoad(ctx context.Context, l *lab.Lab, from, vip string) *load {
	ld := &load{stopc: make(chan struct{}), done: make(chan [2]int, 1)}
	go func() {
		var ok, failed int
		for {
			select {
			case <-ld.stopc:
				ld.done <- [2]int{ok, failed}
				return
			default:
			}
			rctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := l.Get(rctx, from, "http://"+vip+"/")
			cancel()
			if err != nil {
				failed++
			} else {
				ok++
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return ld
}

// stop returns the answered and failed requests.
func (ld *load) stop() (ok, failed int) {
	close(ld.stopc)
	r := <-ld.done
	return r[0], r[1]
}

func hasAddr(l *lab.Lab, host, addr string) bool {
	found := false
	_ = l.Do(host, func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := ifi.Addrs()
		for _, a := range addrs {
			found = found || strings.HasPrefix(a.String(), addr+"/")
		}
		return err
	})
	return found
}

func waitFor(limit time.Duration, what string, cond func() bool) error {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return nil
		}
	}
	return fmt.Errorf("%s: not within %v", what, limit)
}

// waitTable polls lvsctl list in a DR director until addr is (or is not)
// a real server.
func waitTable(host, addr string, present bool, limit time.Duration) error {
	return waitFor(limit, fmt.Sprintf("%s in %s's table: %v", addr, host, present), func() bool {
		out, err := exec.Command("lvsctl", "list", "-Ln", "--netns", drPrefix+host).Output()
		return err == nil && strings.Contains(string(out), "-> "+addr+":") == present
	})
}

// metrics prints the real-server and VRRP lines of host's /metrics.
func metrics(ctx context.Context, l *lab.Lab, host string) error {
	fmt.Printf("$ curl -s http://127.0.0.1:9610/metrics | grep -E '^lvsctl_(real_server_up|real_server_transitions_total|vrrp_state)'\n")
	body, err := l.Get(ctx, host, "http://127.0.0.1:9610/metrics")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "lvsctl_real_server_up{") || strings.HasPrefix(line, "lvsctl_real_server_transitions_total{") ||
			(strings.HasPrefix(line, "lvsctl_vrrp_state{") && strings.HasSuffix(line, " 1")) {
			fmt.Println("  " + line)
		}
	}
	return sc.Err()
}

// syncBuffer is a bytes.Buffer safe for a child's two output streams.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func requests(ctx context.Context, l *lab.Lab, from, vip string, n int) error {
	for i := 1; i <= n; i++ {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		body, err := l.Get(ctx, from, "http://"+vip+"/")
		cancel()
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		fmt.Printf("  request %d -> %s", i, body)
	}
	return nil
}

func step(format string, args ...any) {
	fmt.Printf("\n==> "+format+"\n", args...)
}

// sh runs a command, echoing it, and checks its exit status.
func sh(wantCode int, name string, args ...string) error {
	fmt.Printf("$ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return err
	}
	if code != wantCode {
		return fmt.Errorf("%s exited %d, want %d", name, code, wantCode)
	}
	return nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}
