package ipvsadm

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/ipvs"
)

// Conn is one entry of /proc/net/ip_vs_conn.
type Conn struct {
	Protocol    string // as the kernel names it: TCP, UDP, SCTP, ...
	Client      netip.AddrPort
	Virtual     netip.AddrPort
	Destination netip.AddrPort
	State       string        // the kernel's state name: ESTABLISHED, TIME_WAIT, ...
	Expires     uint32        // seconds left
	PEName      string        // persistence engine, if any
	PEData      string        // its data (the SIP Call-ID)
	fields      int           // how many of the fields sscanf would have read
	family      ipvs.Family   // of Client and Virtual
	destFamily  ipvs.Family   // of Destination
	proto       ipvs.Protocol // for service names; 0 if unknown
}

// ParseConns reads the text of /proc/net/ip_vs_conn (header line first) as
// ipvsadm's print_conn does: addresses in hex (IPv4) or full IPv6 form,
// ports in hex.
func ParseConns(text []byte) []Conn {
	var out []Conn
	lines := bytes.Split(text, []byte("\n"))
	if len(lines) > 0 {
		lines = lines[1:] // the header
	}
	for _, l := range lines {
		f := strings.Fields(string(l))
		if len(f) == 0 {
			continue
		}
		out = append(out, parseConn(f))
	}
	return out
}

// parseConn follows sscanf(buf, "%s %s %hX %s %hX %s %hX %s %d %s %s").
func parseConn(f []string) Conn {
	c := Conn{family: ipvs.IPv4, destFamily: ipvs.IPv4}
	get := func(i int) (string, bool) {
		if i < len(f) {
			return f[i], true
		}
		return "", false
	}
	var caddr, vaddr, daddr string
	var cport, vport, dport uint16
	n := 0
	step := func(i int, fn func(string) bool) bool {
		s, ok := get(i)
		if !ok || !fn(s) {
			return false
		}
		n++
		return true
	}
	hexPort := func(dst *uint16) func(string) bool {
		return func(s string) bool {
			v, ok := scanHex(s)
			*dst = uint16(v)
			return ok
		}
	}
	_ = step(0, func(s string) bool { c.Protocol = s; return true }) &&
		step(1, func(s string) bool { caddr = s; return true }) &&
		step(2, hexPort(&cport)) &&
		step(3, func(s string) bool { vaddr = s; return true }) &&
		step(4, hexPort(&vport)) &&
		step(5, func(s string) bool { daddr = s; return true }) &&
		step(6, hexPort(&dport)) &&
		step(7, func(s string) bool { c.State = s; return true }) &&
		step(8, func(s string) bool {
			v, ok := scanInt(s)
			c.Expires = uint32(v)
			return ok
		}) &&
		step(9, func(s string) bool { c.PEName = s; return true }) &&
		step(10, func(s string) bool { c.PEData = s; return true })
	c.fields = n
	switch c.Protocol {
	case "TCP":
		c.proto = ipvs.TCP
	case "UDP":
		c.proto = ipvs.UDP
	case "SCTP":
		c.proto = ipvs.SCTP
	}
	var ca, va, da netip.Addr
	if a, ok := inetPton6(caddr); ok {
		c.family = ipvs.IPv6
		ca = a
		va, _ = inetPton6(vaddr)
		if !va.IsValid() {
			va = netip.IPv6Unspecified()
		}
	} else if a, ok := inetPton4(caddr); ok {
		ca = a
		va, ok = inetPton4(vaddr)
		if !ok {
			va = netip.IPv4Unspecified()
		}
	} else {
		ca, va = hexAddr4(caddr), hexAddr4(vaddr)
	}
	if a, ok := inetPton6(daddr); ok {
		c.destFamily, da = ipvs.IPv6, a
	} else if a, ok := inetPton4(daddr); ok {
		da = a
	} else {
		da = hexAddr4(daddr)
	}
	c.Client = netip.AddrPortFrom(ca, cport)
	c.Virtual = netip.AddrPortFrom(va, vport)
	c.Destination = netip.AddrPortFrom(da, dport)
	return c
}

// inetPton4 is inet_pton(AF_INET): exactly four decimal parts.
func inetPton4(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// hexAddr4 is htonl(strtoul(s, NULL, 16)), truncated to 32 bits.
func hexAddr4(s string) netip.Addr {
	v, _ := scanHex(s)
	w := uint32(v)
	return netip.AddrFrom4([4]byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w)})
}

