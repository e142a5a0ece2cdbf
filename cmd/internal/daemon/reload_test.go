package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// dumpKernel is the fixture's kernel counting its dumps.
type dumpKernel struct {
	*kernel
	mu    sync.Mutex
	dumps int
}

func (k *dumpKernel) Services(ctx context.Context) ([]ipvs.VirtualService, error) {
	k.mu.Lock()
	k.dumps++
	k.mu.Unlock()
	return k.kernel.Services(ctx)
}

func (k *dumpKernel) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dumps
}

// lookupKernel is a dumpKernel that can also be asked for one service, as
// ipvs.Netlink can (not counted as a dump).
type lookupKernel struct{ *dumpKernel }

func (k lookupKernel) ListService(ctx context.Context, key ipvs.ServiceKey) (ipvs.ListedService, error) {
	svcs, err := k.kernel.Services(ctx)
	if err != nil {
		return ipvs.ListedService{}, err
	}
	for _, s := range svcs {
		if s.Key == key {
			return ipvs.ListedService{ServiceStatus: ipvs.ServiceStatus{Service: s}}, nil
		}
	}
	return ipvs.ListedService{}, fmt.Errorf("get service %s: %w", key, ipvs.ErrNoService)
}

// svc is service 10.0.0.i:80 named si with unchecked real servers
// 10.0.1.r:80 of weight 1, one per r.
func svc(i int, reals ...int) ipvs.VirtualService {
	vs := ipvs.VirtualService{Name: fmt.Sprintf("s%d", i), Key: ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), Port: 80}, Scheduler: "wrr"}
	for _, r := range reals {
		vs.RealServers = append(vs.RealServers, ipvs.RealServer{Addr: netip.AddrFrom4([4]byte{10, 0, 1, byte(r)}), Port: 80, Weight: 1, Forwarding: ipvs.NAT})
	}
	return vs
}

// tableConfig configures svcs, their real servers unchecked.
func tableConfig(svcs ...ipvs.VirtualService) *lvshcl.Config {
	cfg := &lvshcl.Config{}
	for _, vs := range svcs {
		p := lvshcl.Pool{Service: vs.Key, Name: vs.Name}
		for _, r := range vs.RealServers {
			p.Members = append(p.Members, lvshcl.Member{Real: r.Key()})
		}
		cfg.Services = append(cfg.Services, vs)
		cfg.Pools = append(cfg.Pools, p)
	}
	return cfg
}

// loadResult is one Options.OnLoad call.
type loadResult struct {
	ops []ipvs.Op
	err error
}

// reloadFixture runs the daemon on k with cfg and returns a function that
// reloads a configuration and returns its outcome.
func reloadFixture(t *testing.T, f *fixture, k ipvs.Kernel, own *ipvs.MemOwnership, o Options, cfg *lvshcl.Config) func(*lvshcl.Config) loadResult {
	t.Helper()
	loads := make(chan loadResult, 4)
	o.Kernel, o.Owned = k, own
	o.OnLoad = func(_ *lvshcl.Config, ops []ipvs.Op, err error) { loads <- loadResult{ops, err} }
	f.start(cfg, o)
	wait := func() loadResult {
		t.Helper()
		select {
		case r := <-loads:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no load outcome")
			return loadResult{}
		}
	}
	require.NoError(t, wait().err)
	return func(next *lvshcl.Config) loadResult {
		f.reload <- next
		return wait()
	}
}

// requireTable fails unless the kernel holds exactly want.
func requireTable(t *testing.T, k *kernel, want []ipvs.VirtualService) {
	t.Helper()
	have, err := k.Services(context.Background())
	require.NoError(t, err)
	require.Empty(t, render(ipvs.Diff(have, want)), "the kernel differs from the table")
	require.Len(t, have, len(want))
}

func keysOf(svcs []ipvs.VirtualService) []ipvs.ServiceKey {
	out := make([]ipvs.ServiceKey, 0, len(svcs))
	for _, s := range svcs {
		out = append(out, s.Key)
	}
	slices.SortFunc(out, ipvs.ServiceKey.Compare)
	return out
}

