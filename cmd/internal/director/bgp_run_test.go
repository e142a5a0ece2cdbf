package director

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/bgp"
	"github.com/lvsctl/lvsctl/checker"
	"github.com/lvsctl/lvsctl/cmd/internal/daemon"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// The announcer inside Director.Run: the quorum and the settled signal
// from the IPVS daemon, the order of a stop, the VIP link and the sysctls.

// events is an ordered log shared by the fakes of one test.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

// snapDaemon is an IPVS daemon whose snapshot the test writes: one service
// "web" with one checked real server, unchecked until the test says.
type snapDaemon struct {
	onQuorum func(string, bool)
	ev       *events
	mu       sync.Mutex
	checked  bool
	reals    int
	loads    int
	pub      chan struct{}
}

func (d *snapDaemon) Run(ctx context.Context, cfg *lvshcl.Config, reload <-chan *lvshcl.Config) error {
	d.onQuorum("web", true) // presumed held, as at a cold start
	for {
		select {
		case <-ctx.Done():
			d.ev.add("ipvs stopped")
			return nil
		case <-reload:
			d.mu.Lock()
			d.loads++
			d.mu.Unlock()
			d.onQuorum("web", true)
			d.publish() // as the daemon does at the end of a load
		}
	}
}

func (d *snapDaemon) setChecked(c bool) {
	d.mu.Lock()
	d.checked = c
	d.mu.Unlock()
}

func (d *snapDaemon) Snapshot() (daemon.Snapshot, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	reals := []daemon.RealState{{InTable: true, Weight: 1, Check: &checker.Status{Up: true, Checked: d.checked}}}
	for range d.reals {
		reals = append(reals, daemon.RealState{InTable: true, Weight: 1, Check: &checker.Status{Up: true, Checked: true}})
	}
	return daemon.Snapshot{Loads: d.loads, Services: []daemon.ServiceState{{Name: "web", QuorumUp: true, Reals: reals}}}, true
}

func (d *snapDaemon) publish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pub != nil {
		close(d.pub)
		d.pub = nil
	}
}

func (d *snapDaemon) Published() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pub == nil {
		d.pub = make(chan struct{})
	}
	return d.pub
}

// orderedSpeaker is a fakeSpeaker that writes its Stop in the log.
type orderedSpeaker struct {
	*fakeSpeaker
	ev *events
}

func (s orderedSpeaker) SetAnnounced(ctx context.Context, want []bgp.Announcement) error {
	var ps []string
	for _, a := range want {
		ps = append(ps, a.Prefix.String())
	}
	s.ev.add("set [" + strings.Join(ps, " ") + "]")
	return s.fakeSpeaker.SetAnnounced(ctx, want)
}

func (s orderedSpeaker) Stop(ctx context.Context) error {
	s.ev.add("speaker stop (withdraw, drain, close)")
	return s.fakeSpeaker.Stop(ctx)
}

// fakeVIPLink records what is done to the VIP link.
type fakeVIPLink struct {
	mu      sync.Mutex
	ev      *events
	exists  map[string]bool // links there before
	addrs   map[netip.Prefix]bool
	created []string
	failAdd error
}

func newFakeVIPLink(ev *events, exists ...string) *fakeVIPLink {
	l := &fakeVIPLink{ev: ev, exists: map[string]bool{}, addrs: map[netip.Prefix]bool{}}
	for _, n := range exists {
		l.exists[n] = true
	}
	return l
}

func (l *fakeVIPLink) Ensure(name string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.exists[name] {
		return false, nil
	}
	l.exists[name] = true
	l.created = append(l.created, name)
	l.ev.add("link " + name + " created")
	return true, nil
}

func (l *fakeVIPLink) AddAddr(name string, p netip.Prefix) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failAdd != nil {
		return l.failAdd
	}
	l.addrs[p] = true
	l.ev.add("add " + p.String() + " to " + name)
	return nil
}

func (l *fakeVIPLink) DelAddr(name string, p netip.Prefix) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.addrs, p)
	l.ev.add("del " + p.String() + " from " + name)
	return nil
}

