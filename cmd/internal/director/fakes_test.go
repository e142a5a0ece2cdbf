package director

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// fakeInst is a VRRP instance reduced to what the glue sees: FAULT while a
// tracked object of weight 0 is down, MASTER when the test says it won the
// election, BACKUP otherwise, STOP when Run's context is done.
type fakeInst struct {
	cfg  vrrp.Config
	kick chan struct{}

	mu      sync.Mutex
	tracked map[string]bool
	state   vrrp.State
	master  bool
	runs    int
	running bool
	runErrs []error // returned by the first Runs
}

func (f *fakeInst) Run(ctx context.Context) error {
	f.mu.Lock()
	f.runs++
	if len(f.runErrs) > 0 {
		err := f.runErrs[0]
		f.runErrs = f.runErrs[1:]
		f.mu.Unlock()
		return err
	}
	f.running = true
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.running = false; f.mu.Unlock() }()
	f.to(f.eval(), "start")
	for {
		select {
		case <-ctx.Done():
			f.to(vrrp.StateStop, "stop")
			return nil
		case <-f.kick:
			f.to(f.eval(), "tracking")
		}
	}
}

func (f *fakeInst) eval() vrrp.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.cfg.Track {
		if t.Weight == 0 && !f.tracked[t.Name] {
			return vrrp.StateFault
		}
	}
	if f.master {
		return vrrp.StateMaster
	}
	return vrrp.StateBackup
}

func (f *fakeInst) prio() uint8 {
	p := int(f.cfg.Priority)
	for _, t := range f.cfg.Track {
		up := f.tracked[t.Name]
		if (t.Weight > 0 && up) || (t.Weight < 0 && !up) {
			p += t.Weight
		}
	}
	return uint8(min(max(p, 1), 254))
}

func (f *fakeInst) to(s vrrp.State, why string) {
	f.mu.Lock()
	from := f.state
	if from == s {
		f.mu.Unlock()
		return
	}
	f.state = s
	prio := f.prio()
	f.mu.Unlock()
	f.cfg.OnTransition(vrrp.Transition{Instance: f.cfg.Name, From: from, To: s, Priority: prio, Reason: why, Time: time.Now()})
}

func (f *fakeInst) SetTracked(name string, up bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.tracked[name]; !ok {
		return fmt.Errorf("%s does not track %q", f.cfg.Name, name)
	}
	f.tracked[name] = up
	select {
	case f.kick <- struct{}{}:
	default:
	}
	return nil
}

func (f *fakeInst) Status() vrrp.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return vrrp.Status{Name: f.cfg.Name, State: f.state, Priority: f.prio(), BasePriority: f.cfg.Priority}
}

func (f *fakeInst) setMaster(m bool) {
	f.mu.Lock()
	f.master = m
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *fakeInst) get() (state vrrp.State, tracked map[string]bool, runs int, running bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tr := map[string]bool{}
	for k, v := range f.tracked {
		tr[k] = v
	}
	return f.state, tr, f.runs, f.running
}

// fakes makes fakeInsts and remembers them.
type fakes struct {
	mu      sync.Mutex
	made    []*fakeInst
	runErrs map[string][]error
}