// TestReloadWritesOnlyTheDifference: a reload diffs the old desired table
// against the new in memory and writes the difference, without a dump;
// the ownership record follows. A service the reload adds is looked up
// first, and without that look-up the reload dumps.
func TestReloadWritesOnlyTheDifference(t *testing.T) {
	base := []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2), svc(3, 1, 2)}
	weight := func(s ipvs.VirtualService, w uint32) ipvs.VirtualService {
		s.RealServers = slices.Clone(s.RealServers)
		s.RealServers[0].Weight = w
		return s
	}
	renamed := svc(2, 1, 2)
	renamed.Name = "t2"
	moved := svc(9, 1, 2)
	tests := []struct {
		name   string
		lookup bool // the kernel can be asked for one service
		next   []ipvs.VirtualService
		writes int
		dumps  int
		ops    []string
	}{
		{"one weight", true, []ipvs.VirtualService{svc(1, 1, 2), weight(svc(2, 1, 2), 7), svc(3, 1, 2)}, 1, 0,
			[]string{"~ real TCP 10.0.0.2:80 (s2) -> 10.0.1.1:80 weight 1 -> 7"}},
		{"real server added", false, []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2, 3), svc(3, 1, 2)}, 1, 0, nil},
		{"real server removed", false, []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1), svc(3, 1, 2)}, 1, 0, nil},
		{"service removed", false, []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2)}, 1, 0,
			[]string{"- service TCP 10.0.0.3:80 (s3)"}},
		{"service added", true, append(slices.Clone(base), svc(4, 1)), 2, 0, nil},
		{"service added, no look-up", false, append(slices.Clone(base), svc(4, 1)), 2, 1, nil},
		{"renamed", false, []ipvs.VirtualService{svc(1, 1, 2), renamed, svc(3, 1, 2)}, 0, 0, nil},
		{"key changed", true, []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2), moved}, 4, 0, nil},
		{"unchanged", false, base, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			dk := &dumpKernel{kernel: f.k}
			var k ipvs.Kernel = dk
			if tt.lookup {
				k = lookupKernel{dk}
			}
			own := &ipvs.MemOwnership{}
			reload := reloadFixture(t, f, k, own, Options{Resync: time.Hour}, tableConfig(base...))
			writes, dumps := f.k.writes(), dk.count()

			res := reload(tableConfig(tt.next...))
			require.NoError(t, res.err)
			assert.Equal(t, tt.writes, f.k.writes()-writes, "kernel writes")
			assert.Equal(t, tt.dumps, dk.count()-dumps, "dumps")
			assert.Len(t, res.ops, tt.writes, "the ops OnLoad hears")
			if tt.ops != nil {
				assert.Equal(t, tt.ops, render(res.ops))
			}
			requireTable(t, f.k, tt.next)
			assert.Equal(t, keysOf(tt.next), own.Keys, "owned")
			assert.Empty(t, own.Intended)
			snap, ok := f.d.Snapshot()
			require.True(t, ok)
			assert.Equal(t, 2, snap.Loads, "the status generation")
			assert.Equal(t, 1-tt.dumps, snap.Stats.MemoryReloads)
			names := []string{}
			for _, s := range snap.Services {
				names = append(names, s.Name)
				assert.True(t, s.Known, s.Name)
			}
			want := []string{}
			for _, s := range tt.next {
				want = append(want, s.Name)
			}
			slices.Sort(want)
			slices.Sort(names)
			assert.Equal(t, want, names)
		})
	}
}