func (l *fakeVIPLink) Delete(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.exists, name)
	l.addrs = map[netip.Prefix]bool{}
	l.ev.add("link " + name + " deleted")
	return nil
}

func (l *fakeVIPLink) has(p string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addrs[netip.MustParsePrefix(p)]
}

// fakeSysctl is a map of kernel parameters.
type fakeSysctl struct {
	mu   sync.Mutex
	vals map[string]string
	ev   *events
}

func (s *fakeSysctl) Get(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vals[name]
	if !ok {
		return "", errors.New("no such sysctl")
	}
	return v, nil
}

func (s *fakeSysctl) Set(name, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals[name] = v
	if s.ev != nil {
		s.ev.add("sysctl " + name + "=" + v)
	}
	return nil
}

func (s *fakeSysctl) get(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vals[name]
}

// bgpRig is a Director with a snapDaemon, a fake speaker, a fake VIP link
// and fake sysctls; the settle watcher polls every 1 ms.
type bgpRig struct {
	ev     *events
	dm     *snapDaemon
	ss     *speakers
	link   *fakeVIPLink
	sys    *fakeSysctl
	d      *Director
	reload chan *lvshcl.Config
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned, with err
	err    error
}

func webBGP() *lvshcl.Config {
	c := bgpConfig(lvshcl.BGPAnnounce{Name: "web", VIPs: vips("192.0.2.10"), TrackVirtualServer: []string{"web"}})
	c.Services = []ipvs.VirtualService{{Name: "web", Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.MustParseAddr("192.0.2.10"), Port: 80},
		RealServers: []ipvs.RealServer{{Addr: netip.MustParseAddr("10.1.0.1"), Port: 80, Weight: 1}}}}
	c.BGP.VIPInterface = "lvsctl0"
	c.BGP.SloppyTCP = true
	c.BGP.DrainTime = 0
	return c
}

