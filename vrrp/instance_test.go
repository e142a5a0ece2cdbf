package vrrp

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a Clock whose time moves only when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c      *fakeClock
	ch     chan time.Time
	at     time.Time
	active bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer() Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) ResetAt(deadline time.Time) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	select {
	case <-t.ch:
	default:
	}
	t.at, t.active = deadline, true
	t.c.fire()
}

func (t *fakeTimer) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.active = false
	select {
	case <-t.ch:
	default:
	}
}

// Advance moves time forward, firing the timers that come due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fire()
}

func (c *fakeClock) fire() {
	for _, t := range c.timers {
		if t.active && !c.now.Before(t.at) {
			t.active = false
			t.ch <- c.now
		}
	}
}

// fakeSystem records what the instance does to the host.
type fakeSystem struct {
	src     netip.Addr
	in      chan packet
	sent    chan sentAdvert
	links   chan bool
	closed  chan struct{}
	mu      sync.Mutex
	vips    bool
	deletes int
	garps   int
	dels    chan struct{}
	gone    string // what missing reports
}

type sentAdvert struct {
	b   []byte
	dst netip.Addr
}

func newFakeSystem(src netip.Addr) *fakeSystem {
	return &fakeSystem{src: src, in: make(chan packet), sent: make(chan sentAdvert, 100),
		links: make(chan bool, 1), closed: make(chan struct{}), dels: make(chan struct{}, 1)}
}

func (f *fakeSystem) primary() netip.Addr { return f.src }
func (f *fakeSystem) recv([]byte) (packet, error) {
	select {
	case p := <-f.in:
		return p, nil
	case <-f.closed:
		return packet{}, net.ErrClosed
	}
}
func (f *fakeSystem) send(b []byte, dst netip.Addr) error {
	f.sent <- sentAdvert{b, dst}
	return nil
}
func (f *fakeSystem) addVIPs() error { f.mu.Lock(); f.vips = true; f.mu.Unlock(); return nil }
func (f *fakeSystem) delVIPs() error {
	f.mu.Lock()
	f.vips = false
	f.deletes++
	f.mu.Unlock()
	return nil
}
func (f *fakeSystem) announce() error            { f.mu.Lock(); f.garps++; f.mu.Unlock(); return nil }
func (f *fakeSystem) linkUp() bool               { return true }
func (f *fakeSystem) linkChanges() <-chan bool   { return f.links }
func (f *fakeSystem) close() error               { close(f.closed); return nil }
func (f *fakeSystem) deletions() <-chan struct{} { return f.dels }
func (f *fakeSystem) missing() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.vips {
		return ""
	}
	return f.gone
}
func (f *fakeSystem) state() (vips bool, garps int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.vips, f.garps
}

// harness runs an Instance on the fake clock and system.
type harness struct {
	t     *testing.T
	in    *Instance
	clock *fakeClock
	sys   *fakeSystem
	trans chan Transition
	done  chan error
	stop  context.CancelFunc
}

func startHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(), sys: newFakeSystem(r1), trans: make(chan Transition, 100), done: make(chan error, 1)}
	cfg.Clock = h.clock
	cfg.OnTransition = func(tr Transition) { h.trans <- tr }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	var err error
	h.in, err = New(cfg)
	require.NoError(t, err)
	h.in.open = func(*Instance) (system, error) { return h.sys, nil }
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.done <- h.in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
	return h
}

// expect waits (a bounded real time) for the next transition.
func (h *harness) expect(from, to State) Transition {
	h.t.Helper()
	select {
	case tr := <-h.trans:
		require.Equal(h.t, from.String()+">"+to.String(), tr.From.String()+">"+tr.To.String(), tr.Reason)
		return tr
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no transition %v>%v", from, to)
	}
	return Transition{}
}

func (h *harness) advert() sentAdvert {
	h.t.Helper()
	select {
	case a := <-h.sys.sent:
		return a
	case <-time.After(5 * time.Second):
		h.t.Fatal("no advert sent")
	}
	return sentAdvert{}
}

func (h *harness) noAdvert() {
	h.t.Helper()
	select {
	case a := <-h.sys.sent:
		h.t.Fatalf("unexpected advert % x", a.b)
	case <-time.After(20 * time.Millisecond):
	}
}