// TestReloadDumpsWhenTheViewIsStale: a reload writes from memory only while
// the daemon's view of the table can be trusted; otherwise it dumps and
// repairs drift too. Drift not yet seen is repaired by the resync that
// follows a reload written from memory, ReloadResync later.
func TestReloadDumpsWhenTheViewIsStale(t *testing.T) {
	base := []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2)}
	next := []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2, 3)}
	dropReal := func(t *testing.T, f *fixture, _ *ipvs.MemOwnership) {
		// Someone runs ipvsadm -d on s1 behind lvsctl's back.
		_, err := f.k.Apply(context.Background(), []ipvs.Op{{Kind: ipvs.DeleteRealServer, Service: svc(1), Real: svc(1, 2).RealServers[0]}})
		require.NoError(t, err)
	}
	tests := []struct {
		name   string
		before func(t *testing.T, f *fixture, own *ipvs.MemOwnership)
		dumps  int // by the reload
	}{
		{"drift found by a resync", func(t *testing.T, f *fixture, own *ipvs.MemOwnership) {
			dropReal(t, f, own)
			f.until(6*time.Second, func() bool {
				snap, _ := f.d.Snapshot()
				return snap.Stats.Repairs == 1
			})
		}, 1},
		{"ownership record edited", func(t *testing.T, f *fixture, own *ipvs.MemOwnership) {
			own.Keys = append(own.Keys, svc(7).Key) // owned, not in the view
		}, 1},
		{"intended keys in the record", func(t *testing.T, f *fixture, own *ipvs.MemOwnership) {
			own.Intended = []ipvs.ServiceKey{svc(7).Key}
		}, 1},
		{"drift not yet seen", dropReal, 0},
		{"record in another order", func(t *testing.T, f *fixture, own *ipvs.MemOwnership) {
			slices.Reverse(own.Keys) // the same keys: no doubt
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			dk := &dumpKernel{kernel: f.k}
			own := &ipvs.MemOwnership{}
			reload := reloadFixture(t, f, dk, own, Options{Resync: 5 * time.Second, ReloadResync: time.Second}, tableConfig(base...))
			tt.before(t, f, own)
			dumps := dk.count()
			require.NoError(t, reload(tableConfig(next...)).err)
			assert.Equal(t, tt.dumps, dk.count()-dumps, "dumps by the reload")
			assert.Contains(t, f.k.reals(t, svc(2).Key), "10.0.1.3:80/1")
			// Any drift is gone within ReloadResync, well before Resync.
			took := f.until(5*time.Second, func() bool {
				have, err := f.k.Services(context.Background())
				require.NoError(t, err)
				return len(ipvs.Diff(have, next)) == 0
			})
			assert.LessOrEqual(t, took, time.Second+100*time.Millisecond)
			owned := slices.Clone(own.Keys)
			slices.SortFunc(owned, ipvs.ServiceKey.Compare)
			assert.Equal(t, keysOf(next), owned)
		})
	}
}

// TestRejectedReloadKeepsTheOldTable: when the kernel refuses part of a
// reload, nothing of it stays (the ops it had accepted are undone), the
// ownership record is as before, and OnLoad hears the error, as with a
// dump. A foreign service where the reload adds one is a conflict, and is
// left alone.
func TestRejectedReloadKeepsTheOldTable(t *testing.T) {
	base := []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2), svc(3, 1)}
	bad := netip.MustParseAddr("10.0.1.9")
	weighted := svc(1, 1, 2)
	weighted.RealServers[1].Weight = 5
	foreign := svc(4, 7)
	tests := []struct {
		name    string
		next    []ipvs.VirtualService
		foreign bool // svc(4) exists, not lvsctl's
		wantErr error
	}{
		{"real server rejected after an edit", []ipvs.VirtualService{weighted, svc(2, 1, 2, 9), svc(3, 1)}, false, syscall.EINVAL},
		{"new service's real server rejected", []ipvs.VirtualService{weighted, svc(2, 1, 2), svc(3, 1), svc(5, 1, 9)}, false, syscall.EINVAL},
		{"service removed, real server rejected", []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2, 9)}, false, syscall.EINVAL},
		{"foreign service at an added key", []ipvs.VirtualService{weighted, svc(2, 1, 2), svc(3, 1), svc(4, 1)}, true, ipvs.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.foreign {
				f.k = &kernel{f: ipvs.NewFake(foreign)}
			}
			f.k.f.Fail = func(op ipvs.Op) error {
				if op.Kind == ipvs.AddRealServer && op.Real.Addr == bad {
					return syscall.EINVAL
				}
				return nil
			}
			dk := &dumpKernel{kernel: f.k}
			own := &ipvs.MemOwnership{}
			reload := reloadFixture(t, f, lookupKernel{dk}, own, Options{Resync: time.Hour}, tableConfig(base...))
			saves := own.Saves

			res := reload(tableConfig(tt.next...))
			require.ErrorIs(t, res.err, tt.wantErr)
			want := slices.Clone(base)
			if tt.foreign {
				want = append(want, foreign)
			}
			requireTable(t, f.k, want)
			assert.Equal(t, keysOf(base), own.Keys, "owned as before")
			assert.Empty(t, own.Intended)
			if tt.foreign {
				assert.Equal(t, saves, own.Saves, "a conflict writes no record")
			}
			snap, ok := f.d.Snapshot()
			require.True(t, ok)
			assert.Zero(t, snap.Stats.MemoryReloads)

			// The next reload, back to the old table, dumps (the view is
			// in doubt after a failed apply) and succeeds.
			require.NoError(t, reload(tableConfig(base...)).err)
			requireTable(t, f.k, want)
		})
	}
}