func startBGPRig(t *testing.T, cfg *lvshcl.Config) *bgpRig {
	t.Helper()
	r := &bgpRig{ev: &events{}, ss: &speakers{made: make(chan *fakeSpeaker, 4)}, reload: make(chan *lvshcl.Config), done: make(chan struct{})}
	r.link = newFakeVIPLink(r.ev, "lo")
	r.sys = &fakeSysctl{vals: map[string]string{sysctlSloppyTCP: "0", sysctlSloppySCTP: "0"}, ev: r.ev}
	dmReady := make(chan *snapDaemon, 1)
	start := func(_ context.Context, onQuorum func(string, bool)) (Daemon, func(), error) {
		dm := &snapDaemon{onQuorum: onQuorum, ev: r.ev}
		dmReady <- dm
		return dm, func() { r.ev.add("ipvs closed") }, nil
	}
	newSpeaker := func(c bgp.Config) (BGPSpeaker, error) {
		s, _ := r.ss.new(c)
		return orderedSpeaker{s.(*fakeSpeaker), r.ev}, nil
	}
	r.d = New(Options{StartIPVS: start, SettlePoll: time.Millisecond,
		BGP:  BGPOptions{NewSpeaker: newSpeaker, VIPLink: r.link, Sysctl: r.sys, Links: &fakeLinks{}, Probe: func(context.Context, lvshcl.VRRPScript) (bool, string) { return true, "" }},
		VRRP: VRRPOptions{NewInstance: (&fakes{}).New}})
	ctx, cancel := context.WithCancel(t.Context())
	r.cancel = cancel
	go func() { defer close(r.done); r.err = r.d.Run(ctx, cfg, r.reload) }()
	r.dm = recv(t, dmReady, "IPVS daemon")
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// TestDirectorBGPSettled: the daemon reports the quorum of "web" held at
// once (presumed, as at every start); nothing is announced until its real
// server has had its first check round. Losing the quorum withdraws at
// once; a reload that adds a real server waits for that server's first
// round again, unless it only added servers.
func TestDirectorBGPSettled(t *testing.T) {
	r := startBGPRig(t, webBGP())
	s := recv(t, r.ss.made, "speaker")
	eventually(t, "VIP on the link before any announcement", func() bool { return r.link.has("192.0.2.10/32") })
	// Presumed quorum, unchecked server: several convergences, none announcing.
	deadline := time.After(50 * time.Millisecond)
	for waiting := true; waiting; {
		select {
		case got := <-s.sets:
			require.Empty(t, got, "announced on a presumed quorum")
		case <-deadline:
			waiting = false
		}
	}
	st := r.d.Status().BGP
	require.Len(t, st.Withheld, 1)
	assert.Equal(t, WithdrawSettling, st.Withheld[0].Kind)

	r.dm.setChecked(true) // the first probe confirms: no publication
	waitSet(t, s, "announce once checked", hosts("192.0.2.10"))

	r.dm.onQuorum("web", false)
	waitSet(t, s, "withdraw on quorum loss", nil)
	eventually(t, "counted", func() bool { return r.d.Status().BGP.Withdraws[WithdrawQuorum] == 1 })
	assert.True(t, r.link.has("192.0.2.10/32"), "a withdrawn VIP stays on the link")
	r.dm.onQuorum("web", true)
	waitSet(t, s, "announce again", hosts("192.0.2.10"))
	assert.Equal(t, uint64(1), r.d.Status().BGP.Announces[AnnounceRecovered])

	// A reload that only adds a real server keeps the announcement: the
	// servers already checked hold the quorum they held.
	r.dm.mu.Lock()
	r.dm.checked = false // the new server, as the daemon would show it
	r.dm.reals = 1
	r.dm.mu.Unlock()
	next := webBGP()
	next.Services[0].RealServers = append(next.Services[0].RealServers, ipvs.RealServer{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80, Weight: 1})
	r.reload <- next
	deadline = time.After(50 * time.Millisecond)
	for waiting := true; waiting; {
		select {
		case got := <-s.sets:
			require.Equal(t, hosts("192.0.2.10"), got, "a reload adding a backend withdrew the VIP")
		case <-deadline:
			waiting = false
		}
	}
	r.dm.setChecked(true)

	// A reload that adds a server and takes one away: the quorum may now
	// rest on the new, presumed server; withheld until it is checked.
	r.dm.mu.Lock()
	r.dm.checked = false
	r.dm.mu.Unlock()
	next = webBGP()
	next.Services[0].RealServers = []ipvs.RealServer{{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80, Weight: 1}, {Addr: netip.MustParseAddr("10.1.0.3"), Port: 80, Weight: 1}}
	r.reload <- next
	waitSet(t, s, "withdrawn while the new server is unchecked", nil)
	r.dm.setChecked(true)
	waitSet(t, s, "announced once it is", hosts("192.0.2.10"))
	select {
	case <-s.stopped:
		t.Fatal("an unchanged bgp block restarted the speaker")
	default:
	}
}

// TestDirectorBGPStopOrder: SIGTERM withdraws and drains while the IPVS
// daemon still runs (the table forwards what the routers still send),
// then takes the VIPs off and restores the sysctls; only then does the
// IPVS side stop.
func TestDirectorBGPStopOrder(t *testing.T) {
	r := startBGPRig(t, webBGP())
	s := recv(t, r.ss.made, "speaker")
	r.dm.setChecked(true)
	waitSet(t, s, "announce", hosts("192.0.2.10"))
	assert.Equal(t, "1", r.sys.get(sysctlSloppyTCP))
	r.cancel()
	<-r.done
	require.NoError(t, r.err)
	got := r.ev.get()
	at := func(what string) int {
		i := slices.IndexFunc(got, func(e string) bool { return strings.HasPrefix(e, what) })
		require.GreaterOrEqual(t, i, 0, "%q not in %q", what, got)
		return i
	}
	assert.Less(t, at("link lvsctl0 created"), at("add 192.0.2.10/32"))
	assert.Less(t, at("speaker stop"), at("link lvsctl0 deleted"), "the VIP stays through the drain")
	assert.Less(t, at("link lvsctl0 deleted"), at("ipvs stopped"), "IPVS forwards until the announcer is done")
	assert.Less(t, at("sysctl net.ipv4.vs.sloppy_tcp=0"), at("ipvs stopped"))
	assert.Less(t, at("ipvs stopped"), at("ipvs closed"))
	assert.Equal(t, "0", r.sys.get(sysctlSloppyTCP), "the previous value is back")
	assert.Equal(t, uint64(1), r.d.Status().BGP.Withdraws[WithdrawStop])
}

// TestDirectorBGPVIPRemoved: a VIP a reload removes is withdrawn before
// it leaves the link.
func TestDirectorBGPVIPRemoved(t *testing.T) {
	cfg := webBGP()
	cfg.BGP.Announces = append(cfg.BGP.Announces, lvshcl.BGPAnnounce{Name: "extra", VIPs: vips("192.0.2.11")})
	r := startBGPRig(t, cfg)
	s := recv(t, r.ss.made, "speaker")
	r.dm.setChecked(true)
	waitSet(t, s, "announce both", hosts("192.0.2.10", "192.0.2.11"))
	r.reload <- webBGP()
	waitSet(t, s, "withdraw the removed one", hosts("192.0.2.10"))
	eventually(t, "off the link", func() bool { return !r.link.has("192.0.2.11/32") })
	got := r.ev.get()
	withdrawn := slices.Index(got, "set [192.0.2.10/32]")
	removed := slices.Index(got, "del 192.0.2.11/32 from lvsctl0")
	require.GreaterOrEqual(t, withdrawn, 0, "%q", got)
	assert.Less(t, withdrawn, removed, "withdrawn first: %q", got)
	assert.Equal(t, uint64(1), r.d.Status().BGP.Withdraws[WithdrawConfig])
}

// TestAnnouncerReconfigure: a speaker that reconfigures by difference is
// given a changed neighbor (no restart: no withdrawal); one whose
// SetConfig fails is restarted.
func TestAnnouncerReconfigure(t *testing.T) {
	tests := []struct {
		name    string
		fail    error
		restart bool
	}{
		{"by difference", nil, false},
		{"restart required", errors.New("bgp: asn changed: the speaker must be restarted"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := &speakers{made: make(chan *fakeSpeaker, 4)}
			var got []bgp.Config
			var mu sync.Mutex
			a := NewAnnouncer(BGPOptions{NewSpeaker: func(c bgp.Config) (BGPSpeaker, error) {
				s, _ := ss.new(c)
				return &reconfSpeaker{fakeSpeaker: s.(*fakeSpeaker), fail: tt.fail, got: &got, mu: &mu}, nil
			}})
			cfg := bgpConfig(lvshcl.BGPAnnounce{Name: "x", VIPs: vips("192.0.2.1")})
			ctx, cancel := context.WithCancel(t.Context())
			reload := make(chan *lvshcl.Config)
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx, cfg, reload) }()
			s := recv(t, ss.made, "speaker")
			waitSet(t, s, "announce", hosts("192.0.2.1"))
			next := bgpConfig(lvshcl.BGPAnnounce{Name: "x", VIPs: vips("192.0.2.1")})
			next.BGP.Neighbors = append(next.BGP.Neighbors, lvshcl.BGPNeighbor{Name: "tor2", Address: netip.MustParseAddr("10.0.0.2"), ASN: 65000})
			reload <- next
			if tt.restart {
				recv(t, s.stopped, "restart")
				s2 := recv(t, ss.made, "new speaker")
				waitSet(t, s2, "announce on the new speaker", hosts("192.0.2.1"))
				assert.Equal(t, uint64(1), a.Status().Withdraws[WithdrawRestart])
			} else {
				eventually(t, "SetConfig called", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
				mu.Lock()
				assert.Len(t, got[0].Neighbors, 2)
				assert.NotNil(t, got[0].OnPeer, "peer events keep flowing")
				mu.Unlock()
				assert.Len(t, a.Status().Neighbors, 2)
				select {
				case <-s.stopped:
					t.Fatal("restarted")
				default:
				}
				assert.Zero(t, a.Status().Withdraws[WithdrawRestart])
			}
			cancel()
			require.NoError(t, <-done)
		})
	}
}

