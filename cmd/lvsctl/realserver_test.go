package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// rsCLI runs lvsctl in-process with its own state directory.
type rsCLI struct {
	t        *testing.T
	stateDir string
	out      bytes.Buffer
	errOut   bytes.Buffer
}

func newRSCLI(t *testing.T) *rsCLI {
	return &rsCLI{t: t, stateDir: t.TempDir()}
}

func (c *rsCLI) run(args ...string) int {
	c.out.Reset()
	c.errOut.Reset()
	e := &env{stdout: &c.out, stderr: &c.errOut, stateDir: c.stateDir}
	code := run(context.Background(), args, e)
	c.t.Logf("lvsctl %s -> %d\n%s%s", strings.Join(args, " "), code, c.out.String(), c.errOut.String())
	return code
}

// requireRoot fails in CI and skips elsewhere when not root: these tests
// make network namespaces.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("network namespace tests need root, and CI runs as root")
	}
	t.Skip("network namespace tests need root")
}

// sysctlIn reads net.ipv4.conf.CONF.NAME inside host.
func sysctlIn(t *testing.T, l *lab.Lab, host, conf, name string) string {
	t.Helper()
	var b []byte
	require.NoError(t, l.Do(host, func() error {
		var err error
		b, err = os.ReadFile(filepath.Join("/proc/sys/net/ipv4/conf", conf, name))
		return err
	}))
	return strings.TrimSpace(string(b))
}

// sysctlsIn reads every setting realserver may touch on the given confs.
func sysctlsIn(t *testing.T, l *lab.Lab, host string, confs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range confs {
		for _, n := range []string{"arp_ignore", "arp_announce", "rp_filter"} {
			out[c+"."+n] = sysctlIn(t, l, host, c, n)
		}
	}
	return out
}

// addrsIn lists the addresses of dev inside host.
func addrsIn(t *testing.T, l *lab.Lab, host, dev string) []string {
	t.Helper()
	var out []string
	require.NoError(t, l.Do(host, func() error {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		as, err := ifc.Addrs()
		for _, a := range as {
			out = append(out, a.String())
		}
		return err
	}))
	return out
}

// deleteAddr removes addr from dev in the calling thread's namespace.
func deleteAddr(dev, addr string) error {
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return err
	}
	a, err := netlink.ParseAddr(addr)
	if err != nil {
		return err
	}
	return netlink.AddrDel(link, a)
}

func hostSysctls(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, c := range []string{"all", "lo"} {
		for _, n := range []string{"arp_ignore", "arp_announce", "rp_filter"} {
			b, err := os.ReadFile(filepath.Join("/proc/sys/net/ipv4/conf", c, n))
			require.NoError(t, err)
			out[c+"."+n] = string(b)
		}
	}
	return out
}

// oddValues gives a backend namespace unusual settings that start must
// change (eth0's arp_ignore 3 answers for the VIP whatever all says) or
// leave (rp_filter in dr), so that restoring them is visible.
func oddValues(t *testing.T, l *lab.Lab, host string) {
	t.Helper()
	for _, s := range [][2]string{
		{"net.ipv4.conf.all.arp_ignore", "0"},
		{"net.ipv4.conf.all.arp_announce", "1"},
		{"net.ipv4.conf.all.rp_filter", "2"},
		{"net.ipv4.conf.lo.arp_ignore", "4"},
		{"net.ipv4.conf.eth0.arp_ignore", "3"},
		{"net.ipv4.conf.eth0.arp_announce", "0"},
		{"net.ipv4.conf.eth0.rp_filter", "1"},
	} {
		require.NoError(t, l.Sysctl(host, s[0], s[1]))
	}
}

// newBackend makes namespace "be" with an eth0 (a veth to "peer").
func newBackend(t *testing.T, prefix string) *lab.Lab {
	t.Helper()
	requireRoot(t)
	l := lab.New(prefix)
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	require.NoError(t, l.AddHost("be"))
	require.NoError(t, l.AddHost("peer"))
	require.NoError(t, l.Link("be", "eth0", "10.0.3.11/24", "peer", "eth0", "10.0.3.1/24"))
	return l
}

