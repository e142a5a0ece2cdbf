package ipvs

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// TimeoutKernel is a kernel whose connection timeouts can be read and set
// (Netlink and Fake).
type TimeoutKernel interface {
	Timeouts(ctx context.Context) (Timeouts, error)
	SetTimeouts(ctx context.Context, t Timeouts) error
}

// DefaultTimeouts are the kernel's timeouts in a new network namespace
// (tcp_timeouts[] of ip_vs_proto_tcp.c and udp_timeouts[]).
var DefaultTimeouts = Timeouts{TCP: 15 * time.Minute, TCPFin: 2 * time.Minute, UDP: 5 * time.Minute}

// TimeoutChange is one timeout that setting would change.
type TimeoutChange struct {
	Name     string // tcp, tcp_fin or udp
	Old, New time.Duration
}

// TimeoutChanges is what setting want changes on a kernel that has have:
// a zero field of want leaves that timeout alone.
func TimeoutChanges(have, want Timeouts) []TimeoutChange {
	var out []TimeoutChange
	for _, f := range []struct {
		name       string
		have, want time.Duration
	}{{"tcp", have.TCP, want.TCP}, {"tcp_fin", have.TCPFin, want.TCPFin}, {"udp", have.UDP, want.UDP}} {
		if f.want != 0 && f.want != f.have {
			out = append(out, TimeoutChange{Name: f.name, Old: f.have, New: f.want})
		}
	}
	return out
}

// FormatTimeoutChanges is the plan's line for cs: "~ timeouts tcp 900s ->
// 3600s, udp 300s -> 60s". Empty if cs is.
func FormatTimeoutChanges(cs []TimeoutChange) string {
	if len(cs) == 0 {
		return ""
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %ds -> %ds", c.Name, c.Old/time.Second, c.New/time.Second)
	}
	return "~ timeouts " + strings.Join(parts, ", ")
}

// checkTimeouts says whether the kernel takes t: whole seconds, at most
// INT_MAX / HZ of them (HZ is at most 1000), zero for unchanged.
func checkTimeouts(t Timeouts) error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"tcp", t.TCP}, {"tcp_fin", t.TCPFin}, {"udp", t.UDP}} {
		if f.d < 0 || f.d%time.Second != 0 || f.d/time.Second > math.MaxInt32/1000 {
			return fmt.Errorf("%s timeout %s: want whole seconds from 0 to %d", f.name, f.d, math.MaxInt32/1000)
		}
	}
	return nil
}

var (
	_ TimeoutKernel = (*Netlink)(nil)
	_ TimeoutKernel = (*Fake)(nil)
)