type reconfSpeaker struct {
	*fakeSpeaker
	fail error
	mu   *sync.Mutex
	got  *[]bgp.Config
}

func (s *reconfSpeaker) SetConfig(_ context.Context, c bgp.Config) error {
	if s.fail != nil {
		return s.fail
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.got = append(*s.got, c)
	return nil
}

// TestVIPSet: the VIPs follow the configuration on the link; a link made
// by lvsctl is deleted at the end, on an existing one ("lo") only the
// addresses go; changing the link moves them.
func TestVIPSet(t *testing.T) {
	cfg := func(link string, v ...string) *lvshcl.BGP {
		return &lvshcl.BGP{VIPInterface: link, Announces: []lvshcl.BGPAnnounce{{Name: "a", VIPs: vips(v...)}}}
	}
	ev := &events{}
	l := newFakeVIPLink(ev, "lo")
	v := &vipSet{link: l, log: discard(), addrs: map[netip.Prefix]bool{}}
	v.apply(cfg("lo", "192.0.2.1", "2001:db8::1"))
	v.apply(cfg("lo", "192.0.2.1"))
	assert.True(t, l.has("2001:db8::1/128"), "a VIP removed by a reload stays until withdrawn")
	v.prune(cfg("lo", "192.0.2.1"))
	v.apply(cfg("lvsctl0", "192.0.2.1"))
	v.clear()
	assert.Equal(t, []string{
		"add 192.0.2.1/32 to lo", "add 2001:db8::1/128 to lo", // map order: sorted below
		"del 2001:db8::1/128 from lo",
		"del 192.0.2.1/32 from lo", "link lvsctl0 created", "add 192.0.2.1/32 to lvsctl0",
		"link lvsctl0 deleted",
	}, sortFirst(ev.get(), 2))

	// An add that fails withholds the announcements, and is retried.
	ev2 := &events{}
	l2 := newFakeVIPLink(ev2, "lo")
	l2.failAdd = errors.New("permission denied")
	var logs syncBuf
	v2 := &vipSet{link: l2, log: slog.New(slog.NewTextHandler(&logs, nil)), addrs: map[netip.Prefix]bool{}}
	v2.apply(cfg("lo", "192.0.2.1"))
	assert.Contains(t, v2.err, "permission denied")
	v2.apply(cfg("lo", "192.0.2.1")) // the retry a second later
	assert.Equal(t, 1, strings.Count(logs.String(), "cannot put a VIP"), "logged once, not every second:\n%s", logs.String())
	l2.failAdd = nil
	v2.apply(cfg("lo", "192.0.2.1"))
	assert.Empty(t, v2.err)
	assert.True(t, l2.has("192.0.2.1/32"))
}

// sortFirst sorts the first n entries (added from a map).
func sortFirst(s []string, n int) []string {
	slices.Sort(s[:n])
	return s
}

// TestSloppyMode: set from the bgp block, the previous value restored
// when a reload turns it off and at stop; an unreadable sysctl (no IPVS
// module) is logged and left alone.
func TestSloppyMode(t *testing.T) {
	sys := &fakeSysctl{vals: map[string]string{sysctlSloppyTCP: "0"}} // no sctp one
	m := &sloppyMode{sys: sys, log: discard(), saved: map[string]string{}}
	m.apply(&lvshcl.BGP{SloppyTCP: true, SloppySCTP: true})
	assert.Equal(t, "1", sys.get(sysctlSloppyTCP))
	assert.Equal(t, map[string]string{sysctlSloppyTCP: "0"}, m.saved, "the sctp one could not be read: not saved, not restored")
	m.apply(&lvshcl.BGP{SloppyTCP: true})
	assert.Equal(t, "1", sys.get(sysctlSloppyTCP))
	m.apply(&lvshcl.BGP{})
	assert.Equal(t, "0", sys.get(sysctlSloppyTCP), "turned off by a reload: restored")

	sys.vals[sysctlSloppyTCP] = "1" // set by the operator before start
	m.apply(&lvshcl.BGP{SloppyTCP: true})
	m.restore()
	assert.Equal(t, "1", sys.get(sysctlSloppyTCP), "the value found at start is put back")
	assert.Empty(t, m.saved)
}

// TestSettledServices: a service is settled when each checked real server
// has had its first round and the daemon applied it (its place in the
// table agrees with its health while the quorum holds); the sorry server
// and servers without checks do not count.
func TestSettledServices(t *testing.T) {
	st := func(checked, up bool) *checker.Status { return &checker.Status{Checked: checked, Up: up} }
	in := func(c *checker.Status) daemon.RealState { return daemon.RealState{InTable: true, Weight: 1, Check: c} }
	out := func(c *checker.Status) daemon.RealState { return daemon.RealState{Check: c} }
	tests := []struct {
		name     string
		quorumUp bool
		reals    []daemon.RealState
		want     bool
	}{
		{"checked up, in the table", true, []daemon.RealState{in(st(true, true)), in(st(true, true))}, true},
		{"one not checked yet", true, []daemon.RealState{in(st(true, true)), in(st(false, true))}, false},
		{"no checks", true, []daemon.RealState{{InTable: true}, {InTable: true}}, true},
		{"the sorry server does not count", true, []daemon.RealState{in(st(true, true)), {Sorry: true}}, true},
		// The first probe contradicted the presumption: the daemon has
		// not reconciled yet, so its quorum is still the presumed one.
		{"checked down, still in the table", true, []daemon.RealState{in(st(true, true)), in(st(true, false))}, false},
		{"checked up, not added yet", true, []daemon.RealState{in(st(true, true)), out(st(true, true))}, false},
		{"checked down, out of the table", true, []daemon.RealState{in(st(true, true)), out(st(true, false))}, true},
		{"checked down, inhibited at weight 0", true, []daemon.RealState{in(st(true, true)), {InTable: true, Check: st(true, false)}}, true},
		{"quorum lost: the table says nothing", false, []daemon.RealState{out(st(true, true)), out(st(true, false))}, true},
		{"quorum lost, one not checked", false, []daemon.RealState{out(st(true, true)), out(st(false, false))}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := daemon.Snapshot{Services: []daemon.ServiceState{{Name: "web", QuorumUp: tt.quorumUp, Reals: tt.reals}}}
			assert.Equal(t, map[string]bool{"web": tt.want}, settledServices(snap))
		})
	}
}

