package vrrp

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// fakeStaticKernel holds entries by their description.
type fakeStaticKernel struct {
	has   map[string]bool
	added []string
	fail  error // of every add
	dump  error // of every look-up
}

func (k *fakeStaticKernel) look(what string) (bool, error) { return k.has[what], k.dump }

func (k *fakeStaticKernel) add(what string) error {
	k.added = append(k.added, what)
	if k.fail == nil {
		k.has[what] = true
	}
	return k.fail
}

func (k *fakeStaticKernel) hasAddr(a VIP) (bool, error)    { return k.look(DescribeAddress(a)) }
func (k *fakeStaticKernel) hasRoute(r Route) (bool, error) { return k.look(DescribeRoute(r)) }
func (k *fakeStaticKernel) hasRule(r Rule) (bool, error)   { return k.look(DescribeRule(r)) }
func (k *fakeStaticKernel) addAddr(a VIP) error            { return k.add(DescribeAddress(a)) }
func (k *fakeStaticKernel) addRoute(r Route) error         { return k.add(DescribeRoute(r)) }
func (k *fakeStaticKernel) addRule(r Rule) error           { return k.add(DescribeRule(r)) }

// Someone deletes static entries: reinstate puts back what lvsctl still
// has installed and keepalived tracks (not a route without dev), of the
// kinds deleted, and logs each at info with the entry.
func TestReinstateStatic(t *testing.T) {
	addr := VIP{Prefix: netip.MustParsePrefix("10.99.0.50/24"), Dev: "eth0"}
	devRoute := Route{Dst: netip.MustParsePrefix("10.96.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.254"), Dev: "eth0"}
	viaRoute := Route{Dst: netip.MustParsePrefix("10.95.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.254")}
	blackhole := Route{Dst: netip.MustParsePrefix("10.94.0.0/16"), Blackhole: true}
	rule := Rule{From: netip.MustParsePrefix("10.99.0.50/32"), Table: 100}
	cur := Static{Addresses: []VIP{addr}, Routes: []Route{devRoute, viaRoute, blackhole}, Rules: []Rule{rule}}
	all := []string{DescribeAddress(addr), DescribeRoute(devRoute), DescribeRoute(viaRoute), DescribeRoute(blackhole), DescribeRule(rule)}
	for _, tc := range []struct {
		name    string
		cur     Static
		gone    []string // deleted by someone else
		kinds   uint32
		fail    error
		dump    error
		want    []string // added back
		wantLog []string
	}{
		{"address", cur, []string{DescribeAddress(addr)}, delAddr, nil, nil,
			[]string{"10.99.0.50/24 dev eth0"}, []string{`level=INFO msg="restoring deleted static address" entry="10.99.0.50/24 dev eth0"`}},
		{"route with dev", cur, []string{DescribeRoute(devRoute)}, delRoute, nil, nil,
			[]string{"10.96.0.0/16 via 10.99.0.254 dev eth0"}, []string{`msg="restoring deleted static route" entry="10.96.0.0/16 via 10.99.0.254 dev eth0"`}},
		{"rule", cur, []string{DescribeRule(rule)}, delRule, nil, nil,
			[]string{"from 10.99.0.50/32 table 100"}, []string{`msg="restoring deleted static rule" entry="from 10.99.0.50/32 table 100"`}},
		{"route without dev stays deleted", cur, []string{DescribeRoute(viaRoute), DescribeRoute(blackhole)}, delRoute, nil, nil, nil, nil},
		{"address with its route", cur, []string{DescribeAddress(addr), DescribeRoute(devRoute)}, delAddr, nil, nil,
			[]string{"10.99.0.50/24 dev eth0", "10.96.0.0/16 via 10.99.0.254 dev eth0"}, nil},
		{"only the kinds deleted are looked at", cur, []string{DescribeAddress(addr)}, delRule, nil, nil, nil, nil},
		{"removed by lvsctl", Static{Routes: []Route{viaRoute}}, []string{DescribeAddress(addr), DescribeRoute(devRoute), DescribeRule(rule)},
			delAddr | delRoute | delRule, nil, nil, nil, nil},
		{"nothing missing", cur, nil, delAddr | delRoute | delRule, nil, nil, nil, nil},
		{"add fails", cur, []string{DescribeRule(rule)}, delRule, errors.New("EPERM"), nil,
			[]string{"from 10.99.0.50/32 table 100"}, []string{`level=ERROR msg="cannot restore deleted static rule" entry="from 10.99.0.50/32 table 100" err=EPERM`}},
		{"cannot look", cur, []string{DescribeRule(rule)}, delRule, nil, errors.New("dump interrupted"),
			nil, []string{`level=WARN msg="cannot check a static entry" kind=rule entry="from 10.99.0.50/32 table 100" err="dump interrupted"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &fakeStaticKernel{has: map[string]bool{}, fail: tc.fail, dump: tc.dump}
			for _, w := range all {
				k.has[w] = true
			}
			for _, g := range tc.gone {
				k.has[g] = false
			}
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
			back := reinstate(k, tc.cur, tc.kinds, log)
			assert.Equal(t, tc.want, k.added)
			var backed []string
			for _, a := range back.Addresses {
				backed = append(backed, DescribeAddress(a))
			}
			for _, r := range back.Routes {
				backed = append(backed, DescribeRoute(r))
			}
			for _, r := range back.Rules {
				backed = append(backed, DescribeRule(r))
			}
			assert.Equal(t, tc.want, backed, "what reinstate reports")
			for _, l := range tc.wantLog {
				assert.Contains(t, buf.String(), l)
			}
			if len(tc.want) == 0 && tc.dump == nil {
				assert.Empty(t, buf.String())
			}
		})
	}
}

func TestStaticTracked(t *testing.T) {
	withDev := Route{Dst: netip.MustParsePrefix("10.96.0.0/16"), Dev: "eth0"}
	s := Static{
		Addresses: []VIP{{Prefix: netip.MustParsePrefix("10.99.0.50/24"), Dev: "eth0"}},
		Routes:    []Route{withDev, {Dst: netip.MustParsePrefix("10.95.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.254")}},
		Rules:     []Rule{{Table: 100}},
	}
	assert.Equal(t, Static{Addresses: s.Addresses, Routes: []Route{withDev}, Rules: s.Rules}, s.Tracked())
}
