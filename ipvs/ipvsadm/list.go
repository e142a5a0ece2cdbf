package ipvsadm

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/ipvs"
)

// Options are ipvsadm's listing options. Several views may be set; like
// ipvsadm, the first of Stats, Rate, Thresholds, PersistentConn, TunInfo
// wins.
type Options struct {
	Numeric        bool // -n: numbers, no name lookups
	Exact          bool // --exact: whole numbers for --stats and --rate
	NoSort         bool // --nosort: the kernel's order
	Stats          bool // --stats
	Rate           bool // --rate
	Thresholds     bool // --thresholds
	PersistentConn bool // --persistent-conn
	TunInfo        bool // --tun-info
	// Resolver names hosts and ports unless Numeric. Without one, addresses
	// and ports print as numbers, as ipvsadm's do when nothing resolves.
	Resolver Resolver
}

type view int

const (
	viewDefault view = iota
	viewStats
	viewRate
	viewThresholds
	viewPersistentConn
	viewTunInfo
	viewRule // -S
)

func (o *Options) view() view {
	switch {
	case o.Stats:
		return viewStats
	case o.Rate:
		return viewRate
	case o.Thresholds:
		return viewThresholds
	case o.PersistentConn:
		return viewPersistentConn
	case o.TunInfo:
		return viewTunInfo
	}
	return viewDefault
}

// printer accumulates output and writes it in large chunks.
type printer struct {
	w   io.Writer
	o   Options
	v   view
	buf []byte
	err error
}

func newPrinter(w io.Writer, o Options, v view) *printer {
	return &printer{w: w, o: o, v: v, buf: make([]byte, 0, 64<<10)}
}

func (p *printer) maybeFlush() {
	if len(p.buf) >= 60<<10 {
		p.flush()
	}
}

func (p *printer) flush() error {
	if p.err == nil && len(p.buf) > 0 {
		_, p.err = p.w.Write(p.buf)
	}
	p.buf = p.buf[:0]
	return p.err
}

// Header is the first line of ipvsadm -L: "IP Virtual Server version 1.2.1
// (size=4096)".
func Header(info ipvs.Info) string {
	return fmt.Sprintf("IP Virtual Server version %d.%d.%d (size=%d)\n",
		info.Version>>16&0xff, info.Version>>8&0xff, info.Version&0xff, int32(info.ConnTableSize))
}

// WriteList writes what ipvsadm -L writes for the table: the header, the
// column titles and every service with its real servers. services are in
// the kernel's order; unless o.NoSort they are sorted as ipvsadm sorts.
func WriteList(w io.Writer, info ipvs.Info, services []ipvs.ListedService, o Options) error {
	p := newPrinter(w, o, o.view())
	p.buf = append(p.buf, Header(info)...)
	p.title()
	p.services(services)
	return p.flush()
}

// WriteService writes what ipvsadm -L -t|-u|--sctp-service|-f writes for
// one service: the column titles and the service, without the header.
func WriteService(w io.Writer, s ipvs.ListedService, o Options) error {
	p := newPrinter(w, o, o.view())
	p.title()
	p.service(&s)
	return p.flush()
}

// WriteRules writes what ipvsadm -S writes: one -A line per service and one
// -a line per real server, which ipvsadm -R reads back. Of o, only Numeric
// and NoSort apply.
func WriteRules(w io.Writer, services []ipvs.ListedService, o Options) error {
	p := newPrinter(w, o, viewRule)
	p.services(services)
	return p.flush()
}

func (p *printer) services(services []ipvs.ListedService) {
	if !p.o.NoSort {
		services = SortServices(services)
	}
	for i := range services {
		p.service(&services[i])
		if p.err != nil {
			return
		}
	}
}

