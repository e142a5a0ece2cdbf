package ipvs

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tcp(addr string, port uint16) ServiceKey {
	a := netip.MustParseAddr(addr)
	return ServiceKey{Family: FamilyOf(a), Protocol: TCP, Addr: a, Port: port}
}

func real(addr string, port uint16, weight uint32) RealServer {
	return RealServer{Addr: netip.MustParseAddr(addr), Port: port, Weight: weight, Forwarding: DR}
}

func svc(key ServiceKey, reals ...RealServer) VirtualService {
	return VirtualService{Key: key, Scheduler: "rr", RealServers: reals}
}

// render turns ops into plan lines, for readable expectations.
func render(ops []Op) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.String()
	}
	return out
}

func TestDiff(t *testing.T) {
	web := tcp("10.0.0.1", 80)
	db := tcp("10.0.0.2", 3306)
	mark := ServiceKey{Family: IPv4, FWMark: 7}
	persistent := svc(web, real("10.0.1.1", 80, 1))
	persistent.Persistence = 60 * time.Second
	persistent.PersistenceMask = 24

	tests := []struct {
		name             string
		current, desired []VirtualService
		want             []string
	}{
		{
			name: "empty to empty",
		},
		{
			name:    "add service with reals",
			desired: []VirtualService{svc(web, real("10.0.1.2", 80, 1), real("10.0.1.1", 80, 3))},
			want: []string{
				"+ service TCP 10.0.0.1:80 scheduler=rr",
				"+ real TCP 10.0.0.1:80 -> 10.0.1.1:80 fwd=dr weight=3",
				"+ real TCP 10.0.0.1:80 -> 10.0.1.2:80 fwd=dr weight=1",
			},
		},
		{
			name:    "converged is no op, whatever the order",
			current: []VirtualService{svc(db), svc(web, real("10.0.1.1", 80, 1), real("10.0.1.2", 80, 1))},
			desired: []VirtualService{svc(web, real("10.0.1.2", 80, 1), real("10.0.1.1", 80, 1)), svc(db)},
		},
		{
			name:    "weight change is one edit",
			current: []VirtualService{svc(web, real("10.0.1.1", 80, 1), real("10.0.1.2", 80, 1))},
			desired: []VirtualService{svc(web, real("10.0.1.1", 80, 1), real("10.0.1.2", 80, 5))},
			want:    []string{"~ real TCP 10.0.0.1:80 -> 10.0.1.2:80 weight 1 -> 5"},
		},
		{
			name:    "weight 0 is a value, not absence",
			current: []VirtualService{svc(web, real("10.0.1.1", 80, 1))},
			desired: []VirtualService{svc(web, real("10.0.1.1", 80, 0))},
			want:    []string{"~ real TCP 10.0.0.1:80 -> 10.0.1.1:80 weight 1 -> 0"},
		},
		{
			name:    "forwarding change is an edit",
			current: []VirtualService{svc(web, real("10.0.1.1", 80, 1))},
			desired: []VirtualService{svc(web, RealServer{Addr: netip.MustParseAddr("10.0.1.1"), Port: 80, Weight: 1, Forwarding: Tunnel, Tunnel: TunnelConfig{Type: GUE, Port: 6080, Checksum: Checksum}})},
			want:    []string{"~ real TCP 10.0.0.1:80 -> 10.0.1.1:80 fwd dr -> tun, tunnel none -> gue/port/6080/csum"},
		},
		{
			name:    "real server port change is delete and add",
			current: []VirtualService{svc(web, real("10.0.1.1", 80, 1))},
			desired: []VirtualService{svc(web, real("10.0.1.1", 8080, 1))},
			want: []string{
				"- real TCP 10.0.0.1:80 -> 10.0.1.1:80",
				"+ real TCP 10.0.0.1:80 -> 10.0.1.1:8080 fwd=dr weight=1",
			},
		},
		{
			name:    "scheduler and persistence change are one service edit",
			current: []VirtualService{svc(web, real("10.0.1.1", 80, 1))},
			desired: []VirtualService{persistent},
			want:    []string{"~ service TCP 10.0.0.1:80 persistence off -> 60s, granularity /32 -> /24"},
		},
		{
			name:    "removed service is one delete, its reals go with it",
			current: []VirtualService{svc(web, real("10.0.1.1", 80, 1), real("10.0.1.2", 80, 1)), svc(db)},
			desired: []VirtualService{svc(db)},
			want:    []string{"- service TCP 10.0.0.1:80"},
		},
		{
			name:    "ordering: real deletes, service deletes, service adds and edits, real edits, real adds",
			current: []VirtualService{svc(web, real("10.0.1.1", 80, 1), real("10.0.1.9", 80, 1)), svc(mark)},
			desired: []VirtualService{
				{Key: web, Scheduler: "wrr", RealServers: []RealServer{real("10.0.1.1", 80, 2), real("10.0.1.3", 80, 1)}},
				svc(db, real("10.0.2.1", 3306, 1)),
			},
			want: []string{
				"- real TCP 10.0.0.1:80 -> 10.0.1.9:80",
				"- service FWM 7 ipv4",
				"~ service TCP 10.0.0.1:80 scheduler rr -> wrr",
				"+ service TCP 10.0.0.2:3306 scheduler=rr",
				"~ real TCP 10.0.0.1:80 -> 10.0.1.1:80 weight 1 -> 2",
				"+ real TCP 10.0.0.1:80 -> 10.0.1.3:80 fwd=dr weight=1",
				"+ real TCP 10.0.0.2:3306 -> 10.0.2.1:3306 fwd=dr weight=1",
			},
		},
		{
			name:    "defaults are explicit: empty scheduler is wlc, mask 0 is full length",
			current: []VirtualService{{Key: tcp("2001:db8::1", 80), Scheduler: "wlc", PersistenceMask: 128}},
			desired: []VirtualService{{Key: tcp("2001:db8::1", 80)}},
		},
		{
			name:    "tunnel fields that do not apply are ignored",
			current: []VirtualService{svc(web, real("10.0.1.1", 80, 1))},
			desired: []VirtualService{svc(web, RealServer{Addr: netip.MustParseAddr("10.0.1.1"), Port: 80, Weight: 1, Forwarding: DR, Tunnel: TunnelConfig{Type: GUE, Port: 1}})},
		},
		{
			name:    "names are not compared",
			current: []VirtualService{svc(web)},
			desired: []VirtualService{{Name: "web", Key: web, Scheduler: "rr"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(Diff(tt.current, tt.desired))
			if len(tt.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestDiffConverges applies Diff's ops to a fake kernel and checks that the
// result equals the desired table and that a second Diff is empty.
func TestDiffConverges(t *testing.T) {
	ctx := context.Background()
	current := bigTable(50, 4, 0)
	desired := bigTable(60, 4, 1)[10:] // drop 10, add 10, change every weight
	k := NewFake(current...)
	ops := Diff(current, desired)
	n, err := k.Apply(ctx, ops)
	require.NoError(t, err)
	require.Equal(t, len(ops), n)
	after, err := k.Services(ctx)
	require.NoError(t, err)
	assert.Empty(t, Diff(after, desired))
	assert.Len(t, after, len(desired))
}

func TestOpErrorNamesTheObject(t *testing.T) {
	op := Op{Kind: AddRealServer, Service: svc(tcp("10.0.0.1", 80)), Real: real("10.0.1.1", 80, 1)}
	err := (&OpError{Op: op, Err: fmt.Errorf("already exists")}).Error()
	assert.Equal(t, "add real server 10.0.1.1:80 of TCP 10.0.0.1:80: already exists", err)
	op = Op{Kind: AddService, Service: svc(tcp("10.0.0.1", 80))}
	assert.Equal(t, "add service TCP 10.0.0.1:80: boom", (&OpError{Op: op, Err: fmt.Errorf("boom")}).Error())
}

func TestServiceKeyText(t *testing.T) {
	for _, s := range []string{"TCP 10.0.0.1:80", "UDP [2001:db8::1]:53", "SCTP 10.1.1.1:9", "FWM 7 ipv4", "FWM 4294967295 ipv6"} {
		k, err := ParseServiceKey(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, k.String())
	}
	for _, s := range []string{"", "TCP", "ICMP 1.2.3.4:1", "TCP 1.2.3.4", "FWM 0 ipv4", "FWM 1 ipx", "TCP 1.2.3.4:70000"} {
		_, err := ParseServiceKey(s)
		assert.Error(t, err, s)
	}
}

// bigTable builds n TCP services with r real servers each; seed varies the
// weights.
func bigTable(n, r int, seed uint32) []VirtualService {
	out := make([]VirtualService, n)
	for i := range out {
		vip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		s := VirtualService{Key: ServiceKey{Family: IPv4, Protocol: TCP, Addr: vip, Port: 80}, Scheduler: "wrr"}
		for j := 0; j < r; j++ {
			rip := netip.AddrFrom4([4]byte{172, 16, byte(j), byte(i % 250)})
			s.RealServers = append(s.RealServers, RealServer{Addr: rip, Port: uint16(8000 + i%1000), Weight: 1 + seed, Forwarding: NAT})
		}
		out[i] = s
	}
	return out
}

func BenchmarkDiff(b *testing.B) {
	current := bigTable(10000, 4, 0)
	for _, bc := range []struct {
		name    string
		desired []VirtualService
	}{
		{"converged", bigTable(10000, 4, 0)},
		{"one-weight", func() []VirtualService {
			d := bigTable(10000, 4, 0)
			d[5000].RealServers[2].Weight = 9
			return d
		}()},
		{"all-weights", bigTable(10000, 4, 1)},
		{"from-empty", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cur, want := current, bc.desired
			if bc.desired == nil {
				cur, want = nil, current
			}
			b.ReportAllocs()
			var ops int
			for b.Loop() {
				ops = len(Diff(cur, want))
			}
			b.ReportMetric(float64(ops), "ops")
		})
	}
}

func TestPlanLinesAreSingleLines(t *testing.T) {
	for _, op := range Diff(nil, bigTable(3, 2, 0)) {
		assert.NotContains(t, op.String(), "\n")
		assert.True(t, strings.HasPrefix(op.String(), "+ "))
	}
}
