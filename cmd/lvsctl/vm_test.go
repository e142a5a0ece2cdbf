package main

// Tests named TestVM* run only inside the QEMU guest (make test-vm), where a
// stock Debian kernel has IPVS. Each builds its own network namespaces, so
// they never touch the guest's own table or each other's.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mobyipvs "github.com/moby/ipvs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// requireVM fails a VM test run anywhere but the guest in CI, and skips it
// (saying why) on a developer's host.
func requireVM(t *testing.T) {
	t.Helper()
	if os.Getenv("LVSCTL_IN_VM") == "1" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("this test needs the IPVS kernel in the QEMU guest and must not be skipped in CI: run it with make test-vm")
	}
	t.Skip("needs the IPVS kernel in the QEMU guest: make test-vm")
}

// vmCLI runs lvsctl commands in-process against the real kernel of one
// namespace, counting the operations the kernel accepts.
type vmCLI struct {
	t      *testing.T
	ns     string // namespace path
	state  string
	writes int
	out    bytes.Buffer
	errOut bytes.Buffer
}

type countingKernel struct {
	ipvs.Kernel
	writes *int
}

func (k countingKernel) Apply(ctx context.Context, ops []ipvs.Op) (int, error) {
	n, err := k.Kernel.Apply(ctx, ops)
	*k.writes += n
	return n, err
}

func newVMCLI(t *testing.T, nsPath string) *vmCLI {
	return &vmCLI{t: t, ns: nsPath, state: filepath.Join(t.TempDir(), "state.json")}
}

func (c *vmCLI) run(args ...string) int {
	c.out.Reset()
	c.errOut.Reset()
	e := &env{
		stdout: &c.out,
		stderr: &c.errOut,
		openKernel: func(ctx context.Context, ns string) (ipvs.Kernel, error) {
			k, err := ipvs.Open(ctx, ns)
			if err != nil {
				return nil, err
			}
			return countingKernel{Kernel: k, writes: &c.writes}, nil
		},
		stateDir: filepath.Dir(c.state),
	}
	args = append(args, "--netns", c.ns, "--state", c.state)
	code := run(context.Background(), args, e)
	c.t.Logf("lvsctl %s -> %d\n%s%s", strings.Join(args, " "), code, c.out.String(), c.errOut.String())
	return code
}

// writeHCL writes a config into the test's temp dir.
func writeHCL(t *testing.T, name, src string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	return p
}

func dump(t *testing.T, nsPath string) []ipvs.VirtualService {
	t.Helper()
	k, err := ipvs.Open(context.Background(), nsPath)
	require.NoError(t, err)
	defer k.Close()
	svcs, err := k.Services(context.Background())
	require.NoError(t, err)
	return svcs
}

func loadHCL(t *testing.T, file string) []ipvs.VirtualService {
	t.Helper()
	cfg, _, diags := lvshcl.Load(file)
	require.False(t, diags.HasErrors(), diags.Error())
	return cfg.Services
}