// TestSameEntryKnowsEveryField: sameEntry compares the fields of
// ipvs.VirtualService one by one; a new field must be added to it, or a
// reload that changes only that field would write nothing.
func TestSameEntryKnowsEveryField(t *testing.T) {
	require.Equal(t, 9, reflect.TypeOf(ipvs.VirtualService{}).NumField(), "a field was added to ipvs.VirtualService: compare it in sameEntry, then update this count")
	base := svc(1, 1, 2).Normalize()
	edits := []func(*ipvs.VirtualService){
		func(s *ipvs.VirtualService) { s.Name = "other" },
		func(s *ipvs.VirtualService) { s.Key.Port = 81 },
		func(s *ipvs.VirtualService) { s.Scheduler = "rr" },
		func(s *ipvs.VirtualService) { s.SchedFlags = ipvs.SchedFlag1 },
		func(s *ipvs.VirtualService) { s.Persistence = time.Minute },
		func(s *ipvs.VirtualService) { s.PersistenceMask = 24 },
		func(s *ipvs.VirtualService) { s.PersistenceEngine = "sip" },
		func(s *ipvs.VirtualService) { s.OnePacket = true },
		func(s *ipvs.VirtualService) { s.RealServers = s.RealServers[:1] },
	}
	assert.True(t, sameEntry(base, svc(1, 1, 2).Normalize()))
	for i, edit := range edits {
		s := base
		s.RealServers = slices.Clone(base.RealServers)
		edit(&s)
		assert.False(t, sameEntry(base, s), "edit %d", i)
	}
}

// TestReloadKeepsOnlyUnchangedStates: a load reuses the published state
// of a service only if every input of serviceState is as it was.
func TestReloadKeepsOnlyUnchangedStates(t *testing.T) {
	f := newFixture(t)
	sorry := ipvs.RealServer{Addr: netip.MustParseAddr("10.0.9.9"), Port: 80, Weight: 1, Forwarding: ipvs.NAT}
	base := func() service {
		cfg := f.config(2, func(p *lvshcl.Pool) { p.SorryServer = &sorry })
		return service{vs: cfg.Services[0].Normalize(), pool: cfg.Pools[0]}
	}
	d := &Daemon{}
	st := d.serviceState(web, base())
	require.True(t, builtFrom(st, base()))
	edits := map[string]func(*service){
		"name":         func(s *service) { s.pool.Name = "other" },
		"inhibit":      func(s *service) { s.pool.InhibitOnFailure = true },
		"scheduler":    func(s *service) { s.vs.Scheduler = "rr" },
		"real weight":  func(s *service) { s.vs.RealServers = slices.Clone(s.vs.RealServers); s.vs.RealServers[1].Weight = 9 },
		"real removed": func(s *service) { s.vs.RealServers = s.vs.RealServers[:1] },
		"no sorry":     func(s *service) { s.pool.SorryServer = nil },
		"sorry weight": func(s *service) { x := sorry; x.Weight = 3; s.pool.SorryServer = &x },
		"unchecked":    func(s *service) { s.pool.Members = slices.Clone(s.pool.Members); s.pool.Members[0].Check = nil },
		"check target": func(s *service) {
			s.pool.Members = slices.Clone(s.pool.Members)
			c := *s.pool.Members[1].Check
			c.Target.Service = "renamed"
			s.pool.Members[1].Check = &c
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			s := base()
			edit(&s)
			assert.False(t, builtFrom(st, s))
		})
	}
}

