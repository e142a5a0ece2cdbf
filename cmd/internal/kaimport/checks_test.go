package kaimport

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// TestMoreChecks imports one real server per checker of checks.go and
// compares the probers the output builds with keepalived's meaning.
func TestMoreChecks(t *testing.T) {
	res, cfg := importSrc(t, `
track_file weights {
    file "/run/lb/web.weight"
    weight 5 reverse
    init_file 1
}
virtual_server 10.0.0.1 53 {
    protocol UDP
    lb_algo rr
    lb_kind DR
    real_server 10.0.1.1 53 {
        PING_CHECK {
            connect_ip 10.0.2.1
            connect_port 7
            connect_timeout 2
        }
    }
    real_server 10.0.1.2 53 {
        UDP_CHECK {
            payload 0a1B 2
            require_reply 0a xX
            max_reply_length 100
        }
    }
    real_server 10.0.1.3 53 {
        DNS_CHECK {
            type aaaa
            name www.example.com
        }
    }
    real_server 10.0.1.4 53 {
        SMTP_CHECK {
            helo_name lb1.example.com
            host {
                connect_ip 10.0.2.4
                connect_port 587
                bindto 10.0.0.254
            }
            host {
                connect_ip 10.0.2.5
            }
        }
    }
    real_server 10.0.1.5 53 {
        FILE_CHECK {
            track_file weights
            dynamic
        }
    }
    real_server 10.0.1.6 53 {
        BFD_CHECK {
            name bfd1
        }
    }
    real_server 10.0.1.7 53 {
        FILE_CHECK {
            track_file nothere
        }
    }
}
`)
	require.Len(t, cfg.Pools, 1)
	probers := map[string]checker.Prober{}
	also := map[string][]checker.Prober{}
	for _, m := range cfg.Pools[0].Members {
		if m.Check != nil {
			probers[m.Check.Target.Addr.Addr().String()] = m.Check.Prober
			for _, c := range m.Check.Also {
				also[m.Check.Target.Addr.Addr().String()] = append(also[m.Check.Target.Addr.Addr().String()], c.Prober)
			}
		}
	}
	// The SMTP_CHECK's second host is a second check "smtp", with the
	// SMTP_CHECK's helo_name and its own connect_ip.
	assert.Equal(t, map[string][]checker.Prober{
		"10.0.1.4": {&checker.SMTP{Timeout: checker.DefaultTimeout, HeloName: "lb1.example.com", ConnectIP: netip.MustParseAddr("10.0.2.5")}},
	}, also)
	// BFD_CHECK's check "bfd" is not run: always up.
	require.Contains(t, probers, "10.0.1.6")
	r := probers["10.0.1.6"].Probe(t.Context(), checker.Target{})
	assert.True(t, r.Up)
	assert.Equal(t, "not run: lvsctl has no BFD", r.Reason)
	delete(probers, "10.0.1.6")
	timeout := checker.DefaultTimeout
	assert.Equal(t, map[string]checker.Prober{
		"10.0.1.1": &checker.Ping{ConnectIP: netip.MustParseAddr("10.0.2.1"), Timeout: 2 * time.Second},
		"10.0.1.2": &checker.UDP{
			Timeout: timeout, Payload: []byte{0x0a, 0x1b, 0x02},
			RequireReply: true, Reply: []byte{0x0a, 0}, Mask: []byte{0xff, 0}, MaxReply: 100,
		},
		"10.0.1.3": &checker.DNS{Timeout: timeout, Type: 28, Name: "www.example.com"},
		"10.0.1.4": &checker.SMTP{
			Timeout: timeout, HeloName: "lb1.example.com",
			ConnectIP: netip.MustParseAddr("10.0.2.4"), ConnectPort: 587, BindTo: netip.MustParseAddr("10.0.0.254"),
		},
		"10.0.1.5": &checker.File{Path: "/run/lb/web.weight", Weight: 5, Reverse: true, Dynamic: true},
	}, probers)
	assert.Equal(t, `k.conf:2: note: track_file: its file is the path of each check "file" from a FILE_CHECK that names weights; lvsctl tracks no file for VRRP
k.conf:5: warning: init_file: lvsctl does not create or write the file; while it is missing, the server is down
k.conf:14: note: connect_port: an ICMP echo has no port
k.conf:32: note: SMTP_CHECK: each of its 2 host blocks is a check "smtp" of its own: the real server is up when every one is, as in keepalived
k.conf:45: warning: FILE_CHECK: lvsctl reads the file every delay_loop; the value times weight is the server's health (above 0 is up) and, with dynamic, its weight; keepalived adds it to the configured weight instead
k.conf:51: warning: BFD_CHECK: lvsctl runs no BFD session (no maintained Go BFD library exists to build one on): written as check "bfd", always up, which validate and run report at every start; check the server with check "ping" or a check of its service
k.conf:56: warning: FILE_CHECK: not translated: no track_file block is named "nothere"; keepalived ignores the checker
`, diagLines(res))
}

