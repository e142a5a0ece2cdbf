package main

// Real-kernel tests of lvsctl realserver (TUN needs ipip, which only the
// guest's kernel has) and of DR and TUN traffic end to end: a client, a
// director programmed with lvsctl apply, and backends prepared with lvsctl
// realserver start, all in namespaces of the guest, talking HTTP.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// linkIn returns dev in host, or nil.
func linkIn(t *testing.T, l *lab.Lab, host, dev string) *net.Interface {
	t.Helper()
	var ifc *net.Interface
	require.NoError(t, l.Do(host, func() error {
		ifc, _ = net.InterfaceByName(dev)
		return nil
	}))
	return ifc
}

// baseline is what realserver may touch on a backend: all, lo, eth0, and
// tunl0 as it is, or as it will be when loading ipip makes it (a new
// device copies `default`).
func baseline(t *testing.T, l *lab.Lab, host string) map[string]string {
	t.Helper()
	b := sysctlsIn(t, l, host, "all", "lo", "eth0")
	src := "default"
	if linkIn(t, l, host, "tunl0") != nil {
		src = "tunl0"
	}
	for k, v := range sysctlsIn(t, l, host, src) {
		b["tunl0"+strings.TrimPrefix(k, src)] = v
	}
	return b
}

// getWithin fetches the VIP from the client, giving up after d.
func getWithin(l *lab.Lab, url string, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return l.Get(ctx, "client", url)
}