// eventually polls cond for a bounded real time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// inject delivers a packet to the instance and waits until it is counted.
func (h *harness) inject(p packet) {
	h.t.Helper()
	before := h.in.Status().Counters
	h.sys.in <- p
	eventually(h.t, "packet handled", func() bool {
		c := h.in.Status().Counters
		return c.AdvertsReceived+sum(c.Dropped) > before.AdvertsReceived+sum(before.Dropped)
	})
}

func sum(m map[DropReason]uint64) (n uint64) {
	for _, v := range m {
		n += v
	}
	return n
}

func advertFrom(t *testing.T, a Advertisement, src netip.Addr) packet {
	t.Helper()
	a.Src, a.Dst = src, GroupIPv4
	b, err := a.MarshalBinary()
	require.NoError(t, err)
	return packet{b: b, src: src, dst: GroupIPv4, ttl: 255}
}

var testConfig = Config{
	Name:      "VI_1",
	Interface: "eth0",
	VRID:      51,
	Priority:  150,
	Password:  "s3cret",
	VIPs:      []VIP{{Prefix: netip.MustParsePrefix("10.99.0.100/24")}},
	Track:     []Track{{Name: "chk", Weight: 0}, {Name: "w", Weight: -60}},
}

// The Run loop on a fake clock and a fake host: the whole life of an
// instance, with the advert bytes checked against keepalived's.
func TestRunLifecycle(t *testing.T) {
	h := startHarness(t, testConfig)
	h.expect(StateInit, StateBackup)
	assert.Equal(t, 1, h.sys.deletes, "stale VIPs removed at start")

	// Master_Down_Interval for priority 150: 3 s + 106/256 s = 3.414 s.
	h.clock.Advance(3 * time.Second)
	h.noAdvert()
	h.clock.Advance(415 * time.Millisecond)
	tr := h.expect(StateBackup, StateMaster)
	assert.Equal(t, t0.Add(3415*time.Millisecond), tr.Time) // due at 3.4140625 s
	a := h.advert()
	assert.Equal(t, mustHex(t, "21 33 96 01 01 01 00 e9 0a 63 00 64 73 33 63 72 65 74 00 00"), a.b,
		"the same bytes as keepalived's advert")
	assert.Equal(t, GroupIPv4, a.dst)
	vips, _ := h.sys.state()
	assert.True(t, vips)
	eventually(t, "a burst of garp_master_repeat", func() bool { _, g := h.sys.state(); return g == 5 })

	for range 5 {
		h.clock.Advance(time.Second)
		h.advert()
	}
	eventually(t, "second GARP burst after garp_master_delay", func() bool { _, g := h.sys.state(); return g == 10 })
	eventually(t, "6 adverts counted", func() bool { return h.in.Status().Counters.AdvertsSent == 6 })
	st := h.in.Status()
	assert.Equal(t, StateMaster, st.State)
	assert.Equal(t, r1, st.Master)

	// Invalid packets are dropped and counted by reason.
	good := Advertisement{Version: 2, VRID: 51, Priority: 200, Interval: time.Second, AuthType: AuthPassword,
		AuthData: pass6, Addresses: []netip.Addr{vip}}
	r2 := netip.MustParseAddr("10.99.0.2")
	drops := map[DropReason]packet{}
	p := advertFrom(t, good, r2)
	p.ttl = 64
	drops[DropTTL] = p
	p = advertFrom(t, good, r2)
	p.b = append([]byte{}, p.b...)
	p.b[7] ^= 1
	drops[DropChecksum] = p
	other := good
	other.VRID = 52
	drops[DropVRID] = advertFrom(t, other, r2)
	wrongPass := good
	wrongPass.AuthData = [8]byte{'x'}
	drops[DropAuth] = advertFrom(t, wrongPass, r2)
	slow := good
	slow.Interval = 2 * time.Second
	drops[DropInterval] = advertFrom(t, slow, r2)
	addrs := good
	addrs.Addresses = []netip.Addr{netip.MustParseAddr("10.99.0.200")}
	drops[DropAddresses] = advertFrom(t, addrs, r2)
	drops[DropVersion] = packet{b: mustHex(t, "31 33 96 01 00 0a 43 07 0a 63 00 64"), src: r1, dst: GroupIPv4, ttl: 255}
	drops[DropLength] = packet{b: []byte{0x21, 0x33}, src: r2, dst: GroupIPv4, ttl: 255}
	for _, p := range drops {
		h.inject(p)
	}
	st = h.in.Status()
	for reason := range drops {
		assert.Equal(t, uint64(1), st.Counters.Dropped[reason], reason)
	}
	assert.Equal(t, StateMaster, st.State, "none of them counted")

	// A valid higher-priority advert: back to BACKUP, VIPs removed.
	h.inject(advertFrom(t, good, r2))
	tr = h.expect(StateMaster, StateBackup)
	assert.Equal(t, "higher priority 200 advert from 10.99.0.2", tr.Reason)
	vips, _ = h.sys.state()
	assert.False(t, vips)
	st = h.in.Status()
	assert.Equal(t, r2, st.Master)
	assert.Equal(t, uint8(200), st.MasterPriority)

	// Tracking: a negative weight lowers the priority, weight 0 is FAULT.
	require.NoError(t, h.in.SetTracked("w", false))
	eventually(t, "priority 90", func() bool { return h.in.Status().Priority == 90 })
	require.NoError(t, h.in.SetTracked("chk", false))
	h.expect(StateBackup, StateFault)
	assert.Equal(t, "chk down", h.in.Status().Fault)
	require.NoError(t, h.in.SetTracked("chk", true))
	h.expect(StateFault, StateBackup)
	assert.Error(t, h.in.SetTracked("nope", true))

	// Link down is FAULT too.
	h.sys.links <- false
	h.expect(StateBackup, StateFault)
	assert.Equal(t, "interface eth0 down", h.in.Status().Fault)
	h.sys.links <- true
	h.expect(StateFault, StateBackup)

	h.stop()
	h.expect(StateBackup, StateStop)
	require.NoError(t, <-h.done)
	h.done <- nil // for Cleanup
}

