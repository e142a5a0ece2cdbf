package hcl_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// TestMoreCheckKinds loads one real server per check type of
// check_kinds.go and compares the prober built with the one expected.
func TestMoreCheckKinds(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		check string
		want  func() checker.Prober
		retry int
		// retryDelay is the delay_before_retry wanted; 0: checker's default.
		retryDelay time.Duration
	}{
		{
			name:  "file, defaults",
			check: `check "file" { path = "weights/web1" }`,
			want:  func() checker.Prober { return &checker.File{Path: filepath.Join(dir, "weights/web1"), Weight: 1} },
			retry: checker.DefaultRetry,
		},
		{
			name:  "file, every option",
			check: "check \"file\" {\n path = \"/run/w\"\n weight = -2\n reverse = true\n dynamic = true\n}",
			want:  func() checker.Prober { return &checker.File{Path: "/run/w", Weight: -2, Reverse: true, Dynamic: true} },
			retry: checker.DefaultRetry,
		},
		{
			name:  "udp, defaults",
			check: `check "udp" {}`,
			want:  func() checker.Prober { return &checker.UDP{Timeout: 3 * time.Second} },
			retry: checker.DefaultRetry,
		},
		{
			name: "udp, every option",
			check: `check "udp" {
    payload          = "Ab12f 3"
    require_reply    = "12 3x"
    min_reply_length = 2
    max_reply_length = 512
    connect_ip       = "10.0.0.9"
    connect_port     = 5353
    bind_to          = "10.0.0.254"
  }`,
			want: func() checker.Prober {
				return &checker.UDP{
					Timeout: 3 * time.Second, Payload: []byte{0xab, 0x12, 0x0f, 0x03},
					RequireReply: true, Reply: []byte{0x12, 0x30}, Mask: []byte{0xff, 0xf0}, MinReply: 2, MaxReply: 512,
					ConnectIP: netip.MustParseAddr("10.0.0.9"), ConnectPort: 5353, BindTo: netip.MustParseAddr("10.0.0.254"),
				}
			},
			retry: checker.DefaultRetry,
		},
		{
			name:  "udp, require_reply = true",
			check: `check "udp" { require_reply = true }`,
			want:  func() checker.Prober { return &checker.UDP{Timeout: 3 * time.Second, RequireReply: true} },
			retry: checker.DefaultRetry,
		},
		{
			name:  "ping",
			check: `check "ping" {}`,
			want:  func() checker.Prober { return &checker.Ping{Timeout: 3 * time.Second} },
			retry: checker.DefaultRetry,
		},
		{
			name:  "ping, every option",
			check: "check \"ping\" {\n connect_ip = \"2001:db8::1\"\n bind_to = \"2001:db8::2\"\n}",
			want: func() checker.Prober {
				return &checker.Ping{Timeout: 3 * time.Second, ConnectIP: netip.MustParseAddr("2001:db8::1"), BindTo: netip.MustParseAddr("2001:db8::2")}
			},
			retry: checker.DefaultRetry,
		},
		{
			name:  "dns, keepalived's defaults",
			check: `check "dns" {}`,
			want:  func() checker.Prober { return &checker.DNS{Timeout: 3 * time.Second} },
			retry: 3, retryDelay: 2 * time.Second,
		},
		{
			name:  "dns",
			check: "check \"dns\" {\n type = \"aaaa\"\n name = \"www.example.com\"\n retry = 1\n delay_before_retry = 5\n}",
			want: func() checker.Prober {
				return &checker.DNS{Timeout: 3 * time.Second, Type: 28, Name: "www.example.com"}
			},
			retry: 1, retryDelay: 5 * time.Second,
		},
		{
			name:  "smtp",
			check: `check "smtp" {}`,
			want:  func() checker.Prober { return &checker.SMTP{Timeout: 3 * time.Second} },
			retry: checker.DefaultRetry,
		},
		{
			name:  "smtp, helo_name",
			check: "check \"smtp\" {\n helo_name = \"lb1.example.com\"\n connect_port = 25\n}",
			want: func() checker.Prober {
				return &checker.SMTP{Timeout: 3 * time.Second, HeloName: "lb1.example.com", ConnectPort: 25}
			},
			retry: checker.DefaultRetry,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, diags := loadMySQL(t, dir, `virtual_server "web" {
  address         = "192.0.2.1"
  port            = 53
  protocol        = "udp"
  connect_timeout = 3
  delay_loop      = 2
  `+tc.check+`
  real_server { address = "10.0.0.1" }
}`)
			require.False(t, diags.HasErrors(), "%v", diags)
			c := cfg.Pools[0].Members[0].Check
			require.NotNil(t, c)
			assert.Equal(t, tc.want(), c.Prober)
			assert.Equal(t, tc.retry, c.Timing.Retry)
			if tc.retryDelay == 0 {
				tc.retryDelay = checker.DefaultDelayBeforeRetry
			}
			assert.Equal(t, tc.retryDelay, c.Timing.DelayBeforeRetry)
		})
	}
}

