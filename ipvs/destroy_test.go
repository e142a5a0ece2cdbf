package ipvs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDestroys(t *testing.T) {
	named := func(name string, s VirtualService) VirtualService { s.Name = name; return s }
	four := []VirtualService{
		named("web", svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 1))),
		named("db", svc(tcp("10.0.0.2", 3306), real("10.0.1.1", 3306, 1))),
		named("api", svc(tcp("10.0.0.3", 443), real("10.0.1.1", 443, 1))),
		named("mail", svc(tcp("10.0.0.4", 25), real("10.0.1.1", 25, 1))),
	}
	pool := func(n int) VirtualService {
		s := named("pool", svc(tcp("10.0.0.9", 80)))
		for i := range n {
			s.RealServers = append(s.RealServers, real("10.0.2."+string(rune('1'+i)), 80, 1))
		}
		return s
	}
	tests := []struct {
		name             string
		current, desired []VirtualService
		excessive        bool
		want             string
	}{
		{name: "nothing to nothing"},
		{name: "adds only", desired: four},
		{name: "unchanged", current: four, desired: four},
		{name: "half the services is not more than half", current: four, desired: four[:2]},
		{name: "3 of 4 services", current: four, desired: four[3:], excessive: true,
			want: "would delete 3 of 4 owned services (web, db, api)"},
		{name: "all to empty", current: four, excessive: true,
			want: "would delete 4 of 4 owned services (web, db, api, mail)"},
		{name: "the only service", current: four[:1], excessive: true,
			want: "would delete 1 of 1 owned services (web)"},
		{name: "2 of 4 real servers", current: []VirtualService{pool(4)}, desired: []VirtualService{pool(2)}},
		{name: "3 of 4 real servers", current: []VirtualService{pool(4)}, desired: []VirtualService{pool(1)}, excessive: true,
			want: "would delete 3 of 4 real servers of pool (TCP 10.0.0.9:80)"},
		{name: "a deleted service's real servers count as the service", current: []VirtualService{pool(4), four[0], four[1]},
			desired: []VirtualService{four[0], four[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Destroys(tt.current, tt.desired)
			assert.Equal(t, tt.excessive, d.Excessive())
			assert.Equal(t, tt.want, d.String())
		})
	}
}

// TestPlanDestruction measures a plan against the owned services the
// kernel holds, leaving foreign ones out.
func TestPlanDestruction(t *testing.T) {
	ctx := context.Background()
	k := NewFake()
	own := &MemOwnership{}
	r := &Reconciler{Kernel: k, Owned: own}
	table := []VirtualService{
		svc(tcp("10.0.0.1", 80), real("10.0.1.1", 80, 1)),
		svc(tcp("10.0.0.2", 80), real("10.0.1.1", 80, 1)),
		svc(tcp("10.0.0.3", 80), real("10.0.1.1", 80, 1)),
	}
	p, err := r.Plan(ctx, table, false)
	require.NoError(t, err)
	_, err = r.Apply(ctx, p)
	require.NoError(t, err)
	// A foreign service is not owned: it does not count.
	_, err = k.Apply(ctx, []Op{{Kind: AddService, Service: svc(tcp("10.0.0.4", 80))}})
	require.NoError(t, err)

	p, err = r.Plan(ctx, table[:1], false)
	require.NoError(t, err)
	d := p.Destruction()
	assert.True(t, d.Excessive())
	assert.Equal(t, "would delete 2 of 3 owned services (TCP 10.0.0.2:80, TCP 10.0.0.3:80)", d.String())

	p, err = r.Plan(ctx, table[:2], false)
	require.NoError(t, err)
	assert.False(t, p.Destruction().Excessive())
}

// TestDestroysIsDiffs: Destroys, which does not diff, measures what the
// ops of Diff measure, on random tables from small pools of addresses (so
// that services and real servers overlap), with unnamed services, mapped
// addresses, unsorted and duplicate real servers and duplicate keys.
func TestDestroysIsDiffs(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 3))
	addr := func(pool int) netip.Addr {
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + r.IntN(pool))})
		if r.IntN(8) == 0 {
			return netip.AddrFrom16(a.As16()) // mapped: the same after Normalize
		}
		return a
	}
	table := func() []VirtualService {
		var out []VirtualService
		for range r.IntN(8) {
			s := VirtualService{Key: ServiceKey{Protocol: TCP, Addr: addr(6), Port: uint16(80 + r.IntN(2))}}
			if r.IntN(3) > 0 {
				s.Name = fmt.Sprintf("s%d", r.IntN(4))
			}
			for range r.IntN(6) {
				s.RealServers = append(s.RealServers, RealServer{Addr: addr(5), Port: 8080, Weight: uint32(r.IntN(3)), Forwarding: DR})
			}
			out = append(out, s)
		}
		return out
	}
	excessive := 0
	for range 5000 {
		current, desired := table(), table()
		if r.IntN(2) == 0 { // mostly the same table, a little changed
			desired = slices.Clone(current)
			for i := range desired {
				if r.IntN(3) == 0 && len(desired[i].RealServers) > 0 {
					desired[i].RealServers = desired[i].RealServers[:r.IntN(len(desired[i].RealServers))]
				}
			}
			if len(desired) > 0 && r.IntN(3) == 0 {
				desired = desired[1:]
			}
		}
		want := destruction(current, Diff(current, desired))
		got := Destroys(current, desired)
		require.Equal(t, want, got, "current %v\ndesired %v", current, desired)
		if got.Excessive() {
			excessive++
		}
	}
	assert.Greater(t, excessive, 500)
}

// BenchmarkDestroys is the reload guard's measure at 10k objects (2,000
// services x 4 real servers, one weight changed): "diff" measures Diff's
// ops, as Destroys did, "direct" is Destroys.
func BenchmarkDestroys(b *testing.B) {
	var current []VirtualService
	for i := range 2000 {
		s := svc(ServiceKey{Family: IPv4, Protocol: TCP, Addr: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), Port: 80})
		for j := range 4 {
			s.RealServers = append(s.RealServers, real(netip.AddrFrom4([4]byte{172, byte(16 + j), byte(i >> 8), byte(i)}).String(), 8080, 1))
		}
		current = append(current, s)
	}
	desired := slices.Clone(current)
	desired[1000].RealServers = slices.Clone(desired[1000].RealServers)
	desired[1000].RealServers[0].Weight = 2
	b.Run("diff", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			destruction(current, Diff(current, desired))
		}
	})
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Destroys(current, desired)
		}
	})
}