// A master told to stop sends a priority-0 advert and removes its VIPs.
// vrrp_startup_delay: silent in INIT until the delay is over, then the
// usual start (the owner is master at once).
func TestRunStartupDelay(t *testing.T) {
	cfg := testConfig
	cfg.Priority, cfg.StartupDelay = 255, 10*time.Second
	h := startHarness(t, cfg)
	eventually(t, "the delay's timer", func() bool {
		h.clock.mu.Lock()
		defer h.clock.mu.Unlock()
		return len(h.clock.timers) > 0
	})
	h.clock.Advance(9 * time.Second)
	h.noAdvert()
	assert.Equal(t, StateInit, h.in.Status().State)
	h.clock.Advance(time.Second)
	h.expect(StateInit, StateMaster)
	h.advert()
}

// track_file: value x weight moves the priority; weight 0 faults on a
// non-zero value; below -253 faults (keepalived.conf(5)).
func TestTrackedValue(t *testing.T) {
	for _, tc := range []struct {
		name      string
		weight, v int
		prio      uint8
		fault     bool
	}{
		{"zero", 10, 0, 100, false},
		{"positive", 10, 3, 130, false},
		{"negative", 10, -5, 50, false},
		{"clamped", 254, 1, 254, false},
		{"below -253", 254, -1, 100, true},
		{"weight 0, non-zero", 0, 7, 100, true},
		{"weight 0, zero", 0, 0, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := New(Config{Name: "a", Interface: "eth0", VRID: 1, Track: []Track{{Name: "file:/x", Weight: tc.weight, Valued: true}}})
			require.NoError(t, err)
			require.NoError(t, in.SetTrackedValue("file:/x", tc.v))
			prio, fault := in.effective()
			assert.Equal(t, tc.fault, fault != "", fault)
			if !tc.fault {
				assert.Equal(t, tc.prio, prio)
			}
		})
	}
	in, err := New(Config{Name: "a", Interface: "eth0", VRID: 1, Track: []Track{{Name: "script:x"}}})
	require.NoError(t, err)
	assert.Error(t, in.SetTrackedValue("script:x", 1), "not a valued track")
}