// TestReloadFromMemoryEqualsDump: with health, quorum and sorry server
// states in play, a reload written from memory leaves the table a reload
// through a dump leaves, with the same ops.
func TestReloadFromMemoryEqualsDump(t *testing.T) {
	sorry := ipvs.RealServer{Addr: netip.MustParseAddr("10.0.9.9"), Port: 80, Weight: 1, Forwarding: ipvs.NAT}
	withSorry := func(p *lvshcl.Pool) {
		p.SorryServer = &sorry
		p.Quorum = 3
	}
	tests := []struct {
		name   string
		before func(f *fixture) *lvshcl.Config
		down   []string
		after  func(f *fixture) *lvshcl.Config
	}{
		{"failed server stays out, new one joins presumed up",
			func(f *fixture) *lvshcl.Config { return f.config(2, nil) }, []string{"10.0.1.2:80"},
			func(f *fixture) *lvshcl.Config { return f.config(3, nil) }},
		{"quorum lost: the sorry server serves, a new server too is out",
			func(f *fixture) *lvshcl.Config { return f.config(2, withSorry) }, []string{"10.0.1.1:80"},
			func(f *fixture) *lvshcl.Config { return f.config(3, withSorry) }},
		{"sorry server dropped while serving",
			func(f *fixture) *lvshcl.Config { return f.config(2, withSorry) }, []string{"10.0.1.1:80"},
			func(f *fixture) *lvshcl.Config { return f.config(2, func(p *lvshcl.Pool) { p.Quorum = 3 }) }},
		{"inhibited server kept at 0, another weight edited",
			func(f *fixture) *lvshcl.Config {
				return f.config(2, func(p *lvshcl.Pool) { p.InhibitOnFailure = true })
			}, []string{"10.0.1.1:80"},
			func(f *fixture) *lvshcl.Config {
				c := f.config(2, func(p *lvshcl.Pool) { p.InhibitOnFailure = true })
				c.Services[0].RealServers[1].Weight = 5
				return c
			}},
		{"sorry_server_inhibit added",
			func(f *fixture) *lvshcl.Config { return f.config(2, nil) }, nil,
			func(f *fixture) *lvshcl.Config {
				return f.config(2, func(p *lvshcl.Pool) { p.SorryServer = &sorry; p.SorryInhibit = true })
			}},
	}
	run := func(t *testing.T, dump bool, before, after func(*fixture) *lvshcl.Config, down []string) ([]string, []string, Stats) {
		f := newFixture(t)
		var own ipvs.Ownership = &ipvs.MemOwnership{}
		if dump {
			own = &doubtfulOwnership{}
		}
		loads := make(chan loadResult, 4)
		f.start(before(f), Options{Owned: own, Resync: time.Hour,
			OnLoad: func(_ *lvshcl.Config, ops []ipvs.Op, err error) { loads <- loadResult{ops, err} }})
		require.NoError(t, (<-loads).err)
		for _, a := range down {
			f.probes.set(a, false)
		}
		if len(down) > 0 {
			f.until(3*time.Second, func() bool {
				snap, _ := f.d.Snapshot()
				return snap.Stats.Reconciles >= 1
			})
		}
		f.reload <- after(f)
		var res loadResult
		select {
		case res = <-loads:
		case <-time.After(10 * time.Second):
			t.Fatal("no load outcome")
		}
		require.NoError(t, res.err)
		table := f.k.reals(t, web)
		snap, _ := f.d.Snapshot()
		require.NoError(t, f.stop())
		return table, render(res.ops), snap.Stats
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			memTable, memOps, memStats := run(t, false, tt.before, tt.after, tt.down)
			dumpTable, dumpOps, dumpStats := run(t, true, tt.before, tt.after, tt.down)
			assert.Equal(t, 1, memStats.MemoryReloads)
			assert.Zero(t, dumpStats.MemoryReloads)
			assert.Equal(t, dumpTable, memTable, "the table")
			assert.Equal(t, dumpOps, memOps, "the ops")
		})
	}
}

