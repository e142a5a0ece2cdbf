package vrrp

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Someone deletes a VIP, a virtual route or a virtual rule on the master
// (ip addr/route/rule del), lvsctl and keepalived 2.2.7 side by side: the
// master sends a priority-0 advert, goes BACKUP, and is master again with
// everything re-added after its skew time (the backup beside it, lower,
// never takes over). Deleting an address that is not ours, or a virtual
// route without dev (which keepalived does not track: "cannot track route
// ... with no interface specified"), changes nothing.

func (tp *topo) ip(host string, args ...string) string {
	tp.t.Helper()
	out, err := tp.lab.command(host, "ip", args...).CombinedOutput()
	require.NoError(tp.t, err, "ip %v: %s", args, out)
	return string(out)
}

// installedAll reports whether r1 has the VIP, the route and the rule.
func (tp *topo) installedAll() bool {
	return tp.hasVIP("r1", vip4.Addr()) &&
		strings.Contains(tp.ip("r1", "route", "show", "10.98.0.0/16"), "via 10.99.0.254") &&
		strings.Contains(tp.ip("r1", "rule", "show"), "from 10.99.0.100 lookup 100")
}

func TestNetnsDeletedOnMaster(t *testing.T) {
	t.Parallel() // its own namespaces; waits on VRRP timers, not the CPU
	needRoot(t)
	kaConf := `global_defs {
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 200
  advert_int 0.1
  virtual_ipaddress {
    10.99.0.100/24
  }
  virtual_routes {
    10.98.0.0/16 via 10.99.0.254 dev eth0
    10.97.0.0/16 via 10.99.0.254
  }
  virtual_rules {
    from 10.99.0.100 table 100
  }
}
`
	for _, tc := range []struct {
		name   string
		del    []string
		effect bool
	}{
		{"VIP", []string{"addr", "del", "10.99.0.100/24", "dev", "eth0"}, true},
		{"virtual route", []string{"route", "del", "10.98.0.0/16"}, true},
		{"virtual rule", []string{"rule", "del", "from", "10.99.0.100", "table", "100"}, true},
		{"virtual route without dev", []string{"route", "del", "10.97.0.0/16"}, false},
		{"other address", []string{"addr", "del", "10.99.0.77/24", "dev", "eth0"}, false},
	} {
		for _, impl := range []string{"lvsctl", "keepalived"} {
			t.Run(tc.name+"/"+impl, func(t *testing.T) {
				tp := newTopo(t)
				var n *node
				var ka *keepalived
				if impl == "lvsctl" {
					n = tp.start("r1", Config{VRID: 51, Version: 3, Priority: 200, AdvertInterval: 100 * time.Millisecond,
						VIPs: []VIP{{Prefix: vip4}},
						Routes: []Route{
							{Dst: netip.MustParsePrefix("10.98.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.254"), Dev: "eth0"},
							{Dst: netip.MustParsePrefix("10.97.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.254")},
						},
						Rules: []Rule{{From: netip.MustParsePrefix("10.99.0.100/32"), Table: 100}}})
					n.waitState(StateMaster, 2*time.Second)
				} else {
					ka = tp.keepalived("r1", kaConf)
					ka.waitLog(t, "Entering MASTER STATE", 5*time.Second)
				}
				tp.ip("r1", "addr", "add", "10.99.0.77/24", "dev", "eth0")
				obs := tp.start("r2", Config{VRID: 51, Version: 3, Priority: 100, AdvertInterval: 100 * time.Millisecond,
					VIPs: []VIP{{Prefix: vip4}}})
				obs.waitState(StateBackup, time.Second)
				time.Sleep(500 * time.Millisecond)
				require.True(t, tp.installedAll(), "the master installed the VIP, the route and the rule")
				require.Contains(t, tp.ip("r1", "route", "show", "10.97.0.0/16"), "via 10.99.0.254")
				before := obs.in.Status().Counters

				tp.ip("r1", tc.del...)
				deleted := time.Now()
				if tc.effect {
					for !tp.installedAll() {
						require.Less(t, time.Since(deleted), 2*time.Second, "the master did not re-add what it lost")
						time.Sleep(5 * time.Millisecond)
					}
					t.Logf("%s: everything back %v after the deletion", impl, time.Since(deleted))
				}
				time.Sleep(time.Second)
				after := obs.in.Status().Counters
				assert.True(t, tp.installedAll())
				assert.Equal(t, StateBackup, obs.in.Status().State)
				assert.Zero(t, after.BecameMaster, "the lower backup never takes over")
				if tc.effect {
					assert.Equal(t, before.PriorityZeroReceived+1, after.PriorityZeroReceived, "the master gave MASTER up with a priority-0 advert")
				} else {
					assert.Equal(t, before.PriorityZeroReceived, after.PriorityZeroReceived)
				}
				wantMaster := 1
				if tc.effect {
					wantMaster = 2
				}
				if impl == "lvsctl" {
					n.mu.Lock()
					var masters int
					var reasons []string
					for _, tr := range n.log {
						reasons = append(reasons, tr.From.String()+">"+tr.To.String()+": "+tr.Reason)
						if tr.To == StateMaster {
							masters++
						}
					}
					n.mu.Unlock()
					assert.Equal(t, wantMaster, masters, "%s", strings.Join(reasons, "\n"))
					if tc.effect {
						assert.Contains(t, strings.Join(reasons, "\n"), "MASTER>BACKUP: "+map[string]string{
							"VIP": "VIP 10.99.0.100/24 on eth0 deleted", "virtual route": "virtual route 10.98.0.0/16 deleted",
							"virtual rule": "virtual rule"}[tc.name])
					}
				} else {
					log := ka.out.String()
					assert.Equal(t, wantMaster, strings.Count(log, "Entering MASTER STATE"), "%s", log)
					assert.Equal(t, wantMaster-1, strings.Count(log, "Entering BACKUP STATE")-1, "%s", log)
				}
			})
		}
	}
}