func (fs *fakes) New(c vrrp.Config) (Instance, error) {
	f := &fakeInst{cfg: c, kick: make(chan struct{}, 1), tracked: map[string]bool{}}
	for _, t := range c.Track {
		f.tracked[t.Name] = true
	}
	if c.Priority == 0 {
		f.cfg.Priority = 100
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f.runErrs = fs.runErrs[c.Name]
	fs.made = append(fs.made, f)
	return f, nil
}

// last is the latest instance made for name.
func (fs *fakes) last(name string) *fakeInst {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := len(fs.made) - 1; i >= 0; i-- {
		if fs.made[i].cfg.Name == name {
			return fs.made[i]
		}
	}
	return nil
}

func (fs *fakes) count(name string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for _, f := range fs.made {
		if f.cfg.Name == name {
			n++
		}
	}
	return n
}

// fakeLinks is a LinkSource the test drives.
type fakeLinks struct {
	mu      sync.Mutex
	fn      func(string, bool)
	initial map[string]bool
}

func (l *fakeLinks) Watch(_ context.Context, fn func(string, bool)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, up := range l.initial {
		fn(name, up)
	}
	l.fn = fn
	return nil
}

func (l *fakeLinks) set(name string, up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fn(name, up)
}

// probes scripts the results of vrrp_scripts.
type probes struct {
	mu   sync.Mutex
	down map[string]bool
	runs map[string]int
	gate chan struct{} // if set, the first probe of each script waits for it
}

func (p *probes) set(name string, up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down == nil {
		p.down = map[string]bool{}
	}
	p.down[name] = !up
}

func (p *probes) count(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs[name]
}

func (p *probes) Probe(ctx context.Context, s lvshcl.VRRPScript) (bool, string) {
	p.mu.Lock()
	if p.runs == nil {
		p.runs = map[string]int{}
	}
	p.runs[s.Name]++
	first := p.runs[s.Name] == 1
	gate := p.gate
	p.mu.Unlock()
	if first && gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return false, "cancelled"
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down[s.Name] {
		return false, "exit status 1"
	}
	return true, "exit status 0"
}

// hookLog records the hooks run, as "EVENT argv... args..." strings.
type hookLog struct {
	mu    sync.Mutex
	ran   []string
	env   [][]string
	delay time.Duration
}

func (h *hookLog) Run(_ context.Context, hk lvshcl.Hook, args, env []string) error {
	time.Sleep(h.delay)
	h.mu.Lock()
	defer h.mu.Unlock()
	event := strings.TrimPrefix(env[0], "LVSCTL_EVENT=")
	h.ran = append(h.ran, strings.Join(append(append([]string{event}, hk.Argv...), args...), " "))
	h.env = append(h.env, env)
	if slices.Contains(hk.Argv, "fail") {
		return errors.New("exit status 1")
	}
	return nil
}

func (h *hookLog) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ran)
}

// matching are the hooks whose line contains sub.
func (h *hookLog) matching(sub string) []string {
	var out []string
	for _, s := range h.list() {
		if strings.Contains(s, sub) {
			out = append(out, s)
		}
	}
	return out
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rig is a Runner on fakes.
type rig struct {
	t      *testing.T
	fakes  *fakes
	links  *fakeLinks
	probes *probes
	hooks  *hookLog
	log    *syncBuf
	r      *Runner
	reload chan lvshcl.VRRP
	cancel context.CancelFunc
	done   chan error
}

func newRig(t *testing.T) *rig {
	g := &rig{
		t:      t,
		fakes:  &fakes{runErrs: map[string][]error{}},
		links:  &fakeLinks{initial: map[string]bool{"lo": true, "eth0": true, "eth1": true, "eth2": true}},
		probes: &probes{},
		hooks:  &hookLog{},
		log:    &syncBuf{},
		reload: make(chan lvshcl.VRRP),
	}
	return g
}

func (g *rig) options() VRRPOptions {
	return VRRPOptions{
		Logger:      slog.New(slog.NewTextHandler(g.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		NewInstance: g.fakes.New,
		Links:       g.links,
		Probe:       g.probes.Probe,
		Hooks:       g.hooks.Run,
		RetryMin:    10 * time.Millisecond,
		RetryMax:    20 * time.Millisecond,
	}
}

func (g *rig) start(cfg lvshcl.VRRP) {
	g.r = NewRunner(g.options())
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.done = make(chan error, 1)
	go func() { g.done <- g.r.Run(ctx, cfg, g.reload) }()
	g.t.Cleanup(func() {
		g.stop()
		if g.t.Failed() {
			g.t.Logf("log:\n%s", g.log.String())
		}
	})
}

func (g *rig) stop() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	g.cancel = nil
	select {
	case err := <-g.done:
		if err != nil {
			g.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		g.t.Fatal("runner did not stop")
	}
}

func (g *rig) state(name string) vrrp.State {
	f := g.fakes.last(name)
	if f == nil {
		return vrrp.StateInit
	}
	s, _, _, _ := f.get()
	return s
}

func (g *rig) tracked(name, track string) bool {
	_, tr, _, _ := g.fakes.last(name).get()
	return tr[track]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 5s", what)
}

// inst is a VRRPInstance on iface tracking tracks.
func inst(name, iface string, tracks ...vrrp.Track) lvshcl.VRRPInstance {
	return lvshcl.VRRPInstance{Config: vrrp.Config{Name: name, Interface: iface, VRID: 1, Priority: 100, Track: tracks}}
}

func hook(argv ...string) *lvshcl.Hook { return &lvshcl.Hook{Argv: argv, Timeout: time.Second} }