// TestBFDCheckWarns: a bfd check loads with a warning at its block (so
// that validate and run print it at every load) and is always up.
func TestBFDCheckWarns(t *testing.T) {
	cfg, _, diags := loadMySQL(t, t.TempDir(), `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "bfd" { name = "bfd1" }
  real_server { address = "10.0.0.1" }
}`)
	require.False(t, diags.HasErrors(), "%v", diags)
	require.Len(t, diags, 1)
	assert.Equal(t, "BFD check not run", diags[0].Summary)
	assert.Equal(t, 4, diags[0].Subject.Start.Line)
	assert.Equal(t, 3, diags[0].Subject.Start.Column)
	assert.Contains(t, diags[0].Detail, "always up")
	r := cfg.Pools[0].Members[0].Check.Prober.Probe(context.Background(), checker.Target{})
	assert.True(t, r.Up)
	assert.Equal(t, "not run: lvsctl has no BFD", r.Reason)
}

// TestHTTPRegexOptions: keepalived's regex_no_match, regex_min_offset and
// regex_max_offset in a url block.
func TestHTTPRegexOptions(t *testing.T) {
	cfg, _, diags := loadMySQL(t, t.TempDir(), `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path             = "/health"
      regex            = "(?i)maintenance"
      regex_no_match   = true
      regex_min_offset = 10
      regex_max_offset = 200
    }
  }
  real_server { address = "10.0.0.1" }
}`)
	require.False(t, diags.HasErrors(), "%v", diags)
	p, ok := cfg.Pools[0].Members[0].Check.Prober.(*checker.HTTP)
	require.True(t, ok)
	u := p.URLs[0]
	assert.Equal(t, "(?i)maintenance", u.Regex.String())
	assert.True(t, u.RegexNoMatch)
	assert.Equal(t, 10, u.RegexMinOffset)
	assert.Equal(t, 200, u.RegexMaxOffset)
}

// writeClientCert writes a self-signed certificate and its key as
// dir/client.pem and dir/client.key.
func writeClientCert(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "client.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "client.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
}

// TestHTTPSClientCert: cert_file and key_file, relative to the file, are
// read at load into the https check's client certificate.
func TestHTTPSClientCert(t *testing.T) {
	dir := t.TempDir()
	writeClientCert(t, dir)
	cfg, _, diags := loadMySQL(t, dir, `virtual_server "web" {
  address = "192.0.2.1"
  port    = 443
  check "https" {
    cert_file = "client.pem"
    key_file  = "client.key"
  }
  real_server { address = "10.0.0.1" }
}`)
	require.False(t, diags.HasErrors(), "%v", diags)
	p, ok := cfg.Pools[0].Members[0].Check.Prober.(*checker.HTTP)
	require.True(t, ok)
	require.NotNil(t, p.Certificate)
	assert.Len(t, p.Certificate.Certificate, 1)
}

