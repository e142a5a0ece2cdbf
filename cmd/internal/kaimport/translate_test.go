package kaimport

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// importSrc imports one file and checks that the output is valid.
// programs are made executables (ELF binaries for the import), in the
// temporary directory that stands for the machine's root.
func importSrc(t *testing.T, src string, programs ...string) (*Result, *lvshcl.Config) {
	t.Helper()
	fs := map[string]string{"k.conf": src}
	for _, p := range programs {
		fs[strings.TrimPrefix(p, "/")] = "\x7fELF"
	}
	files(t, fs)
	for _, p := range programs {
		require.NoError(t, os.Chmod(strings.TrimPrefix(p, "/"), 0o755))
	}
	// The commands' programs are looked for in the temporary directory
	// only, not on the host.
	res, err := Import("k.conf", Options{FS: os.DirFS(".")})
	require.NoError(t, err)
	cfg, _, diags := lvshcl.Parse(res.HCL, "out.hcl")
	require.False(t, diags.HasErrors(), "%s\n%s", diags.Error(), res.HCL)
	return res, cfg
}

// diagLines renders the diagnostics as lvsctl import prints them.
func diagLines(res *Result) string {
	var b strings.Builder
	for _, d := range res.Diags {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func TestVirtualServerGroupExpanded(t *testing.T) {
	res, cfg := importSrc(t, `
virtual_server_group WEB {
    10.0.0.1-3 80
    fwmark 7
}
virtual_server group WEB {
    protocol TCP
    lb_algo wrr
    lb_kind DR
    ip_family inet
    real_server 10.0.1.1 80 {
        weight 2
    }
}
`)
	var keys []string
	for _, s := range cfg.Services {
		keys = append(keys, s.Key.String())
		assert.Equal(t, ipvs.Scheduler("wrr"), s.Scheduler)
		require.Len(t, s.RealServers, 1)
		assert.EqualValues(t, 2, s.RealServers[0].Weight)
	}
	assert.Equal(t, []string{"TCP 10.0.0.1:80", "TCP 10.0.0.2:80", "TCP 10.0.0.3:80", "FWM 7 ipv4"}, keys)
	assert.Contains(t, string(res.HCL), `virtual_server "WEB-fwmark-7" {`)
	assert.Contains(t, string(res.HCL), "# k.conf:4: member fwmark 7 of virtual_server_group WEB")
	assert.True(t, res.Complete(), diagLines(res))
	assert.Contains(t, diagLines(res), "k.conf:6: note: virtual_server: lvsctl has no groups: one virtual_server per member of WEB (4)")
}

func TestChecks(t *testing.T) {
	res, cfg := importSrc(t, `
virtual_server 10.0.0.1 80 {
    protocol TCP
    delay_loop 4
    virtualhost www.example.com
    inhibit_on_failure
    real_server 10.0.1.1 80 {
        retry 5                      # real server timing goes into its check
        HTTP_GET {
            url {
                path /health
                status_code 200-299 301
                regex "^ok"
            }
            connect_port 80
            http_protocol 1.0
        }
    }
    real_server 10.0.1.2 8080 {
        inhibit_on_failure false
        MISC_CHECK {
            misc_path "/usr/local/bin/check 10.0.1.2"
            misc_dynamic
        }
        TCP_CHECK {
        }
    }
}
virtual_server 10.0.0.1 443 {
    protocol TCP
    lb_algo sh
    sh-port
    sorry_server 10.0.1.9 8443
    sorry_server_lvs_method NAT
    real_server 10.0.1.1 443 {
        SSL_GET {
            url {
                path /
                digest 640205B7B0FC66C1EA91C463FAC6334D
            }
        }
    }
}
`, "/usr/local/bin/check")
	out := string(res.HCL)
	assert.Contains(t, out, `  real_server {
    address = "10.0.1.1"
    check "http" {
      virtualhost  = "www.example.com"
      http_version = "1.0"
      retry        = 5
      url {
        path   = "/health"
        status = "200-299,301"
        regex  = "^ok"
      }
    }
  }`)
	assert.Contains(t, out, `    check "exec" {
      command        = ["/usr/local/bin/check", "10.0.1.2"]
      dynamic_weight = true
      timeout        = 4
`, "misc_timeout defaults to the delay_loop, as in keepalived")
	assert.Contains(t, out, `  check "https" {
    url {
      path   = "/"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }`, "the only real server's check is the service's")
	assert.Contains(t, out, `scheduler_flags = ["sh-port"]`)
	assert.Contains(t, out, `  sorry_server {
    address    = "10.0.1.9"
    port       = 8443
    forwarding = "nat"
  }`)
	assert.Contains(t, out, "  delay_loop         = 4\n  inhibit_on_failure = true\n", "the service's")
	assert.Contains(t, out, "    port               = 8080\n    inhibit_on_failure = false\n", "the real server's that differs")
	assert.Equal(t, `k.conf:22: note: misc_path: `+defaultUserNote+`
`, diagLines(res))
	require.Len(t, cfg.Pools, 2)
	p := cfg.Pools[0]
	// Its second checker is a second check: both must pass, as in
	// keepalived.
	spec := p.Members[1].Check
	require.NotNil(t, spec)
	require.Len(t, spec.Also, 1)
	assert.Equal(t, "exec#1", spec.Name)
	assert.Equal(t, "tcp#2", spec.Also[0].Name)
	assert.IsType(t, &checker.TCP{}, spec.Also[0].Prober)
	assert.True(t, p.Members[0].Inhibits(p.InhibitOnFailure))
	assert.False(t, p.Members[1].Inhibits(p.InhibitOnFailure))
}

func TestCommands(t *testing.T) {
	res, _ := importSrc(t, `
vrrp_script chk_a {
    script /usr/bin/pgrep haproxy          # unquoted: keepalived runs "/usr/bin/pgrep" alone
}
vrrp_script chk_b {
    script "pidof haproxy >/dev/null"
    weight 10 reverse
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 9
    track_script {
        chk_a
        chk_b weight -30
        chk_missing
    }
    notify "/usr/local/bin/notify.sh" keepalived_script
}
`, "/usr/bin/pgrep", "/usr/bin/pidof", "/usr/local/bin/notify.sh")
	out := string(res.HCL)
	assert.Contains(t, out, `command = ["/usr/bin/pgrep"]`)
	assert.Contains(t, out, `command = ["pidof", "haproxy", ">/dev/null"]`, "keepalived finds pidof in its PATH and runs it without a shell")
	assert.Contains(t, out, `  track_script      = ["chk_a"]`)
	assert.Contains(t, out, `  track {
    script = "chk_b"
    weight = -30
  }`)
	assert.Contains(t, out, `notify            = ["/usr/local/bin/notify.sh"]`)
	d := diagLines(res)
	for _, want := range []string{
		`k.conf:3: warning: script: keepalived runs only "/usr/bin/pgrep" and ignores haproxy`,
		"k.conf:3: note: script: " + defaultUserNote,
		"k.conf:6: note: script: keepalived runs pidof directly, without a shell; the shell syntax in the line (; | & $ < > ( ) or a backquote) reaches it as plain arguments, as under keepalived; so does the translation",
		"k.conf:7: warning: weight: lvsctl has no reverse weights",
		"k.conf:15: warning: chk_missing: not translated: vrrp_script chk_missing is not in the output",
		"k.conf:17: warning: notify: keepalived runs this command as user keepalived_script (the words after the command); lvsctl runs every command as its own user",
	} {
		assert.Contains(t, d, want)
	}
}

func TestVRRP(t *testing.T) {
	res, cfg := importSrc(t, `
global_defs {
    vrrp_version 3
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    priority 150
    advert_int 0.5
    authentication {
        auth_type PASS
        auth_pass 12345678
    }
    virtual_ipaddress {
        10.0.0.1/24
        10.0.0.2/24 dev eth1
        10.0.0.3/24 label vip0
        10.0.0.4/24 scope link
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 2
    version 2
    authentication {
        auth_type PASS
        auth_pass 0123456789
    }
    virtual_ipaddress {
        10.0.0.1/24
        10.0.0.5
    }
}
vrrp_sync_group G {
    group {
        VI_1
        VI_2
        VI_9
    }
    global_tracking
}
`)
	require.Len(t, cfg.VRRP.Instances, 2)
	v1, v2 := cfg.VRRP.Instances[0].Config, cfg.VRRP.Instances[1].Config
	assert.Equal(t, 3, v1.Version)
	assert.Empty(t, v1.Password, "VRRPv3 has no authentication")
	assert.Len(t, v1.VIPs, 3, "10.0.0.1, 10.0.0.2 on eth1 and 10.0.0.4 with scope link")
	assert.Equal(t, 2, v2.Version)
	assert.Equal(t, "01234567", v2.Password, "keepalived sends the first 8 characters")
	assert.Len(t, v2.VIPs, 1, "10.0.0.1 belongs to VI_1")
	require.Len(t, cfg.VRRP.Groups, 1)
	assert.Equal(t, []string{"VI_1", "VI_2"}, cfg.VRRP.Groups[0].Instances)
	assert.True(t, cfg.VRRP.Groups[0].TrackingWeight)
	d := diagLines(res)
	for _, want := range []string{
		"k.conf:10: note: authentication: VRRPv3 has no authentication",
		"k.conf:17: warning: 10.0.0.3/24: not translated: the label vip0 does not start with the interface name eth0",
		"k.conf:27: note: auth_pass: keepalived sends only the first 8 characters",
		"k.conf:30: warning: 10.0.0.1/24: not translated: 10.0.0.1 is already a VIP of vrrp_instance VI_1",
		"k.conf:38: warning: VI_9: not translated: vrrp_instance VI_9 is not in the output",
	} {
		assert.Contains(t, d, want)
	}
}

// TestRejected: what lvsctl refuses and the translation does not foresee
// is commented out with lvsctl's reason; the rest stays.
func TestRejected(t *testing.T) {
	res, cfg := importSrc(t, `
virtual_server 10.0.0.1 80 {
    sorry_server 10.0.1.1 80
    real_server 10.0.1.1 80 {
    }
}
virtual_server 10.0.0.2 80 {
    real_server 10.0.1.2 80 {
    }
}
`)
	require.Len(t, cfg.Services, 1)
	assert.Equal(t, "UDP 10.0.0.2:80", cfg.Services[0].Key.String())
	assert.Equal(t, 1, res.Services)
	assert.Contains(t, string(res.HCL), "# k.conf:2: warning: lvsctl rejects the translation: ")
	assert.Contains(t, string(res.HCL), `# virtual_server "10.0.0.1:80" {`)
	assert.False(t, res.Complete())
}

func TestUnknownAndDropped(t *testing.T) {
	res, _ := importSrc(t, `
static_routes {
    10.9.0.0/16 via 10.0.0.254
}
frobnicate yes
virtual_server fwmark 3 {
    protocol UDP
    omega
    persistence_granularity 255.255.255.0
    real_server 10.0.1.1 {
        BFD_CHECK {
            name x
        }
    }
}
`)
	out := string(res.HCL)
	assert.Contains(t, out, "# k.conf:3\nstatic_routes {\n  to  = \"10.9.0.0/16\"\n  via = \"10.0.0.254\"\n}\n")
	assert.Contains(t, out, "persistence_timeout     = 360", "keepalived's default with a granularity")
	assert.Contains(t, out, "  check \"bfd\" {\n    name = \"x\"\n    # k.conf:11: warning: ")
	assert.Equal(t, `k.conf:5: warning: frobnicate: not translated: unknown keyword "frobnicate" in the top level (keepalived 2.2 ignores it too); the rest of the line is not shown
k.conf:7: note: protocol: a fwmark service has no protocol
k.conf:8: warning: omega: not translated: lvsctl does not run quorum_down when it stops
k.conf:11: warning: BFD_CHECK: lvsctl runs no BFD session (no maintained Go BFD library exists to build one on): written as check "bfd", always up, which validate and run report at every start; check the server with check "ping" or a check of its service
`, diagLines(res))
}

// TestKeepalivedCorrections: keepalived corrects some mistakes when it
// checks its configuration; the translation does the same, with a note.
func TestKeepalivedCorrections(t *testing.T) {
	res, cfg := importSrc(t, `
virtual_server 10.0.0.1 53 {
    ops                       # no protocol: keepalived makes it UDP
    real_server 10.0.1.1 53 {
    }
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    ops                       # not for TCP: reset
    lb_kind DR
    sh-port                   # before lb_algo sh: ignored
    lb_algo sh
    quorum 5                  # above the total weight 3: lowered to 3
    hysteresis 4              # not below the quorum: 2
    real_server 10.0.1.1 8080 {   # DR cannot change ports: 80
        weight 2
    }
    real_server 10.0.1.1 8080 {   # a duplicate: removed
    }
    real_server 10.0.1.2 80 {
    }
}
virtual_server 10.0.0.2 80 {
    protocol TCP
}
`)
	require.Len(t, cfg.Services, 2)
	udp, tcp := cfg.Services[0], cfg.Services[1]
	assert.Equal(t, "UDP 10.0.0.1:53", udp.Key.String())
	assert.True(t, udp.OnePacket)
	assert.Equal(t, "TCP 10.0.0.1:80", tcp.Key.String())
	assert.False(t, tcp.OnePacket)
	assert.Zero(t, tcp.SchedFlags)
	require.Len(t, tcp.RealServers, 2)
	assert.EqualValues(t, 80, tcp.RealServers[0].Port)
	assert.EqualValues(t, 3, cfg.Pools[1].Quorum)
	assert.EqualValues(t, 2, cfg.Pools[1].Hysteresis)
	assert.True(t, res.Complete(), diagLines(res))
	assert.Equal(t, `k.conf:2: note: virtual_server: keepalived programs a UDP service when protocol is not set ("no protocol set - defaulting to UDP"), and so does the translation; for TCP, the keepalived configuration needed protocol TCP
k.conf:9: note: ops: one-packet scheduling is for UDP: keepalived resets it for this TCP service
k.conf:11: note: sh-port: keepalived ignores sh-port unless lb_algo sh comes before it
k.conf:13: note: quorum: the quorum exceeds the real servers' total weight: keepalived lowers it to 3, and so does the translation
k.conf:14: note: hysteresis: hysteresis must be below the quorum: keepalived sets it to 2, and so does the translation
k.conf:15: note: real_server: DR cannot change ports: keepalived gives the server the service's port 80
k.conf:18: note: real_server: real server 10.0.1.1 8080 is already in this virtual_server: keepalived removes the second one
k.conf:23: note: virtual_server: keepalived ignores a virtual_server without real servers ("has no real servers - ignoring"); so does the translation
`, diagLines(res))
}

const defaultUserNote = "keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; " +
	"this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there"

// TestSyncDaemon: lvs_sync_daemon (both forms) and the deprecated
// lvs_sync_daemon_interface become the sync block as keepalived 2.2 reads
// them (global_parser.c lvs_syncd_handler, vrrp.c's vrid default).
func TestSyncDaemon(t *testing.T) {
	const inst = `
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        10.0.0.1
    }
}
`
	tests := []struct {
		name, src string
		want      *ipvs.SyncDaemon // nil: no sync block
		instance  string
		diags     string
	}{
		{
			name: "old form, syncid from the vrid",
			src:  "global_defs {\n    lvs_sync_daemon eth1 VI_1\n}\n" + inst,
			want: &ipvs.SyncDaemon{Interface: "eth1", SyncID: 51, Port: 8848, TTL: 1, Group: lvshcl.DefaultSyncGroup}, instance: "VI_1",
		},
		{
			name: "old form with a syncid",
			src:  "global_defs {\n    lvs_sync_daemon eth1 VI_1 7\n}\n" + inst,
			want: &ipvs.SyncDaemon{Interface: "eth1", SyncID: 7, Port: 8848, TTL: 1, Group: lvshcl.DefaultSyncGroup}, instance: "VI_1",
		},
		{
			name: "keywords",
			src:  "global_defs {\n    lvs_sync_daemon eth1 inst VI_1 id 9 maxlen 1400 port 9000 ttl 2 group 239.1.2.3\n}\n" + inst,
			want: &ipvs.SyncDaemon{Interface: "eth1", SyncID: 9, MaxLen: 1400, Port: 9000, TTL: 2, Group: netip.MustParseAddr("239.1.2.3")}, instance: "VI_1",
		},
		{
			name: "a bad option is ignored as keepalived does",
			src:  "global_defs {\n    lvs_sync_daemon eth1 inst VI_1 group 10.1.1.1\n}\n" + inst,
			want: &ipvs.SyncDaemon{Interface: "eth1", SyncID: 51, Port: 8848, TTL: 1, Group: lvshcl.DefaultSyncGroup}, instance: "VI_1",
			diags: `k.conf:2: note: lvs_sync_daemon: group "10.1.1.1" is not a multicast address: keepalived ignores it, and so does the translation` + "\n",
		},
		{
			name: "in the instance: syncid 0",
			src:  strings.Replace(inst, "priority 100", "priority 100\n    lvs_sync_daemon_interface eth2", 1),
			want: &ipvs.SyncDaemon{Interface: "eth2", SyncID: 0, Port: 8848, TTL: 1, Group: lvshcl.DefaultSyncGroup}, instance: "VI_1",
			diags: "k.conf:6: note: lvs_sync_daemon_interface: deprecated in keepalived (which says to use global_defs' lvs_sync_daemon): translated to the sync block, with syncid 0 as keepalived sets it\n",
		},
		{
			name: "the first one wins",
			src:  "global_defs {\n    lvs_sync_daemon eth1 VI_1\n}\n" + strings.Replace(inst, "priority 100", "priority 100\n    lvs_sync_daemon_interface eth2", 1),
			want: &ipvs.SyncDaemon{Interface: "eth1", SyncID: 51, Port: 8848, TTL: 1, Group: lvshcl.DefaultSyncGroup}, instance: "VI_1",
			diags: "k.conf:9: note: lvs_sync_daemon_interface: keepalived runs one sync daemon and takes the first setting, at k.conf:2: it ignores this one, and so does the translation\n",
		},
		{
			name:  "no instance: no daemon",
			src:   "global_defs {\n    lvs_sync_daemon eth1\n}\n" + inst,
			diags: "k.conf:2: note: lvs_sync_daemon: no vrrp_instance: keepalived starts no sync daemon without one, and neither does the translation\n",
		},
		{
			name:  "unknown instance: no daemon",
			src:   "global_defs {\n    lvs_sync_daemon eth1 VI_9\n}\n" + inst,
			diags: "k.conf:2: note: lvs_sync_daemon: there is no vrrp_instance VI_9: keepalived clears the sync daemon's settings (\"Unable to find vrrp instance\") and runs none; neither does the translation\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cfg := importSrc(t, tt.src)
			assert.Equal(t, tt.diags, diagLines(res))
			if tt.want == nil {
				assert.Nil(t, cfg.Sync, "%s", res.HCL)
				return
			}
			require.NotNil(t, cfg.Sync, "%s", res.HCL)
			assert.Equal(t, *tt.want, cfg.Sync.Daemon)
			assert.Equal(t, tt.instance, cfg.Sync.VRRPInstance)
			assert.True(t, res.Complete(), diagLines(res))
		})
	}
}

// TestPersistenceTimeoutZero: keepalived rejects persistence_timeout 0 and
// keeps what it had (none, or 360 with a granularity): silently the same.
func TestPersistenceTimeoutZero(t *testing.T) {
	tests := []struct {
		name, lines string
		want        time.Duration
	}{
		{"alone", "persistence_timeout 0", 0},
		{"after a timeout", "persistence_timeout 50\n    persistence_timeout 0", 50 * time.Second},
		{"with a granularity", "persistence_timeout 0\n    persistence_granularity 255.255.255.0", 360 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cfg := importSrc(t, "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    "+tt.lines+"\n    real_server 10.0.1.1 80 {\n    }\n}\n")
			assert.Empty(t, diagLines(res))
			require.Len(t, cfg.Services, 1)
			assert.Equal(t, tt.want, cfg.Services[0].Persistence, "%s", res.HCL)
		})
	}
}

