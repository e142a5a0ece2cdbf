package hcl_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// Helpers to write expected pools.

func svcKey(a string, port uint16) ipvs.ServiceKey {
	ad := addr(a)
	return ipvs.ServiceKey{Family: ipvs.FamilyOf(ad), Protocol: ipvs.TCP, Addr: ad, Port: port}
}

func realKey(a string, port uint16) ipvs.RealKey {
	return ipvs.RealKey{Addr: addr(a), Port: port}
}

// withKeys sets in pools what every check's target carries besides the
// service's name: its key (exec checks' LVSCTL_SERVICE_KEY).
func withKeys(pools []lvshcl.Pool) []lvshcl.Pool {
	for _, p := range pools {
		for _, m := range p.Members {
			if m.Check != nil {
				m.Check.Target.Key = p.Service.String()
			}
		}
	}
	return pools
}

func spec(svc, a string, port uint16, p checker.Prober, t checker.Timing) *checker.Spec {
	return &checker.Spec{Target: checker.Target{Service: svc, Addr: netip.AddrPortFrom(addr(a), port)}, Prober: p, Timing: t}
}

// timing is checker.DefaultTiming() edited.
func timing(edit func(*checker.Timing)) checker.Timing {
	t := checker.DefaultTiming()
	if edit != nil {
		edit(&t)
	}
	return t
}

func hook(argv ...string) *lvshcl.Hook {
	return &lvshcl.Hook{Argv: argv, Timeout: lvshcl.DefaultHookTimeout}
}

var ok200 = []checker.StatusRange{{Min: 200, Max: 299}}

