package statusapi

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Write prints st for people:
//
//	lvsctl run: pid 812, up 2h3m (since 2026-11-21 07:00:01 UTC), lvsctl v0.3.0
//	config: /etc/lvsctl/lvsctl.hcl, generation 2 (applied 12m ago); last reload 12m ago: ok
//
//	virtual_server "web"  TCP 10.0.1.100:80  rr  quorum up
//	  REAL           STATE  WEIGHT  SINCE     REASON                       LAST CHECK
//	  10.0.2.11:80   up     1/1     2h3m      connected                    success 0.4ms, 1s ago
//	  10.0.2.12:80   down   -/1     35s       connect: connection refused  failure 0.3ms, 1s ago
//
// WEIGHT is the weight in the kernel's table over the configured weight,
// "-" when the real server is not in the table.
func Write(w io.Writer, st Status) error {
	ew := &errWriter{w: w}
	ew.printf("lvsctl run: pid %d, up %s (since %s)", st.PID, age(st.Now, st.Started), st.Started.UTC().Format("2006-01-02 15:04:05 MST"))
	if st.Version != "" {
		ew.printf(", lvsctl %s", st.Version)
	}
	ew.printf("\n")
	if st.Netns != "" {
		ew.printf("netns: %s\n", st.Netns)
	}
	ew.printf("config: %s, generation %d", st.Config.File, st.Config.Generation)
	if !st.Config.LoadedAt.IsZero() {
		ew.printf(" (applied %s ago)", age(st.Now, st.Config.LoadedAt))
	}
	if r := st.Config.LastReload; r != nil {
		ew.printf("; last reload %s ago", age(st.Now, r.At))
		if r.Via == "apply" {
			ew.printf(" (lvsctl apply -f %s)", r.File)
		}
		ew.printf(": ")
		if r.OK {
			ew.printf("ok")
		} else {
			ew.printf("refused (%s)", r.Error)
		}
	}
	ew.printf("\n")
	if st.IPVS {
		c := st.Counters
		ew.printf("ipvs: %d reconciles, %d resyncs, %d writes, %d drift repairs", c.Reconciles, c.Resyncs, c.Writes, c.Repairs)
		if !st.LastReconcile.IsZero() {
			ew.printf("; last pass %s ago", age(st.Now, st.LastReconcile))
		}
		ew.printf("\n")
	}

	for _, p := range st.Pools {
		ew.printf("\nvirtual_server %q  %s  %s  quorum %s", p.Name, p.Service, p.Scheduler, updown(p.QuorumUp))
		if !p.InSync {
			ew.printf("  (kernel state uncertain: repaired at the next resync)")
		}
		ew.printf("\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  REAL\tSTATE\tWEIGHT\tSINCE\tREASON\tLAST CHECK")
		for _, r := range p.Reals {
			weight := "-"
			if r.InTable {
				weight = strconv.FormatUint(uint64(r.Weight), 10)
			}
			weight += "/" + strconv.FormatUint(uint64(r.ConfiguredWeight), 10)
			since, reason, last := "-", r.Reason, "-"
			if !r.Since.IsZero() {
				since = age(st.Now, r.Since)
			}
			switch {
			case r.State == StateSorry:
				reason = "sorry server: in the table while no real server is up"
				if !r.InTable {
					reason = "sorry server: standing by"
				}
			case !r.HasCheck:
				reason = "no check"
			}
			if c := r.LastCheck; c != nil {
				last = fmt.Sprintf("%s %s, %s ago", c.Result, seconds(c.TookSeconds), age(st.Now, c.At))
				if c.Reason != r.Reason {
					last += ": " + c.Reason
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", r.Address, r.State, weight, since, oneLine(reason), oneLine(last))
			for _, c := range r.Checks {
				since, last := "-", "-"
				if !c.Since.IsZero() {
					since = age(st.Now, c.Since)
				}
				if l := c.LastCheck; l != nil {
					last = fmt.Sprintf("%s %s, %s ago", l.Result, seconds(l.TookSeconds), age(st.Now, l.At))
				}
				fmt.Fprintf(tw, "    %s\t%s\t\t%s\t%s\t%s\n", c.Name, c.State, since, oneLine(c.Reason), oneLine(last))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	for _, v := range st.VRRP {
		ew.printf("\nvrrp_instance %q  %s vrid %d (v%d)  %s", v.Name, v.Interface, v.VRID, v.Version, v.State)
		if !v.Since.IsZero() {
			ew.printf(" for %s", age(st.Now, v.Since))
		}
		ew.printf("  priority %d (base %d)", v.Priority, v.BasePriority)
		if v.Master != "" {
			ew.printf("  master %s", v.Master)
		}
		if v.SyncGroup != "" {
			ew.printf("  sync group %s", v.SyncGroup)
		}
		if v.Fault != "" {
			ew.printf("  fault: %s", oneLine(v.Fault))
		}
		if v.Error != "" {
			ew.printf("  error: %s", oneLine(v.Error))
		}
		ew.printf("\n")
	}
	if sy := st.Sync; sy != nil {
		writeSync(ew, st.Now, sy)
	}
	if b := st.BGP; b != nil {
		writeBGP(ew, st.Now, b)
	}
	return ew.err
}

// writeBGP prints the announcer:
//
//	bgp: speaker running; vip_interface lvsctl0 (192.0.2.10/32); sloppy_tcp on
//	  neighbor "tor1"  10.0.0.1 AS 65000  established for 2h1m  bfd up for 2h1m
//	  announced: 192.0.2.10/32
//	  withheld: announce "api": virtual_server api: quorum lost
//	  announces: load 1, recovered 2; withdraws: quorum 2
func writeBGP(ew *errWriter, now time.Time, b *BGP) {
	ew.printf("\nbgp: speaker ")
	if b.Running {
		ew.printf("running")
	} else {
		ew.printf("not running")
	}
	if b.VIPInterface != "" {
		ew.printf("; vip_interface %s (%s)", b.VIPInterface, strings.Join(b.VIPs, ", "))
	}
	if b.SloppyTCP {
		ew.printf("; sloppy_tcp on")
	}
	if b.SloppySCTP {
		ew.printf("; sloppy_sctp on")
	}
	ew.printf("\n")
	if b.Error != "" {
		ew.printf("  error: %s\n", oneLine(b.Error))
	}
	if b.VIPError != "" {
		ew.printf("  vip_interface error: %s\n", oneLine(b.VIPError))
	}
	for _, n := range b.Neighbors {
		ew.printf("  neighbor %q  %s AS %d  %s", n.Name, n.Address, n.ASN, n.State)
		if !n.Since.IsZero() {
			ew.printf(" for %s", age(now, n.Since))
		}
		if n.Reason != "" && n.State != "established" {
			ew.printf("  (%s)", oneLine(n.Reason))
		}
		if n.BFD != "" {
			ew.printf("  bfd %s", n.BFD)
			if !n.BFDSince.IsZero() {
				ew.printf(" for %s", age(now, n.BFDSince))
			}
		}
		ew.printf("\n")
	}
	announced := "none"
	if len(b.Announced) > 0 {
		announced = strings.Join(b.Announced, ", ")
	}
	ew.printf("  announced: %s\n", announced)
	for _, w := range b.Withheld {
		ew.printf("  withheld: announce %q: %s\n", w.Announce, oneLine(w.Reason))
	}
	counts := func(m map[string]uint64) string {
		if len(m) == 0 {
			return "none"
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	ew.printf("  announces: %s; withdraws: %s\n", counts(b.Announces), counts(b.Withdraws))
}

// writeSync prints the sync daemons:
//
//	sync (follows VI_1): want backup; running backup on sync0 syncid 9 maxlen 1024, checked 3s ago
//	  error: start backup sync daemon on sync0: no such interface
func writeSync(ew *errWriter, now time.Time, sy *Sync) {
	if sy.VRRPInstance == "" { // mode active-active
		ew.printf("\nsync (active-active): want ")
	} else {
		ew.printf("\nsync (follows %s): want ", sy.VRRPInstance)
	}
	if len(sy.Want) == 0 {
		ew.printf("none")
	}
	ew.printf("%s; running ", strings.Join(sy.Want, ", "))
	if len(sy.Running) == 0 {
		ew.printf("none")
	}
	for i, d := range sy.Running {
		if i > 0 {
			ew.printf(", ")
		}
		ew.printf("%s on %s syncid %d maxlen %d", d.State, d.Interface, d.SyncID, d.MaxLen)
	}
	if !sy.CheckedAt.IsZero() {
		ew.printf(", checked %s ago", age(now, sy.CheckedAt))
	}
	ew.printf("\n")
	if sy.Error != "" {
		ew.printf("  error (%d failures): %s\n", sy.Failures, oneLine(sy.Error))
	}
}

func updown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// age is now-t rounded for reading: 350ms, 12s, 3m5s, 2h3m, 4d2h.
func age(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return strings.TrimSuffix(d.Round(time.Second).String(), "0s")
	case d < 24*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	days := int(d / (24 * time.Hour))
	return fmt.Sprintf("%dd%dh", days, int((d-time.Duration(days)*24*time.Hour)/time.Hour))
}

// seconds prints a probe's duration: 0.4ms, 12.3ms, 1.25s.
func seconds(s float64) string {
	if s < 1 {
		return strconv.FormatFloat(s*1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(s, 'f', 2, 64) + "s"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