func TestBashOnly(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"</dev/tcp/127.0.0.1/80", []string{"/dev/tcp (bash's network redirection)"}},
		{"echo x >/dev/udp/10.0.0.1/53", []string{"/dev/udp (bash's network redirection)"}},
		{"[[ -f /run/x ]] && exit 0", []string{"[[ ]]"}},
		{"grep -q up <<< \"$(cat /run/s)\"", []string{"a here-string (<<<)"}},
		{"curl -s http://x &> /dev/null", []string{"&> redirection"}},
		{"for i in {1..3}; do true; done", []string{"a brace range {a..b}"}},
		{"diff <(ls a) <(ls b)", []string{"process substitution <( )"}},
		{"test -f /run/x && [ -s /run/y ]", nil},
		{"killall -0 haproxy", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			assert.Equal(t, tt.want, bashOnly(tt.text))
		})
	}
}

// TestSorryServerInhibit: keepalived applies sorry_server_inhibit to the
// sorry server read before it, and ignores it otherwise.
func TestSorryServerInhibit(t *testing.T) {
	tests := []struct {
		name, lines string
		want        bool
		diags       string
	}{
		{"after the sorry server", "sorry_server 10.0.1.9 80\n    sorry_server_inhibit", true, ""},
		{"before it: ignored", "sorry_server_inhibit\n    sorry_server 10.0.1.9 80", false,
			"k.conf:3: note: sorry_server_inhibit: keepalived ignores sorry_server_inhibit before or without sorry_server (\"Ignoring sorry_server inhibit used before or without sorry_server\"), and so does the translation\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cfg := importSrc(t, "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    "+tt.lines+"\n    quorum 2\n    real_server 10.0.1.1 80 {\n    }\n    real_server 10.0.1.2 80 {\n    }\n}\n")
			assert.Equal(t, tt.diags, diagLines(res))
			require.Len(t, cfg.Pools, 1)
			assert.Equal(t, tt.want, cfg.Pools[0].SorryInhibit)
			assert.NotNil(t, cfg.Pools[0].SorryServer)
			assert.Equal(t, 2, cfg.Pools[0].Quorum)
			assert.True(t, res.Complete(), diagLines(res))
		})
	}
}

func TestPersistenceEngineImport(t *testing.T) {
	tests := []struct {
		name, lines, want, diags string
	}{
		{"sip", "persistence_timeout 60\n    persistence_engine sip", "sip", ""},
		{"not persistent", "persistence_engine sip", "",
			"k.conf:3: note: persistence_engine: the service is not persistent: keepalived sets the engine, which the kernel uses only for persistent services; the translation leaves it out\n"},
		{"unknown", "persistence_timeout 60\n    persistence_engine h323", "",
			"k.conf:4: warning: persistence_engine: not translated: the kernel has one persistence engine, sip; keepalived asks for \"h323\" and the kernel refuses the service (no such engine)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cfg := importSrc(t, "virtual_server 10.0.0.1 5060 {\n    protocol UDP\n    "+tt.lines+"\n    real_server 10.0.1.1 5060 {\n    }\n}\n")
			assert.Equal(t, tt.diags, diagLines(res))
			require.Len(t, cfg.Services, 1)
			assert.Equal(t, tt.want, cfg.Services[0].PersistenceEngine)
		})
	}
}