func TestVMRealServerTUNStartStop(t *testing.T) {
	requireVM(t)
	l := lab.New("vmrstun-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("be"))
	require.NoError(t, l.AddHost("peer"))
	require.NoError(t, l.Link("be", "eth0", "10.0.7.2/24", "peer", "eth0", "10.0.7.1/24"))
	// Strict reverse-path filtering everywhere: TUN cannot work like this.
	confs := []string{"all", "default", "eth0"}
	if linkIn(t, l, "be", "tunl0") != nil {
		confs = append(confs, "tunl0") // ipip was loaded before this test
	}
	for _, k := range confs {
		require.NoError(t, l.Sysctl("be", "net.ipv4.conf."+k+".rp_filter", "1"))
	}
	require.NoError(t, l.Sysctl("be", "net.ipv4.conf.all.arp_announce", "1"))
	before := baseline(t, l, "be")
	cli := newVMCLI(t, l.NSPath("be"))

	require.Equal(t, 0, cli.run("realserver", "start", "--mode", "tun", "--vip", "10.0.6.100"), cli.errOut.String())
	out := cli.out.String()
	for _, want := range []string{
		"set     net.ipv4.conf.all.arp_ignore = 1 (was 0)",
		"set     net.ipv4.conf.all.arp_announce = 2 (was 1)",
		"set     net.ipv4.conf.tunl0.arp_ignore = 1 (was 0)",
		"set     net.ipv4.conf.tunl0.arp_announce = 2 (was 0)",
		"set     net.ipv4.conf.all.rp_filter = 0 (was 1)",
		"set     net.ipv4.conf.tunl0.rp_filter = 0 (was 1)",
		"up      tunl0",
		"add     10.0.6.100/32 to tunl0",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "create", "the ipip module makes tunl0 itself")
	tunl0 := linkIn(t, l, "be", "tunl0")
	require.NotNil(t, tunl0)
	assert.NotZero(t, tunl0.Flags&net.FlagUp)
	assert.Contains(t, addrsIn(t, l, "be", "tunl0"), "10.0.6.100/32")
	assert.Equal(t, "1", sysctlIn(t, l, "be", "eth0", "rp_filter"), "rp_filter on eth0 does not matter for tunl0: left alone")

	require.Equal(t, 0, cli.run("realserver", "start", "--mode", "tun", "--vip", "10.0.6.100"))
	assert.Contains(t, cli.out.String(), "No changes")

	require.Equal(t, 0, cli.run("realserver", "status", "-o", "json"))
	var st struct {
		Mode     string
		Device   string
		DeviceUp bool `json:"device_up"`
		Started  bool
		Problems []struct{ Code string }
		VIPs     []struct{ Added bool }
	}
	require.NoError(t, json.Unmarshal(cli.out.Bytes(), &st))
	assert.Equal(t, "tun", st.Mode)
	assert.Equal(t, "tunl0", st.Device)
	assert.True(t, st.DeviceUp && st.Started)
	assert.Empty(t, st.Problems)

	// Strict rp_filter comes back behind lvsctl's back: status says so.
	require.NoError(t, l.Sysctl("be", "net.ipv4.conf.tunl0.rp_filter", "1"))
	require.Equal(t, 2, cli.run("realserver", "status"))
	assert.Contains(t, cli.out.String(), "rp-filter: strict reverse-path filtering on tunl0 (rp_filter = max(all 0, tunl0 1) = 1)")
	require.NoError(t, l.Sysctl("be", "net.ipv4.conf.tunl0.rp_filter", "0"))

	require.Equal(t, 0, cli.run("realserver", "stop"))
	assert.Contains(t, cli.out.String(), "down    tunl0")
	assert.Equal(t, before, baseline(t, l, "be"), "every sysctl as it was")
	tunl0 = linkIn(t, l, "be", "tunl0")
	require.NotNil(t, tunl0, "the module's tunl0 stays")
	assert.Zero(t, tunl0.Flags&net.FlagUp, "down again, as it came")
	assert.NotContains(t, addrsIn(t, l, "be", "tunl0"), "10.0.6.100/32")
}

// TestVMRealServerTUNCreatesTunl0: with fallback tunnels kept out of new
// namespaces (net.core.fb_tunnels_only_for_init_net=1), start creates
// tunl0 itself, and stop deletes it again.
func TestVMRealServerTUNCreatesTunl0(t *testing.T) {
	requireVM(t)
	out, err := exec.Command("/sbin/modprobe", "ipip").CombinedOutput()
	require.NoError(t, err, "%s", out)
	const knob = "/proc/sys/net/core/fb_tunnels_only_for_init_net"
	old, err := os.ReadFile(knob)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(knob, []byte("1"), 0o644))
	t.Cleanup(func() { os.WriteFile(knob, old, 0o644) })

	l := lab.New("vmrsmk-")
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.AddHost("be"))
	require.Nil(t, linkIn(t, l, "be", "tunl0"), "no fallback device in a new namespace")
	before := sysctlsIn(t, l, "be", "all", "lo")
	cli := newVMCLI(t, l.NSPath("be"))

	require.Equal(t, 0, cli.run("realserver", "start", "--mode", "tun", "--vip", "10.0.6.100"), cli.errOut.String())
	assert.Contains(t, cli.out.String(), "create  tunl0 (ipip)")
	assert.Contains(t, addrsIn(t, l, "be", "tunl0"), "10.0.6.100/32")
	require.Equal(t, 0, cli.run("realserver", "status"))

	require.Equal(t, 0, cli.run("realserver", "stop"))
	assert.Contains(t, cli.out.String(), "delete  tunl0")
	assert.Nil(t, linkIn(t, l, "be", "tunl0"))
	assert.Equal(t, before, sysctlsIn(t, l, "be", "all", "lo"))
}

// trafficCheck sends n requests for the VIP from the client and returns
// the answers ("" for a request that failed).
func trafficCheck(t *testing.T, l *lab.Lab, vip netip.Addr, n int, timeout time.Duration) []string {
	t.Helper()
	var answers []string
	for i := 0; i < n; i++ {
		body, err := getWithin(l, fmt.Sprintf("http://%s/", vip), timeout)
		if err != nil {
			t.Logf("request %d: %v", i, err)
		}
		answers = append(answers, body)
	}
	t.Logf("answers: %q", answers)
	return answers
}