func TestRealServerDRStartStopStatus(t *testing.T) {
	l := newBackend(t, "rsdr-")
	oddValues(t, l, "be")
	// A VIP that is already there: start must not claim it, stop must leave it.
	require.NoError(t, l.AddAddr("be", "lo", "10.0.3.101/32"))
	initial := sysctlsIn(t, l, "be", "all", "lo", "eth0")
	initialLo := addrsIn(t, l, "be", "lo")
	host := hostSysctls(t)
	cli := newRSCLI(t)
	ns := l.NSName("be")
	vips := []string{"--vip", "10.0.3.100", "--vip", "10.0.3.101", "--vip", "2001:db8::100"}

	// Before start: status with the configuration finds the problems.
	require.Equal(t, 2, cli.run(append([]string{"realserver", "status", "--netns", ns}, vips...)...))
	assert.Contains(t, cli.out.String(), "vip-missing: VIP 10.0.3.100 is not on lo")
	assert.Contains(t, cli.out.String(), "arp-ignore: eth0 answers ARP requests")
	assert.Contains(t, cli.out.String(), "not started by lvsctl")

	require.Equal(t, 0, cli.run(append([]string{"realserver", "start", "--netns", ns}, vips...)...), cli.errOut.String())
	assert.Equal(t, `set     net.ipv4.conf.all.arp_ignore = 1 (was 0)
set     net.ipv4.conf.all.arp_announce = 2 (was 1)
set     net.ipv4.conf.lo.arp_ignore = 1 (was 4)
set     net.ipv4.conf.lo.arp_announce = 2 (was 0)
set     net.ipv4.conf.eth0.arp_ignore = 1 (was 3)
add     10.0.3.100/32 to lo
add     2001:db8::100/128 to lo
note: 10.0.3.101/32 is already on lo and was not added by lvsctl: stop leaves it
Started: 7 changes, namespace `+ns+` as a dr real server for 10.0.3.100, 10.0.3.101, 2001:db8::100 (recorded in `+filepath.Join(cli.stateDir, "netns", ns+"-realserver.json")+`; stop undoes it).
`, cli.out.String())
	assert.Equal(t, "1", sysctlIn(t, l, "be", "all", "arp_ignore"))
	assert.Equal(t, "2", sysctlIn(t, l, "be", "all", "arp_announce"))
	assert.Equal(t, "0", sysctlIn(t, l, "be", "eth0", "arp_announce"), "covered by all: max(all, eth0) = 2")
	assert.Equal(t, "1", sysctlIn(t, l, "be", "eth0", "rp_filter"), "dr leaves rp_filter alone")
	lo := addrsIn(t, l, "be", "lo")
	for _, a := range []string{"10.0.3.100/32", "10.0.3.101/32", "2001:db8::100/128"} {
		assert.Contains(t, lo, a)
	}
	assert.Equal(t, host, hostSysctls(t), "the host's own namespace is untouched")
	record := filepath.Join(cli.stateDir, "netns", ns+"-realserver.json")
	saved, err := os.ReadFile(record)
	require.NoError(t, err)

	// Idempotent.
	require.Equal(t, 0, cli.run(append([]string{"realserver", "start", "--netns", ns}, vips...)...))
	assert.Equal(t, "note: 10.0.3.101/32 is already on lo and was not added by lvsctl: stop leaves it\nNo changes: namespace "+ns+" is already prepared as a dr real server for 10.0.3.100, 10.0.3.101, 2001:db8::100.\n", cli.out.String())
	again, err := os.ReadFile(record)
	require.NoError(t, err)
	assert.Equal(t, string(saved), string(again))

	// Status from the record.
	require.Equal(t, 0, cli.run("realserver", "status", "--netns", ns))
	assert.Contains(t, cli.out.String(), "started by lvsctl")
	assert.Contains(t, cli.out.String(), "10.0.3.101/32      not added by lvsctl (stop leaves it)")
	assert.Contains(t, cli.out.String(), "OK: namespace "+ns+" is ready")
	require.Equal(t, 0, cli.run("realserver", "status", "--netns", ns, "-o", "json"))
	var st struct {
		Started  bool
		Problems []struct{ Code string }
		VIPs     []struct {
			Addr  string
			Added bool
		}
	}
	require.NoError(t, json.Unmarshal(cli.out.Bytes(), &st))
	assert.True(t, st.Started)
	assert.Empty(t, st.Problems)
	require.Len(t, st.VIPs, 3)
	assert.Equal(t, []bool{true, false, true}, []bool{st.VIPs[0].Added, st.VIPs[1].Added, st.VIPs[2].Added})

	// Stop: back to exactly the start, the pre-existing VIP included.
	require.Equal(t, 0, cli.run("realserver", "stop", "--netns", ns))
	assert.Equal(t, `remove  2001:db8::100/128 from lo
remove  10.0.3.100/32 from lo
restore net.ipv4.conf.eth0.arp_ignore = 3 (was 1)
restore net.ipv4.conf.lo.arp_announce = 0 (was 2)
restore net.ipv4.conf.lo.arp_ignore = 4 (was 1)
restore net.ipv4.conf.all.arp_announce = 1 (was 2)
restore net.ipv4.conf.all.arp_ignore = 0 (was 1)
Stopped: 7 changes undone in namespace `+ns+`.
`, cli.out.String())
	assert.Equal(t, initial, sysctlsIn(t, l, "be", "all", "lo", "eth0"))
	assert.ElementsMatch(t, initialLo, addrsIn(t, l, "be", "lo"))
	assert.Contains(t, addrsIn(t, l, "be", "lo"), "10.0.3.101/32")
	_, err = os.Stat(record)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing left to undo: no record")

	// Stop without start, and status without anything.
	require.Equal(t, 0, cli.run("realserver", "stop", "--netns", ns))
	assert.Contains(t, cli.out.String(), "Nothing to stop: no realserver record for namespace "+ns)
	require.Equal(t, 2, cli.run("realserver", "status", "--netns", ns))
	assert.Contains(t, cli.out.String(), "Not started")
}