func TestVMApplyEverything(t *testing.T) {
	requireVM(t)
	l := lab.New("vmall-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("director"))
	ns := l.NSPath("director")
	cli := newVMCLI(t, ns)
	cfgFile := "testdata/vm/everything.hcl"
	want := loadHCL(t, cfgFile)

	require.Equal(t, 2, cli.run("plan", "-f", cfgFile))
	require.Zero(t, cli.writes)
	require.Equal(t, 0, cli.run("apply", "-f", cfgFile), cli.errOut.String())
	objects := len(want)
	for _, s := range want {
		objects += len(s.RealServers)
	}
	assert.Equal(t, objects, cli.writes, "a cold apply is one write per service and real server")

	// 1. Our own dump equals the config.
	got := dump(t, ns)
	assert.Empty(t, ipvs.Diff(got, want), "kernel table differs from the config")
	assert.Len(t, got, len(want))

	// 2. An independent reader (moby/ipvs) sees the same services.
	checkWithMoby(t, ns, want)

	// 3. /proc/net/ip_vs, the kernel's own text, agrees.
	checkProcNetIPVS(t, l, want)

	// Re-apply: zero operations.
	before := cli.writes
	require.Equal(t, 0, cli.run("apply", "-f", cfgFile))
	assert.Contains(t, cli.out.String(), "No changes")
	assert.Equal(t, before, cli.writes)
	require.Equal(t, 0, cli.run("plan", "-f", cfgFile), "plan exits 0 when converged")
}

// TestVMIncrementalChanges proves the diff is minimal on a real kernel and
// that foreign services survive.
func TestVMIncrementalChanges(t *testing.T) {
	requireVM(t)
	l := lab.New("vminc-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("director"))
	ns := l.NSPath("director")
	cli := newVMCLI(t, ns)

	base := `
virtual_server "web" {
  address   = "10.10.0.1"
  port      = 80
  scheduler = "wrr"
  real_server {
    address = "10.20.0.1"
    weight  = %d
  }
  real_server { address = "10.20.0.2" }
  %s
}
%s
`
	third := `real_server { address = "10.20.0.3" }`
	db := `
virtual_server "db" {
  address = "10.10.0.2"
  port    = 3306
  real_server { address = "10.20.0.5" }
}`
	v1 := writeHCL(t, "v1.hcl", fmt.Sprintf(base, 1, third, db))
	require.Equal(t, 0, cli.run("apply", "-f", v1))
	assert.Equal(t, 6, cli.writes)

	// A foreign service, added out of band with another library.
	h, err := mobyipvs.New(ns)
	require.NoError(t, err)
	defer h.Close()
	foreign := &mobyipvs.Service{AddressFamily: syscall.AF_INET, Protocol: syscall.IPPROTO_UDP, Address: net.ParseIP("10.99.0.1"), Port: 53, SchedName: "rr", Netmask: 0xffffffff}
	require.NoError(t, h.NewService(foreign))
	require.NoError(t, h.NewDestination(foreign, &mobyipvs.Destination{Address: net.ParseIP("10.99.0.2"), Port: 53, Weight: 1, AddressFamily: syscall.AF_INET}))

	step := func(name, src string, wantWrites int, wantLine string) {
		t.Helper()
		f := writeHCL(t, name, src)
		before := cli.writes
		require.Equal(t, 2, cli.run("plan", "-f", f))
		assert.Contains(t, cli.out.String(), "UDP 10.99.0.1:53", "the foreign service is listed")
		require.Equal(t, 0, cli.run("apply", "-f", f))
		assert.Equal(t, wantWrites, cli.writes-before, name)
		assert.Contains(t, cli.out.String(), wantLine)
		assert.Empty(t, ipvs.Diff(ownedOnly(dump(t, ns)), loadHCL(t, f)), name)
		require.Equal(t, 0, cli.run("apply", "-f", f))
		assert.Equal(t, wantWrites, cli.writes-before, name+": re-apply writes nothing")
		// The foreign service is untouched.
		s, err := h.GetService(foreign)
		require.NoError(t, err, name)
		assert.Equal(t, "rr", s.SchedName)
		d, err := h.GetDestinations(foreign)
		require.NoError(t, err)
		assert.Len(t, d, 1)
	}
	step("weight.hcl", fmt.Sprintf(base, 7, third, db), 1, "~ real TCP 10.10.0.1:80 (web) -> 10.20.0.1:80 weight 1 -> 7")
	step("fewer-reals.hcl", fmt.Sprintf(base, 7, "", db), 1, "- real TCP 10.10.0.1:80 (web) -> 10.20.0.3:80")
	step("no-db.hcl", fmt.Sprintf(base, 7, "", ""), 1, "- service TCP 10.10.0.2:3306")

	// Everything of ours removed (which the file must say: an empty file
	// is refused): the foreign service remains alone.
	require.Equal(t, 1, cli.run("apply", "-f", writeHCL(t, "truncated.hcl", "")))
	empty := writeHCL(t, "empty.hcl", "allow_empty = true\n")
	require.Equal(t, 0, cli.run("apply", "-f", empty))
	left := dump(t, ns)
	require.Len(t, left, 1)
	assert.Equal(t, "UDP 10.99.0.1:53", left[0].Key.String())
}

// ownedOnly drops the foreign test service from a dump.
func ownedOnly(svcs []ipvs.VirtualService) []ipvs.VirtualService {
	return slices.DeleteFunc(svcs, func(s ipvs.VirtualService) bool { return s.Key.String() == "UDP 10.99.0.1:53" })
}

// TestVMRejectionRollsBack: a scheduler this kernel lacks fails the apply,
// names the service, and leaves the table as it was.
func TestVMRejectionRollsBack(t *testing.T) {
	requireVM(t)
	l := lab.New("vmrej-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("director"))
	ns := l.NSPath("director")
	if _, err := os.Stat("/lib/modules"); err == nil {
		out, _ := exec.Command("sh", "-c", "find /lib/modules -name 'ip_vs_twos*'").Output()
		if len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("this kernel has the twos scheduler; the test needs one without it (%s)", out)
		}
	}
	cli := newVMCLI(t, ns)
	require.Equal(t, 1, cli.run("apply", "-f", "testdata/vm/twos.hcl"))
	assert.Contains(t, cli.errOut.String(), `add service TCP 10.30.0.2:80: scheduler "twos" is not available in this kernel`)
	assert.Contains(t, cli.errOut.String(), "rolled back")
	assert.Empty(t, dump(t, ns), "the service added before the rejection was removed again")
	state, err := ipvs.StateFile{Path: cli.state}.Load()
	require.NoError(t, err)
	assert.Empty(t, state, "nothing is owned after a rolled-back apply")
}

// TestVMNATTraffic sends real HTTP requests through the director's IPVS in
// NAT mode and checks the round-robin order.
func TestVMNATTraffic(t *testing.T) {
	requireVM(t)
	l := lab.New("vmnat-")
	t.Cleanup(func() { l.Close() })
	backends, err := l.NATTopology(2)
	require.NoError(t, err)
	for i, b := range backends {
		require.NoError(t, l.ServeHTTP(fmt.Sprintf("be%d", i+1), b.String()+":80", fmt.Sprintf("be%d", i+1)))
	}
	cli := newVMCLI(t, l.NSPath("director"))
	require.Equal(t, 0, cli.run("apply", "-f", "testdata/vm/nat-traffic.hcl"), cli.errOut.String())

	var answers []string
	for i := 0; i < 6; i++ {
		body, err := l.Get(context.Background(), "client", "http://10.0.1.100/")
		require.NoError(t, err, "request %d", i)
		answers = append(answers, body)
	}
	t.Logf("answers: %v", answers)
	require.ElementsMatch(t, []string{"be1", "be2"}, answers[:2], "both backends answer")
	for i := 2; i < len(answers); i++ {
		assert.Equal(t, answers[i-2], answers[i], "round robin alternates (answer %d)", i)
	}

	// The kernel counted the connections: three per backend. Linux 6.1
	// folds its per-CPU counters into what netlink reports every 2 s, so
	// poll for a while.
	k, err := ipvs.Open(context.Background(), l.NSPath("director"))
	require.NoError(t, err)
	defer k.Close()
	var conns []uint64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		table, err := k.Table(context.Background())
		require.NoError(t, err)
		require.Len(t, table, 1)
		conns = conns[:0]
		for _, r := range table[0].Reals {
			conns = append(conns, r.Stats.Conns)
		}
		if slices.Equal(conns, []uint64{3, 3}) {
			break
		}
	}
	assert.Equal(t, []uint64{3, 3}, conns, "connections per real server")
}

// TestVMNotRoot runs lvsctl as nobody: one line saying what is missing.
func TestVMNotRoot(t *testing.T) {
	requireVM(t)
	cmd := exec.Command(os.Args[0], "plan", "-f", "testdata/vm/nat-traffic.hcl", "--state", filepath.Join(t.TempDir(), "s.json"))
	cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Equal(t, "lvsctl: permission denied: programming IPVS needs root or CAP_NET_ADMIN\n", stderr.String())
	assert.Empty(t, stdout.String())
}

// checkWithMoby reads every service back with moby/ipvs, an independent
// netlink implementation, and compares what it can see.
func checkWithMoby(t *testing.T, ns string, want []ipvs.VirtualService) {
	t.Helper()
	h, err := mobyipvs.New(ns)
	require.NoError(t, err)
	defer h.Close()
	svcs, err := h.GetServices()
	require.NoError(t, err)
	require.Len(t, svcs, len(want))
	for _, w := range want {
		w = w.Normalize()
		q := &mobyipvs.Service{AddressFamily: uint16(w.Key.Family), FWMark: w.Key.FWMark, Protocol: uint16(w.Key.Protocol), Port: w.Key.Port}
		if !w.Key.IsFWMark() {
			q.Address = net.IP(w.Key.Addr.AsSlice())
		}
		s, err := h.GetService(q)
		if !assert.NoError(t, err, w.Key.String()) {
			continue
		}
		assert.Equal(t, string(w.Scheduler), s.SchedName, w.Key.String())
		flags := s.Flags &^ 0x2 // HASHED
		assert.Equal(t, w.Persistence > 0, flags&0x1 != 0, "%s persistent", w.Key)
		assert.Equal(t, w.OnePacket, flags&0x4 != 0, "%s ops", w.Key)
		assert.EqualValues(t, w.SchedFlags, flags&0x38, "%s sched flags", w.Key)
		if w.Persistence > 0 {
			assert.EqualValues(t, w.Persistence.Seconds(), s.Timeout, "%s timeout", w.Key)
		}
		dests, err := h.GetDestinations(s)
		require.NoError(t, err)
		require.Len(t, dests, len(w.RealServers), w.Key.String())
		for _, r := range w.RealServers {
			i := slices.IndexFunc(dests, func(d *mobyipvs.Destination) bool {
				return d.Address.Equal(net.IP(r.Addr.AsSlice())) && d.Port == r.Port
			})
			if !assert.GreaterOrEqual(t, i, 0, "%s -> %s", w.Key, r.Key()) {
				continue
			}
			d := dests[i]
			assert.EqualValues(t, r.Weight, d.Weight, "%s -> %s weight", w.Key, r.Key())
			assert.EqualValues(t, r.Forwarding, d.ConnectionFlags&0x7, "%s -> %s forwarding", w.Key, r.Key())
			assert.Equal(t, r.UpperThreshold, d.UpperThreshold)
			assert.Equal(t, r.LowerThreshold, d.LowerThreshold)
		}
	}
}

// checkProcNetIPVS parses /proc/net/ip_vs inside the director namespace and
// compares schedulers, forwarding names and weights.
func checkProcNetIPVS(t *testing.T, l *lab.Lab, want []ipvs.VirtualService) {
	t.Helper()
	var text []byte
	require.NoError(t, l.Do("director", func() error {
		var err error
		text, err = os.ReadFile("/proc/thread-self/net/ip_vs")
		return err
	}))
	t.Logf("/proc/net/ip_vs:\n%s", text)
	type dest struct {
		fwd    string
		weight string
	}
	services := map[string]string{} // "TCP 0A0A0001:0050" -> "rr"
	dests := map[string]map[string]dest{}
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "TCP", "UDP", "SCTP", "FWM":
			cur = f[0] + " " + f[1]
			services[cur] = f[2]
			dests[cur] = map[string]dest{}
		case "->":
			if cur != "" && len(f) >= 4 && f[1] != "RemoteAddress:Port" {
				dests[cur][f[1]] = dest{fwd: f[2], weight: f[3]}
			}
		}
	}
	fwdName := map[ipvs.Forwarding]string{ipvs.NAT: "Masq", ipvs.DR: "Route", ipvs.Tunnel: "Tunnel", ipvs.Local: "Local"}
	for _, w := range want {
		w = w.Normalize()
		key := procKey(w.Key)
		sched, ok := services[key]
		if !assert.True(t, ok, "%s (%s) missing from /proc/net/ip_vs", w.Key, key) {
			continue
		}
		assert.Equal(t, string(w.Scheduler), sched, key)
		assert.Len(t, dests[key], len(w.RealServers), key)
		for _, r := range w.RealServers {
			d, ok := dests[key][procAddrPort(r.Addr.AsSlice(), r.Port)]
			if assert.True(t, ok, "%s -> %s", key, r.Key()) {
				assert.Equal(t, fwdName[r.Forwarding], d.fwd)
				assert.Equal(t, strconv.Itoa(int(r.Weight)), d.weight)
			}
		}
	}
}