func TestPools(t *testing.T) {
	web := svcKey("192.0.2.10", 80)
	tests := []struct {
		name string
		src  string
		want []lvshcl.Pool
	}{
		{
			name: "no checks: every real server always up",
			src: `
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  real_server { address = "10.0.0.1" }
  real_server {
    address = "10.0.0.2"
    port    = 8080
  }
}
virtual_server "empty" {
  address = "192.0.2.10"
  port    = 443
}`,
			want: []lvshcl.Pool{
				{Service: web, Name: "web", Quorum: 1, Members: []lvshcl.Member{
					{Real: realKey("10.0.0.1", 80)},
					{Real: realKey("10.0.0.2", 8080)},
				}},
				{Service: svcKey("192.0.2.10", 443), Name: "empty", Quorum: 1, Members: []lvshcl.Member{}},
			},
		},
		{
			name: "keepalived's defaults",
			src: `
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  check "tcp" {}
  real_server { address = "10.0.0.1" }
}`,
			want: []lvshcl.Pool{{Service: web, Name: "web", Quorum: 1, Members: []lvshcl.Member{
				{Real: realKey("10.0.0.1", 80), Check: spec("web", "10.0.0.1", 80,
					&checker.TCP{Timeout: checker.DefaultTimeout},
					checker.Timing{DelayLoop: time.Minute, Retry: 1, DelayBeforeRetry: time.Second, Warmup: checker.WarmupDelayLoop, Rise: 1, Fall: 1})},
			}}},
		},
		{
			name: "several checks: service's for reals without their own, each named, each its timing",
			src: `
virtual_server "web" {
  address    = "192.0.2.10"
  port       = 80
  delay_loop = 2
  check "tcp" {}
  check "tcp" {
    connect_port = 8080
    delay_loop   = 5
  }
  real_server { address = "10.0.0.1" }
  real_server {
    address = "10.0.0.2"
    check "tcp" { retry = 0 }
  }
}`,
			want: []lvshcl.Pool{{Service: web, Name: "web", Quorum: 1, Members: []lvshcl.Member{
				{Real: realKey("10.0.0.1", 80), Check: &checker.Spec{
					Target: checker.Target{Service: "web", Addr: netip.MustParseAddrPort("10.0.0.1:80")},
					Name:   "tcp#1",
					Prober: &checker.TCP{Timeout: checker.DefaultTimeout},
					Timing: timing(func(t *checker.Timing) { t.DelayLoop = 2 * time.Second }),
					Also: []checker.Check{{
						Name:   "tcp#2",
						Prober: &checker.TCP{ConnectPort: 8080, Timeout: checker.DefaultTimeout},
						Timing: timing(func(t *checker.Timing) { t.DelayLoop = 5 * time.Second }),
					}},
				}},
				{Real: realKey("10.0.0.2", 80), Check: spec("web", "10.0.0.2", 80,
					&checker.TCP{Timeout: checker.DefaultTimeout},
					timing(func(t *checker.Timing) { t.DelayLoop = 2 * time.Second; t.Retry = 0 }))},
			}}},
		},
		{
			name: "service check for reals without their own, timing inherited, own check overrides",
			src: `
virtual_server "web" {
  address            = "192.0.2.10"
  port               = 80
  delay_loop         = 2
  connect_timeout    = "500ms"
  retry              = 0
  delay_before_retry = 0.25
  warmup             = 0
  rise               = 2
  fall               = 3
  alpha              = true

  check "tcp" {
    connect_port = 8080
    bind_to      = "10.0.0.254"
  }
  real_server { address = "10.0.0.1" }
  real_server {
    address = "10.0.0.2"
    check "tcp" {
      connect_ip      = "10.0.1.2"
      delay_loop      = "1.5s"
      connect_timeout = 1
      retry           = 2
      alpha           = false
    }
  }
  real_server { address = "10.0.0.3" }
}`,
			want: func() []lvshcl.Pool {
				inherited := checker.Timing{DelayLoop: 2 * time.Second, Retry: 0, DelayBeforeRetry: 250 * time.Millisecond, Warmup: 0, Rise: 2, Fall: 3, Alpha: true}
				svc := &checker.TCP{ConnectPort: 8080, BindTo: addr("10.0.0.254"), Timeout: 500 * time.Millisecond}
				own := inherited
				own.DelayLoop, own.Retry, own.Alpha = 1500*time.Millisecond, 2, false
				return []lvshcl.Pool{{Service: web, Name: "web", Quorum: 1, Members: []lvshcl.Member{
					{Real: realKey("10.0.0.1", 80), Check: spec("web", "10.0.0.1", 80, svc, inherited)},
					{Real: realKey("10.0.0.2", 80), Check: spec("web", "10.0.0.2", 80,
						&checker.TCP{ConnectIP: addr("10.0.1.2"), Timeout: time.Second}, own)},
					{Real: realKey("10.0.0.3", 80), Check: spec("web", "10.0.0.3", 80, svc, inherited)},
				}}}
			}(),
		},
		{
			name: "only some reals checked",
			src: `
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  real_server { address = "10.0.0.1" }
  real_server {
    address = "10.0.0.2"
    check "tcp" { delay_loop = 10 }
  }
}`,
			want: []lvshcl.Pool{{Service: web, Name: "web", Quorum: 1, Members: []lvshcl.Member{
				{Real: realKey("10.0.0.1", 80)},
				{Real: realKey("10.0.0.2", 80), Check: spec("web", "10.0.0.2", 80,
					&checker.TCP{Timeout: checker.DefaultTimeout}, timing(func(t *checker.Timing) { t.DelayLoop = 10 * time.Second }))},
			}}},
		},
		{
			name: "http",
			src: `
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  real_server {
    address = "10.0.0.1"
    check "http" {
      virtualhost  = "www.example.com"
      http_version = "1.0"
      connect_port = 8081
      url {
        path   = "/health?full=1"
        status = "200-299,301"
        regex  = "^ok"
      }
      url {
        path        = "/ready"
        status      = 204
        digest      = "D41D8CD98F00B204E9800998ECF8427E"
        virtualhost = "ready.example.com"
      }
      url {
        path   = "/list"
        status = [200, "300-302"]
      }
    }
  }
  real_server {
    address = "10.0.0.2"
    check "http" { http_version = 1.1 }
  }
}`,
			want: []lvshcl.Pool{{Service: web, Name: "web", Quorum: 1, Members: []lvshcl.Member{
				{Real: realKey("10.0.0.1", 80), Check: spec("web", "10.0.0.1", 80, &checker.HTTP{
					URLs: []checker.URL{
						{Path: "/health?full=1", Status: []checker.StatusRange{{Min: 200, Max: 299}, {Min: 301, Max: 301}}, Regex: regexp.MustCompile("^ok")},
						{Path: "/ready", Status: []checker.StatusRange{{Min: 204, Max: 204}}, Digest: "d41d8cd98f00b204e9800998ecf8427e", VirtualHost: "ready.example.com"},
						{Path: "/list", Status: []checker.StatusRange{{Min: 200, Max: 200}, {Min: 300, Max: 302}}},
					},
					VirtualHost: "www.example.com",
					Version:     checker.HTTP10,
					ConnectPort: 8081,
					Timeout:     checker.DefaultTimeout,
				}, timing(nil))},
				{Real: realKey("10.0.0.2", 80), Check: spec("web", "10.0.0.2", 80, &checker.HTTP{
					URLs:    []checker.URL{{Path: "/", Status: ok200}},
					Version: checker.HTTP11,
					Timeout: checker.DefaultTimeout,
				}, timing(nil))},
			}}},
		},
		{
			name: "https",
			src: `
virtual_server "web" {
  address         = "192.0.2.10"
  port            = 443
  connect_timeout = 3
  check "https" {
    server_name = "www.example.com"
    tls_verify  = true
    url { path = "/" }
  }
  real_server { address = "10.0.0.1" }
}`,
			want: []lvshcl.Pool{{Service: svcKey("192.0.2.10", 443), Name: "web", Quorum: 1, Members: []lvshcl.Member{
				{Real: realKey("10.0.0.1", 443), Check: spec("web", "10.0.0.1", 443, &checker.HTTP{
					URLs:       []checker.URL{{Path: "/", Status: ok200}},
					TLS:        true,
					ServerName: "www.example.com",
					Verify:     true,
					Timeout:    3 * time.Second,
				}, timing(nil))},
			}}},
		},
		{
			name: "exec",
			src: `
virtual_server "db" {
  address         = "192.0.2.10"
  port            = 3306
  connect_timeout = "4s"
  delay_loop      = 5
  real_server {
    address = "10.0.0.1"
    check "exec" {
      command = ["/usr/local/bin/check-db", "--host", "10.0.0.1"]
    }
  }
  real_server {
    address = "10.0.0.2"
    check "exec" {
      command        = ["check-db"]
      env            = { DB_USER = "monitor", "A_FIRST" = 1 }
      dynamic_weight = true
      timeout        = "1m"
      retry          = 1
    }
  }
}
virtual_server "plain" {
  address = "192.0.2.10"
  port    = 5432
  check "exec" {
    command = ["true"]
  }
  real_server { address = "10.0.0.3" }
}`,
			want: []lvshcl.Pool{
				{Service: svcKey("192.0.2.10", 3306), Name: "db", Quorum: 1, Members: []lvshcl.Member{
					{Real: realKey("10.0.0.1", 3306), Check: spec("db", "10.0.0.1", 3306,
						&checker.Exec{Argv: []string{"/usr/local/bin/check-db", "--host", "10.0.0.1"}, Timeout: 4 * time.Second},
						timing(func(t *checker.Timing) { t.DelayLoop, t.Retry = 5*time.Second, checker.DefaultExecRetry }))},
					{Real: realKey("10.0.0.2", 3306), Check: spec("db", "10.0.0.2", 3306,
						&checker.Exec{Argv: []string{"check-db"}, Env: []string{"A_FIRST=1", "DB_USER=monitor"}, DynamicWeight: true, Timeout: time.Minute},
						timing(func(t *checker.Timing) { t.DelayLoop, t.Retry = 5*time.Second, 1 }))},
				}},
				{Service: svcKey("192.0.2.10", 5432), Name: "plain", Quorum: 1, Members: []lvshcl.Member{
					{Real: realKey("10.0.0.3", 5432), Check: spec("plain", "10.0.0.3", 5432,
						&checker.Exec{Argv: []string{"true"}, Timeout: checker.DefaultTimeout},
						timing(func(t *checker.Timing) { t.Retry = checker.DefaultExecRetry }))},
				}},
			},
		},
		{
			name: "sorry server, quorum, hooks, inhibit",
			src: `
virtual_server "web" {
  address            = "192.0.2.10"
  port               = 80
  forwarding         = "dr"
  inhibit_on_failure = true
  quorum             = 4
  hysteresis         = 1
  quorum_up          = ["/bin/alert", "up"]
  quorum_down        = ["/bin/alert", "down", "web"]
  sorry_server { address = "10.0.0.99" }
  check "tcp" {}
  real_server {
    address     = "10.0.0.1"
    weight      = 3
    notify_up   = ["/bin/alert", "10.0.0.1 up"]
    notify_down = ["/bin/alert", "10.0.0.1 down"]
  }
}`,
			want: []lvshcl.Pool{{
				Service: web, Name: "web", InhibitOnFailure: true,
				SorryServer: &ipvs.RealServer{Addr: addr("10.0.0.99"), Port: 80, Weight: 1, Forwarding: ipvs.DR},
				Quorum:      4, Hysteresis: 1,
				QuorumUp:   hook("/bin/alert", "up"),
				QuorumDown: hook("/bin/alert", "down", "web"),
				Members: []lvshcl.Member{{
					Real:       realKey("10.0.0.1", 80),
					Check:      spec("web", "10.0.0.1", 80, &checker.TCP{Timeout: checker.DefaultTimeout}, timing(nil)),
					NotifyUp:   hook("/bin/alert", "10.0.0.1 up"),
					NotifyDown: hook("/bin/alert", "10.0.0.1 down"),
				}},
			}},
		},
		{
			name: "sorry server of its own: weight, forwarding, tunnel, other family",
			src: `
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  sorry_server {
    address    = "2001:db8::99"
    port       = 80
    weight     = 5
    forwarding = "tun"
    tunnel {
      type = "gue"
      port = 6080
    }
  }
}`,
			want: []lvshcl.Pool{{
				Service: web, Name: "web", Quorum: 1, Members: []lvshcl.Member{},
				SorryServer: &ipvs.RealServer{Addr: addr("2001:db8::99"), Port: 80, Weight: 5, Forwarding: ipvs.Tunnel,
					Tunnel: ipvs.TunnelConfig{Type: ipvs.GUE, Port: 6080}},
			}},
		},
		{
			name: "fwmark: sorry server port 0, check with connect_port",
			src: `
virtual_server "mark" {
  fwmark     = 7
  forwarding = "tun"
  tunnel { type = "ipip" }
  sorry_server { address = "10.0.0.99" }
  check "tcp" { connect_port = 443 }
  real_server { address = "10.0.0.1" }
}`,
			want: []lvshcl.Pool{{
				Service: ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: 7}, Name: "mark", Quorum: 1,
				SorryServer: &ipvs.RealServer{Addr: addr("10.0.0.99"), Weight: 1, Forwarding: ipvs.Tunnel},
				Members: []lvshcl.Member{{Real: realKey("10.0.0.1", 0), Check: spec("mark", "10.0.0.1", 0,
					&checker.TCP{ConnectPort: 443, Timeout: checker.DefaultTimeout}, timing(nil))}},
			}},
		},
		{
			name: "duration spellings",
			src: `
virtual_server "web" {
  address            = "192.0.2.10"
  port               = 80
  delay_loop         = "1m30s"
  delay_before_retry = "2"
  warmup             = 0.001
  check "tcp" { connect_timeout = 1.5 }
  real_server { address = "10.0.0.1" }
}`,
			want: []lvshcl.Pool{{Service: web, Name: "web", Quorum: 1, Members: []lvshcl.Member{
				{Real: realKey("10.0.0.1", 80), Check: spec("web", "10.0.0.1", 80,
					&checker.TCP{Timeout: 1500 * time.Millisecond},
					timing(func(t *checker.Timing) {
						t.DelayLoop, t.DelayBeforeRetry, t.Warmup = 90*time.Second, 2*time.Second, time.Millisecond
					}))},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(tt.src), "test.hcl")
			require.Empty(t, diags, "%s", render(t, files, diags))
			require.NotNil(t, cfg)
			assert.Equal(t, withKeys(tt.want), cfg.Pools)
			require.Len(t, cfg.Pools, len(cfg.Services))
			for i, p := range cfg.Pools {
				vs := cfg.Services[i]
				assert.Equal(t, vs.Key, p.Service)
				require.Len(t, p.Members, len(vs.RealServers))
				for j, m := range p.Members {
					assert.Equal(t, vs.RealServers[j].Key(), m.Real)
				}
			}
			acceptedByChecker(t, cfg)
		})
	}
}

