package vrrp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Failover time on node loss: r1 (lvsctl, priority 200) is master, r2
// (lvsctl or keepalived, priority 100) backup; r1's cable is pulled just
// after one of its adverts went by (the worst phase), and the time until
// r2 has the VIP (netlink address event) is measured, 3 times. The RFC
// bound is Master_Down_Interval = 3 * advert + (256-100)/256 * advert.
//
//	go test -run '^$' -bench Failover -benchtime 1x ./vrrp/
func BenchmarkFailover(b *testing.B) {
	for _, tc := range []struct {
		name     string
		version  int
		interval time.Duration
	}{
		{"v2-1s", 2, time.Second},
		{"v3-100ms", 3, 100 * time.Millisecond},
	} {
		for _, backup := range []string{"lvsctl", "keepalived"} {
			b.Run(backup+"/"+tc.name, func(b *testing.B) {
				if backup == "keepalived" {
					needKeepalived(b)
				}
				tp := newTopo(b)
				cfg := Config{VRID: 51, Version: tc.version, AdvertInterval: tc.interval, VIPs: []VIP{{Prefix: vip4}},
					Logger: quietLogger()}
				c1, c2 := cfg, cfg
				c1.Priority, c2.Priority = 200, 100
				n1 := tp.start("r1", c1)
				n1.waitState(StateMaster, 5*time.Second)
				var n2 *node
				if backup == "lvsctl" {
					n2 = tp.start("r2", c2)
					n2.waitState(StateBackup, time.Second)
				} else {
					ka := tp.keepalived("r2", kaConfig(tc.version, 100, tc.interval, "", vip4))
					ka.waitLog(b, "Entering BACKUP STATE", 5*time.Second)
				}
				bound := downInterval(tc.interval, 100)
				var times []time.Duration
				for trial := range 3 {
					time.Sleep(2 * tc.interval)
					require.False(b, tp.hasVIP("r2", vip4.Addr()), "trial %d: r2 is backup", trial)
					d := tp.nodeLoss(b, "r1", "r2", netip.MustParseAddr("10.99.0.1"), vip4.Addr(), bound+2*time.Second)
					times = append(times, d)
					// Heal; r1 preempts and r2 drops the VIP.
					tp.cable("r1", true)
					n1.waitState(StateMaster, bound+5*time.Second)
					tp.waitVIP("r2", vip4.Addr(), false, 5*time.Second)
				}
				slices.Sort(times)
				b.ReportMetric(times[1].Seconds(), "s-median")
				b.ReportMetric(bound.Seconds(), "s-rfc-bound")
				b.Logf("failover (node loss), backup %s, %s: median %.3f s (runs %v), RFC bound %.3f s",
					backup, tc.name, times[1].Seconds(), times, bound.Seconds())
				_ = n2
			})
		}
	}
}

// nodeLoss pulls master's cable right after one of its adverts reached the
// client, and returns how long until backup holds vip.
func (tp *topo) nodeLoss(tb testing.TB, master, backup string, masterAddr, vip netip.Addr, within time.Duration) time.Duration {
	tb.Helper()
	h := tp.lab.hosts[backup]
	updates := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	require.NoError(tb, netlink.AddrSubscribeWithOptions(updates, done, netlink.AddrSubscribeOptions{Namespace: &h}))

	tp.waitAdvert(tb, masterAddr)
	cut := time.Now()
	tp.cable(master, false)
	timeout := time.After(within)
	for {
		select {
		case u := <-updates:
			if a, _ := netip.AddrFromSlice(u.LinkAddress.IP); u.NewAddr && a.Unmap() == vip {
				return time.Since(cut)
			}
		case <-timeout:
			tb.Fatalf("%s did not take %v over within %v", backup, vip, within)
		}
	}
}

// waitAdvert returns as soon as a VRRP packet from src reaches the client
// (at most 5 s).
func (tp *topo) waitAdvert(tb testing.TB, src netip.Addr) {
	tb.Helper()
	var fd int
	require.NoError(tb, tp.lab.do("cl", func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifi.Index}); err != nil {
			return err
		}
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000})
	}))
	defer unix.Close(fd)
	buf := make([]byte, 1500)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil || n < 20 {
			continue
		}
		if buf[9] == Protocol && netip.AddrFrom4([4]byte(buf[12:16])) == src {
			return
		}
	}
	tb.Fatalf("no advert from %v within 5 s", src)
}

// CPU use over 10 s at a 0.1 s advert interval (v3), of an lvsctl instance
// as master and as backup, with keepalived as the peer; keepalived's own
// CPU (its parent and VRRP child) over the same 10 s for comparison. The
// test process holds nothing else that runs.
//
//	go test -run '^$' -bench CPU -benchtime 1x ./vrrp/
func BenchmarkCPU(b *testing.B) {
	for _, role := range []string{"master", "backup"} {
		b.Run("lvsctl-"+role, func(b *testing.B) {
			needKeepalived(b)
			tp := newTopo(b)
			cfg := Config{VRID: 51, Version: 3, AdvertInterval: 100 * time.Millisecond, VIPs: []VIP{{Prefix: vip4}},
				Logger: quietLogger()}
			var n *node
			var ka *keepalived
			if role == "master" {
				cfg.Priority = 200
				n = tp.start("r1", cfg)
				n.waitState(StateMaster, 2*time.Second)
				ka = tp.keepalived("r2", kaConfig(3, 100, 100*time.Millisecond, "", vip4))
				ka.waitLog(b, "Entering BACKUP STATE", 5*time.Second)
			} else {
				ka = tp.keepalived("r1", kaConfig(3, 200, 100*time.Millisecond, "", vip4))
				tp.waitVIP("r1", vip4.Addr(), true, 5*time.Second)
				cfg.Priority = 100
				n = tp.start("r2", cfg)
				n.waitState(StateBackup, time.Second)
			}
			time.Sleep(500 * time.Millisecond)
			const window = 10 * time.Second
			before, kaBefore, st0 := selfCPU(b), ka.cpu(), n.in.Status().Counters
			time.Sleep(window)
			ours, theirs, st1 := selfCPU(b)-before, ka.cpu()-kaBefore, n.in.Status().Counters
			pct := func(d time.Duration) float64 { return 100 * d.Seconds() / window.Seconds() }
			b.ReportMetric(pct(ours), "%cpu-lvsctl")
			b.ReportMetric(pct(theirs), "%cpu-keepalived")
			b.Logf("CPU over %v at advert 0.1 s: lvsctl %s %v (%.2f%%; %d adverts sent, %d received), keepalived peer %v (%.2f%%)",
				window, role, ours, pct(ours), st1.AdvertsSent-st0.AdvertsSent, st1.AdvertsReceived-st0.AdvertsReceived,
				theirs, pct(theirs))
		})
	}
}

// selfCPU is the user+system CPU time of this process so far.
func selfCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	require.NoError(tb, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpu is the CPU time of keepalived's parent and VRRP child (both single
// threaded), from /proc/PID/schedstat in nanoseconds (/proc/PID/stat counts
// 10 ms ticks, too coarse for 10 s of an idle daemon).
func (k *keepalived) cpu() time.Duration {
	var total time.Duration
	for _, pid := range []int{k.cmd.Process.Pid, k.vrrpChild()} {
		if pid == 0 {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}