// procKey renders a service key as /proc/net/ip_vs does: hex IPv4 and port,
// full-form IPv6 in brackets, or "FWM 0000000N" (mark in hex).
func procKey(k ipvs.ServiceKey) string {
	if k.IsFWMark() {
		return fmt.Sprintf("FWM %08X", k.FWMark)
	}
	return k.Protocol.String() + " " + procAddrPort(k.Addr.AsSlice(), k.Port)
}

func procAddrPort(a []byte, port uint16) string {
	if len(a) == 4 {
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", a[0], a[1], a[2], a[3], port)
	}
	var groups []string
	for i := 0; i < 16; i += 2 {
		groups = append(groups, fmt.Sprintf("%02x%02x", a[i], a[i+1]))
	}
	return fmt.Sprintf("[%s]:%04X", strings.Join(groups, ":"), port)
}

// TestVMClassicConfigs applies each classic setup from the module's
// testdata/ in its own namespace: the kernel takes it, reads back equal, and
// a second apply changes nothing.
func TestVMClassicConfigs(t *testing.T) {
	requireVM(t)
	files, err := filepath.Glob("../../testdata/*.hcl")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4, "the classic configs are packed into the guest")
	for _, f := range files {
		standInPrograms(t, f) // web-health.hcl's check-app is a site's own
	}
	for i, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			l := lab.New(fmt.Sprintf("vmcl%d-", i))
			t.Cleanup(func() { l.Close() })
			require.NoError(t, l.AddHost("director"))
			cli := newVMCLI(t, l.NSPath("director"))
			require.Equal(t, 0, cli.run("apply", "-f", f), cli.errOut.String())
			want := loadHCL(t, f)
			assert.Empty(t, ipvs.Diff(dump(t, l.NSPath("director")), want))
			writes := cli.writes
			require.Equal(t, 0, cli.run("apply", "-f", f))
			assert.Contains(t, cli.out.String(), "No changes")
			assert.Equal(t, writes, cli.writes)
		})
	}
}

// standInPrograms gives the guest an executable stand-in (it exits 0) for
// every exec check program of the configuration file that the guest lacks,
// removed when t ends: apply refuses a check whose program is missing
// (validate only warns), and example configurations name a site's own
// programs or tools the guest does not carry. A name without a slash gets
// its stand-in in /usr/local/bin.
func standInPrograms(t *testing.T, file string) {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	programs, ok := lvshcl.ExecCommands(src, file)
	require.True(t, ok, "the exec check programs of %s", file)
	for _, p := range programs {
		if !strings.Contains(p, "/") {
			if _, err := exec.LookPath(p); err == nil {
				continue
			}
			p = filepath.Join("/usr/local/bin", p)
		}
		if _, err := os.Stat(p); err == nil {
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755))
		t.Cleanup(func() { os.Remove(p) })
	}
}