// TestWatchSettled: a settled service is told once per load; a server
// going down later does not unsettle it (no withdrawal on a transition
// that may not even cost the quorum); a new load is looked at afresh.
func TestWatchSettled(t *testing.T) {
	src := &fakeSnaps{pub: make(chan struct{})}
	src.set(1, true, true, true)
	var mu sync.Mutex
	var told []string
	set := func(name string, up bool) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, fmt.Sprintf("%s=%v", name, up))
	}
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchSettled(ctx, src, set, time.Millisecond, func(time.Duration) <-chan time.Time { return ticks })
	}()
	get := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(told) }
	eventually(t, "told", func() bool { return len(get()) == 1 })
	src.set(1, true, false, true) // the server fails; not reconciled yet
	src.publish()
	src.set(2, false, true, true) // a reload: its server unchecked
	src.publish()
	select {
	case ticks <- time.Time{}: // polling again: unsettled
	case <-time.After(5 * time.Second):
		t.Fatal("not polling an unsettled service")
	}
	src.set(2, true, true, true)
	ticks <- time.Time{}
	eventually(t, "told again for the new load", func() bool { return len(get()) == 2 })
	assert.Equal(t, []string{"web=true", "web=true"}, get(), "never unsettled by the watcher")
	cancel()
	<-done
}

type fakeSnaps struct {
	mu   sync.Mutex
	snap daemon.Snapshot
	pub  chan struct{}
}

func (f *fakeSnaps) set(loads int, checked, up, inTable bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap = daemon.Snapshot{Loads: loads, Services: []daemon.ServiceState{{Name: "web", QuorumUp: true,
		Reals: []daemon.RealState{{InTable: inTable, Weight: 1, Check: &checker.Status{Checked: checked, Up: up}}}}}}
}

func (f *fakeSnaps) publish() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.pub)
	f.pub = make(chan struct{})
}

func (f *fakeSnaps) Snapshot() (daemon.Snapshot, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap, true
}

func (f *fakeSnaps) Published() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pub
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
