package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
)

// TestVMBGPRunDummyLinkSloppy: in the guest (IPVS, dummy links), `lvsctl
// run` with a DR mh service behind a bgp block and the default
// vip_interface creates the dummy link lvsctl0 with the VIP, sets
// net.ipv4.vs.sloppy_tcp in its namespace, announces once the real server
// has been checked, withdraws when it fails (quorum), and on SIGTERM
// deletes the link and restores sloppy_tcp, leaving the IPVS table. The
// neighbor does not exist: the speaker announces into its RIB, which is
// what `lvsctl status` reports.
func TestVMBGPRunDummyLinkSloppy(t *testing.T) {
	requireVM(t)
	l := lab.New(fmt.Sprintf("lvbv%d-", os.Getpid()%100000))
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	require.NoError(t, l.AddHost("d1"))
	require.NoError(t, l.AddHost("be"))
	require.NoError(t, l.Link("d1", "eth0", "10.90.0.2/24", "be", "eth0", "10.90.0.10/24"))
	stopBackend, err := l.Serve("be", "10.90.0.10:80", nil)
	require.NoError(t, err)

	const vip = "198.51.100.90"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "lvsctl.hcl")
	require.NoError(t, os.WriteFile(cfg, []byte(`
virtual_server "web" {
  address         = "`+vip+`"
  port            = 80
  scheduler       = "mh"
  scheduler_flags = ["mh-port"]
  forwarding      = "dr"
  delay_loop      = 0.5
  connect_timeout = 0.5
  retry           = 0
  check "tcp" {}
  real_server { address = "10.90.0.10" }
}

bgp {
  asn        = 65001
  router_id  = "10.90.0.2"
  drain_time = 0.2
  sloppy_tcp = true
  neighbor "nobody" {
    address = "10.90.0.1"
    asn     = 65000
  }
  announce "web" {
    vips                 = ["`+vip+`"]
    track_virtual_server = ["web"]
  }
  announce "v6" {
    vips = ["2001:db8::90"]
  }
}
`), 0o644))

	// Read from a thread in d1: /proc/sys/net is the reading thread's
	// namespace's, /proc/thread-self/net too.
	readIn := func(path string) string {
		var b []byte
		require.NoError(t, l.Do("d1", func() error {
			var err error
			b, err = os.ReadFile(path)
			return err
		}))
		return string(b)
	}
	sloppy := func() string { return strings.TrimSpace(readIn("/proc/sys/net/ipv4/vs/sloppy_tcp")) }
	link := func() (typ, alias string, addrs []string) {
		require.NoError(t, l.Do("d1", func() error {
			lk, err := netlink.LinkByName("lvsctl0")
			if err != nil {
				return nil // absent
			}
			typ, alias = lk.Type(), lk.Attrs().Alias
			ifc, err := net.InterfaceByName("lvsctl0")
			if err != nil {
				return err
			}
			as, err := ifc.Addrs()
			for _, a := range as {
				addrs = append(addrs, a.String())
			}
			return err
		}))
		return typ, alias, addrs
	}
	// tryStatus is false while the daemon does not answer yet (exit 3).
	tryStatus := func() (statusapi.Status, bool) {
		cmd := exec.Command(os.Args[0], "status", "--netns", l.NSPath("d1"), "-o", "json")
		cmd.Env = append(os.Environ(), "LVSCTL_TEST_AS_CLI=1")
		out, err := cmd.Output()
		var st statusapi.Status
		if err != nil || json.Unmarshal(out, &st) != nil || st.BGP == nil {
			return st, false
		}
		return st, true
	}
	status := func() statusapi.Status {
		st, ok := tryStatus()
		require.True(t, ok, "lvsctl status")
		return st
	}

	require.Equal(t, "0", sloppy(), "the kernel's default")
	d := startDaemon(t, "-f", cfg, "--netns", l.NSPath("d1"), "--state", filepath.Join(dir, "state.json"))
	waitUntil(t, 10*time.Second, "announced once the real server is checked", func() bool {
		st, ok := tryStatus()
		return ok && slices.Contains(st.BGP.Announced, vip+"/32")
	})
	typ, alias, addrs := link()
	assert.Equal(t, "dummy", typ)
	assert.Equal(t, "lvsctl vip_interface", alias)
	assert.Contains(t, addrs, vip+"/32")
	assert.Contains(t, addrs, "2001:db8::90/128", "an IPv6 VIP as a /128 (no DAD)")
	assert.Equal(t, "1", sloppy())
	st := status()
	assert.True(t, st.BGP.SloppyTCP)
	assert.Equal(t, uint64(2), st.BGP.Announces["load"], "both VIPs")
	assert.Zero(t, st.BGP.Withdraws["settling"], "never announced before the first check round")

	stopBackend()
	waitUntil(t, 5*time.Second, "withdrawn on quorum loss", func() bool {
		b := status().BGP
		return !slices.Contains(b.Announced, vip+"/32") && b.Withdraws["quorum"] == 1
	})
	_, _, addrs = link()
	assert.Contains(t, addrs, vip+"/32", "the VIP stays on the link while withdrawn")
	assert.Equal(t, []string{"2001:db8::90/128"}, status().BGP.Announced, "the untracked announce is not affected")

	d.signal(t, syscall.SIGTERM)
	require.NoError(t, d.wait(t))
	typ, _, _ = link()
	assert.Empty(t, typ, "lvsctl0 deleted at stop")
	assert.Equal(t, "0", sloppy(), "sloppy_tcp restored")
	table := readIn("/proc/thread-self/net/ip_vs")
	assert.Contains(t, strings.ToUpper(table), "C633645A:0050", "the IPVS table is left in place:\n%s", table)
}
