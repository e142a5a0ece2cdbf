package ipvs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errKilled stands for the process dying: killedKernel panics with it, so
// nothing after the kernel call (no confirmation, no rollback) runs.
var errKilled = errors.New("killed")

// killedKernel accepts the first after ops of the next Apply and then dies
// in the middle of it, as a SIGKILLed lvsctl does.
type killedKernel struct {
	*Fake
	after int
}

func (k *killedKernel) Apply(ctx context.Context, ops []Op) (int, error) {
	_, _ = k.Fake.Apply(ctx, ops[:min(k.after, len(ops))])
	panic(errKilled)
}

// killApply runs an apply that dies inside the kernel call.
func killApply(t *testing.T, f *Fake, own Ownership, after int, desired []VirtualService) {
	t.Helper()
	r := &Reconciler{Kernel: &killedKernel{Fake: f, after: after}, Owned: own}
	p, err := r.Plan(context.Background(), desired, false)
	require.NoError(t, err)
	defer func() {
		t.Helper()
		require.Equal(t, errKilled, recover(), "the apply dies in the kernel call")
	}()
	_, _ = r.Apply(context.Background(), p)
}

func killTable(n int) []VirtualService {
	var out []VirtualService
	for i := range n {
		out = append(out, svc(tcp(fmt.Sprintf("10.100.0.%d", i+1), 80),
			real(fmt.Sprintf("10.200.%d.1", i), 80, 1), real(fmt.Sprintf("10.200.%d.2", i), 80, 2)))
	}
	return out
}

// TestKilledApplyOwnsNothingUnconfirmed: an apply killed before it
// created a service leaves the key intended, not owned; a service someone
// else creates there is never deleted nor edited by the next apply, and is
// claimed only with --adopt.
func TestKilledApplyOwnsNothingUnconfirmed(t *testing.T) {
	ctx := context.Background()
	big := killTable(3)
	small := big[:1]
	target := big[2].Key // declared by big, never created by the killed apply
	// ipvsadm -A -t 10.100.0.3:80: the default scheduler, no real servers.
	foreign := VirtualService{Key: target, Scheduler: "wlc"}

	for _, tc := range []struct {
		name    string
		desired []VirtualService
		// wantErr: the next apply refuses the foreign service as a conflict.
		wantErr bool
	}{
		{name: "next apply no longer declares the key", desired: small},
		{name: "next apply declares it", desired: big, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake()
			own := StateFile{Path: filepath.Join(t.TempDir(), "state.json")}
			// big is 3 services of 2 real servers: the first 2 ops add two
			// of the three services.
			killApply(t, f, own, 2, big)
			rec, err := own.Load()
			require.NoError(t, err)
			assert.Empty(t, rec.Owned, "nothing is confirmed by a killed apply")
			assert.Equal(t, []ServiceKey{big[0].Key, big[1].Key, target}, rec.Intended)

			require.NoError(t, f.apply(Op{Kind: AddService, Service: foreign}))
			r := &Reconciler{Kernel: f, Owned: own}
			p, err := r.Plan(ctx, tc.desired, false)
			require.NoError(t, err)
			_, err = r.Apply(ctx, p)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrConflict)
				assert.Contains(t, err.Error(), "TCP 10.100.0.3:80")
				assert.Contains(t, err.Error(), "interrupted apply")
				assert.Equal(t, []ServiceKey{target}, p.Unconfirmed)
			} else {
				require.NoError(t, err)
				// The service the killed apply did create, and the file
				// no longer declares, is as foreign as the other.
				assert.Equal(t, []ServiceKey{big[1].Key, target}, p.Foreign)
			}
			got, _ := f.Services(ctx)
			i := f.find(target)
			require.GreaterOrEqual(t, i, 0, "the foreign service is still there: %v", got)
			assert.Empty(t, Diff(got[i:i+1], []VirtualService{foreign}), "and unchanged")
			rec, err = own.Load()
			require.NoError(t, err)
			assert.NotContains(t, rec.Owned, target, "and not owned")

			// Once adopted on purpose, it is lvsctl's.
			if tc.wantErr {
				p, err = r.Plan(ctx, tc.desired, true)
				require.NoError(t, err)
				_, err = r.Apply(ctx, p)
				require.NoError(t, err)
				rec, err = own.Load()
				require.NoError(t, err)
				assert.Equal(t, Record{Owned: []ServiceKey{big[0].Key, big[1].Key, target}}, rec)
			}
		})
	}
}

