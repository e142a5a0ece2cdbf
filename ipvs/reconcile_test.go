package ipvs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReconcileOwnership(t *testing.T) {
	ctx := context.Background()
	web := svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 1))
	foreign := svc(tcp("10.9.9.9", 53), real("10.0.9.1", 53, 1))
	k := NewFake(foreign)
	own := &MemOwnership{}
	r := &Reconciler{Kernel: k, Owned: own}

	p, err := r.Plan(ctx, []VirtualService{web}, false)
	require.NoError(t, err)
	assert.Equal(t, []ServiceKey{foreign.Key}, p.Foreign)
	assert.Len(t, p.Ops, 2)
	res, err := r.Apply(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Applied)
	assert.Equal(t, []ServiceKey{web.Key}, own.Keys)

	// Re-apply: nothing to do, foreign still listed and untouched.
	p, err = r.Plan(ctx, []VirtualService{web}, false)
	require.NoError(t, err)
	assert.Empty(t, p.Ops)
	assert.Equal(t, []ServiceKey{foreign.Key}, p.Foreign)

	// Removing web from the config deletes it, never the foreign service.
	p, err = r.Plan(ctx, nil, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"- service TCP 10.0.0.1:80"}, render(p.Ops))
	_, err = r.Apply(ctx, p)
	require.NoError(t, err)
	got, _ := k.Services(ctx)
	assert.Empty(t, Diff(got, []VirtualService{foreign}))
	assert.Empty(t, own.Keys)
}

func TestReconcileConflictNeedsAdopt(t *testing.T) {
	ctx := context.Background()
	existing := svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 1))
	desired := svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 5))
	other := svc(tcp("10.0.0.2", 80))
	k := NewFake(existing)
	own := &MemOwnership{}
	r := &Reconciler{Kernel: k, Owned: own}

	p, err := r.Plan(ctx, []VirtualService{desired, other}, false)
	require.NoError(t, err)
	assert.Equal(t, []ServiceKey{existing.Key}, p.Conflicts)
	assert.Equal(t, []string{"+ service TCP 10.0.0.2:80 scheduler=rr"}, render(p.Ops))
	_, err = r.Apply(ctx, p)
	require.ErrorIs(t, err, ErrConflict)
	assert.Contains(t, err.Error(), "TCP 10.0.0.1:80")
	assert.Zero(t, k.Writes, "nothing may be written when a conflict is refused")

	p, err = r.Plan(ctx, []VirtualService{desired, other}, true)
	require.NoError(t, err)
	_, err = r.Apply(ctx, p)
	require.NoError(t, err)
	assert.ElementsMatch(t, []ServiceKey{existing.Key, other.Key}, own.Keys)
	got, _ := k.Services(ctx)
	assert.Empty(t, Diff(got, []VirtualService{desired, other}))
}

func TestReconcileRollsBackOnRejection(t *testing.T) {
	ctx := context.Background()
	a := svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 1), real("10.0.1.2", 80, 1))
	k := NewFake(a)
	own := &MemOwnership{Keys: []ServiceKey{a.Key}}
	r := &Reconciler{Kernel: k, Owned: own}
	before, _ := k.Services(ctx)

	// New config: edit a's weights, drop one real, add service b whose second
	// real server the kernel rejects.
	a2 := svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 7))
	b := svc(tcp("10.0.0.2", 80), real("10.0.2.1", 80, 1), real("10.0.2.2", 80, 1))
	k.Fail = func(op Op) error {
		if op.Kind == AddRealServer && op.Real.Addr.String() == "10.0.2.2" {
			return syscall.EINVAL
		}
		return nil
	}
	p, err := r.Plan(ctx, []VirtualService{a2, b}, false)
	require.NoError(t, err)
	res, err := r.Apply(ctx, p)
	require.Error(t, err)
	var opErr *OpError
	require.True(t, errors.As(err, &opErr))
	assert.Equal(t, "10.0.2.2", opErr.Op.Real.Addr.String())
	assert.ErrorIs(t, err, syscall.EINVAL)
	assert.Equal(t, 4, res.Applied)
	assert.Positive(t, res.RolledBack)

	after, _ := k.Services(ctx)
	assert.Empty(t, Diff(after, before), "the table must be as it was before apply")
	assert.Equal(t, []ServiceKey{a.Key}, own.Keys)
}

