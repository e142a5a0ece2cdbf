// Command lvsdemo is the self-contained demo behind `make demo`. It runs as
// the program of a QEMU guest booting a stock Debian kernel (which has IPVS),
// builds a client, a director and two HTTP backends in network namespaces,
// and walks through lvsctl validate, plan and apply against the director's
// kernel table, showing ipvsadm's view and balanced requests.
//
// It expects the lvsctl binary at /usr/bin/lvsctl and ipvsadm in PATH, as
// the make target arranges; it refuses to run outside a guest.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
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
var demoConfig string

//go:embed demo-run.hcl
var runConfig string

func main() {
	if os.Getenv("LVSCTL_IN_VM") != "1" {
		fmt.Fprintln(os.Stderr, "lvsdemo runs inside the QEMU guest: use `make demo`")
		os.Exit(2)
	}
	if err := demo(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo failed: %v\n", err)
		os.Exit(1)
	}
}

func demo(ctx context.Context) error {
	uname, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	step("A stock Debian kernel (%s) booted in QEMU; building the lab", strings.TrimSpace(string(uname)))
	fmt.Println(`  client 10.0.1.2 ---- 10.0.1.1 director (VIP 10.0.1.100) 10.0.2.1 ---- be1 10.0.2.11
                                                                   \--- be2 10.0.2.12`)
	l := lab.New("demo-")
	defer l.Close()
	backends, err := l.NATTopology(2)
	if err != nil {
		return err
	}
	stops := map[string]func(){}
	serve := func(i int) error {
		name, addr := fmt.Sprintf("be%d", i+1), backends[i]
		stop, err := l.Serve(name, addr.String()+":80", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "hello from %s (%s)\n", name, addr)
		}))
		stops[name] = stop
		return err
	}
	for i := range backends {
		if err := serve(i); err != nil {
			return err
		}
	}
	cfg := "/tmp/lvsctl.hcl"
	if err := os.WriteFile(cfg, []byte(demoConfig), 0o644); err != nil {
		return err
	}
	ns := "--netns=" + l.NSName("director")

	step("The configuration, %s", cfg)
	fmt.Print(indent(demoConfig))
	if err := sh(0, "lvsctl", "validate", "-f", cfg); err != nil {
		return err
	}
	step("lvsctl plan: what apply would do (exit status 2: changes pending)")
	if err := sh(2, "lvsctl", "plan", "-f", cfg, ns); err != nil {
		return err
	}
	step("lvsctl apply")
	if err := sh(0, "lvsctl", "apply", "-f", cfg, ns); err != nil {
		return err
	}
	step("The director's kernel table, as ipvsadm -Ln shows it")
	if err := l.Do("director", func() error { return sh(0, "ipvsadm", "-Ln") }); err != nil {
		return err
	}
	step("lvsctl apply again: converged, nothing to do")
	if err := sh(0, "lvsctl", "apply", "-f", cfg, ns); err != nil {
		return err
	}
	step("Six requests from the client to http://10.0.1.100/ (a new connection each)")
	if err := requests(ctx, l, 6); err != nil {
		return err
	}
	step("Drain be2: set its weight to 0 in the file; plan shows exactly one change")
	drained := strings.Replace(demoConfig, "address = \"10.0.2.12\"\n    weight  = 1", "address = \"10.0.2.12\"\n    weight  = 0", 1)
	if err := os.WriteFile(cfg, []byte(drained), 0o644); err != nil {
		return err
	}
	if err := sh(2, "lvsctl", "plan", "-f", cfg, ns); err != nil {
		return err
	}
	if err := sh(0, "lvsctl", "apply", "-f", cfg, ns); err != nil {
		return err
	}
	step("Four more requests: all go to be1")
	if err := requests(ctx, l, 4); err != nil {
		return err
	}
	// Linux 6.1 folds per-CPU counters into the reported stats every 2 s.
	time.Sleep(2500 * time.Millisecond)
	step("Per-real-server counters (ipvsadm -Ln --stats)")
	if err := l.Do("director", func() error { return sh(0, "ipvsadm", "-Ln", "--stats") }); err != nil {
		return err
	}
	if err := daemonDemo(ctx, l, ns, stops, serve); err != nil {
		return err
	}
	fmt.Println("\nDemo complete.")
	return nil
}

// daemonDemo runs `lvsctl run` with TCP checks, kills a backend and brings
// it back, showing the table and the daemon's log at each step.
func daemonDemo(ctx context.Context, l *lab.Lab, ns string, stops map[string]func(), serve func(int) error) error {
	cfg := "/tmp/lvsctl-run.hcl"
	if err := os.WriteFile(cfg, []byte(runConfig), 0o644); err != nil {
		return err
	}
	step("lvsctl run: the daemon health-checks the real servers (%s)", cfg)
	fmt.Print(indent(runConfig))
	fmt.Printf("$ lvsctl run -f %s %s &\n", cfg, ns)
	var log syncBuffer
	d := exec.Command("lvsctl", "run", "-f", cfg, ns)
	d.Stdout, d.Stderr = &log, &log
	if err := d.Start(); err != nil {
		return err
	}
	defer func() {
		d.Process.Signal(syscall.SIGTERM)
		d.Wait()
		step("The daemon's log")
		fmt.Print(indent(log.String()))
	}()
	// The daemon restores be2's weight (0 in the file of the last step, 1
	// here) and checks both servers once before we break one.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), "msg=running"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("lvsctl run did not start:\n%s", log.String())
		}
	}
	time.Sleep(1500 * time.Millisecond)

	step("Kill be2's web server: the next check fails and the daemon removes it")
	stops["be2"]()
	start := time.Now()
	if err := waitTable(l, "10.0.2.12", false, 10*time.Second); err != nil {
		return err
	}
	fmt.Printf("  be2 left the table %.1f s after it died\n", time.Since(start).Seconds())
	if err := l.Do("director", func() error { return sh(0, "ipvsadm", "-Ln") }); err != nil {
		return err
	}
	if err := requests(ctx, l, 3); err != nil {
		return err
	}

	step("Start be2 again: the daemon restores it")
	if err := serve(1); err != nil {
		return err
	}
	start = time.Now()
	if err := waitTable(l, "10.0.2.12", true, 10*time.Second); err != nil {
		return err
	}
	fmt.Printf("  be2 was back %.1f s after it answered again\n", time.Since(start).Seconds())
	if err := l.Do("director", func() error { return sh(0, "ipvsadm", "-Ln") }); err != nil {
		return err
	}
	return requests(ctx, l, 4)
}

// waitTable polls ipvsadm -Ln in the director until addr is (or is not) a
// real server.
func waitTable(l *lab.Lab, addr string, present bool, limit time.Duration) error {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var out []byte
		err := l.Do("director", func() error {
			var err error
			out, err = exec.Command("ipvsadm", "-Ln").Output()
			return err
		})
		if err != nil {
			return err
		}
		if strings.Contains(string(out), "-> "+addr+":") == present {
			return nil
		}
	}
	return fmt.Errorf("%s present=%v not reached within %v", addr, present, limit)
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

func requests(ctx context.Context, l *lab.Lab, n int) error {
	for i := 1; i <= n; i++ {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		body, err := l.Get(ctx, "client", "http://10.0.1.100/")
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
