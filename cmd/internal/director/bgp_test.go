package director

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lvsctl/lvsctl/bgp"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// fakeSpeaker records what the announcer asks of the speaker.
type fakeSpeaker struct {
	cfg      bgp.Config
	mu       sync.Mutex
	sets     chan []netip.Prefix
	stopped  chan struct{}
	started  bool
	failSets int // SetAnnounced fails this many times first
}

func (s *fakeSpeaker) Start(context.Context) error { s.started = true; return nil }

func (s *fakeSpeaker) SetAnnounced(_ context.Context, want []bgp.Announcement) error {
	s.mu.Lock()
	if s.failSets > 0 {
		s.failSets--
		s.mu.Unlock()
		return errors.New("injected")
	}
	s.mu.Unlock()
	var ps []netip.Prefix
	for _, a := range want {
		ps = append(ps, a.Prefix)
	}
	s.sets <- ps
	return nil
}

func (s *fakeSpeaker) Stop(context.Context) error { close(s.stopped); return nil }

type speakers struct {
	made chan *fakeSpeaker
	fail int
}

func (ss *speakers) new(c bgp.Config) (BGPSpeaker, error) {
	s := &fakeSpeaker{cfg: c, sets: make(chan []netip.Prefix, 16), stopped: make(chan struct{})}
	ss.made <- s
	return s, nil
}

func bgpConfig(announces ...lvshcl.BGPAnnounce) *lvshcl.Config {
	return &lvshcl.Config{
		BGP: &lvshcl.BGP{
			ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), DrainTime: time.Second,
			Neighbors: []lvshcl.BGPNeighbor{{Name: "tor1", Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000}},
			Announces: announces,
		},
		VRRP: lvshcl.VRRP{Scripts: []lvshcl.VRRPScript{{Name: "chk", Interval: time.Second}}},
	}
}

func vips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, v := range s {
		out = append(out, netip.MustParseAddr(v))
	}
	return out
}