// TestMoreChecksRejected: what keepalived would refuse or ignore is a
// warning, and the output stays valid.
func TestMoreChecksRejected(t *testing.T) {
	res, _ := importSrc(t, `
virtual_server 10.0.0.1 53 {
    protocol UDP
    real_server 10.0.1.2 53 {
        UDP_CHECK {
            payload 0z
            require_reply 0q
        }
    }
    real_server 10.0.1.3 53 {
        DNS_CHECK {
            type BOGUS
        }
    }
    real_server 10.0.1.4 53 {
        FILE_CHECK {
        }
    }
}
`)
	assert.Equal(t, `k.conf:6: warning: payload: not translated: payload is not hex digits ('z' is not a hex digit); keepalived sends a random payload
k.conf:7: warning: require_reply: not translated: require_reply is not hex digits and x: 'q' is not a hex digit
k.conf:12: warning: type: not translated: "BOGUS" is not a DNS query type (A, AAAA, NS, CNAME, SOA, MX, TXT, ...)
k.conf:16: warning: FILE_CHECK: not translated: FILE_CHECK without track_file; keepalived ignores the checker
`, diagLines(res))
}

// TestHTTPRegexOptionsImport: keepalived's url regex options and
// fast_recovery.
func TestHTTPRegexOptionsImport(t *testing.T) {
	res, cfg := importSrc(t, `
virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.0.1.1 80 {
        HTTP_GET {
            fast_recovery
            url {
                path /health
                regex "^ok$"
                regex_options caseless multiline extended
                regex_no_match
                regex_min_offset 4
                regex_max_offset 100
            }
            url {
                path /other
                regex_no_match
            }
        }
    }
}
`)
	p, ok := cfg.Pools[0].Members[0].Check.Prober.(*checker.HTTP)
	require.True(t, ok)
	u := p.URLs[0]
	assert.Equal(t, "(?im)^ok$", u.Regex.String())
	assert.True(t, u.RegexNoMatch)
	assert.Equal(t, 4, u.RegexMinOffset)
	assert.Equal(t, 100, u.RegexMaxOffset)
	assert.Nil(t, p.URLs[1].Regex)
	assert.False(t, p.URLs[1].RegexNoMatch)
	assert.Equal(t, `k.conf:6: note: fast_recovery: lvsctl checks every url at each probe, without delay_loop between them, as fast_recovery does
k.conf:10: warning: regex_options: Go's regular expressions (RE2) have no extended: the regex is translated without
k.conf:17: note: regex_no_match: regex_no_match without a (usable) regex has no effect
`, diagLines(res))
}

// TestSSLBlockImport: the top-level SSL block's certificate and key become
// each https check's client certificate.
func TestSSLBlockImport(t *testing.T) {
	res, _ := importSrcNoLoad(t, `
SSL {
    password secret
    ca /etc/keepalived/ca.pem
    certificate /etc/keepalived/client.pem
    key /etc/keepalived/client.key
}
virtual_server 10.0.0.1 443 {
    protocol TCP
    real_server 10.0.1.1 443 {
        SSL_GET {
            url {
                path /
            }
        }
    }
}
`)
	out := string(res.HCL)
	assert.Contains(t, out, `cert_file = "/etc/keepalived/client.pem"`)
	assert.Contains(t, out, `key_file  = "/etc/keepalived/client.key"`)
	assert.Equal(t, `k.conf:2: note: SSL: its certificate and key are the cert_file and key_file of every check "https"
k.conf:3: warning: password: lvsctl reads unencrypted private keys only: decrypt the key (openssl pkey -in KEY -out KEY.plain) and point key_file at it
k.conf:4: note: ca: lvsctl's https checks verify no certificate unless tls_verify = true, with ca_file for the CA
`, diagLines(res))
}

