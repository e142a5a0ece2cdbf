package vrrp

import (
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Someone deletes a static address, a static route with dev or a static
// rule (ip addr/route/rule del), lvsctl's Statics and keepalived 2.2.7 side
// by side: both put it back and log it. A static route without dev, which
// keepalived does not track, stays deleted on both.
//
// Measured: keepalived 2.2.7 hears of route (rule) deletions only when it
// subscribed to them (vrrp.c process_static_entries and
// set_extra_netlink_monitoring), that is when a vrrp_instance has a tracked
// virtual route (rule) of the family, or the static entry a track_group;
// otherwise ("keepalived-plain") a deleted static route or rule stays
// deleted. lvsctl always puts them back (docs/config.md).
func TestNetnsStaticReinstated(t *testing.T) {
	t.Parallel() // its own namespaces; waits on VRRP timers, not the CPU
	needRoot(t)
	kaPlain := `global_defs {
  vrrp_version 3
}
static_ipaddress {
  10.99.0.50/24 dev eth0
}
static_routes {
  10.96.0.0/16 via 10.99.0.254 dev eth0
  10.95.0.0/16 via 10.99.0.254
}
static_rules {
  from 10.99.0.50 table 100
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 200
  advert_int 0.1
  virtual_ipaddress {
    10.99.0.100/24
  }
}
`
	// The same with a tracked virtual route and rule in the instance.
	kaConf := strings.Replace(kaPlain, "    10.99.0.100/24\n  }\n", `    10.99.0.100/24
  }
  virtual_routes {
    10.93.0.0/16 via 10.99.0.254 dev eth0
  }
  virtual_rules {
    from 10.99.0.100 table 101
  }
`, 1)
	require.NotEqual(t, kaPlain, kaConf)
	static := Static{
		Addresses: []VIP{{Prefix: netip.MustParsePrefix("10.99.0.50/24"), Dev: "eth0"}},
		Routes: []Route{
			{Dst: netip.MustParsePrefix("10.96.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.254"), Dev: "eth0"},
			{Dst: netip.MustParsePrefix("10.95.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.254")},
		},
		Rules: []Rule{{From: netip.MustParsePrefix("10.99.0.50/32"), Table: 100}},
	}
	for _, tc := range []struct {
		name    string
		del     []string
		present func(tp *topo) bool
		back    bool
		plain   bool   // keepalived-plain puts it back
		kaLog   string // keepalived's words
		ourLog  string
	}{
		{"address", []string{"addr", "del", "10.99.0.50/24", "dev", "eth0"},
			func(tp *topo) bool { return tp.hasVIP("r1", netip.MustParseAddr("10.99.0.50")) }, true,
			true, "Restoring deleted static address 10.99.0.50", `msg="restoring deleted static address" entry="10.99.0.50/24 dev eth0"`},
		{"route with dev", []string{"route", "del", "10.96.0.0/16"},
			func(tp *topo) bool {
				return strings.Contains(tp.ip("r1", "route", "show", "10.96.0.0/16"), "via 10.99.0.254 dev eth0")
			}, true, false,
			"Restoring deleted static route prepend 10.96.0.0/16", `msg="restoring deleted static route" entry="10.96.0.0/16 via 10.99.0.254 dev eth0"`},
		{"rule", []string{"rule", "del", "from", "10.99.0.50", "table", "100"},
			func(tp *topo) bool {
				return strings.Contains(tp.ip("r1", "rule", "show"), "from 10.99.0.50 lookup 100")
			}, true, false,
			"Restoring deleted static rule from 10.99.0.50", `msg="restoring deleted static rule" entry="from 10.99.0.50/32 table 100"`},
		{"route without dev", []string{"route", "del", "10.95.0.0/16"},
			func(tp *topo) bool {
				return strings.Contains(tp.ip("r1", "route", "show", "10.95.0.0/16"), "via 10.99.0.254")
			}, false, false,
			"Restoring deleted static route prepend 10.95.0.0/16", `msg="restoring deleted static route" entry="10.95.0.0/16`},
	} {
		for _, impl := range []string{"lvsctl", "keepalived", "keepalived-plain"} {
			t.Run(tc.name+"/"+impl, func(t *testing.T) {
				tp := newTopo(t)
				back := tc.back
				if impl == "keepalived-plain" {
					back = tc.plain
				}
				var logs func() string
				if impl == "lvsctl" {
					out := &syncBuffer{}
					log := slog.New(slog.NewTextHandler(io.MultiWriter(out, tlogWriter{t}), nil))
					var st *Statics
					require.NoError(t, tp.lab.do("r1", func() error {
						var err error
						if st, err = NewStatics(); err != nil {
							return err
						}
						if err := st.Apply(static); err != nil {
							return err
						}
						return st.Watch(log)
					}))
					t.Cleanup(st.Close)
					logs = out.String
				} else {
					conf := kaConf
					if impl == "keepalived-plain" {
						conf = kaPlain
					}
					ka := tp.keepalived("r1", conf)
					ka.waitLog(t, "Entering MASTER STATE", 5*time.Second)
					logs = ka.out.String
				}
				require.True(t, tc.present(tp), "installed")
				tp.ip("r1", tc.del...)
				deleted := time.Now()
				if back {
					for !tc.present(tp) {
						require.Less(t, time.Since(deleted), 2*time.Second, "%s did not put the entry back", impl)
						time.Sleep(5 * time.Millisecond)
					}
					t.Logf("%s: back %v after the deletion", impl, time.Since(deleted))
				} else {
					time.Sleep(time.Second)
					assert.False(t, tc.present(tp), "%s put back what it does not track", impl)
				}
				want := tc.kaLog
				if impl == "lvsctl" {
					want = tc.ourLog
				}
				if back {
					// The entry can be back before the line is logged.
					assert.Eventually(t, func() bool { return strings.Contains(logs(), want) }, 2*time.Second, 5*time.Millisecond, "%s logs %q", impl, want)
				} else {
					assert.NotContains(t, logs(), want)
				}
			})
		}
	}
}

// What lvsctl removes itself, on reload (Apply of a smaller set) or at
// stop (Clear), stays removed.
func TestNetnsStaticOwnRemovalsStay(t *testing.T) {
	tp := newTopo(t)
	addr := VIP{Prefix: netip.MustParsePrefix("10.99.0.50/24"), Dev: "eth0"}
	route := Route{Dst: netip.MustParsePrefix("10.96.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.254"), Dev: "eth0"}
	rule := Rule{From: netip.MustParsePrefix("10.99.0.50/32"), Table: 100}
	out := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(out, tlogWriter{t}), nil))
	var st *Statics
	require.NoError(t, tp.lab.do("r1", func() error {
		var err error
		if st, err = NewStatics(); err != nil {
			return err
		}
		if err := st.Apply(Static{Addresses: []VIP{addr}, Routes: []Route{route}, Rules: []Rule{rule}}); err != nil {
			return err
		}
		return st.Watch(log)
	}))
	t.Cleanup(st.Close)
	hasRoute := func() bool { return strings.Contains(tp.ip("r1", "route", "show", "10.96.0.0/16"), "via") }
	hasRule := func() bool { return strings.Contains(tp.ip("r1", "rule", "show"), "lookup 100") }
	require.True(t, hasRoute() && hasRule())

	require.NoError(t, st.Apply(Static{Addresses: []VIP{addr}})) // reload without the route and rule
	time.Sleep(500 * time.Millisecond)
	assert.False(t, hasRoute(), "reload removed the route")
	assert.False(t, hasRule(), "reload removed the rule")
	assert.True(t, tp.hasVIP("r1", addr.Prefix.Addr()))

	require.NoError(t, st.Clear())
	time.Sleep(500 * time.Millisecond)
	assert.False(t, tp.hasVIP("r1", addr.Prefix.Addr()), "stop removed the address")
	assert.NotContains(t, out.String(), "restoring")
}
