//go:build linux && !nobgp

package bgp

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The scale-out tier: two directors announce the same VIP to one router,
// whose kernel FIB must hold one ECMP route with a next hop per director,
// lose a director's next hop when it withdraws or is cut off, and lose the
// route when none announces it. The measured convergence times are logged.

// ecmpAnnounceWithdraw announces vip from both directors, then withdraws it
// from director 1 and then from director 2, checking the router's FIB at
// each step.
func ecmpAnnounceWithdraw(t *testing.T, l *lab, hs []*helper, vip string) {
	t.Helper()
	prefix := vip + "/32"
	if strings.Contains(vip, ":") {
		prefix = vip + "/128"
	}
	for _, h := range hs {
		h.do(t, "announce "+prefix)
	}
	took := l.waitRoute(t, vip, 10*time.Second, 1, 2)
	t.Logf("%s: ECMP route via both directors in the router's FIB %v after the second announce", vip, took)
	t.Logf("route: %s", l.route(t, vip))

	hs[0].do(t, "announce")
	took = l.waitRoute(t, vip, 5*time.Second, 2)
	t.Logf("%s: director 1's withdrawal reached the FIB in %v", vip, took)
	if took > time.Second {
		t.Errorf("director 1's withdrawal took %v, want under 1 s", took)
	}
	hs[1].do(t, "announce")
	took = l.waitRoute(t, vip, 5*time.Second)
	t.Logf("%s: director 2's withdrawal removed the route in %v", vip, took)
	if took > time.Second {
		t.Errorf("director 2's withdrawal took %v, want under 1 s", took)
	}
}

func TestFRRECMP(t *testing.T) {
	requireFRR(t)
	l := newLab(t, 2)
	l.startFRR(t, frrConf(routerOpts{directors: 2}))
	hs := []*helper{l.startHelper(t, 1, false, false, 0), l.startHelper(t, 2, false, false, 0)}
	ecmpAnnounceWithdraw(t, l, hs, "198.51.100.20")
}

func TestBirdECMPIPv6(t *testing.T) {
	requireBird(t)
	l := newLab(t, 2)
	b := l.startBird(t, birdConf(routerOpts{directors: 2, v6: true}))
	hs := []*helper{l.startHelper(t, 1, true, false, 0), l.startHelper(t, 2, true, false, 0)}
	if out := b.show(t, "show", "protocols", "all", "director1"); !strings.Contains(out, "Neighbor address: fd77:1::2") {
		t.Errorf("bird's session director1 is not over IPv6:\n%s", out)
	}
	ecmpAnnounceWithdraw(t, l, hs, "2001:db8::10")
}