// importSrcNoLoad is importSrc for an output that names files not on this
// machine: it is checked offline (a missing file is a warning).
func importSrcNoLoad(t *testing.T, src string) (*Result, *lvshcl.Config) {
	t.Helper()
	files(t, map[string]string{"k.conf": src})
	res, err := Import("k.conf", Options{FS: os.DirFS(".")})
	require.NoError(t, err)
	cfg, _, diags := lvshcl.Options{Offline: true}.Parse(res.HCL, "out.hcl")
	require.False(t, diags.HasErrors(), "%s\n%s", diags.Error(), res.HCL)
	return res, cfg
}

// TestSeveralCheckers: several *_CHECK blocks in a real_server are
// several checks (keepalived needs every checker to pass); the real
// server's timing goes into each; the same checks on every real server
// are the service's; an SMTP_CHECK's hosts are one check each, with the
// SMTP_CHECK's options under the host's.
func TestSeveralCheckers(t *testing.T) {
	res, cfg := importSrc(t, `
virtual_server 10.0.0.1 3306 {
    protocol TCP
    lb_kind DR
    real_server 10.0.1.1 3306 {
        TCP_CHECK {
        }
        HTTP_GET {
            connect_port 9200
            url {
                path /
            }
        }
    }
    real_server 10.0.1.2 3306 {
        TCP_CHECK {
        }
        HTTP_GET {
            connect_port 9200
            url {
                path /
            }
        }
    }
}
virtual_server 10.0.0.1 25 {
    protocol TCP
    real_server 10.0.1.3 25 {
        delay_loop 7
        PING_CHECK {
        }
        SMTP_CHECK {
            connect_timeout 4
            helo_name lb.example.com
            host {
                connect_ip 10.0.2.3
            }
            host {
                connect_ip 10.0.2.4
                connect_port 587
                connect_timeout 2
            }
        }
    }
}
`)
	assert.True(t, res.Complete(), diagLines(res))
	out := string(res.HCL)
	assert.Contains(t, out, `  check "tcp" {
  }

  check "http" {
    connect_port = 9200
`, "the same two checks of both real servers are the service's")
	assert.Contains(t, out, "# k.conf:38: host 2 of 2 of the SMTP_CHECK at k.conf:32\n")
	require.Len(t, cfg.Pools, 2)

	mysql := cfg.Pools[0]
	require.Len(t, mysql.Members, 2)
	for _, m := range mysql.Members {
		require.NotNil(t, m.Check)
		assert.Equal(t, "tcp#1", m.Check.Name)
		require.Len(t, m.Check.Also, 1)
		assert.Equal(t, "http#2", m.Check.Also[0].Name)
	}

	smtp := cfg.Pools[1].Members[0].Check
	require.NotNil(t, smtp)
	var names []string
	var probers []checker.Prober
	for _, c := range append([]checker.Check{{Name: smtp.Name, Prober: smtp.Prober, Timing: smtp.Timing}}, smtp.Also...) {
		names = append(names, c.Name)
		probers = append(probers, c.Prober)
		assert.Equal(t, 7*time.Second, c.Timing.DelayLoop, "%s: the real server's delay_loop", c.Name)
	}
	assert.Equal(t, []string{"ping#1", "smtp#2", "smtp#3"}, names)
	assert.Equal(t, []checker.Prober{
		&checker.Ping{Timeout: checker.DefaultTimeout},
		&checker.SMTP{Timeout: 4 * time.Second, HeloName: "lb.example.com", ConnectIP: netip.MustParseAddr("10.0.2.3")},
		&checker.SMTP{Timeout: 2 * time.Second, HeloName: "lb.example.com", ConnectIP: netip.MustParseAddr("10.0.2.4"), ConnectPort: 587},
	}, probers)
}
