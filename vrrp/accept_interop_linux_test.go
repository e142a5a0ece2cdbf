package vrrp

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// accept / no_accept / strict mode with keepalived 2.2.7 and lvsctl as the
// two routers of one VRID (VRRPv3, 100 ms), in both directions. The
// master holds the VIP and the client's requests to the service on it are
// answered, or not, as the mode says; after a failover the other router
// holds it with the same outcome, and lvsctl's drop rules exist exactly
// while it is a master that drops; then back.

var acceptModes = []struct {
	name      string
	cfg       Config // Strict, Accept, NoAccept
	kaLines   string
	reachable bool
}{
	{"strict accept", Config{Strict: true, Accept: true}, "strict_mode\n  accept", true},
	{"no_accept", Config{NoAccept: true}, "no_accept", false},
	{"strict", Config{Strict: true}, "strict_mode", false},
}

func kaAcceptConfig(prio uint8, lines string, vip netip.Prefix) string {
	return fmt.Sprintf("global_defs {\n  vrrp_version 3\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority %d\n  advert_int 0.1\n  %s\n  virtual_ipaddress {\n    %v\n  }\n}\n",
		prio, lines, vip)
}

// routerAddr is each router's own address (its service answers there in
// every mode).
var routerAddr = map[string]netip.Addr{"r1": netip.MustParseAddr("10.99.0.1"), "r2": netip.MustParseAddr("10.99.0.2")}

// vipService checks the client's view of the service on the VIP, held by
// master: answered by master when reachable; otherwise the client
// resolves the VIP to master's MAC (so the silence is master's, not a
// stale neighbour entry), gets no answer, and master's own address still
// answers.
func (tp *topo) vipService(master string, reachable bool) {
	tp.t.Helper()
	vip := vip4.Addr()
	if reachable {
		tp.whoHasVIP(vip, master)
		return
	}
	want := tp.mac(master)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if tp.clientNeigh(vip).String() == want.String() {
			break
		}
	}
	assert.False(tp.t, tp.reachable(vip), "%s holds the VIP: requests to it must go unanswered", master)
	assert.Equal(tp.t, want.String(), tp.clientNeigh(vip).String(), "the client resolved the VIP to %s", master)
	assert.True(tp.t, tp.reachable(routerAddr[master]), "%s's own address stays reachable", master)
}

// lvsctlRules reports whether host has lvsctl's no_accept table.
func (tp *topo) lvsctlRules(host string) bool {
	tp.t.Helper()
	return strings.Contains(tp.nftRuleset(host), "lvsctl_vrrp_51_")
}

// keepalived is master (200), lvsctl the backup (100); keepalived stops
// (priority-0 advert) and lvsctl takes over; keepalived returns and
// preempts lvsctl, whose rules go.
func TestKeepalivedAcceptMasterLvsctlBackup(t *testing.T) {
	t.Parallel() // its own namespaces; waits on VRRP timers, not the CPU
	needKeepalived(t)
	needNft(t)
	for _, mode := range acceptModes {
		t.Run(mode.name, func(t *testing.T) {
			tp := newTopo(t)
			vip := vip4.Addr()
			conf := kaAcceptConfig(200, mode.kaLines, vip4)
			ka := tp.keepalived("r1", conf)
			tp.waitVIP("r1", vip, true, 5*time.Second)

			cfg := mode.cfg
			cfg.VRID, cfg.Version, cfg.Priority, cfg.AdvertInterval, cfg.VIPs = 51, 3, 100, 100*time.Millisecond, []VIP{{Prefix: vip4}}
			n := tp.start("r2", cfg)
			n.waitState(StateBackup, time.Second)
			time.Sleep(time.Second)
			st := n.in.Status()
			require.Equal(t, StateBackup, st.State, "we follow keepalived's adverts")
			assert.Equal(t, uint8(200), st.MasterPriority)
			assert.Empty(t, st.Counters.Dropped, "none of keepalived's adverts dropped")
			assert.False(t, tp.hasVIP("r2", vip))
			assert.False(t, tp.lvsctlRules("r2"), "no rules while backup")
			tp.vipService("r1", mode.reachable)

			// keepalived stops: lvsctl takes over, in the same mode.
			ka.stop(syscall.SIGTERM)
			n.waitState(StateMaster, time.Second)
			tp.waitVIP("r2", vip, true, time.Second)
			assert.Equal(t, !mode.reachable, tp.lvsctlRules("r2"), "lvsctl drops VIP traffic as master iff the mode says so")
			tp.vipService("r2", mode.reachable)

			// keepalived returns and preempts: lvsctl's rules go with MASTER.
			ka = tp.keepalived("r1", conf)
			n.waitState(StateBackup, 5*time.Second)
			tp.waitVIP("r2", vip, false, time.Second)
			tp.waitVIP("r1", vip, true, time.Second)
			assert.False(t, tp.lvsctlRules("r2"), "the old master's drop rules are gone")
			tp.vipService("r1", mode.reachable)
			assert.Empty(t, n.in.Status().Counters.Dropped)
			assert.Empty(t, ka.complaints(), "keepalived rejected none of our adverts")
		})
	}
}