// title is print_title.
func (p *printer) title() {
	const local = "Prot LocalAddress:Port"
	switch p.v {
	case viewStats:
		p.buf = fmt.Appendf(p.buf, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			local, "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
	case viewRate:
		p.buf = fmt.Appendf(p.buf, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			local, "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
	case viewThresholds:
		p.buf = fmt.Appendf(p.buf, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
			local, "Uthreshold", "Lthreshold", "ActiveConn", "InActConn")
	case viewPersistentConn:
		p.buf = fmt.Appendf(p.buf, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
			local, "Weight", "PersistConn", "ActiveConn", "InActConn")
	case viewTunInfo:
		p.buf = append(p.buf, "Prot LocalAddress:Port Scheduler Flags\n"+
			"  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"...)
	case viewDefault:
		p.buf = append(p.buf, "Prot LocalAddress:Port Scheduler Flags\n"+
			"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"...)
	}
}

// serviceName is the svc_name of print_service_entry.
func (p *printer) serviceName(s *ipvs.ListedService) string {
	k := s.Service.Key
	if k.IsFWMark() {
		mark := strconv.FormatInt(int64(int32(k.FWMark)), 10) // printed with %d
		switch {
		case p.v == viewRule && k.Family == ipvs.IPv6:
			return "-f " + mark + " -6"
		case p.v == viewRule:
			return "-f " + mark
		case k.Family == ipvs.IPv6:
			return "FWM  " + mark + " IPv6"
		}
		return "FWM  " + mark
	}
	vname := p.o.addrPort(k.Family, k.Addr, k.Port, k.Protocol)
	if p.v == viewRule {
		return ruleOption(k.Protocol) + " " + vname
	}
	name := string(appendLeft(nil, protocolName(k.Protocol), 4)) + " " + vname
	if k.Family != ipvs.IPv6 {
		name = cut(name, 33)
	}
	return name
}

func protocolName(p ipvs.Protocol) string {
	switch p {
	case ipvs.TCP, ipvs.UDP, ipvs.SCTP:
		return p.String()
	}
	return "?"
}

func ruleOption(p ipvs.Protocol) string {
	switch p {
	case ipvs.TCP:
		return "-t"
	case ipvs.UDP:
		return "-u"
	case ipvs.SCTP:
		return "--sctp-service"
	}
	return "--xxx-service"
}

// schedFlags is print_sched_flags: sh and mh name their two flags, other
// schedulers print flag-1..3.
func schedFlags(sched ipvs.Scheduler, f ipvs.SchedFlags) string {
	var names []string
	switch sched {
	case "sh", "mh":
		if f&ipvs.SchedFlag1 != 0 {
			names = append(names, string(sched)+"-fallback")
		}
		if f&ipvs.SchedFlag2 != 0 {
			names = append(names, string(sched)+"-port")
		}
	default:
		for i, bit := range []ipvs.SchedFlags{ipvs.SchedFlag1, ipvs.SchedFlag2, ipvs.SchedFlag3} {
			if f&bit != 0 {
				names = append(names, "flag-"+strconv.Itoa(i+1))
			}
		}
	}
	return strings.Join(names, ",")
}

const allSchedFlags = ipvs.SchedFlag1 | ipvs.SchedFlag2 | ipvs.SchedFlag3

// service is print_service_entry.
func (p *printer) service(s *ipvs.ListedService) {
	svc := &s.Service
	k := svc.Key
	name := p.serviceName(s)
	persistent := svc.Persistence > 0
	timeout := strconv.FormatUint(uint64(uint32(svc.Persistence/time.Second)), 10)
	// The persistence mask, when it is not the whole address.
	mask := ""
	if k.Family == ipvs.IPv4 {
		if m := s.PersistenceNetmask(); m.As4() != [4]byte{255, 255, 255, 255} {
			mask = m.String()
		}
	} else if k.Family == ipvs.IPv6 && svc.PersistenceMask != 128 && svc.PersistenceMask != 0 {
		mask = strconv.Itoa(svc.PersistenceMask)
	}
	b := p.buf
	switch p.v {
	case viewRule:
		b = append(b, "-A "...)
		b = append(b, name...)
		b = append(b, " -s "...)
		b = append(b, svc.Scheduler...)
		if persistent {
			b = append(b, " -p "...)
			b = append(b, timeout...)
			if mask != "" {
				b = append(b, " -M "...)
				b = append(b, mask...)
			}
		}
		if s.PEName != "" {
			b = append(b, " --pe "...)
			b = append(b, s.PEName...)
		}
		if svc.OnePacket {
			b = append(b, " -o"...)
		}
		if svc.SchedFlags&allSchedFlags != 0 {
			b = append(b, " -b "...)
			b = append(b, schedFlags(svc.Scheduler, svc.SchedFlags)...)
		}
	case viewStats, viewRate:
		st := &s.Stats
		b = appendLeft(b, name, 33)
		vals := [5]uint64{st.Conns, st.InPkts, st.OutPkts, st.InBytes, st.OutBytes}
		if p.v == viewRate {
			vals = [5]uint64{st.CPS, st.InPPS, st.OutPPS, st.InBPS, st.OutBPS}
		}
		for _, v := range vals {
			b = appendLargeNum(b, v, p.o.Exact)
		}
	default:
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, svc.Scheduler...)
		if svc.SchedFlags&allSchedFlags != 0 {
			b = append(b, " ("...)
			b = append(b, schedFlags(svc.Scheduler, svc.SchedFlags)...)
			b = append(b, ')')
		}
		if persistent {
			b = append(b, " persistent "...)
			b = append(b, timeout...)
			if mask != "" {
				b = append(b, " mask "...)
				b = append(b, mask...)
			}
			if s.PEName != "" {
				b = append(b, " pe "...)
				b = append(b, s.PEName...)
			}
		}
		if svc.OnePacket {
			b = append(b, " ops"...)
		}
	}
	b = append(b, '\n')
	p.buf = b

	reals := s.Reals
	if !p.o.NoSort {
		reals = SortReals(reals)
	}
	for i := range reals {
		p.real(name, k.Protocol, &reals[i])
		p.maybeFlush()
	}
}

// lo32 is what libipvs 1.31 reads from a destination's 64-bit counter with
// nla_get_u32: its low 32 bits.
func lo32(v uint64) uint64 { return uint64(uint32(v)) }

// real prints one destination line of print_service_entry.
func (p *printer) real(svcName string, proto ipvs.Protocol, rs *ipvs.RealStatus) {
	r := &rs.Real
	f := ipvs.FamilyOf(r.Addr)
	dname := p.o.addrPort(f, r.Addr, r.Port, proto)
	if p.v != viewRule && f != ipvs.IPv6 {
		dname = cut(dname, 28)
	}
	weight := int64(int32(r.Weight)) // printed with %d
	b := p.buf
	switch p.v {
	case viewRule:
		b = append(b, "-a "...)
		b = append(b, svcName...)
		b = append(b, " -r "...)
		b = append(b, dname...)
		b = append(b, ' ')
		b = append(b, fwdSwitch(r.Forwarding)...)
		b = append(b, " -w "...)
		b = strconv.AppendInt(b, weight, 10)
		if r.Forwarding == ipvs.Tunnel {
			switch r.Tunnel.Type {
			case ipvs.GRE:
				b = append(b, " --tun-type gre "...)
				b = append(b, tunFlagOption(r.Tunnel.Checksum)...)
			case ipvs.GUE:
				b = append(b, " --tun-type gue --tun-port "...)
				b = strconv.AppendUint(b, uint64(r.Tunnel.Port), 10)
				b = append(b, ' ')
				b = append(b, tunFlagOption(r.Tunnel.Checksum)...)
			case ipvs.IPIP:
				b = append(b, " --tun-type ipip"...)
			}
		}
		b = append(b, '\n')
	case viewStats:
		st := &rs.Stats
		b = append(b, "  -> "...)
		b = appendLeft(b, dname, 28)
		for _, v := range [5]uint64{lo32(st.Conns), lo32(st.InPkts), lo32(st.OutPkts), st.InBytes, st.OutBytes} {
			b = appendLargeNum(b, v, p.o.Exact)
		}
		b = append(b, '\n')
	case viewRate:
		st := &rs.Stats
		b = append(b, "  -> "...)
		b = appendLeft(b, dname, 28)
		for _, v := range [3]uint64{lo32(st.CPS), lo32(st.InPPS), lo32(st.OutPPS)} {
			b = append(b, ' ')
			b = appendRight(b, strconv.FormatUint(v, 10), 8)
		}
		b = appendLargeNum(b, lo32(st.InBPS), p.o.Exact)
		b = appendLargeNum(b, lo32(st.OutBPS), p.o.Exact)
		b = append(b, '\n')
	case viewThresholds:
		b = append(b, "  -> "...)
		b = appendLeft(b, dname, 28)
		for _, v := range [4]uint32{r.UpperThreshold, r.LowerThreshold, rs.ActiveConns, rs.InactiveConns} {
			b = append(b, ' ')
			b = appendUintLeft(b, uint64(v), 10)
		}
		b = append(b, '\n')
	case viewPersistentConn:
		b = append(b, "  -> "...)
		b = appendLeft(b, dname, 28)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(r.Weight), 9)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(rs.PersistentConns), 11)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(rs.ActiveConns), 10)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(rs.InactiveConns), 10)
		b = append(b, '\n')
	default:
		b = append(b, "  -> "...)
		b = appendLeft(b, dname, 28)
		b = append(b, ' ')
		b = appendLeft(b, fwdName(r.Forwarding), 7)
		if p.v == viewTunInfo {
			b = append(b, ' ')
			b = appendLeft(b, tunInfo(r), 13)
		}
		b = append(b, ' ')
		b = appendIntLeft(b, weight, 6)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(rs.ActiveConns), 10)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(rs.InactiveConns), 10)
		b = append(b, '\n')
	}
	p.buf = b
}