// TestRealServerStopKeepsLaterChanges: a sysctl changed after start is an
// admin's decision; stop leaves it and says so, and restores the rest.
func TestRealServerStopKeepsLaterChanges(t *testing.T) {
	l := newBackend(t, "rslate-")
	cli := newRSCLI(t)
	ns := l.NSPath("be") // a path works as well as a name
	require.Equal(t, 0, cli.run("realserver", "start", "--netns", ns, "--vip", "10.0.3.100"))
	record := filepath.Join(cli.stateDir, "netns", l.NSName("be")+"-realserver.json")
	require.FileExists(t, record, "/run/netns/NAME and NAME share a record")
	require.NoError(t, l.Sysctl("be", "net.ipv4.conf.all.arp_ignore", "2"))
	require.Equal(t, 0, cli.run("realserver", "stop", "--netns", ns))
	assert.Contains(t, cli.out.String(), "note: net.ipv4.conf.all.arp_ignore is 2, not the 1 lvsctl set: changed since start, left as is (it was 0 before start)")
	assert.Equal(t, "2", sysctlIn(t, l, "be", "all", "arp_ignore"))
	assert.Equal(t, "0", sysctlIn(t, l, "be", "all", "arp_announce"))
	assert.NoFileExists(t, record)
}

func TestRealServerStatusProblems(t *testing.T) {
	l := newBackend(t, "rsst-")
	cli := newRSCLI(t)
	ns := l.NSName("be")
	state := filepath.Join(t.TempDir(), "rs.json")
	require.Equal(t, 0, cli.run("realserver", "start", "--netns", ns, "--state", state, "--vip", "10.0.3.100", "--vip", "10.0.3.102"))
	require.NoError(t, l.AddAddr("be", "eth0", "10.0.3.100/32"))
	require.NoError(t, l.Sysctl("be", "net.ipv4.conf.eth0.arp_announce", "3"))
	// Someone removes a VIP by hand.
	require.NoError(t, l.Do("be", func() error {
		return deleteAddr("lo", "10.0.3.102/32")
	}))
	require.Equal(t, 2, cli.run("realserver", "status", "--netns", ns, "--state", state, "-o", "json"))
	var st struct {
		Problems []struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal(cli.out.Bytes(), &st))
	var codes []string
	for _, p := range st.Problems {
		codes = append(codes, p.Code)
	}
	assert.Equal(t, []string{"vip-on-nic", "vip-missing", "arp-announce"}, codes)
	assert.Contains(t, st.Problems[0].Message, "VIP 10.0.3.100 is also on eth0")
	assert.Contains(t, st.Problems[2].Message, "arp_announce = max(all 2, eth0 3) = 3")

	// start repairs what it manages (not the VIP on eth0: not its own).
	require.Equal(t, 0, cli.run("realserver", "start", "--netns", ns, "--state", state, "--vip", "10.0.3.100", "--vip", "10.0.3.102"))
	assert.Contains(t, cli.out.String(), "set     net.ipv4.conf.eth0.arp_announce = 2 (was 3)")
	assert.Contains(t, cli.out.String(), "add     10.0.3.102/32 to lo")
	assert.Contains(t, cli.out.String(), "note: VIP 10.0.3.100 is also on eth0, a real interface")
	require.Equal(t, 2, cli.run("realserver", "status", "--netns", ns, "--state", state))
	assert.Contains(t, cli.out.String(), "1 problem: this real server will not work as configured:\n  vip-on-nic:")
	require.Equal(t, 0, cli.run("realserver", "stop", "--netns", ns, "--state", state))
	assert.Equal(t, "3", sysctlIn(t, l, "be", "eth0", "arp_announce"))
}