// TestKilledApplyConverges kills an apply after every possible number of
// accepted ops: the record stays valid, the next apply of the same table
// converges without --adopt (what the killed apply left is consistent with
// the table), and a foreign service is never touched.
func TestKilledApplyConverges(t *testing.T) {
	ctx := context.Background()
	old := killTable(2)[1:] // owned before; the new table edits it
	desired := killTable(4)
	desired[1].RealServers[0].Weight = 9
	foreign := svc(tcp("10.9.9.9", 53), real("10.0.9.1", 53, 1))
	total := len(Diff(old, desired))
	require.Equal(t, 1+3+6, total, "one real edited, three services of two reals added")
	for after := 0; after <= total; after++ {
		t.Run(fmt.Sprintf("killed after %d ops", after), func(t *testing.T) {
			f := NewFake(foreign, old[0])
			own := &MemOwnership{Keys: []ServiceKey{old[0].Key}}
			killApply(t, f, own, after, desired)

			r := &Reconciler{Kernel: f, Owned: own}
			p, err := r.Plan(ctx, desired, false)
			require.NoError(t, err)
			assert.Empty(t, p.Conflicts)
			_, err = r.Apply(ctx, p)
			require.NoError(t, err)
			got, _ := f.Services(ctx)
			assert.Empty(t, Diff(got, append([]VirtualService{foreign}, desired...)))
			want := make([]ServiceKey, len(desired))
			for i, s := range desired {
				want[i] = s.Key
			}
			assert.Equal(t, want, own.Keys)
			assert.Empty(t, own.Intended)
		})
	}
}

// TestRecoverOnlyConsistent: what a killed apply intended and a service
// holds now is taken over only if it is consistent with the table.
func TestRecoverOnlyConsistent(t *testing.T) {
	ctx := context.Background()
	want := svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 1), real("10.0.1.2", 80, 2))
	for _, tc := range []struct {
		name      string
		have      VirtualService
		recovered bool
	}{
		{name: "identical", have: want, recovered: true},
		{name: "no real servers yet", have: svc(want.Key), recovered: true},
		{name: "some real servers", have: svc(want.Key, real("10.0.1.2", 80, 2)), recovered: true},
		{name: "other scheduler", have: VirtualService{Key: want.Key, Scheduler: "wlc"}},
		{name: "persistence", have: VirtualService{Key: want.Key, Scheduler: "rr", Persistence: 300e9}},
		{name: "a real server the table lacks", have: svc(want.Key, real("10.0.1.9", 80, 1))},
		{name: "another weight", have: svc(want.Key, real("10.0.1.1", 80, 5))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake(tc.have)
			own := &MemOwnership{Intended: []ServiceKey{want.Key}}
			r := &Reconciler{Kernel: f, Owned: own}
			p, err := r.Plan(ctx, []VirtualService{want}, false)
			require.NoError(t, err)
			_, err = r.Apply(ctx, p)
			got, _ := f.Services(ctx)
			if tc.recovered {
				assert.Equal(t, []ServiceKey{want.Key}, p.Recovered)
				require.NoError(t, err)
				assert.Empty(t, Diff(got, []VirtualService{want}))
				assert.Equal(t, []ServiceKey{want.Key}, own.Keys)
				return
			}
			assert.Empty(t, p.Recovered)
			assert.Equal(t, []ServiceKey{want.Key}, p.Unconfirmed)
			require.ErrorIs(t, err, ErrConflict)
			assert.Empty(t, Diff(got, []VirtualService{tc.have}), "left alone")
			assert.Empty(t, own.Keys)
			assert.Zero(t, f.Writes)
		})
	}
}

// laterKernel rejects the op at index fail but, like a pipelined batch,
// accepts every op after it.
type laterKernel struct {
	*Fake
	fail int
}