// fwdName is ipvsadm's fwd_name; glibc prints a NULL %s as "(null)".
func fwdName(f ipvs.Forwarding) string {
	switch f & 7 {
	case ipvs.NAT:
		return "Masq"
	case ipvs.Local:
		return "Local"
	case ipvs.Tunnel:
		return "Tunnel"
	case ipvs.DR:
		return "Route"
	}
	return "(null)"
}

// fwdSwitch is ipvsadm's fwd_switch.
func fwdSwitch(f ipvs.Forwarding) string {
	switch f & 7 {
	case ipvs.NAT:
		return "-m"
	case ipvs.Tunnel:
		return "-i"
	case ipvs.Local, ipvs.DR:
		return "-g"
	}
	return "(null)"
}

var (
	tunFlagNames   = [...]string{"-c", "+c", "r+c"}
	tunFlagOptions = [...]string{"--tun-nocsum", "--tun-csum", "--tun-remcsum"}
)

func tunFlagOption(c ipvs.TunnelChecksum) string {
	if int(c) < len(tunFlagOptions) {
		return tunFlagOptions[c]
	}
	return "(null)"
}

// tunInfo is fwd_tun_info, or "n/a"; its 16-byte buffer holds 15
// characters.
func tunInfo(r *ipvs.RealServer) string {
	if r.Forwarding != ipvs.Tunnel {
		return "n/a"
	}
	flags := "(null)"
	if int(r.Tunnel.Checksum) < len(tunFlagNames) {
		flags = tunFlagNames[r.Tunnel.Checksum]
	}
	switch r.Tunnel.Type {
	case ipvs.IPIP:
		return "ipip"
	case ipvs.GUE:
		return cut("gue:"+strconv.Itoa(int(r.Tunnel.Port))+":"+flags, 15)
	case ipvs.GRE:
		return cut("gre:"+flags, 15)
	}
	return "n/a"
}