func TestPoolsEmpty(t *testing.T) {
	cfg, _, diags := lvshcl.Parse([]byte("allow_empty = true\n"), "test.hcl")
	require.Empty(t, diags)
	assert.Empty(t, cfg.Pools)
	assert.Empty(t, cfg.Services)
}

// The service's check block is built once: every real server that uses it
// shares its prober.
func TestPoolsShareProber(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  check "http" {}
  real_server { address = "10.0.0.1" }
  real_server { address = "10.0.0.2" }
}`), "test.hcl")
	require.Empty(t, diags, "%s", render(t, files, diags))
	m := cfg.Pools[0].Members
	assert.Same(t, m[0].Check.Prober, m[1].Check.Prober)
	assert.NotEqual(t, m[0].Check.Target, m[1].Check.Target)
}

// writeCA writes a self-signed CA certificate in PEM to dir/name.
func writeCA(t *testing.T, dir, name string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
}

func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, dir, "ca.pem")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("not a certificate\n"), 0o644))
	conf := func(caFile string) string {
		name := filepath.Join(dir, "lvs.hcl")
		require.NoError(t, os.WriteFile(name, []byte(`virtual_server "web" {
  address = "192.0.2.10"
  port    = 443
  check "https" {
    tls_verify = true
    ca_file    = "`+caFile+`"
  }
  real_server { address = "10.0.0.1" }
}
`), 0o644))
		return name
	}

	// Relative to the configuration file, and absolute.
	for _, path := range []string{"ca.pem", filepath.Join(dir, "ca.pem")} {
		cfg, files, diags := lvshcl.Load(conf(path))
		require.Empty(t, diags, "%s", render(t, files, diags))
		p := cfg.Pools[0].Members[0].Check.Prober.(*checker.HTTP)
		assert.True(t, p.Verify)
		assert.NotNil(t, p.RootCAs, path)
	}

	for _, tt := range []struct{ path, detail string }{
		{"junk.pem", "no PEM certificate found"},
		{"missing.pem", "no such file or directory"},
	} {
		cfg, files, diags := lvshcl.Load(conf(tt.path))
		assert.Nil(t, cfg)
		require.Len(t, diags, 1, "%s", render(t, files, diags))
		assert.Equal(t, "Invalid ca_file", diags[0].Summary)
		assert.Contains(t, diags[0].Detail, tt.detail)
		assert.Equal(t, hcl.Pos{Line: 6, Column: 18, Byte: diags[0].Subject.Start.Byte}, diags[0].Subject.Start)
	}
}

func TestNotifyWithoutCheckWarns(t *testing.T) {
	cfg, files, diags := lvshcl.Parse([]byte(`virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  real_server {
    address   = "10.0.0.1"
    notify_up = ["/bin/alert"]
  }
}`), "test.hcl")
	require.NotNil(t, cfg, "%s", render(t, files, diags))
	require.Len(t, diags, 1)
	assert.Equal(t, hcl.DiagWarning, diags[0].Severity)
	assert.Equal(t, "notify_up never runs", diags[0].Summary)
	assert.Equal(t, 6, diags[0].Subject.Start.Line)
	assert.Equal(t, hook("/bin/alert"), cfg.Pools[0].Members[0].NotifyUp)
}

func TestTestdataPools(t *testing.T) {
	cfg, files, diags := lvshcl.Load(filepath.Join(testdata, "mycat-dr.hcl"))
	require.Empty(t, diags, "%s", render(t, files, diags))
	keepalived := checker.Timing{DelayLoop: 6 * time.Second, Retry: 3, DelayBeforeRetry: 3 * time.Second, Warmup: checker.WarmupDelayLoop, Rise: 1, Fall: 1}
	tcp := &checker.TCP{Timeout: 10 * time.Second}
	assert.Equal(t, withKeys([]lvshcl.Pool{{
		Service: svcKey("192.168.1.200", 8066), Name: "mycat", Quorum: 1,
		Members: []lvshcl.Member{
			{Real: realKey("192.168.1.201", 8066), Check: spec("mycat", "192.168.1.201", 8066, tcp, keepalived)},
			{Real: realKey("192.168.1.202", 8066), Check: spec("mycat", "192.168.1.202", 8066, tcp, keepalived)},
		},
	}}), cfg.Pools)

	// Every classic file has a pool per service and a check per real server.
	names, err := filepath.Glob(filepath.Join(testdata, "*.hcl"))
	require.NoError(t, err)
	for _, name := range names {
		cfg, files, diags := lvshcl.Load(name)
		require.Empty(t, diags, "%s", render(t, files, diags))
		require.Len(t, cfg.Pools, len(cfg.Services), name)
		for i, p := range cfg.Pools {
			require.Len(t, p.Members, len(cfg.Services[i].RealServers), name)
		}
		acceptedByChecker(t, cfg)
	}
}

// acceptedByChecker hands every check of cfg to a checker.Pool, as the
// daemon does, which validates them all.
func acceptedByChecker(t *testing.T, cfg *lvshcl.Config) {
	t.Helper()
	var specs []checker.Spec
	for _, p := range cfg.Pools {
		for _, m := range p.Members {
			if m.Check != nil {
				specs = append(specs, *m.Check)
			}
		}
	}
	assert.NoError(t, checker.NewPool(checker.Options{}).Set(specs))
}

func TestCheckRejects(t *testing.T) {
	runRejections(t, []rejection{
		// Check blocks.
		{
			name: "mysql check without user",
			src: `virtual_server "db" {
  address = "192.0.2.1"
  port    = 3306
  real_server {
    address = "10.0.0.1"
    check "mysql" { database = "app" }
  }
}`,
			summary: "Missing user", detail: `A mysql check needs user`,
			line: 6, col: 5,
		},
		{
			name: "unknown check type",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "radius" {}
}`,
			summary: "Unknown check type", detail: `"radius" is not a check type. Valid types: "tcp", "http", "https", "exec", "mysql", "ping", "udp", "dns", "smtp" and "file".`,
			line: 4, col: 9,
		},
		{
			name: "keepalived check name",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "HTTP_GET" {}
}`,
			summary: "Unknown check type", detail: `keepalived's HTTP_GET is check "http".`,
			line: 4, col: 9,
		},
		{
			name: "check without type",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address = "10.0.0.1"
    check {}
  }
}`,
			summary: "Missing check type", detail: `check "tcp" { ... }`,
			line: 6, col: 5,
		},
		{
			name: "check with two labels",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" "extra" {}
}`,
			summary: "Extraneous label for check", detail: "one label, its type",
			line: 4, col: 16,
		},
		{
			name: "two checks in a real server, each validated",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address = "10.0.0.1"
    check "tcp" {}
    check "exec" {}
  }
}`,
			summary: "Missing command", detail: "An exec check needs command",
			line: 7, col: 5,
		},
		{
			name: "attribute of another check type",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "tcp" {
    command = ["true"]
  }
}`,
			summary: "Unsupported argument", detail: `An argument named "command" is not expected in check "tcp": it applies to exec checks.`,
			line: 5, col: 5,
		},
		{
			name: "url block in an exec check",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" {
    command = ["true"]
    url { path = "/" }
  }
}`,
			summary: "Unsupported block type", detail: `A url block is not expected in check "exec": it applies to http and https checks.`,
			line: 6, col: 5,
		},
		{
			name: "unknown check attributes, every one",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    nb_get_retry = 3
    url {
      path        = "/"
      status_code = 200
    }
  }
}`,
			summary: "Unsupported argument", detail: `An argument named "status_code" is not expected here.`,
			line: 8, col: 7, errors: 2,
		},
		{
			name: "check in a sorry server",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  sorry_server {
    address = "10.0.0.9"
    check "tcp" {}
  }
}`,
			summary: "Unsupported block type", detail: `Blocks of type "check" are not expected here.`,
			line: 6, col: 5,
		},

		// Timing.
		{
			name: "zero delay_loop",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  delay_loop = 0
}`,
			summary: "Invalid delay_loop", detail: "more than 0 and at most 24h. Got 0.",
			line: 4, col: 16,
		},
		{
			name: "negative connect_timeout in a check",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "tcp" { connect_timeout = "-2s" }
}`,
			summary: "Invalid connect_timeout", detail: `Got "-2s".`,
			line: 4, col: 35,
		},
		{
			name: "not a duration",
			src: `virtual_server "a" {
  address            = "192.0.2.1"
  port               = 80
  delay_before_retry = "3 seconds"
}`,
			summary: "Invalid delay_before_retry", detail: `"3 seconds" is not a duration. delay_before_retry takes a number of seconds`,
			line: 4, col: 24,
		},
		{
			name: "duration beyond a day",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  delay_loop = "25h"
}`,
			summary: "Invalid delay_loop", detail: "at most 24h",
			line: 4, col: 16,
		},
		{
			name: "negative warmup",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  warmup  = -1
}`,
			summary: "Invalid warmup", detail: "0 or more and at most 24h. Got -1.",
			line: 4, col: 13,
		},
		{
			name: "duration of the wrong type",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  delay_loop = [6]
}`,
			summary: "Incorrect attribute value type", detail: "number or string required",
			line: 4, col: 16,
		},
		{
			name: "negative retry",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "tcp" { retry = -1 }
}`,
			summary: "Invalid retry", detail: "retry must be a whole number from 0 to 2147483647; got -1.",
			line: 4, col: 25,
		},
		{
			name: "zero rise",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  rise    = 0
}`,
			summary: "Invalid rise", detail: "from 1 to 2147483647; got 0.",
			line: 4, col: 13,
		},
		{
			name: "fractional fall",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  fall    = 1.5
}`,
			summary: "Invalid fall", detail: "got 1.5.",
			line: 4, col: 13,
		},
		{
			name: "alpha not a bool",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  alpha   = "sometimes"
}`,
			summary: "Incorrect attribute value type", detail: "a bool is required",
			line: 4, col: 13,
		},

		// Pool policy.
		{
			name: "zero quorum",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  quorum  = 0
}`,
			summary: "Invalid quorum", detail: "quorum must be a whole number from 1 to 2147483647; got 0.",
			line: 4, col: 13,
		},
		{
			name: "hysteresis not below quorum",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  quorum     = 3
  hysteresis = 3
}`,
			summary: "Invalid hysteresis", detail: "hysteresis (3) must be less than quorum (3, at test.hcl:4:16)",
			line: 5, col: 16, ctxLine: 4,
		},
		{
			name: "hysteresis with the default quorum",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  hysteresis = 1
}`,
			summary: "Invalid hysteresis", detail: "hysteresis (1) must be less than quorum (1, the default)",
			line: 4, col: 16,
		},
		{
			name: "negative hysteresis",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  hysteresis = -1
}`,
			summary: "Invalid hysteresis", detail: "from 0 to 2147483647; got -1.",
			line: 4, col: 16,
		},
		{
			name: "inhibit_on_failure not a bool",
			src: `virtual_server "a" {
  address            = "192.0.2.1"
  port               = 80
  inhibit_on_failure = 1
}`,
			summary: "Incorrect attribute value type", detail: "bool required, but have number",
			line: 4, col: 24,
		},
		{
			name: "hook as a shell string",
			src: `virtual_server "a" {
  address   = "192.0.2.1"
  port      = 80
  quorum_up = "/usr/local/bin/alert up"
}`,
			summary: "Incorrect attribute value type", detail: `run ["/bin/sh", "-c", "/usr/local/bin/alert up"]`,
			line: 4, col: 15,
		},
		{
			name: "empty hook",
			src: `virtual_server "a" {
  address     = "192.0.2.1"
  port        = 80
  quorum_down = []
}`,
			summary: "Invalid quorum_down", detail: "it must not be empty",
			line: 4, col: 17,
		},
		{
			name: "hook with an empty program",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address     = "10.0.0.1"
    notify_down = ["", "down"]
    check "tcp" {}
  }
}`,
			summary: "Invalid notify_down", detail: "The first element of notify_down is the program to run",
			line: 6, col: 20,
		},
		{
			name: "hook with a number",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address   = "10.0.0.1"
    notify_up = ["/bin/alert", ["x"]]
    check "tcp" {}
  }
}`,
			summary: "Incorrect attribute value type", detail: "string required",
			line: 6, col: 32,
		},

		// Sorry server.
		{
			name: "sorry server is a real server",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server { address = "10.0.0.1" }
  sorry_server { address = "10.0.0.1" }
}`,
			summary: "Sorry server is a real server", detail: "The sorry_server 10.0.0.1:80 is also a real_server of this virtual_server, at test.hcl:4:27.",
			line: 5, col: 28, ctxLine: 4,
		},
		{
			name: "sorry server on another port is another server",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server { address = "10.0.0.1" }
  sorry_server {
    address = "10.0.0.1"
    port    = 80
  }
  sorry_server { address = "10.0.0.2" }
}`,
			summary: "Duplicate sorry_server block", detail: "the first one is at test.hcl:5:3",
			line: 9, col: 3, ctxLine: 5, errors: 2, // and the first is a real server
		},
		{
			name: "sorry server without address",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  sorry_server { port = 8080 }
}`,
			summary: "Missing sorry server address", detail: "Every sorry_server needs address",
			line: 4, col: 3,
		},
		{
			name: "sorry server of the other family",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  sorry_server { address = "2001:db8::9" }
}`,
			summary: "Real server address family mismatch", detail: "The sorry server 2001:db8::9 is IPv6 but the virtual service is IPv4",
			line: 4, col: 28,
		},
		{
			name: "sorry server tunnel without tun",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  sorry_server {
    address = "10.0.0.9"
    tunnel { type = "gre" }
  }
}`,
			summary: "Tunnel block without tunnel forwarding", detail: `this sorry server's forwarding is "nat"`,
			line: 6, col: 5,
		},
		{
			name: "sorry server weight",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  sorry_server {
    address = "10.0.0.9"
    weight  = -3
  }
}`,
			summary: "Invalid weight", detail: "got -3",
			line: 6, col: 15,
		},

		// tcp, and what http shares with it.
		{
			name: "invalid connect_ip",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "tcp" { connect_ip = "backend.local" }
}`,
			summary: "Invalid IP address", detail: `connect_ip must be an IPv4 or IPv6 address literal`,
			line: 4, col: 30,
		},
		{
			name: "connect_port 0",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" { connect_port = 0 }
}`,
			summary: "Invalid connect_port", detail: "from 1 to 65535; got 0.",
			line: 4, col: 33,
		},
		{
			name: "bind_to and connect_ip of two families",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "tcp" {
    connect_ip = "10.0.0.1"
    bind_to    = "2001:db8::1"
  }
}`,
			summary: "bind_to address family mismatch", detail: "to connect_ip 10.0.0.1 (at test.hcl:5:18)",
			line: 6, col: 18,
		},
		{
			name: "bind_to of another family than a real server",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  check "tcp" { bind_to = "10.0.0.254" }
  real_server { address = "10.0.0.1" }
  real_server { address = "2001:db8::2" }
  real_server { address = "2001:db8::3" }
}`,
			summary: "bind_to address family mismatch", detail: "real server 2001:db8::2 (at test.hcl:7:27) is of the other family",
			line: 5, col: 27, // once for the block
		},
		{
			name: "fwmark real server without connect_port",
			src: `virtual_server "a" {
  fwmark = 1
  real_server {
    address = "10.0.0.1"
    check "http" {}
  }
  real_server {
    address = "10.0.0.2"
    port    = 80
    check "http" {}
  }
}`,
			summary: "Missing connect_port", detail: "Real server 10.0.0.1 (at test.hcl:4:15) has port 0",
			line: 5, col: 5,
		},

		// http and https.
		{
			name: "url without path",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url { status = 200 }
  }
}`,
			summary: "Missing url path", detail: `path = "/health"`,
			line: 5, col: 5,
		},
		{
			name: "relative url path",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url { path = "health" }
  }
}`,
			summary: "Invalid url path", detail: `it starts with "/"`,
			line: 5, col: 18,
		},
		{
			name: "status out of range in a list",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path   = "/"
      status = [200, 700]
    }
  }
}`,
			summary: "Invalid status", detail: "Got 700.",
			line: 7, col: 22,
		},
		{
			name: "status string",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path   = "/"
      status = "2xx"
    }
  }
}`,
			summary: "Invalid status", detail: `Status "2xx": want a code (200) or a range (200-299).`,
			line: 7, col: 16,
		},
		{
			name: "empty status",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path   = "/"
      status = []
    }
  }
}`,
			summary: "Invalid status", detail: "status is empty.",
			line: 7, col: 16,
		},
		{
			name: "status of the wrong type",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path   = "/"
      status = true
    }
  }
}`,
			summary: "Invalid status", detail: "status takes a code (200)",
			line: 7, col: 16,
		},
		{
			name: "invalid regex",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path  = "/"
      regex = "(?<=ok)"
    }
  }
}`,
			summary: "Invalid regex", detail: "RE2 syntax",
			line: 7, col: 15,
		},
		{
			name: "invalid digest",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path   = "/"
      digest = "d41d8cd98f00b204"
    }
  }
}`,
			summary: "Invalid digest", detail: "32 hexadecimal digits",
			line: 7, col: 16,
		},
		{
			name: "virtualhost with a space",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" { virtualhost = "www example" }
}`,
			summary: "Invalid virtualhost", detail: "without spaces or slashes",
			line: 4, col: 32,
		},
		{
			name: "server_name with http",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" { server_name = "www.example.com" }
}`,
			summary: "server_name needs https", detail: `this is an "http" check`,
			line: 4, col: 18,
		},
		{
			name: "tls_verify with http",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" { tls_verify = false }
}`,
			summary: "tls_verify needs https", detail: `Use check "https"`,
			line: 4, col: 18,
		},
		{
			name: "ca_file with http",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" { ca_file = "/etc/ssl/ca.pem" }
}`,
			summary: "ca_file needs https", detail: "or remove ca_file",
			line: 4, col: 18,
		},
		{
			name: "ca_file without tls_verify",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 443
  check "https" { ca_file = "/etc/ssl/ca.pem" }
}`,
			summary: "ca_file without tls_verify", detail: "Set tls_verify = true",
			line: 4, col: 19,
		},
		{
			name: "unreadable ca_file",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 443
  check "https" {
    tls_verify = true
    ca_file    = "/nonexistent/ca.pem"
  }
}`,
			summary: "Invalid ca_file", detail: "no such file or directory",
			line: 6, col: 18,
		},
		{
			name: "http_version 2",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "http" { http_version = "2" }
}`,
			summary: "Invalid http_version", detail: `"1.1" (the default) or "1.0"`,
			line: 4, col: 33,
		},

		// exec.
		{
			name: "exec without command",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" { dynamic_weight = true }
}`,
			summary: "Missing command", detail: "An exec check needs command",
			line: 4, col: 3,
		},
		{
			name: "command as a string",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" { command = "/usr/local/bin/check --fast" }
}`,
			summary: "Incorrect attribute value type", detail: "command is a program and its arguments, run without a shell",
			line: 4, col: 28,
		},
		{
			name: "empty command",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" { command = [] }
}`,
			summary: "Invalid command", detail: "it must not be empty",
			line: 4, col: 28,
		},
		{
			name: "reserved env variable",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" {
    command = ["check"]
    env     = { MODE = "fast", LVSCTL_SERVICE = "x" }
  }
}`,
			summary: "Invalid env variable", detail: "LVSCTL_ is reserved",
			line: 6, col: 32,
		},
		{
			name: "duplicate env variable",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" {
    command = ["check"]
    env = {
      MODE   = "fast"
      "MODE" = "slow"
    }
  }
}`,
			summary: "Duplicate env variable", detail: "MODE is already set at test.hcl:7:7.",
			line: 8, col: 7, ctxLine: 7,
		},
		{
			name: "env not a map of strings",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" {
    command = ["check"]
    env     = ["MODE=fast"]
  }
}`,
			summary: "Incorrect attribute value type", detail: "map of string required",
			line: 6, col: 15,
		},
		{
			name: "zero exec timeout",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" {
    command = ["check"]
    timeout = "0s"
  }
}`,
			summary: "Invalid timeout", detail: "more than 0",
			line: 6, col: 15,
		},
		{
			name: "connect_port in an exec check",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  check "exec" {
    command      = ["check"]
    connect_port = 80
  }
}`,
			summary: "Unsupported argument", detail: "it applies to tcp, http, https, mysql, udp, dns and smtp checks",
			line: 6, col: 5,
		},
	})
}