func (k *laterKernel) Apply(ctx context.Context, ops []Op) (int, error) {
	if k.fail < 0 || k.fail >= len(ops) {
		return k.Fake.Apply(ctx, ops)
	}
	n, err := k.Fake.Apply(ctx, ops[:k.fail])
	if err != nil {
		return n, err
	}
	later, err := k.Fake.Apply(ctx, ops[k.fail+1:])
	if err != nil {
		return n, err
	}
	k.fail = -1 // the rollback goes through
	return n, &OpError{Op: ops[n], Err: syscall.EINVAL, Later: later}
}

// TestRollbackRestoresRecord: a rejection, with ops accepted after it in
// the same batch, restores the table and the record as they were loaded,
// intended keys of an earlier killed apply included.
func TestRollbackRestoresRecord(t *testing.T) {
	ctx := context.Background()
	a := svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 1))
	stale := tcp("10.0.0.77", 80) // intended by an earlier killed apply, absent
	// The ops: add service b, edit a's real server, add b's real server
	// (rejecting the first would make the third fail too).
	for _, fail := range []int{1, 2} {
		t.Run(fmt.Sprintf("op %d rejected", fail), func(t *testing.T) {
			f := NewFake(a)
			before, _ := f.Services(ctx)
			loaded := Record{Owned: []ServiceKey{a.Key}, Intended: []ServiceKey{stale}}
			own := StateFile{Path: filepath.Join(t.TempDir(), "state.json")}
			require.NoError(t, own.Save(loaded))
			r := &Reconciler{Kernel: &laterKernel{Fake: f, fail: fail}, Owned: own}
			desired := []VirtualService{
				svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 7)),
				svc(tcp("10.0.0.2", 80), real("10.0.2.1", 80, 1)),
			}
			p, err := r.Plan(ctx, desired, false)
			require.NoError(t, err)
			require.Len(t, p.Ops, 3)
			res, err := r.Apply(ctx, p)
			require.ErrorIs(t, err, syscall.EINVAL)
			assert.Equal(t, 2, res.Applied, "the ops before and after the rejected one")
			after, _ := f.Services(ctx)
			assert.Empty(t, Diff(after, before), "the table is as it was")
			rec, err := own.Load()
			require.NoError(t, err)
			assert.Equal(t, loaded, rec, "and so is the record")
		})
	}
}

// TestConvergedApplyWritesNoRecord: when nothing changes, neither does the
// record, and it is not rewritten (the daemon resyncs every minute).
func TestConvergedApplyWritesNoRecord(t *testing.T) {
	ctx := context.Background()
	web := svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 1))
	f := NewFake()
	own := &MemOwnership{}
	r := &Reconciler{Kernel: f, Owned: own}
	for i, wantSaves := range []int{2, 2, 2} {
		p, err := r.Plan(ctx, []VirtualService{web}, false)
		require.NoError(t, err)
		assert.Equal(t, i == 0, p.Pending())
		_, err = r.Apply(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, wantSaves, own.Saves, "apply %d", i+1)
	}
	// A weight change edits an owned service: the record stays as it is.
	web.RealServers[0].Weight = 5
	p, err := r.Plan(ctx, []VirtualService{web}, false)
	require.NoError(t, err)
	_, err = r.Apply(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, 2, own.Saves)
}

// BenchmarkReconcileConverged is the reconciler's share of a converged
// re-apply at 100k objects (20k services of four real servers): the plan
// against an owned table, and an apply that has nothing to write.
func BenchmarkReconcileConverged(b *testing.B) {
	ctx := context.Background()
	var table []VirtualService
	var keys []ServiceKey
	for i := range 20000 {
		s := svc(tcp(fmt.Sprintf("10.%d.%d.%d", 100+i/62500, i/250%250, i%250+1), 80))
		for j := range 4 {
			s.RealServers = append(s.RealServers, real(fmt.Sprintf("10.200.%d.%d", j, i%250+1), uint16(80+i/250), 1))
		}
		table = append(table, s)
		keys = append(keys, s.Key)
	}
	f := NewFake(table...)
	r := &Reconciler{Kernel: f, Owned: &MemOwnership{Keys: keys}}
	b.ResetTimer()
	for range b.N {
		p, err := r.Plan(ctx, table, false)
		if err != nil || len(p.Ops) > 0 {
			b.Fatal(err, len(p.Ops))
		}
		if _, err := r.Apply(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
