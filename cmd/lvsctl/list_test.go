package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/ipvs/ipvsadm"
)

// fakeLister is a kernel table in memory.
type fakeLister struct {
	info     ipvs.Info
	table    []ipvs.ListedService
	conns    []byte
	connErr  error
	timeouts ipvs.Timeouts
	daemons  []ipvs.SyncDaemon
	closed   bool
	asked    []ipvs.ServiceKey
}

func (f *fakeLister) List(context.Context) ([]ipvs.ListedService, error) { return f.table, nil }
func (f *fakeLister) ListService(_ context.Context, k ipvs.ServiceKey) (ipvs.ListedService, error) {
	f.asked = append(f.asked, k)
	for _, s := range f.table {
		if s.Service.Key == k {
			return s, nil
		}
	}
	return ipvs.ListedService{}, fmt.Errorf("ipvs: get service %s: %w", k, ipvs.ErrNoService)
}
func (f *fakeLister) Info(context.Context) (ipvs.Info, error)         { return f.info, nil }
func (f *fakeLister) Timeouts(context.Context) (ipvs.Timeouts, error) { return f.timeouts, nil }
func (f *fakeLister) SyncDaemons(context.Context) ([]ipvs.SyncDaemon, error) {
	return f.daemons, nil
}
func (f *fakeLister) ConnTable(context.Context) ([]byte, error) { return f.conns, f.connErr }
func (f *fakeLister) Close() error                              { f.closed = true; return nil }

func testTable(t *testing.T) *fakeLister {
	key := func(s string) ipvs.ServiceKey {
		k, err := ipvs.ParseServiceKey(s)
		require.NoError(t, err)
		return k
	}
	web := ipvs.ListedService{PEName: ""}
	web.Service = ipvs.VirtualService{Key: key("TCP 192.168.0.1:80"), Scheduler: "wrr", Persistence: 300 * time.Second, PersistenceMask: 24}
	web.Stats = ipvs.Stats{Conns: 1 << 40, InBytes: 123456789012345}
	tun := ipvs.RealStatus{Real: ipvs.RealServer{Addr: netip.MustParseAddr("10.0.0.2"), Port: 80, Weight: 2, Forwarding: ipvs.Tunnel,
		Tunnel: ipvs.TunnelConfig{Type: ipvs.GUE, Port: 6080, Checksum: ipvs.Checksum}}, ActiveConns: 3}
	tun.Stats.Conns = 1<<32 + 7 // the text shows 7, as ipvsadm does; JSON all of it
	nat := ipvs.RealStatus{Real: ipvs.RealServer{Addr: netip.MustParseAddr("10.0.0.1"), Port: 8080, Weight: 1, UpperThreshold: 10}}
	web.Reals = []ipvs.RealStatus{tun, nat}
	web.Service.RealServers = []ipvs.RealServer{tun.Real, nat.Real}
	fw := ipvs.ListedService{}
	fw.Service = ipvs.VirtualService{Key: ipvs.ServiceKey{Family: ipvs.IPv6, FWMark: 7}, Scheduler: "sh", SchedFlags: ipvs.SchedFlag1, PersistenceMask: 128}
	dns := ipvs.ListedService{}
	dns.Service = ipvs.VirtualService{Key: key("UDP 10.0.0.53:53"), Scheduler: "rr", OnePacket: true, PersistenceMask: 32}
	return &fakeLister{
		info:  ipvs.Info{Version: 0x010201, ConnTableSize: 4096},
		table: []ipvs.ListedService{fw, dns, web}, // kernel order
		conns: []byte("Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" +
			"TCP 0A000102 D431 C0A80001 0050 0A000001 1F90 ESTABLISHED    899\n"),
		timeouts: ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
		daemons:  []ipvs.SyncDaemon{{State: ipvs.SyncMaster, Interface: "eth0", SyncID: 1, MaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}},
	}
}

func (h *harness) withLister(l *fakeLister) *harness {
	h.env.openLister = func(_ context.Context, ns string) (lister, error) {
		h.netns = append(h.netns, ns)
		return l, nil
	}
	return h
}