// Every mistake in the health part of a file is reported at once, in order.
func TestCheckReportsEveryError(t *testing.T) {
	src := `virtual_server "web" {
  address    = "192.0.2.10"
  port       = 80
  delay_loop = 0
  quorum     = 2
  hysteresis = 5
  quorum_up  = "alert up"
  sorry_server { address = "10.0.0.1" }
  check "http" {
    connect_timeout = "fast"
    url { status = 200 }
  }
  real_server {
    address = "10.0.0.1"
    check "mysql" {}
  }
  real_server {
    address   = "10.0.0.2"
    notify_up = []
    check "exec" {
      command = ["check"]
      env     = { LVSCTL_X = "1" }
      bogus   = 1
    }
  }
}
`
	want := []struct {
		line    int
		summary string
	}{
		{4, "Invalid delay_loop"},
		{6, "Invalid hysteresis"},
		{7, "Incorrect attribute value type"}, // quorum_up
		{8, "Sorry server is a real server"},
		{10, "Invalid connect_timeout"},
		{11, "Missing url path"},
		{15, "Missing user"},
		{19, "Invalid notify_up"},
		{22, "Invalid env variable"},
		{23, "Unsupported argument"},
	}
	cfg, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
	assert.Nil(t, cfg)
	t.Log("\n" + render(t, files, diags))
	require.Len(t, diags, len(want))
	for i, w := range want {
		assert.Equal(t, w.summary, diags[i].Summary, "diagnostic %d", i)
		assert.Equal(t, w.line, diags[i].Subject.Start.Line, "diagnostic %d (%s)", i, diags[i].Summary)
	}
}

func TestFlushOnExit(t *testing.T) {
	for src, want := range map[string]bool{"": false, "flush_on_exit = true\n": true, "flush_on_exit = false\n": false} {
		cfg, _, diags := lvshcl.Parse([]byte("allow_empty = true\n"+src), "f.hcl")
		require.False(t, diags.HasErrors(), diags.Error())
		assert.Equal(t, want, cfg.FlushOnExit, src)
	}
	_, _, diags := lvshcl.Parse([]byte(`flush_on_exit = "maybe"`), "f.hcl")
	require.True(t, diags.HasErrors())
	assert.Equal(t, 1, diags[0].Subject.Start.Line)
	assert.Equal(t, 17, diags[0].Subject.Start.Column)
}