func hosts(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range s {
		a := netip.MustParseAddr(v)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

// TestAnnouncerWant: an announce block's VIPs go out only when every
// tracked input is known and up; a quorum reported before the first check
// results (presumed) is not enough.
func TestAnnouncerWant(t *testing.T) {
	an := lvshcl.BGPAnnounce{Name: "web", VIPs: vips("192.0.2.10", "2001:db8::10"),
		TrackVirtualServer: []string{"web"}, TrackInterface: []string{"eth0"}, TrackScript: []string{"chk"}}
	type inputs struct{ quorum, settled, link, script *bool }
	yes, no := new(bool), new(bool)
	*yes = true
	tests := []struct {
		name   string
		in     inputs
		want   []netip.Prefix
		reason string
	}{
		{"all up", inputs{yes, yes, yes, yes}, hosts("192.0.2.10", "2001:db8::10"), ""},
		{"presumed quorum", inputs{yes, nil, yes, yes}, nil, "virtual_server web: waiting for its first check results"},
		{"settled, quorum lost", inputs{no, yes, yes, yes}, nil, "virtual_server web: quorum lost"},
		{"quorum never reported", inputs{nil, yes, yes, yes}, nil, "virtual_server web: quorum lost"},
		{"interface down", inputs{yes, yes, no, yes}, nil, "interface eth0 down"},
		{"interface unknown", inputs{yes, yes, nil, yes}, nil, "interface eth0 down"},
		{"script failing", inputs{yes, yes, yes, no}, nil, "vrrp_script chk failing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAnnouncer(BGPOptions{})
			set := func(p *bool, fn func(string, bool), name string) {
				if p != nil {
					fn(name, *p)
				}
			}
			set(tt.in.quorum, a.SetQuorum, "web")
			set(tt.in.settled, a.SetSettled, "web")
			set(tt.in.link, a.setLink, "eth0")
			set(tt.in.script, a.setScript, "chk")
			got, held := a.want(bgpConfig(an).BGP)
			var ps []netip.Prefix
			for _, g := range got {
				ps = append(ps, g.Prefix)
			}
			if !slices.Equal(ps, tt.want) {
				t.Errorf("announced %v, want %v", ps, tt.want)
			}
			if tt.reason == "" && len(held) != 0 || tt.reason != "" && (len(held) != 1 || held[0].Reason != tt.reason) {
				t.Errorf("withheld %+v, want reason %q", held, tt.reason)
			}
		})
	}
	// Untracked: announced as soon as the speaker runs, with its attributes.
	med := uint32(7)
	got, _ := NewAnnouncer(BGPOptions{}).want(bgpConfig(lvshcl.BGPAnnounce{Name: "x", VIPs: vips("192.0.2.1"), MED: &med, Communities: []uint32{65001<<16 | 1}}).BGP)
	if len(got) != 1 || *got[0].MED != 7 || !slices.Equal(got[0].Communities, []bgp.Community{bgp.NewCommunity(65001, 1)}) {
		t.Errorf("want() = %+v, want 192.0.2.1/32 with MED 7 and community 65001:1", got)
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
	var zero T
	return zero
}

// TestAnnouncerRun: the speaker starts with the block's settings, follows
// the tracked inputs, keeps running across a reload that changes only
// announcements, restarts when a neighbor changes, and stops on shutdown.
func TestAnnouncerRun(t *testing.T) {
	ss := &speakers{made: make(chan *fakeSpeaker, 4)}
	links := &fakeLinks{initial: map[string]bool{"eth0": true}}
	retry := make(chan time.Time)
	a := NewAnnouncer(BGPOptions{NewSpeaker: ss.new, Links: links, Probe: func(context.Context, lvshcl.VRRPScript) (bool, string) { return true, "" },
		After: func(time.Duration) <-chan time.Time { return retry }})
	an := lvshcl.BGPAnnounce{Name: "web", VIPs: vips("192.0.2.10"), TrackVirtualServer: []string{"web"}, TrackInterface: []string{"eth0"}}
	cfg := bgpConfig(an)
	ctx, cancel := context.WithCancel(t.Context())
	reload := make(chan *lvshcl.Config)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, cfg, reload) }()

	s := recv(t, ss.made, "speaker")
	if s.cfg.ASN != 65001 || len(s.cfg.Neighbors) != 1 || s.cfg.Neighbors[0].Address != netip.MustParseAddr("10.0.0.1") || s.cfg.DrainTime != time.Second {
		t.Errorf("speaker config %+v", s.cfg)
	}
	if got := recv(t, s.sets, "first convergence"); len(got) != 0 {
		t.Fatalf("announced %v before any check result", got)
	}
	a.SetQuorum("web", true) // presumed at load
	a.SetSettled("web", true)
	waitSet(t, s, "announce", hosts("192.0.2.10"))
	a.SetQuorum("web", false)
	waitSet(t, s, "withdraw on quorum loss", nil)
	a.SetQuorum("web", true)
	waitSet(t, s, "re-announce", hosts("192.0.2.10"))
	links.set("eth0", false)
	waitSet(t, s, "withdraw on link down", nil)
	links.set("eth0", true)
	waitSet(t, s, "re-announce", hosts("192.0.2.10"))

	// A new VIP only: same speaker.
	an2 := an
	an2.VIPs = vips("192.0.2.10", "192.0.2.11")
	reload <- bgpConfig(an2)
	waitSet(t, s, "reload", hosts("192.0.2.10", "192.0.2.11"))
	select {
	case <-s.stopped:
		t.Fatal("a reload changing only announcements restarted the speaker")
	default:
	}
	// A changed neighbor: the speaker restarts.
	c3 := bgpConfig(an2)
	c3.BGP.Neighbors[0].ASN = 65002
	reload <- c3
	recv(t, s.stopped, "old speaker stopped")
	s2 := recv(t, ss.made, "new speaker")
	if s2.cfg.Neighbors[0].ASN != 65002 {
		t.Errorf("new speaker's neighbor AS %d, want 65002", s2.cfg.Neighbors[0].ASN)
	}
	waitSet(t, s2, "announce on the new speaker", hosts("192.0.2.10", "192.0.2.11"))

	// A failed convergence is retried.
	s2.mu.Lock()
	s2.failSets = 1
	s2.mu.Unlock()
	a.SetQuorum("web", false)
	retry <- time.Time{} // blocks until the failed convergence waits for it
	waitSet(t, s2, "retried withdraw", nil)

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recv(t, s2.stopped, "stop on shutdown")
}

// waitSet reads the speaker's convergences until one announces want:
// inputs are level-triggered, so extra convergences of a passing state
// are allowed.
func waitSet(t *testing.T, s *fakeSpeaker, what string, want []netip.Prefix) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var last []netip.Prefix
	for {
		select {
		case got := <-s.sets:
			if slices.Equal(got, want) {
				return
			}
			last = got
		case <-timeout:
			t.Fatalf("%s: speaker never asked for %v; last %v", what, want, last)
		}
	}
}

// TestAnnouncerNotBuilt: in a -tags nobgp binary the bgp block is reported
// once and not retried every second, and leaves no VIP and no sysctl set.
func TestAnnouncerNotBuilt(t *testing.T) {
	calls := 0
	link := newFakeVIPLink(&events{}, "lo")
	sys := &fakeSysctl{vals: map[string]string{sysctlSloppyTCP: "0"}}
	a := NewAnnouncer(BGPOptions{
		NewSpeaker: func(bgp.Config) (BGPSpeaker, error) { calls++; return nil, bgp.ErrNotBuilt },
		After:      func(time.Duration) <-chan time.Time { t.Error("retry scheduled for a binary without BGP"); return nil },
		VIPLink:    link, Sysctl: sys,
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	cfg := bgpConfig(lvshcl.BGPAnnounce{Name: "x", VIPs: vips("192.0.2.1")})
	cfg.BGP.VIPInterface, cfg.BGP.SloppyTCP = "lo", true
	go func() { done <- a.Run(ctx, cfg, nil) }()
	eventually(t, "reported", func() bool { return a.Status().Error != "" })
	assert.False(t, link.has("192.0.2.1/32"), "no VIP on the link without a speaker")
	assert.Equal(t, "0", sys.get(sysctlSloppyTCP))
	a.SetQuorum("other", true) // a poke: must not try again
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("NewSpeaker called %d times, want 1", calls)
	}
}