// TestListIsIpvsadmsFormatter checks that each command line reaches the
// formatter with ipvsadm's meaning (the formatter itself is compared with
// ipvsadm in ipvs/ipvsadm and in the VM tests).
func TestListIsIpvsadmsFormatter(t *testing.T) {
	l := testTable(t)
	h := newHarness(t).withLister(l)
	render := func(fn func(b *bytes.Buffer) error) string {
		var b bytes.Buffer
		require.NoError(t, fn(&b))
		return b.String()
	}
	list := func(o ipvsadm.Options) string {
		return render(func(b *bytes.Buffer) error { return ipvsadm.WriteList(b, l.info, l.table, o) })
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-Ln"}, list(ipvsadm.Options{Numeric: true})},
		{[]string{"-L", "-n"}, list(ipvsadm.Options{Numeric: true})},
		{[]string{"-n"}, list(ipvsadm.Options{Numeric: true})},
		{[]string{"-lnX", "--stats"}, list(ipvsadm.Options{Numeric: true, Stats: true, Exact: true})},
		{[]string{"-Ln", "--rate", "--nosort"}, list(ipvsadm.Options{Numeric: true, Rate: true, NoSort: true})},
		{[]string{"-Ln", "--thresholds", "--sort"}, list(ipvsadm.Options{Numeric: true, Thresholds: true})},
		{[]string{"-Ln", "--persistent-conn"}, list(ipvsadm.Options{Numeric: true, PersistentConn: true})},
		{[]string{"-Ln", "--tun-info"}, list(ipvsadm.Options{Numeric: true, TunInfo: true})},
		{[]string{"-Sn"}, render(func(b *bytes.Buffer) error { return ipvsadm.WriteRules(b, l.table, ipvsadm.Options{Numeric: true}) })},
		{[]string{"--save", "--numeric"}, render(func(b *bytes.Buffer) error { return ipvsadm.WriteRules(b, l.table, ipvsadm.Options{Numeric: true}) })},
		{[]string{"-Lnt", "192.168.0.1:80"}, render(func(b *bytes.Buffer) error {
			return ipvsadm.WriteService(b, l.table[2], ipvsadm.Options{Numeric: true})
		})},
		{[]string{"-Lnt192.168.0.1:80", "--stats"}, render(func(b *bytes.Buffer) error {
			return ipvsadm.WriteService(b, l.table[2], ipvsadm.Options{Numeric: true, Stats: true})
		})},
		{[]string{"-Lnf", "7", "-6"}, render(func(b *bytes.Buffer) error {
			return ipvsadm.WriteService(b, l.table[0], ipvsadm.Options{Numeric: true})
		})},
		{[]string{"-Lnu", "10.0.0.53:53"}, render(func(b *bytes.Buffer) error {
			return ipvsadm.WriteService(b, l.table[1], ipvsadm.Options{Numeric: true})
		})},
		{[]string{"-Lnc"}, render(func(b *bytes.Buffer) error { return ipvsadm.WriteConns(b, l.conns, ipvsadm.Options{Numeric: true}) })},
		{[]string{"-L", "--timeout"}, "Timeout (tcp tcpfin udp): 900 120 300\n"},
		{[]string{"-L", "--daemon"}, "master sync daemon (mcast=eth0, syncid=1, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"},
	} {
		require.Equal(t, 0, h.run(append([]string{"list"}, c.args...)...), "%v: %s", c.args, h.errOut.String())
		assert.Equal(t, c.want, h.out.String(), "%v", c.args)
		assert.Empty(t, h.errOut.String())
	}
	assert.True(t, l.closed)
	assert.Contains(t, h.out.String(), "master sync daemon")

	// The formatter's own output, for the record.
	require.Equal(t, 0, h.run("list", "-Ln"))
	assert.Equal(t, `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.0.1:80 wrr persistent 300 mask 255.255.255.0
  -> 10.0.0.1:8080                Masq    1      0          0         
  -> 10.0.0.2:80                  Tunnel  2      3          0         
UDP  10.0.0.53:53 rr ops
FWM  7 IPv6 sh (sh-fallback)
`, h.out.String())
	require.Equal(t, 0, h.run("list", "-Ln", "--stats", "--nosort"))
	assert.Contains(t, h.out.String(), "  -> 10.0.0.2:80"+strings.Repeat(" ", 17)+"        7        0        0        0        0\n",
		"a real server's connections: the low 32 bits, as ipvsadm shows them")
}

