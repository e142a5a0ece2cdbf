package metrics

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsctl/lvsctl/bgp"
	"github.com/lvsctl/lvsctl/cmd/internal/director"
)

// BGPSource is a Source that also reports the bgp block's announcer.
type BGPSource interface {
	BGP() director.BGPStatus
}

var bgpNeighborLabels = []string{"neighbor", "address"}

var (
	bgpRunning     = desc("lvsctl_bgp_speaker_running", "1 while the BGP speaker runs (0: it failed to start, retried every second).", nil)
	bgpState       = desc("lvsctl_bgp_neighbor_state", "The BGP session's FSM state, one series per state with value 1 for the current one.", bgpNeighborLabels, "state")
	bgpUp          = desc("lvsctl_bgp_neighbor_up", "1 while the BGP session is established.", bgpNeighborLabels)
	bgpEstablished = desc("lvsctl_bgp_neighbor_established_total", "Times the BGP session was established.", bgpNeighborLabels)
	bgpBFDUp       = desc("lvsctl_bgp_neighbor_bfd_up", "1 while the neighbor's BFD session is up; only for neighbors with a bfd block.", bgpNeighborLabels)
	bgpBFDDowns    = desc("lvsctl_bgp_neighbor_bfd_down_total", "Times the neighbor's BFD session left the up state; only for neighbors with a bfd block.", bgpNeighborLabels)
	bgpAnnounced   = desc("lvsctl_bgp_prefix_announced", "1 while the VIP is announced, 0 while it is withheld (on vip_interface, not announced).", nil, "prefix")
	bgpAnnounces   = desc("lvsctl_bgp_announcements_total", "Prefixes announced, by reason: load (first since the speaker started), recovered (after a withdrawal).", nil, "reason")
	bgpWithdraws   = desc("lvsctl_bgp_withdrawals_total", "Prefixes withdrawn, by reason: settling, quorum, interface, script, vip_interface, config, restart, stop.", nil, "reason")
	bgpSloppy      = desc("lvsctl_bgp_sloppy", "1 while lvsctl holds net.ipv4.vs.sloppy_<protocol> at 1.", nil, "protocol")
)

var bgpDescs = []*prometheus.Desc{bgpRunning, bgpState, bgpUp, bgpEstablished, bgpBFDUp, bgpBFDDowns, bgpAnnounced, bgpAnnounces, bgpWithdraws, bgpSloppy}

var (
	bgpAnnounceReasons = []string{director.AnnounceLoad, director.AnnounceRecovered}
	bgpWithdrawReasons = []string{
		director.WithdrawSettling, director.WithdrawQuorum, director.WithdrawInterface, director.WithdrawScript,
		director.WithdrawVIPLink, director.WithdrawConfig, director.WithdrawRestart, director.WithdrawStop,
	}
	bgpStates = []bgp.SessionState{bgp.StateIdle, bgp.StateConnect, bgp.StateActive, bgp.StateOpenSent, bgp.StateOpenConfirm, bgp.StateEstablished}
)

func collectBGP(ch chan<- prometheus.Metric, b director.BGPStatus) {
	ch <- gauge(bgpRunning, boolf(b.Running))
	for _, n := range b.Neighbors {
		l := []string{n.Name, n.Address.String()}
		for _, s := range bgpStates {
			ch <- gauge(bgpState, boolf(n.State == s), l[0], l[1], s.String())
		}
		ch <- gauge(bgpUp, boolf(n.State == bgp.StateEstablished), l...)
		ch <- counter(bgpEstablished, float64(n.Established), l...)
		if n.BFD != bgp.BFDOff {
			ch <- gauge(bgpBFDUp, boolf(n.BFD == bgp.BFDUp), l...)
			ch <- counter(bgpBFDDowns, float64(n.BFDDowns), l...)
		}
	}
	prefixes := map[netip.Prefix]bool{}
	for _, p := range b.VIPAddrs {
		prefixes[p] = false
	}
	for _, p := range b.Announced {
		prefixes[p] = true
	}
	for _, p := range slices.SortedFunc(maps.Keys(prefixes), func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) }) {
		ch <- gauge(bgpAnnounced, boolf(prefixes[p]), p.String())
	}
	for _, r := range bgpAnnounceReasons {
		ch <- counter(bgpAnnounces, float64(b.Announces[r]), r)
	}
	for _, r := range bgpWithdrawReasons {
		ch <- counter(bgpWithdraws, float64(b.Withdraws[r]), r)
	}
	ch <- gauge(bgpSloppy, boolf(b.SloppyTCP), "tcp")
	ch <- gauge(bgpSloppy, boolf(b.SloppySCTP), "sctp")
}