// Force: a backup to MASTER at once (VIPs, advert), a master to BACKUP.
func TestRunForce(t *testing.T) {
	cfg := testConfig
	cfg.Priority = 100
	h := startHarness(t, cfg)
	h.expect(StateInit, StateBackup)
	require.NoError(t, h.in.Force(StateMaster, "vrrp_sync_group G: VI_2 became MASTER"))
	tr := h.expect(StateBackup, StateMaster)
	assert.Equal(t, "vrrp_sync_group G: VI_2 became MASTER", tr.Reason)
	h.advert()
	eventually(t, "VIPs added", func() bool { v, _ := h.sys.state(); return v })
	require.NoError(t, h.in.Force(StateMaster, "again"))
	require.NoError(t, h.in.Force(StateBackup, "vrrp_sync_group G: VI_2 left MASTER"))
	h.expect(StateMaster, StateBackup)
	eventually(t, "VIPs removed", func() bool { v, _ := h.sys.state(); return !v })
	assert.Error(t, h.in.Force(StateFault, "x"))
}

func TestRunGracefulStop(t *testing.T) {
	cfg := testConfig
	cfg.Version, cfg.Password, cfg.AdvertInterval = 3, "", 100*time.Millisecond
	cfg.Priority = 255
	h := startHarness(t, cfg)
	h.expect(StateInit, StateMaster)
	a := h.advert()
	var adv Advertisement
	require.NoError(t, adv.UnmarshalBinary(a.b))
	assert.Equal(t, uint8(255), adv.Priority)
	assert.True(t, VerifyChecksum(a.b, r1, GroupIPv4))

	h.stop()
	h.expect(StateMaster, StateStop)
	a = h.advert()
	require.NoError(t, adv.UnmarshalBinary(a.b))
	assert.Equal(t, uint8(0), adv.Priority)
	vips, _ := h.sys.state()
	assert.False(t, vips)
	st := h.in.Status()
	assert.Equal(t, uint64(1), st.Counters.PriorityZeroSent)
	assert.Equal(t, uint64(1), st.Counters.ReleasedMaster)
	require.NoError(t, <-h.done)
	h.done <- nil
	assert.ErrorContains(t, func() error {
		h.in.running.Store(true)
		defer h.in.running.Store(false)
		return h.in.Run(context.Background())
	}(), "already running")
}

func TestUnicastSendsToEachPeer(t *testing.T) {
	cfg := testConfig
	cfg.Priority = 255
	peers := []netip.Addr{netip.MustParseAddr("10.99.0.2"), netip.MustParseAddr("10.99.0.3")}
	cfg.UnicastPeers = peers
	cfg.SourceAddr = r1
	h := startHarness(t, cfg)
	h.expect(StateInit, StateMaster)
	for _, p := range peers {
		a := h.advert()
		assert.Equal(t, p, a.dst)
	}
	// In unicast mode adverts from strangers are dropped (and TTL is not checked).
	p := advertFrom(t, Advertisement{Version: 2, VRID: 51, Priority: 254, Interval: time.Second, AuthType: AuthPassword,
		AuthData: pass6, Addresses: []netip.Addr{vip}}, netip.MustParseAddr("10.99.0.9"))
	p.ttl = 64
	h.inject(p)
	assert.Equal(t, uint64(1), h.in.Status().Counters.Dropped[DropPeer])
}