// blockingKernel is a lookupKernel whose dumps, once armed, wait until
// their context ends or release is closed (a dump of a table too large to
// finish in time).
type blockingKernel struct {
	lookupKernel
	armed   atomic.Bool
	blocked chan struct{} // one value each time a dump starts waiting
	release chan struct{}
}

func (k *blockingKernel) Services(ctx context.Context) ([]ipvs.VirtualService, error) {
	if k.armed.Load() {
		k.blocked <- struct{}{}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("dump: %w", ctx.Err())
		case <-k.release:
		}
	}
	return k.dumpKernel.Services(ctx)
}

// TestReloadPreemptsResync: the resync a reload written from memory brings
// forward gives way to the next reload instead of making it wait for its
// dump (at 100k objects, longer than the next edit's parse: the second
// SIGHUP of TestVMBench waited 16 s), writes nothing, and runs again
// ReloadResync after that reload. A periodic resync is never preempted.
func TestReloadPreemptsResync(t *testing.T) {
	base := []ipvs.VirtualService{svc(1, 1, 2), svc(2, 1, 2)}
	f := newFixture(t)
	bk := &blockingKernel{lookupKernel: lookupKernel{&dumpKernel{kernel: f.k}}, blocked: make(chan struct{}, 4), release: make(chan struct{})}
	own := &ipvs.MemOwnership{}
	reload := reloadFixture(t, f, bk, own, Options{Resync: time.Hour, ReloadResync: 50 * time.Millisecond}, tableConfig(base...))

	weight := func(s ipvs.VirtualService, w uint32) ipvs.VirtualService {
		s.RealServers[0].Weight = w
		return s
	}
	first := []ipvs.VirtualService{weight(svc(1, 1, 2), 3), svc(2, 1, 2)}
	// waitBlocked advances the fake clock until a resync's dump waits.
	waitBlocked := func(what string) {
		t.Helper()
		t.Log(what)
		f.until(5*time.Second, func() bool {
			select {
			case <-bk.blocked:
				return true
			default:
				return false
			}
		})
	}
	bk.armed.Store(true)
	require.NoError(t, reload(tableConfig(first...)).err)
	waitBlocked("the brought-forward resync dumps")
	second := []ipvs.VirtualService{weight(svc(1, 1, 2), 4), svc(2, 1, 2)}
	done := make(chan loadResult, 1)
	go func() { done <- reload(tableConfig(second...)) }()
	var res loadResult
	select {
	case res = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the reload waited for the resync's dump")
	}
	require.NoError(t, res.err)
	assert.Len(t, res.ops, 1, "written from memory")
	requireTable(t, f.k, second)
	snap, ok := f.d.Snapshot()
	require.True(t, ok)
	assert.Equal(t, 2, snap.Stats.MemoryReloads)

	// The preempted resync runs again after the second reload, and
	// completes once dumps do.
	waitBlocked("the preempted resync runs again")
	resyncs := snap.Stats.Resyncs
	bk.armed.Store(false)
	close(bk.release)
	f.until(5*time.Second, func() bool {
		s, _ := f.d.Snapshot()
		return s.Stats.Resyncs > resyncs
	})
	requireTable(t, f.k, second)
}
