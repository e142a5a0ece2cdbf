package checker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netns"
)

// This file gives the probers' tests a real peer: a network namespace the
// test creates, joined to the test's own namespace by a veth pair with an
// IPv4 /30 and an IPv6 /64 of random test addresses, in which the test
// runs real servers (dnsmasq, aiosmtpd) and nftables rules. The namespace
// and its veth pair are deleted when the test ends.

// peerNS is one namespace a test created.
type peerNS struct {
	name          string
	local, peer   netip.Addr // IPv4: this side, the namespace's side
	local6, peer6 netip.Addr // IPv6
}

// needTool skips a test without the program it needs, or fails it under CI.
func needTool(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %s is missing (install %s; make host-deps does)", name, pkg)
		}
		t.Skipf("%s is missing (install %s; make host-deps does)", name, pkg)
	}
	return path
}

// newPeerNS creates a namespace and its veth pair. It needs root and
// iproute2.
func newPeerNS(t testing.TB) *peerNS {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and the test needs root to create a network namespace")
		}
		t.Skip("needs root to create a network namespace")
	}
	needTool(t, "ip", "iproute2")
	var r [4]byte
	_, _ = rand.Read(r[:])
	id := fmt.Sprintf("%02x%02x%02x", r[0], r[1], r[2])
	// 198.18.0.0/15 is for benchmarks and tests (RFC 2544): a random /30.
	base := netip.AddrFrom4([4]byte{198, 18 + r[0]&1, r[1], r[2] &^ 3})
	n := &peerNS{
		name:   "lvsctl-ck-" + id,
		local:  base.Next(),
		peer:   base.Next().Next(),
		local6: netip.MustParseAddr(fmt.Sprintf("fd6c:636b:%02x%02x:%02x00::1", r[0], r[1], r[2])),
		peer6:  netip.MustParseAddr(fmt.Sprintf("fd6c:636b:%02x%02x:%02x00::2", r[0], r[1], r[2])),
	}
	hostIf, peerIf := "ck"+id+"h", "ck"+id+"p"
	ip(t, "netns", "add", n.name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.name).Run() })
	ip(t, "link", "add", hostIf, "type", "veth", "peer", "name", peerIf, "netns", n.name)
	ip(t, "addr", "add", n.local.String()+"/30", "dev", hostIf)
	ip(t, "addr", "add", n.local6.String()+"/64", "dev", hostIf, "nodad")
	ip(t, "link", "set", hostIf, "up")
	n.ip(t, "link", "set", "lo", "up")
	n.ip(t, "addr", "add", n.peer.String()+"/30", "dev", peerIf)
	n.ip(t, "addr", "add", n.peer6.String()+"/64", "dev", peerIf, "nodad")
	n.ip(t, "link", "set", peerIf, "up")
	// ICMP errors unlimited: waiting for a server to start costs port
	// unreachables that would otherwise use up the rate limit's burst.
	n.run(t, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0")
	return n
}

func ip(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// ip runs ip in the namespace.
func (n *peerNS) ip(t testing.TB, args ...string) {
	t.Helper()
	ip(t, append([]string{"-n", n.name}, args...)...)
}

// run runs a command in the namespace and waits for it.
func (n *peerNS) run(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// start starts a server in the namespace, killed (by its pid) when the test
// ends.
func (n *peerNS) start(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start(), "start %s", args[0])
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s: %s", args[0], out.String())
		}
	})
	return cmd
}

// drop makes the namespace drop every packet of an nftables match, as
// in "ip protocol icmp" or "udp dport 53".
func (n *peerNS) drop(t testing.TB, match string) {
	t.Helper()
	needTool(t, "nft", "nftables")
	n.run(t, "nft", "add table inet ck")
	n.run(t, "nft", "add chain inet ck in { type filter hook input priority 0 ; }")
	n.run(t, "nft", "add rule inet ck in "+match+" drop")
}

// undrop removes the rules of drop.
func (n *peerNS) undrop(t testing.TB) {
	t.Helper()
	n.run(t, "nft", "delete table inet ck")
}

// waitUDP waits until something answers on a UDP port of the namespace
// (a server the test started): a probe of send answers within 100ms.
func waitUDP(t testing.TB, addr netip.AddrPort, send []byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("udp", addr.String())
		require.NoError(t, err)
		_ = c.SetDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = c.Write(send)
		_, err = c.Read(make([]byte, 512))
		c.Close()
		if err == nil {
			return
		}
	}
	t.Fatalf("nothing answers on udp %s", addr)
}

// waitTCP waits until a TCP port of the namespace accepts connections.
func waitTCP(t testing.TB, addr netip.AddrPort) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on tcp %s", addr)
}

// inNS runs fn on a thread that is in the namespace name: the sockets fn
// creates live in that namespace.
func inNS(t testing.TB, name string, fn func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked if the way back fails: the thread then dies
		orig, err := netns.Get()
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		h, err := netns.GetFromName(name)
		if err != nil {
			done <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			done <- err
			return
		}
		fn()
		if err := netns.Set(orig); err != nil {
			done <- err
			return
		}
		runtime.UnlockOSThread()
		done <- nil
	}()
	require.NoError(t, <-done)
}

var _ = context.Background