func TestNewValidation(t *testing.T) {
	six := netip.MustParsePrefix("fd00::100/64")
	four := netip.MustParsePrefix("10.99.0.100/24")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no name", Config{Interface: "eth0", VRID: 1}, "a name is required"},
		{"no interface", Config{Name: "a", VRID: 1}, "not a valid interface name"},
		{"vrid 0", Config{Name: "a", Interface: "eth0"}, "virtual_router_id must be 1-255"},
		{"v2 over IPv6", Config{Name: "a", Interface: "eth0", VRID: 1, Version: 2, VIPs: []VIP{{Prefix: six}}}, "VRRPv2 has no IPv6"},
		{"version 4", Config{Name: "a", Interface: "eth0", VRID: 1, Version: 4}, "must be 2 or 3"},
		{"mixed families", Config{Name: "a", Interface: "eth0", VRID: 1, VIPs: []VIP{{Prefix: four}, {Prefix: six}}}, "must be IPv4"},
		{"duplicate VIP", Config{Name: "a", Interface: "eth0", VRID: 1, VIPs: []VIP{{Prefix: four}, {Prefix: four}}}, "listed twice"},
		{"bad label", Config{Name: "a", Interface: "eth0", VRID: 1, VIPs: []VIP{{Prefix: four, Label: "eth1:x"}}}, "must start with the interface name"},
		{"v2 fractional interval", Config{Name: "a", Interface: "eth0", VRID: 1, AdvertInterval: 100 * time.Millisecond}, "whole seconds"},
		{"v3 interval too short", Config{Name: "a", Interface: "eth0", VRID: 1, Version: 3, AdvertInterval: time.Millisecond}, "0.01-40.95 s"},
		{"v3 password", Config{Name: "a", Interface: "eth0", VRID: 1, Version: 3, Password: "x"}, "VRRPv2 only"},
		{"long password", Config{Name: "a", Interface: "eth0", VRID: 1, Password: "123456789"}, "at most 8"},
		{"global IPv6 source for multicast", Config{Name: "a", Interface: "eth0", VRID: 1, VIPs: []VIP{{Prefix: six}}, SourceAddr: netip.MustParseAddr("fd00::1")}, "link-local"},
		{"peer of the other family", Config{Name: "a", Interface: "eth0", VRID: 1, UnicastPeers: []netip.Addr{netip.MustParseAddr("fd00::1")}, VIPs: []VIP{{Prefix: four}}}, "not a valid IPv4"},
		{"peer is us", Config{Name: "a", Interface: "eth0", VRID: 1, SourceAddr: r1, UnicastPeers: []netip.Addr{r1}}, "our own"},
		{"preempt_delay", Config{Name: "a", Interface: "eth0", VRID: 1, PreemptDelay: time.Hour}, "0-1000 s"},
		{"track twice", Config{Name: "a", Interface: "eth0", VRID: 1, Track: []Track{{Name: "x"}, {Name: "x"}}}, "tracked twice"},
		{"weight", Config{Name: "a", Interface: "eth0", VRID: 1, Track: []Track{{Name: "x", Weight: 300}}}, "-254..254"},
		{"vmac unicast without xmit base", Config{Name: "a", Interface: "eth0", VRID: 1, UseVMAC: true, UnicastPeers: []netip.Addr{r1}}, "needs vmac_xmit_base"},
		{"vmac name", Config{Name: "a", Interface: "eth0", VRID: 1, UseVMAC: true, VMACName: "a/b"}, "not a valid interface name"},
		{"vmac name is the interface", Config{Name: "a", Interface: "eth0", VRID: 1, UseVMAC: true, VMACName: "eth0"}, "other than the interface"},
		{"vmac label", Config{Name: "a", Interface: "eth0", VRID: 1, UseVMAC: true, VIPs: []VIP{{Prefix: four, Label: "eth0:x"}}}, "must start with that name"},
		{"strict without VIPs", Config{Name: "a", Interface: "eth0", VRID: 1, Strict: true}, "needs at least one virtual_ipaddress"},
		{"strict IPv6 not link-local first", Config{Name: "a", Interface: "eth0", VRID: 1, Strict: true, VIPs: []VIP{{Prefix: six}}}, "must be link-local"},
		{"accept and no_accept", Config{Name: "a", Interface: "eth0", VRID: 1, Accept: true, NoAccept: true}, "contradict"},
		{"state FAULT", Config{Name: "a", Interface: "eth0", VRID: 1, InitialState: StateFault}, "must be MASTER or BACKUP"},
		{"xmit base without vmac", Config{Name: "a", Interface: "eth0", VRID: 1, VMACXmitBase: true}, "need use_vmac"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	// All problems at once.
	_, err := New(Config{Version: 5, Password: "123456789"})
	require.Error(t, err)
	assert.GreaterOrEqual(t, strings.Count(err.Error(), "\n"), 3)

	// Defaults.
	in, err := New(Config{Name: "a", Interface: "eth0", VRID: 1, VIPs: []VIP{{Prefix: six}}})
	require.NoError(t, err)
	assert.Equal(t, uint8(3), in.version, "IPv6 means v3")
	assert.Equal(t, uint8(DefaultPriority), in.cfg.Priority)
	assert.Equal(t, DefaultInterval, in.cfg.AdvertInterval)
	assert.Equal(t, DefaultGARPRepeat, in.cfg.GARPRepeat)
	assert.Equal(t, DefaultGARPDelay, in.cfg.GARPDelay)
	assert.Equal(t, StateInit, in.Status().State)

	in, err = New(Config{Name: "a", Interface: "eth0", VRID: 51, UseVMAC: true, VIPs: []VIP{{Prefix: four, Label: "vrrp.51:x"}}})
	require.NoError(t, err)
	assert.Equal(t, "vrrp.51", in.cfg.VMACName, "keepalived's default name")

	in, err = New(Config{Name: "a", Interface: "eth0", VRID: 1, InitialState: StateMaster, NoPreempt: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	assert.False(t, in.cfg.NoPreempt, "keepalived clears nopreempt with state MASTER")

	// Strict mode resets what keepalived 2.2.7 resets (measured), and means
	// no_accept below priority 255 unless accept (v3 only).
	for _, tc := range []struct {
		name  string
		cfg   Config
		drops bool
	}{
		{"v2 strict", Config{Password: "x", PreemptDelay: time.Second, InitialState: StateMaster, Accept: true}, true},
		{"v3 strict accept", Config{Version: 3, Accept: true, VMACXmitBase: true, UseVMAC: true}, false},
		{"owner", Config{Priority: 255, InitialState: StateMaster}, false},
	} {
		c := tc.cfg
		c.Name, c.Interface, c.VRID, c.Strict, c.VIPs, c.Logger = "a", "eth0", 1, true, []VIP{{Prefix: four}}, slog.New(slog.NewTextHandler(io.Discard, nil))
		in, err := New(c)
		require.NoError(t, err, tc.name)
		assert.Empty(t, in.cfg.Password, tc.name)
		assert.Zero(t, in.cfg.PreemptDelay, tc.name)
		assert.False(t, in.cfg.VMACXmitBase, tc.name)
		assert.Equal(t, c.Priority == 255 && c.InitialState == StateMaster, in.cfg.InitialState == StateMaster, tc.name)
		assert.Equal(t, tc.drops, in.dropsVIPTraffic(), tc.name)
	}
	in, err = New(Config{Name: "a", Interface: "eth0", VRID: 1, NoAccept: true})
	require.NoError(t, err)
	assert.True(t, in.dropsVIPTraffic(), "no_accept without strict mode")
}

func TestEffectivePriority(t *testing.T) {
	tests := []struct {
		name  string
		base  uint8
		track []Track
		down  []string
		want  uint8
		fault string
	}{
		{"no tracking", 100, nil, nil, 100, ""},
		{"positive weight while up", 100, []Track{{Name: "a", Weight: 20}}, nil, 120, ""},
		{"positive weight while down", 100, []Track{{Name: "a", Weight: 20}}, []string{"a"}, 100, ""},
		{"negative weight while up", 100, []Track{{Name: "a", Weight: -30}}, nil, 100, ""},
		{"negative weight while down", 100, []Track{{Name: "a", Weight: -30}}, []string{"a"}, 70, ""},
		{"sum", 100, []Track{{Name: "a", Weight: -30}, {Name: "b", Weight: 10}, {Name: "c", Weight: -5}}, []string{"a", "c"}, 75, ""},
		{"clamped low", 10, []Track{{Name: "a", Weight: -50}}, []string{"a"}, 1, ""},
		{"clamped high", 250, []Track{{Name: "a", Weight: 50}}, nil, 254, ""},
		{"owner ignores weights", 255, []Track{{Name: "a", Weight: -50}}, []string{"a"}, 255, ""},
		{"weight 0 down is fault", 100, []Track{{Name: "a", Weight: 0}, {Name: "b", Weight: 0}}, []string{"a", "b"}, 100, "a down, b down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := New(Config{Name: "x", Interface: "eth0", VRID: 1, Priority: tt.base, Track: tt.track})
			require.NoError(t, err)
			for _, d := range tt.down {
				require.NoError(t, in.SetTracked(d, false))
			}
			prio, fault := in.effective()
			assert.Equal(t, tt.want, prio)
			assert.Equal(t, tt.fault, fault)
		})
	}
}