// scanHex reads a leading hexadecimal number (an optional 0x prefix
// allowed), as %X and strtoul(16) do; like strtoul it saturates at the
// largest unsigned long.
func scanHex(s string) (uint64, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	var v uint64
	i := 0
	for ; i < len(s) && hexVal(s[i]) < 16; i++ {
		if v > math.MaxUint64>>4 {
			v = math.MaxUint64
			continue
		}
		v = v<<4 | hexVal(s[i])
	}
	return v, i > 0
}

// scanInt reads a leading decimal integer as %d does.
func scanInt(s string) (int64, bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false
	}
	v, err := strconv.ParseInt(s[:j], 10, 64)
	return v, err == nil
}

// WriteConns writes what ipvsadm -L -c writes for the text of
// /proc/net/ip_vs_conn. Of o, Numeric, PersistentConn (the persistence
// engine columns) and Resolver apply.
func WriteConns(w io.Writer, procText []byte, o Options) error {
	p := newPrinter(w, o, viewDefault)
	p.buf = append(p.buf, "IPVS connection entries\n"...)
	if o.PersistentConn {
		p.buf = fmt.Appendf(p.buf, "pro expire %-11s %-18s %-18s %-18s %-16s %s\n",
			"state", "source", "virtual", "destination", "pe name", "pe_data")
	} else {
		p.buf = fmt.Appendf(p.buf, "pro expire %-11s %-18s %-18s %s\n",
			"state", "source", "virtual", "destination")
	}
	for _, c := range ParseConns(procText) {
		cname := o.addrPort(c.family, c.Client.Addr(), c.Client.Port(), c.proto)
		vname := o.addrPort(c.family, c.Virtual.Addr(), c.Virtual.Port(), c.proto)
		dname := o.addrPort(c.destFamily, c.Destination.Addr(), c.Destination.Port(), c.proto)
		expire := fmt.Sprintf("%02d:%02d", int32(c.Expires/60), int32(c.Expires%60))
		b := p.buf
		b = appendLeft(b, c.Protocol, 3)
		b = append(b, ' ')
		b = appendLeft(b, expire, 6)
		b = append(b, ' ')
		b = appendLeft(b, c.State, 11)
		b = append(b, ' ')
		b = appendLeft(b, cname, 18)
		b = append(b, ' ')
		b = appendLeft(b, vname, 18)
		b = append(b, ' ')
		if o.PersistentConn && c.fields == 11 {
			b = appendLeft(b, dname, 16)
			b = append(b, ' ')
			b = appendLeft(b, c.PEName, 18)
			b = append(b, ' ')
			b = append(b, c.PEData...)
		} else {
			b = append(b, dname...)
		}
		p.buf = append(b, '\n')
		p.maybeFlush()
	}
	return p.flush()
}

// WriteTimeouts writes what ipvsadm -L --timeout writes.
func WriteTimeouts(w io.Writer, t ipvs.Timeouts) error {
	secs := func(d time.Duration) int32 { return int32(d / time.Second) }
	_, err := fmt.Fprintf(w, "Timeout (tcp tcpfin udp): %d %d %d\n", secs(t.TCP), secs(t.TCPFin), secs(t.UDP))
	return err
}

// WriteDaemons writes what ipvsadm -L --daemon writes: a line per running
// sync daemon (ipvsadm shows at most two: the first two given).
func WriteDaemons(w io.Writer, daemons []ipvs.SyncDaemon) error {
	var b []byte
	for i, d := range daemons {
		if i == 2 {
			break
		}
		var kind string
		switch {
		case d.State&ipvs.SyncMaster != 0:
			kind = "master"
		case d.State&ipvs.SyncBackup != 0:
			kind = "backup"
		default:
			continue
		}
		b = fmt.Appendf(b, "%s sync daemon (mcast=%s, syncid=%d", kind, cut(d.Interface, 15), int32(d.SyncID))
		if d.MaxLen != 0 {
			b = fmt.Appendf(b, ", maxlen=%d", d.MaxLen)
		}
		if d.Group.IsValid() {
			f := ipvs.IPv4
			if d.Group.Is6() && !d.Group.Is4In6() {
				f = ipvs.IPv6
			}
			b = fmt.Appendf(b, ", group=%s", ntop(f, addrBytes(f, d.Group)))
		}
		if d.Port != 0 {
			b = fmt.Appendf(b, ", port=%d", d.Port)
		}
		if d.TTL != 0 {
			b = fmt.Appendf(b, ", ttl=%d", d.TTL)
		}
		b = append(b, ")\n"...)
	}
	_, err := w.Write(b)
	return err
}