func TestListRefusesWhatIpvsadmRefuses(t *testing.T) {
	l := testTable(t)
	h := newHarness(t).withLister(l)
	// stderr is ipvsadm's, byte for byte (ipvsadm.c's fail(): the text and a
	// newline, no program name), except for lvsctl's own options.
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"-Lc", "--stats"}, "options conflicts in the list command\n"},
		{[]string{"-L", "--timeout", "--persistent-conn"}, "options conflicts in the list command\n"},
		{[]string{"-Lc", "-t", "10.0.0.1:80"}, "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n"},
		{[]string{"-L", "--timeout", "--daemon"}, "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n"},
		{[]string{"-L", "-t", "10.0.0.1:80", "-u", "10.0.0.1:53"}, "multiple 'service-address' options specified\n"},
		{[]string{"-L", "-S"}, "invalid option `-S'\n"},
		{[]string{"-S", "-L"}, "invalid option `-L'\n"},
		{[]string{"-L", "-l"}, "invalid option `-l'\n"},
		{[]string{"-S", "--stats"}, "Illegal 'stats' option with the 'save' command\n"},
		{[]string{"-S", "--nosort"}, "Illegal 'nosort' option with the 'save' command\n"},
		{[]string{"-S", "-c"}, "Illegal 'connection' option with the 'save' command\n"},
		{[]string{"-L", "-6"}, "-6 used before -f\n\n"},
		{[]string{"-L", "-t", "1234"}, "illegal virtual server address[:port] specified\n"},
		{[]string{"-L", "-u", "10.0.0.1:nosuchport"}, "illegal virtual server address[:port] specified\n"},
		{[]string{"-L", "-f", "0"}, "invalid fwmark value `0' specified\n"},
		{[]string{"-L", "extra"}, "unexpected argument extra\n"},
		// lvsctl's own options keep lvsctl's form.
		{[]string{"-S", "-o", "json"}, "lvsctl: -S prints ipvsadm rules; for JSON or YAML leave out -S\n"},
		{[]string{"-o", "xml"}, "lvsctl: unknown output format \"xml\" (want text, json or yaml)\n"},
	} {
		assert.Equal(t, 2, h.run(append([]string{"list"}, c.args...)...), "%v", c.args)
		assert.Equal(t, c.stderr, h.errOut.String(), "%v", c.args)
		assert.Empty(t, h.out.String(), "%v", c.args)
	}
	assert.Empty(t, h.netns, "a refused command line never opens the kernel")

	// ipvsadm's run-time failures: exit status 1, ipvsadm's text.
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"-Ln", "-t", "10.9.9.9:80"}, "No such service\n"},
		{[]string{"-Ln", "-f", "7"}, "No such service\n"}, // fwmark 7 is IPv6 only
		{[]string{"-o", "json", "-f", "7"}, "No such service\n"},
	} {
		assert.Equal(t, 1, h.run(append([]string{"list"}, c.args...)...), "%v", c.args)
		assert.Equal(t, c.stderr, h.errOut.String(), "%v", c.args)
		assert.Empty(t, h.out.String(), "%v", c.args)
	}
	l.connErr = fmt.Errorf("ipvs: open: %w", fs.ErrNotExist)
	assert.Equal(t, 1, h.run("list", "-Lc"))
	assert.Equal(t, "cannot open file /proc/net/ip_vs_conn\n", h.errOut.String())
}

func TestListNetns(t *testing.T) {
	h := newHarness(t).withLister(testTable(t))
	require.Equal(t, 0, h.run("list", "-Ln", "--netns", "director"))
	assert.Equal(t, []string{"/run/netns/director"}, h.netns)
}

func TestListNoIPVS(t *testing.T) {
	h := newHarness(t)
	h.env.openLister = func(context.Context, string) (lister, error) {
		return nil, fmt.Errorf("open: %w", ipvs.ErrNoIPVS)
	}
	assert.Equal(t, 1, h.run("list"))
	assert.Equal(t, "lvsctl: the kernel has no IPVS support (try: modprobe ip_vs)\n", h.errOut.String())
}