func TestReconcileMissingScheduler(t *testing.T) {
	ctx := context.Background()
	k := NewFake()
	k.Missing = []Scheduler{"twos"}
	r := &Reconciler{Kernel: k, Owned: &MemOwnership{}}
	s := svc(tcp("10.0.0.1", 80))
	s.Scheduler = "twos"
	p, err := r.Plan(ctx, []VirtualService{svc(tcp("10.0.0.2", 80)), s}, false)
	require.NoError(t, err)
	_, err = r.Apply(ctx, p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `add service TCP 10.0.0.1:80: scheduler "twos" is not available in this kernel`)
	got, _ := k.Services(ctx)
	assert.Empty(t, got, "the service added before the rejection is rolled back")
}

func TestStateFile(t *testing.T) {
	f := StateFile{Path: filepath.Join(t.TempDir(), "sub", "state.json")}
	rec, err := f.Load()
	require.NoError(t, err)
	assert.Zero(t, rec)
	want := Record{
		Owned:    []ServiceKey{tcp("10.0.0.2", 80), {Family: IPv6, FWMark: 3}, tcp("2001:db8::1", 443), tcp("10.0.0.2", 80)},
		Intended: []ServiceKey{tcp("10.0.0.3", 80)},
	}
	require.NoError(t, f.Save(want))
	got, err := f.Load()
	require.NoError(t, err)
	assert.Equal(t, Record{
		Owned:    []ServiceKey{tcp("10.0.0.2", 80), tcp("2001:db8::1", 443), {Family: IPv6, FWMark: 3}},
		Intended: []ServiceKey{tcp("10.0.0.3", 80)},
	}, got)
	b, err := os.ReadFile(f.Path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"version": 2`)
}

// TestStateFileVersions reads what earlier releases wrote and refuses what
// it does not understand, naming the file.
func TestStateFileVersions(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      Record
		err       string
	}{
		{name: "version 1: every key confirmed", doc: `{"version": 1, "services": ["TCP 10.0.0.1:80", "FWM 7 ipv4"]}`,
			want: Record{Owned: []ServiceKey{tcp("10.0.0.1", 80), {Family: IPv4, FWMark: 7}}}},
		{name: "version 1, empty", doc: `{"version": 1, "services": null}`},
		{name: "version 2", doc: `{"version": 2, "services": ["TCP 10.0.0.1:80"], "intended": ["TCP 10.0.0.2:80"]}`,
			want: Record{Owned: []ServiceKey{tcp("10.0.0.1", 80)}, Intended: []ServiceKey{tcp("10.0.0.2", 80)}}},
		{name: "version 1 with intended keys", doc: `{"version": 1, "services": [], "intended": ["TCP 10.0.0.2:80"]}`, err: `version 1 state file has no "intended" keys`},
		{name: "unknown version", doc: `{"version": 3, "services": []}`, err: "unsupported state version 3 (this lvsctl reads versions 1 and 2)"},
		{name: "no version", doc: `{"services": []}`, err: "unsupported state version 0"},
		{name: "corrupt", doc: `{"version": 2, "services": [`, err: "unexpected end of JSON input"},
		{name: "bad intended key", doc: `{"version": 2, "services": [], "intended": ["XYZ 1"]}`, err: "state.json: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := StateFile{Path: filepath.Join(t.TempDir(), "state.json")}
			require.NoError(t, os.WriteFile(f.Path, []byte(tc.doc), 0o600))
			got, err := f.Load()
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), f.Path)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestStateFileEmpty: an empty record reads back as the zero Record.
func TestStateFileEmpty(t *testing.T) {
	f := StateFile{Path: filepath.Join(t.TempDir(), "state.json")}
	require.NoError(t, f.Save(Record{}))
	got, err := f.Load()
	require.NoError(t, err)
	assert.Zero(t, got)
}