// runTraffic is the end-to-end scenario for both modes: without realserver
// start the backends drop the director's packets; after it, both answer in
// turn; after stop on be1, be1's sysctls are as they were and the requests
// scheduled to it fail while be2 keeps answering.
func runTraffic(t *testing.T, l *lab.Lab, top *lab.Topology, mode, config string) {
	for i := range top.Backends {
		name := fmt.Sprintf("be%d", i+1)
		require.NoError(t, l.ServeHTTP(name, ":80", name))
	}
	director := newVMCLI(t, l.NSPath("director"))
	require.Equal(t, 0, director.run("apply", "-f", writeHCL(t, "director.hcl", config)), director.errOut.String())

	url := fmt.Sprintf("http://%s/", top.VIP)
	_, err := getWithin(l, url, 2*time.Second)
	require.Error(t, err, "without the VIP on the backends, %s cannot work", mode)

	before := baseline(t, l, "be1")
	backends := make([]*vmCLI, len(top.Backends))
	for i := range top.Backends {
		backends[i] = newVMCLI(t, l.NSPath(fmt.Sprintf("be%d", i+1)))
		require.Equal(t, 0, backends[i].run("realserver", "start", "--mode", mode, "--vip", top.VIP.String()), backends[i].errOut.String())
		require.Equal(t, 0, backends[i].run("realserver", "status"), backends[i].out.String())
	}

	answers := trafficCheck(t, l, top.VIP, 4, 5*time.Second)
	require.ElementsMatch(t, []string{"be1", "be2"}, answers[:2], "both backends answer")
	assert.Equal(t, answers[:2], answers[2:], "round robin alternates")

	require.Equal(t, 0, backends[0].run("realserver", "stop"))
	assert.Equal(t, before, baseline(t, l, "be1"), "be1's sysctls are as they were before start")

	answers = trafficCheck(t, l, top.VIP, 4, 2*time.Second)
	failed := 0
	for _, a := range answers {
		switch a {
		case "":
			failed++
		default:
			assert.Equal(t, "be2", a, "only be2 answers")
		}
	}
	assert.Equal(t, 2, failed, "the requests scheduled to be1 fail")
}

func TestVMRealServerDRTraffic(t *testing.T) {
	requireVM(t)
	l := lab.New("vmrsdr-")
	t.Cleanup(func() { l.Close() })
	top, err := l.DRTopology(2)
	require.NoError(t, err)
	runTraffic(t, l, top, "dr", fmt.Sprintf(`
virtual_server "web" {
  address    = "%s"
  port       = 80
  scheduler  = "rr"
  forwarding = "dr"
  real_server { address = "%s" }
  real_server { address = "%s" }
}`, top.VIP, top.Backends[0], top.Backends[1]))

	// The client learnt the VIP from the director only: be2, which still
	// has the VIP, never answered ARP for it.
	var dirMAC, vipMAC string
	require.NoError(t, l.Do("director", func() error {
		ifc, err := net.InterfaceByName("eth0")
		if err == nil {
			dirMAC = ifc.HardwareAddr.String()
		}
		return err
	}))
	require.NoError(t, l.Do("client", func() error {
		neigh, err := netlink.NeighList(0, netlink.FAMILY_V4)
		for _, n := range neigh {
			if n.IP.Equal(net.IP(top.VIP.AsSlice())) {
				vipMAC = n.HardwareAddr.String()
			}
		}
		return err
	}))
	assert.Equal(t, dirMAC, vipMAC, "the client's ARP entry for the VIP is the director's")
}

func TestVMRealServerTUNTraffic(t *testing.T) {
	requireVM(t)
	l := lab.New("vmrstt-")
	t.Cleanup(func() { l.Close() })
	top, err := l.TUNTopology(2)
	require.NoError(t, err)
	// Strict reverse-path filtering on the backends, as many distributions
	// ship it: lvsctl realserver must turn it off for tunl0.
	for i := range top.Backends {
		for _, k := range []string{"all", "default"} {
			require.NoError(t, l.Sysctl(fmt.Sprintf("be%d", i+1), "net.ipv4.conf."+k+".rp_filter", "1"))
		}
	}
	runTraffic(t, l, top, "tun", fmt.Sprintf(`
virtual_server "web" {
  address    = "%s"
  port       = 80
  scheduler  = "rr"
  forwarding = "tun"
  real_server { address = "%s" }
  real_server { address = "%s" }
}`, top.VIP, top.Backends[0], top.Backends[1]))
}