// TestRealServerFromFile: the realserver block of a cluster file.
func TestRealServerFromFile(t *testing.T) {
	l := newBackend(t, "rsfile-")
	cli := newRSCLI(t)
	ns := l.NSName("be")
	file := writeConfig(t, `
virtual_server "web" {
  address    = "10.0.3.100"
  port       = 80
  forwarding = "dr"
  real_server { address = "10.0.3.11" }
}
realserver {}
`)
	require.Equal(t, 0, cli.run("realserver", "start", "--netns", ns, "-f", file), cli.errOut.String())
	assert.Contains(t, cli.out.String(), "add     10.0.3.100/32 to lo")
	require.Equal(t, 0, cli.run("realserver", "status", "--netns", ns, "-f", file))
	require.Equal(t, 0, cli.run("realserver", "start", "--netns", ns, "-f", file))
	assert.Contains(t, cli.out.String(), "No changes")
	require.Equal(t, 0, cli.run("realserver", "stop", "--netns", ns))
	assert.NotContains(t, addrsIn(t, l, "be", "lo"), "10.0.3.100/32")
}

// TestRealServerInputErrors needs no privileges: every mistake is caught
// before a namespace is opened or a record written.
func TestRealServerInputErrors(t *testing.T) {
	noBlock := writeConfig(t, `virtual_server "a" {
  address = "10.0.0.1"
  port    = 80
}`)
	invalid := writeConfig(t, `realserver {
  mode = "dr"
  vips = ["10.0.0.1", "10.0.0.1", "fe80::1"]
}`)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"nothing", []string{"realserver", "start"}, []string{"nothing to start: give --vip ADDR"}},
		{"bad flags", []string{"realserver", "start", "--vip", "bogus", "--vip", "10.0.0.1", "--mode", "nat"}, []string{`--mode: unknown mode "nat"`, `--vip "bogus" is not an IP address`}},
		{"gue without port", []string{"realserver", "start", "--vip", "10.0.0.1", "--mode", "tun", "--tunnel", "gue"}, []string{"--tunnel gue needs --tunnel-port PORT"}},
		{"port without gue", []string{"realserver", "start", "--vip", "10.0.0.1", "--mode", "tun", "--tunnel", "gre", "--tunnel-port", "6080"}, []string{"--tunnel-port only applies to --tunnel gue"}},
		{"bad tunnel", []string{"realserver", "start", "--vip", "10.0.0.1", "--mode", "tun", "--tunnel", "vxlan"}, []string{`--tunnel: unknown tunnel type "vxlan" (want ipip, gue or gre)`}},
		{"tunnel in dr", []string{"realserver", "start", "--vip", "10.0.0.1", "--tunnel", "ipip"}, []string{"--tunnel only applies to --mode tun"}},
		{"IPv6 tun", []string{"realserver", "start", "--vip", "2001:db8::1", "--mode", "tun"}, []string{"IPv6 VIPs in tun mode (2001:db8::1) are not supported yet"}},
		{"bad VIPs", []string{"realserver", "start", "--vip", "10.0.0.1", "--vip", "10.0.0.1", "--vip", "127.0.0.1"}, []string{"given twice", "loopback"}},
		{"file without block", []string{"realserver", "start", "-f", noBlock}, []string{"has no realserver block"}},
		{"file and flags", []string{"realserver", "start", "-f", noBlock, "--vip", "10.0.0.1"}, []string{"either -f FILE or --vip"}},
		{"invalid file", []string{"realserver", "start", "-f", invalid}, []string{"Duplicate VIP", "Invalid VIP", "2 error(s), nothing applied"}},
		{"bad output", []string{"realserver", "status", "--vip", "10.0.0.1", "-o", "yaml"}, []string{`-o "yaml": want text or json`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := newRSCLI(t)
			args := append(slices.Clone(tt.args), "--netns", "/nonexistent/ns")
			require.Equal(t, 1, cli.run(args...))
			for _, w := range tt.want {
				assert.Contains(t, cli.errOut.String(), w)
			}
			assert.NotContains(t, cli.errOut.String(), "/nonexistent/ns", "the namespace is never opened")
			entries, _ := os.ReadDir(cli.stateDir)
			assert.Empty(t, entries, "nothing written")
		})
	}
}