// TestListJSON pins the documented schema (docs/list.md).
func TestListJSON(t *testing.T) {
	h := newHarness(t).withLister(testTable(t))
	require.Equal(t, 0, h.run("list", "-o", "json", "-t", "192.168.0.1:80"), h.errOut.String())
	assert.JSONEq(t, `{
  "version": "1.2.1",
  "conn_table_size": 4096,
  "services": [
    {
      "key": "TCP 192.168.0.1:80",
      "service_key": "TCP 192.168.0.1:80",
      "family": "ipv4",
      "protocol": "tcp",
      "address": "192.168.0.1",
      "port": 80,
      "scheduler": "wrr",
      "scheduler_flags": [],
      "persistence_timeout": 300,
      "persistence_granularity": 24,
      "persistence_netmask": "255.255.255.0",
      "one_packet": false,
      "stats": {"conns": 1099511627776, "in_packets": 0, "out_packets": 0, "in_bytes": 123456789012345, "out_bytes": 0,
                "cps": 0, "in_pps": 0, "out_pps": 0, "in_bps": 0, "out_bps": 0},
      "real_servers": [
        {"real": "10.0.0.1:8080", "address": "10.0.0.1", "port": 8080, "family": "ipv4", "forwarding": "nat", "weight": 1,
         "upper_threshold": 10, "lower_threshold": 0, "active_conns": 0, "inactive_conns": 0, "persistent_conns": 0,
         "stats": {"conns": 0, "in_packets": 0, "out_packets": 0, "in_bytes": 0, "out_bytes": 0,
                   "cps": 0, "in_pps": 0, "out_pps": 0, "in_bps": 0, "out_bps": 0}},
        {"real": "10.0.0.2:80", "address": "10.0.0.2", "port": 80, "family": "ipv4", "forwarding": "tun",
         "tunnel": {"type": "gue", "port": 6080, "checksum": "csum"}, "weight": 2,
         "upper_threshold": 0, "lower_threshold": 0, "active_conns": 3, "inactive_conns": 0, "persistent_conns": 0,
         "stats": {"conns": 4294967303, "in_packets": 0, "out_packets": 0, "in_bytes": 0, "out_bytes": 0,
                   "cps": 0, "in_pps": 0, "out_pps": 0, "in_bps": 0, "out_bps": 0}}
      ]
    }
  ]
}`, h.out.String())

	require.Equal(t, 0, h.run("list", "-o", "json"))
	var doc tableDoc
	require.NoError(t, json.Unmarshal(h.out.Bytes(), &doc))
	require.Len(t, doc.Services, 3)
	assert.Equal(t, []string{"TCP 192.168.0.1:80", "UDP 10.0.0.53:53", "FWM 7 ipv6"},
		[]string{doc.Services[0].Key, doc.Services[1].Key, doc.Services[2].Key}, "the order of the text listing")
	assert.Equal(t, uint32(7), doc.Services[2].FWMark)
	assert.Nil(t, doc.Services[2].Port)
	assert.Equal(t, []string{"sh-fallback"}, doc.Services[2].SchedulerFlags)
	assert.Empty(t, doc.Services[2].PersistenceNetmask, "IPv6: prefix length only")
	require.Equal(t, 0, h.run("list", "-o", "json", "--nosort"))
	require.NoError(t, json.Unmarshal(h.out.Bytes(), &doc))
	assert.Equal(t, "FWM 7 ipv6", doc.Services[0].Key, "--nosort: the kernel's order")

	require.Equal(t, 0, h.run("list", "-o", "yaml"))
	var ydoc tableDoc
	require.NoError(t, yaml.Unmarshal(h.out.Bytes(), &ydoc))
	assert.Equal(t, doc.Version, ydoc.Version)
	assert.Contains(t, h.out.String(), "conns: 1099511627776\n")

	require.Equal(t, 0, h.run("list", "-c", "-o", "json"))
	assert.JSONEq(t, `{"connections": [{"protocol": "TCP", "client": {"address": "10.0.1.2", "port": 54321},
		"virtual": {"address": "192.168.0.1", "port": 80}, "destination": {"address": "10.0.0.1", "port": 8080},
		"state": "ESTABLISHED", "expires": 899}]}`, h.out.String())
	require.Equal(t, 0, h.run("list", "--timeout", "-o", "json"))
	assert.JSONEq(t, `{"tcp": 900, "tcp_fin": 120, "udp": 300}`, h.out.String())
	require.Equal(t, 0, h.run("list", "--daemon", "-o", "json"))
	assert.JSONEq(t, `{"sync_daemons": [{"state": "master", "interface": "eth0", "sync_id": 1, "max_len": 1472,
		"group": "224.0.0.81", "port": 8848, "ttl": 1}]}`, h.out.String())
	assert.False(t, strings.Contains(h.errOut.String(), "lvsctl"))
}

func TestListHelp(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, 0, h.run("list", "--help"))
	for _, s := range []string{"Examples:", "lvsctl list -Ln", "--persistent-conn", "-X, --exact", "-6, --ipv6"} {
		assert.Contains(t, h.out.String(), s)
	}
	assert.NotContains(t, h.out.String(), "list-l", "the -l spelling is hidden")
}