// TestBirdBFD cuts director 1 off at the router (nftables drops everything
// it receives from d1, so the TCP session stays open until the 9 s hold
// time) and measures how long the router's FIB keeps the dead next hop: BFD
// 100 ms x 3 must remove it well under 1 s. Lifting the cut must bring the
// next hop back.
func TestBirdBFD(t *testing.T) {
	requireLab(t, "bird", "birdc", "nft")
	l := newLab(t, 2)
	b := l.startBird(t, birdConf(routerOpts{directors: 2, bfd: true}))
	hs := []*helper{l.startHelper(t, 1, false, true, 0), l.startHelper(t, 2, false, true, 0)}
	const vip = "198.51.100.30"
	for _, h := range hs {
		h.do(t, "announce "+vip+"/32")
	}
	l.waitRoute(t, vip, 10*time.Second, 1, 2)
	// GoBGP starts a BFD session up to 2 s after its neighbor (1 s tickers).
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(b.show(t, "show", "bfd", "sessions"), " Up ") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("bird's BFD sessions never came up:\n%s", b.show(t, "show", "bfd", "sessions"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("bfd sessions:\n%s", b.show(t, "show", "bfd", "sessions"))

	nft := func(cmd string) { run(t, "ip", "netns", "exec", l.router, "nft", cmd) }
	nft("add table inet lvcut")
	nft("add chain inet lvcut in { type filter hook input priority 0 ; }")
	start := time.Now()
	nft(`add rule inet lvcut in iifname "d1" drop`)
	l.waitRoute(t, vip, 15*time.Second, 2)
	took := time.Since(start)
	t.Logf("director 1 cut off: its next hop left the router's FIB in %v (BFD 100 ms x 3)", took)
	if took > time.Second {
		t.Errorf("the dead next hop stayed %v, want under 1 s with BFD", took)
	}
	if b.established(t, "director1") {
		t.Error("bird's session director1 still established after the BFD failure")
	}

	start = time.Now()
	nft("delete table inet lvcut")
	l.waitRoute(t, vip, 20*time.Second, 1, 2)
	t.Logf("cut lifted: director 1 back in the router's FIB in %v", time.Since(start))

	// The other direction: director 2 hears nothing more from the router
	// (its own nftables drops its input) while the router still hears it.
	// GoBGP's BFD must expire and reset the session, whose Cease reaches
	// bird: this times the embedded speaker's own BFD.
	dnft := func(cmd string) { run(t, "ip", "netns", "exec", l.directors[1], "nft", cmd) }
	dnft("add table inet lvcut")
	dnft("add chain inet lvcut in { type filter hook input priority 0 ; }")
	start = time.Now()
	dnft(`add rule inet lvcut in iifname "eth0" drop`)
	l.waitRoute(t, vip, 15*time.Second, 1)
	took = time.Since(start)
	t.Logf("director 2 deaf: its next hop left the router's FIB in %v (GoBGP's BFD expiry, then its Cease)", took)
	if took > time.Second {
		t.Errorf("the deaf director's next hop stayed %v, want under 1 s with BFD", took)
	}
}

// TestScaleOutDocConfigs keeps docs/scale-out.md quoting the router
// configurations these tests run.
func TestScaleOutDocConfigs(t *testing.T) {
	doc, err := os.ReadFile("../docs/scale-out.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, conf := range map[string]string{
		"bird2, two directors, BFD": birdConf(routerOpts{directors: 2, bfd: true}),
		"bird2, IPv6 sessions":      birdConf(routerOpts{directors: 2, v6: true}),
		"FRR":                       frrConf(routerOpts{directors: 2}),
	} {
		if !strings.Contains(string(doc), conf) {
			t.Errorf("docs/scale-out.md does not quote the %s configuration the tests run:\n%s", name, conf)
		}
	}
}

// protoLine is bird's one-line status of a protocol: its state and since when.
func (b *bird) protoLine(t *testing.T, proto string) string {
	t.Helper()
	for _, line := range strings.Split(b.show(t, "show", "protocols", proto), "\n") {
		if strings.HasPrefix(line, proto+" ") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return ""
}

// TestBirdSetConfigNoFlap reloads the speaker with a new hold time and
// checks that bird's session did not notice: same state, same "since".
func TestBirdSetConfigNoFlap(t *testing.T) {
	requireBird(t)
	l := newLab(t, 1)
	b := l.startBird(t, birdConf(routerOpts{directors: 1, bfd: true}))
	h := l.startHelper(t, 1, false, true, 0)
	const vip = "198.51.100.40"
	h.do(t, "announce "+vip+"/32")
	l.waitRoute(t, vip, 10*time.Second, 1)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(b.show(t, "show", "bfd", "sessions"), " Up ") {
		if time.Now().After(deadline) {
			t.Fatal("bird's BFD session never came up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := b.protoLine(t, "director1")
	if !strings.Contains(before, "Established") {
		t.Fatalf("bird: %q, want established", before)
	}
	h.do(t, "hold 6s")
	time.Sleep(1500 * time.Millisecond) // a Cease or a BFD loss shows within this
	if now := b.protoLine(t, "director1"); now != before {
		t.Errorf("hold time reload: bird's session went from %q to %q, want untouched", before, now)
	}
	if l.route(t, vip) == "" {
		t.Error("hold time reload: the VIP left the router's FIB")
	}

	// A BFD change restarts GoBGP's BFD session; bird sees it go down and
	// resets the BGP session (bgp.reopens counts it as re-opening). The
	// session and the route must come back on their own.
	start := time.Now()
	h.do(t, "bfd-interval 200ms")
	time.Sleep(time.Second)
	t.Logf("bfd reload: bird's session %q -> %q", before, b.protoLine(t, "director1"))
	deadline = time.Now().Add(20 * time.Second)
	for !b.established(t, "director1") || l.route(t, vip) == "" ||
		!strings.Contains(b.show(t, "show", "bfd", "sessions"), " Up ") {
		if time.Now().After(deadline) {
			t.Fatalf("after the bfd reload: bird %q, route %q, bfd %s", b.protoLine(t, "director1"), l.route(t, vip), b.show(t, "show", "bfd", "sessions"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("bfd reload: session, BFD and route back after %v: %s", time.Since(start), b.show(t, "show", "bfd", "sessions"))
}
