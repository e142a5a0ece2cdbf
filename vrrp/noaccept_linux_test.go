package vrrp

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reachable reports whether the client gets an HTTP answer from addr:8080
// within a second.
func (tp *topo) reachable(addr netip.Addr) bool {
	tp.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := tp.lab.get(ctx, "cl", "http://"+netip.AddrPortFrom(addr, 8080).String()+"/")
	return err == nil
}

func (tp *topo) nftRuleset(host string) string {
	tp.t.Helper()
	out, err := tp.lab.command(host, "nft", "list", "ruleset").CombinedOutput()
	require.NoError(tp.t, err, "%s", out)
	return string(out)
}

func needNft(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Fatal("no_accept needs the nft command (apt-get install nftables)")
	}
}

// accept / no_accept / strict mode on the master, lvsctl and keepalived
// side by side: with no_accept (or strict without accept) the master holds
// the VIP and the client's requests to it go unanswered; in accept mode
// they are answered. lvsctl's rules are gone when it leaves MASTER.
func TestNetnsAcceptMode(t *testing.T) {
	t.Parallel() // its own namespaces; waits on VRRP timers, not the CPU
	needRoot(t)
	needNft(t)
	for _, tc := range []struct {
		name      string
		cfg       Config
		kaLines   string
		reachable bool
	}{
		{"default accept", Config{}, "", true},
		{"no_accept", Config{NoAccept: true}, "no_accept", false},
		{"strict", Config{Strict: true}, "strict_mode", false},
		{"strict accept", Config{Strict: true, Accept: true}, "strict_mode\n  accept", true},
		{"no_accept owner", Config{NoAccept: true, Priority: 255}, "no_accept", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("lvsctl", func(t *testing.T) {
				tp := newTopo(t)
				cfg := tc.cfg
				cfg.VRID, cfg.Version, cfg.AdvertInterval, cfg.VIPs = 51, 3, 100*time.Millisecond, []VIP{{Prefix: vip4}}
				if cfg.Priority == 0 {
					cfg.Priority = 200
				}
				n := tp.start("r1", cfg)
				n.waitState(StateMaster, 2*time.Second)
				assert.True(t, tp.hasVIP("r1", vip4.Addr()))
				assert.Equal(t, tc.reachable, tp.reachable(vip4.Addr()))
				assert.True(t, tp.reachable(netip.MustParseAddr("10.99.0.1")), "the node's own address stays reachable")
				n.stop()
				assert.NotContains(t, tp.nftRuleset("r1"), "lvsctl_vrrp", "the rules go with MASTER")
			})
			t.Run("keepalived", func(t *testing.T) {
				needKeepalived(t)
				tp := newTopo(t)
				prio := tc.cfg.Priority
				if prio == 0 {
					prio = 200
				}
				tp.keepalived("r1", fmt.Sprintf("global_defs {\n  vrrp_version 3\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority %d\n  advert_int 0.1\n  %s\n  virtual_ipaddress {\n    %v\n  }\n}\n",
					prio, tc.kaLines, vip4))
				tp.waitVIP("r1", vip4.Addr(), true, 3*time.Second)
				assert.Equal(t, tc.reachable, tp.reachable(vip4.Addr()), "%s", strings.TrimSpace(tp.nftRuleset("r1")))
			})
		})
	}
}