func TestMoreCheckKindsReject(t *testing.T) {
	runRejections(t, []rejection{
		{
			name: "file without path",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "file" { weight = 2 }
}`,
			summary: "Missing required argument", detail: `"path" is required`,
			line: 4, col: 18,
		},
		{
			name: "file with an empty path",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "file" { path = "" }
}`,
			summary: "Invalid path", detail: "must not be empty",
			line: 4, col: 25,
		},
		{
			name: "file weight out of range",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "file" {
    path   = "/run/w"
    weight = 3000000000
  }
}`,
			summary: "Invalid weight", detail: "weight",
			line: 6, col: 14,
		},
		{
			name: "file takes no connect_ip",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "file" {
    path       = "/run/w"
    connect_ip = "10.0.0.9"
  }
}`,
			summary: "Unsupported argument", detail: "connect_ip",
			line: 6, col: 5,
		},
		{
			name: "udp payload not hex",
			src: `virtual_server "dns" {
  address  = "192.0.2.1"
  port     = 53
  protocol = "udp"
  check "udp" { payload = "0a zz" }
}`,
			summary: "Invalid payload", detail: `'z' is not a hex digit`,
			line: 5, col: 27,
		},
		{
			name: "udp require_reply of a number",
			src: `virtual_server "dns" {
  address  = "192.0.2.1"
  port     = 53
  protocol = "udp"
  check "udp" { require_reply = 12 }
}`,
			summary: "Invalid require_reply", detail: "not a number",
			line: 5, col: 33,
		},
		{
			name: "udp reply length without require_reply",
			src: `virtual_server "dns" {
  address  = "192.0.2.1"
  port     = 53
  protocol = "udp"
  check "udp" { max_reply_length = 100 }
}`,
			summary: "Reply length without require_reply", detail: "set require_reply = true",
			line: 5, col: 17,
		},
		{
			name: "udp min above max",
			src: `virtual_server "dns" {
  address  = "192.0.2.1"
  port     = 53
  protocol = "udp"
  check "udp" {
    require_reply    = true
    min_reply_length = 100
    max_reply_length = 10
  }
}`,
			summary: "Invalid min_reply_length", detail: "more than max_reply_length 10",
			line: 7, col: 5,
		},
		{
			name: "ping takes no connect_port",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "ping" { connect_port = 80 }
}`,
			summary: "Unsupported argument", detail: "connect_port",
			line: 4, col: 18,
		},
		{
			name: "ping bind_to of another family",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "ping" {
    connect_ip = "10.0.0.1"
    bind_to    = "2001:db8::1"
  }
}`,
			summary: "bind_to address family mismatch", detail: "connect_ip 10.0.0.1 (at test.hcl:5:18)",
			line: 6, col: 18,
		},
		{
			name: "dns type unknown",
			src: `virtual_server "dns" {
  address  = "192.0.2.1"
  port     = 53
  protocol = "udp"
  check "dns" { type = "BOGUS" }
}`,
			summary: "Invalid type", detail: `"BOGUS" is not a DNS query type`,
			line: 5, col: 24,
		},
		{
			name: "dns name invalid",
			src: `virtual_server "dns" {
  address  = "192.0.2.1"
  port     = 53
  protocol = "udp"
  check "dns" { name = "a..b" }
}`,
			summary: "Invalid name", detail: `"a..b" is not one`,
			line: 5, col: 24,
		},
		{
			name: "smtp helo_name of two words",
			src: `virtual_server "mail" {
  address = "192.0.2.1"
  port    = 25
  check "smtp" { helo_name = "a b" }
}`,
			summary: "Invalid helo_name", detail: "one word",
			line: 4, col: 30,
		},
		{
			name: "keepalived's name of a check of check_kinds.go",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "PING_CHECK" {}
}`,
			summary: "Unknown check type", detail: `keepalived's PING_CHECK is check "ping".`,
			line: 4, col: 9,
		},
		{
			name: "regex_no_match without regex",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path           = "/"
      regex_no_match = true
    }
  }
}`,
			summary: "Regex option without regex", detail: "add regex, or remove them",
			line: 7, col: 7,
		},
		{
			name: "regex_min_offset past regex_max_offset",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path             = "/"
      regex            = "ok"
      regex_min_offset = 20
      regex_max_offset = 10
    }
  }
}`,
			summary: "Invalid regex_min_offset", detail: "past regex_max_offset 10 (at test.hcl:9:7)",
			line: 8, col: 7,
		},
		{
			name: "regex_max_offset 0",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    url {
      path             = "/"
      regex            = "ok"
      regex_max_offset = 0
    }
  }
}`,
			summary: "Invalid regex_max_offset", detail: "regex_max_offset",
			line: 8, col: 26,
		},
		{
			name: "an smtp attribute in a tcp check",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "tcp" { helo_name = "x" }
}`,
			summary: "Unsupported argument", detail: `An argument named "helo_name" is not expected in check "tcp": it applies to smtp checks.`,
			line: 4, col: 17,
		},
		{
			name: "a name in a tcp check",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "tcp" { name = "x" }
}`,
			summary: "Unsupported argument", detail: `it applies to dns and bfd checks.`,
			line: 4, col: 17,
		},
		{
			name: "connect_port in a file check",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "file" {
    path         = "/run/w"
    connect_port = 80
  }
}`,
			summary: "Unsupported argument", detail: `it applies to tcp, http, https, mysql, udp, dns and smtp checks.`,
			line: 6, col: 5,
		},
		{
			name: "cert_file in an http check",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 80
  check "http" {
    cert_file = "client.pem"
    key_file  = "client.key"
  }
}`,
			summary: "cert_file needs https", detail: `Use check "https"`,
			line: 5, col: 5,
		},
		{
			name: "cert_file without key_file",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 443
  check "https" { cert_file = "client.pem" }
}`,
			summary: "Missing key_file", detail: "go together",
			line: 4, col: 19,
		},
		{
			name: "unreadable client certificate",
			src: `virtual_server "web" {
  address = "192.0.2.1"
  port    = 443
  check "https" {
    cert_file = "/nonexistent/client.pem"
    key_file  = "/nonexistent/client.key"
  }
}`,
			summary: "Invalid cert_file or key_file", detail: "no such file or directory",
			line: 5, col: 17,
		},
	})
}