// lvsctl is master (50 + 150 while "boost" is up), keepalived the backup
// (100); our priority falls to 50 and keepalived preempts us, our rules
// go; it rises again and we preempt keepalived back.
func TestLvsctlAcceptMasterKeepalivedBackup(t *testing.T) {
	t.Parallel() // its own namespaces; waits on VRRP timers, not the CPU
	needKeepalived(t)
	needNft(t)
	for _, mode := range acceptModes {
		t.Run(mode.name, func(t *testing.T) {
			tp := newTopo(t)
			vip := vip4.Addr()
			cfg := mode.cfg
			cfg.VRID, cfg.Version, cfg.Priority, cfg.AdvertInterval, cfg.VIPs = 51, 3, 50, 100*time.Millisecond, []VIP{{Prefix: vip4}}
			cfg.Track = []Track{{Name: "boost", Weight: 150}}
			n := tp.start("r1", cfg)
			n.waitState(StateMaster, 2*time.Second)
			require.Equal(t, uint8(200), n.in.Status().Priority)
			assert.Equal(t, !mode.reachable, tp.lvsctlRules("r1"), "lvsctl drops VIP traffic as master iff the mode says so")

			ka := tp.keepalived("r2", kaAcceptConfig(100, mode.kaLines, vip4))
			ka.waitLog(t, "Entering BACKUP STATE", 3*time.Second)
			time.Sleep(time.Second)
			assert.NotContains(t, ka.out.String(), "Entering MASTER STATE", "keepalived follows our adverts")
			assert.False(t, tp.hasVIP("r2", vip))
			tp.vipService("r1", mode.reachable)

			// Our priority falls below keepalived's: it preempts us.
			require.NoError(t, n.in.SetTracked("boost", false))
			n.waitState(StateBackup, 2*time.Second)
			tp.waitVIP("r2", vip, true, 2*time.Second)
			tp.waitVIP("r1", vip, false, time.Second)
			assert.False(t, tp.lvsctlRules("r1"), "the old master's drop rules are gone")
			tp.vipService("r2", mode.reachable)

			// And rises again: we preempt keepalived.
			require.NoError(t, n.in.SetTracked("boost", true))
			n.waitState(StateMaster, 2*time.Second)
			tp.waitVIP("r2", vip, false, 2*time.Second)
			assert.Equal(t, !mode.reachable, tp.lvsctlRules("r1"))
			tp.vipService("r1", mode.reachable)
			assert.Empty(t, n.in.Status().Counters.Dropped)
			assert.Empty(t, ka.complaints(), "keepalived rejected none of our adverts")
		})
	}
}