func TestRealServerMissingNamespace(t *testing.T) {
	requireRoot(t)
	cli := newRSCLI(t)
	require.Equal(t, 1, cli.run("realserver", "start", "--vip", "10.0.0.1", "--netns", "lvsctl-no-such-ns"))
	assert.Contains(t, cli.errOut.String(), "open network namespace /run/netns/lvsctl-no-such-ns")
}

// TestRealServerTUNWithoutIPIP runs where the kernel has no ipip (our
// hosts): start fails with one clear line and changes nothing.
func TestRealServerTUNWithoutIPIP(t *testing.T) {
	l := newBackend(t, "rsnoipip-")
	var hasIPIP bool
	require.NoError(t, l.Do("be", func() error {
		_, err := net.InterfaceByName("tunl0")
		hasIPIP = err == nil
		return nil
	}))
	if _, err := os.Stat("/sys/module/ipip"); err == nil || hasIPIP {
		t.Skip("this kernel has ipip: the TUN path is tested for real in TestVMRealServerTUN*")
	}
	before := sysctlsIn(t, l, "be", "all", "lo", "eth0")
	cli := newRSCLI(t)
	require.Equal(t, 1, cli.run("realserver", "start", "--mode", "tun", "--vip", "10.0.6.100", "--netns", l.NSName("be")))
	assert.Contains(t, cli.errOut.String(), "lvsctl: the kernel has no IP-in-IP (ipip) support, so tunl0 cannot be created (try: modprobe ipip; it needs CONFIG_NET_IPIP)")
	assert.Empty(t, cli.out.String())
	assert.Equal(t, before, sysctlsIn(t, l, "be", "all", "lo", "eth0"))
	entries, _ := os.ReadDir(filepath.Join(cli.stateDir, "netns"))
	for _, e := range entries {
		assert.True(t, strings.HasSuffix(e.Name(), ".lock"), "no record: %s", e.Name())
	}
}

func TestRealServerHelp(t *testing.T) {
	cli := newRSCLI(t)
	require.Equal(t, 0, cli.run("realserver", "--help"))
	for _, want := range []string{"max(net.ipv4.conf.all.X, net.ipv4.conf.IFACE.X)", "rp_filter", "arp_ignore=1", "Examples:"} {
		assert.Contains(t, cli.out.String(), want)
	}
	for _, sub := range []string{"start", "stop", "status"} {
		require.Equal(t, 0, cli.run("realserver", sub, "--help"))
		assert.Contains(t, cli.out.String(), "lvsctl realserver "+sub)
		assert.Contains(t, cli.out.String(), "realserver record FILE")
	}
}
