package checker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// seen records what the server saw of each request.
type seen struct {
	mu       sync.Mutex
	host     string
	proto    string
	close    bool
	sni      string
	newConns int
}

func (s *seen) get() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return seen{host: s.host, proto: s.proto, close: s.close, sni: s.sni, newConns: s.newConns}
}

// backend serves /ok (200 "hello"), /down (503), /chunked (200, chunked
// "hello"), /big (200, 10 KB) and /slow (waits until the test ends).
func backend(t *testing.T, tlsOn bool) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hel")
		w.(http.Flusher).Flush()
		io.WriteString(w, "lo")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 10000)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-release })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.host, s.proto, s.close = r.Host, r.Proto, r.Close
		if r.TLS != nil {
			s.sni = r.TLS.ServerName
		}
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point of some tests
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.newConns++
			s.mu.Unlock()
		}
	}
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first
	return srv, s
}

func addrOf(srv *httptest.Server) netip.AddrPort {
	return srv.Listener.Addr().(*net.TCPAddr).AddrPort()
}

func md5hex(s string) string {
	return map[string]string{"hello": "5d41402abc4b2a76b9719d911017c592"}[s]
}

func TestHTTP(t *testing.T) {
	srv, _ := backend(t, false)
	tests := []struct {
		name   string
		probe  checker.HTTP
		up     bool
		reason string
	}{
		{name: "2xx by default", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok"}}}, up: true, reason: "status 200"},
		{name: "503", probe: checker.HTTP{URLs: []checker.URL{{Path: "/down"}}}, reason: "status 503"},
		{name: "404", probe: checker.HTTP{URLs: []checker.URL{{Path: "/nowhere"}}}, reason: "status 404"},
		{
			name:  "expected status range",
			probe: checker.HTTP{URLs: []checker.URL{{Path: "/down", Status: []checker.StatusRange{{200, 200}, {500, 503}}}}},
			up:    true, reason: "status 503",
		},
		{
			name:   "expected code not met",
			probe:  checker.HTTP{URLs: []checker.URL{{Path: "/ok", Status: []checker.StatusRange{{204, 204}}}}},
			reason: "status 200",
		},
		{name: "regex", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(`^h.l+o$`)}}}, up: true, reason: "status 200"},
		{name: "regex mismatch", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(`bye`)}}}, reason: "body does not match regex"},
		{name: "regex_no_match, no match", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(`bye`), RegexNoMatch: true}}}, up: true, reason: "status 200"},
		{name: "regex_no_match, a match", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(`el`), RegexNoMatch: true}}}, reason: "body matches regex (regex_no_match)"},
		{name: "regex_min_offset skips", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(`^h`), RegexMinOffset: 1}}}, reason: "body does not match regex"},
		{name: "regex_min_offset", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(`^ello`), RegexMinOffset: 1}}}, up: true, reason: "status 200"},
		{name: "regex_min_offset past the body", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(``), RegexMinOffset: 1000}}}, reason: "body does not match regex"},
		{name: "regex_max_offset too early", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(`l+o`), RegexMaxOffset: 1}}}, reason: "body does not match regex"},
		{name: "regex_max_offset", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Regex: regexp.MustCompile(`l+o`), RegexMaxOffset: 2}}}, up: true, reason: "status 200"},
		{name: "digest", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Digest: md5hex("hello")}}}, up: true, reason: "status 200"},
		{name: "digest in upper case", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok", Digest: "5D41402ABC4B2A76B9719D911017C592"}}}, up: true, reason: "status 200"},
		{name: "digest of a chunked body", probe: checker.HTTP{URLs: []checker.URL{{Path: "/chunked", Digest: md5hex("hello")}}}, up: true, reason: "status 200"},
		{
			name:   "digest mismatch names the digest got",
			probe:  checker.HTTP{URLs: []checker.URL{{Path: "/ok", Digest: "00000000000000000000000000000000"}}},
			reason: "digest mismatch: got 5d41402abc4b2a76b9719d911017c592",
		},
		{
			name:   "body over the bound",
			probe:  checker.HTTP{MaxBody: 100, URLs: []checker.URL{{Path: "/big", Regex: regexp.MustCompile(`x`)}}},
			reason: "body larger than 100 bytes",
		},
		{name: "big body not read without regex or digest", probe: checker.HTTP{MaxBody: 100, URLs: []checker.URL{{Path: "/big"}}}, up: true, reason: "status 200"},
		{
			name:  "every url must pass; the reason names the failing one",
			probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok"}, {Path: "/down"}, {Path: "/ok"}}}, reason: "/down: status 503",
		},
		{name: "every url passes", probe: checker.HTTP{URLs: []checker.URL{{Path: "/ok"}, {Path: "/chunked"}}}, up: true, reason: "/chunked: status 200"},
		{
			name:   "response timeout",
			probe:  checker.HTTP{Timeout: 200 * time.Millisecond, URLs: []checker.URL{{Path: "/slow"}}},
			reason: "read response: timeout after 200ms",
		},
		{
			name: "connect_port", probe: checker.HTTP{ConnectPort: addrOf(srv).Port(), URLs: []checker.URL{{Path: "/ok"}}},
			up: true, reason: "status 200",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := checker.Target{Addr: addrOf(srv)}
			if tc.probe.ConnectPort != 0 {
				tg.Addr = closedPort(t)
			}
			require.NoError(t, tc.probe.Validate())
			r := tc.probe.Probe(context.Background(), tg)
			assert.Equal(t, tc.reason, r.Reason)
			assert.Equal(t, tc.up, r.Up)
			// The same on the Pool's event loop, where it runs probes
			// without a body to look at.
			if r, ok := loopProbe(&tc.probe, tg); ok {
				assert.Equal(t, tc.reason, r.Reason, "on the loop")
				assert.Equal(t, tc.up, r.Up, "on the loop")
			}
		})
	}
}

func TestHTTPRefused(t *testing.T) {
	for path, probe := range probePaths {
		r := probe(&checker.HTTP{URLs: []checker.URL{{Path: "/"}}}, checker.Target{Addr: closedPort(t)})
		assert.False(t, r.Up, path)
		assert.Equal(t, "connect: connection refused", r.Reason, path)
	}
}

func TestHTTPHostAndVersion(t *testing.T) {
	srv, s := backend(t, false)
	tg := checker.Target{Addr: addrOf(srv)}
	for path, probe := range probePaths {
		r := probe(&checker.HTTP{URLs: []checker.URL{{Path: "/ok"}}}, tg)
		require.True(t, r.Up, r.Reason)
		got := s.get()
		assert.Equal(t, addrOf(srv).String(), got.host, "%s: Host defaults to the address and port", path)
		assert.Equal(t, "HTTP/1.1", got.proto, path)
		assert.True(t, got.close, "%s: HTTP/1.1 requests ask to close", path)

		for _, digest := range []string{"", md5hex("hello")} { // on the loop, and not
			r = probe(&checker.HTTP{VirtualHost: "www.example.com", Version: checker.HTTP10, URLs: []checker.URL{{Path: "/ok", Digest: digest}}}, tg)
			require.True(t, r.Up, r.Reason)
			got = s.get()
			assert.Equal(t, "www.example.com", got.host, path)
			assert.Equal(t, "HTTP/1.0", got.proto, path)
		}

		r = probe(&checker.HTTP{VirtualHost: "www.example.com", URLs: []checker.URL{{Path: "/ok", VirtualHost: "api.example.com"}}}, tg)
		require.True(t, r.Up, r.Reason)
		assert.Equal(t, "api.example.com", s.get().host, "%s: a URL's virtualhost wins", path)
	}
}

func TestHTTPBindTo(t *testing.T) {
	remotes := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { remotes <- r.RemoteAddr }))
	defer srv.Close()
	p := &checker.HTTP{BindTo: netip.MustParseAddr("127.0.0.7"), URLs: []checker.URL{{Path: "/"}}}
	for path, probe := range probePaths {
		r := probe(p, checker.Target{Addr: addrOf(srv)})
		require.True(t, r.Up, r.Reason)
		host, _, _ := net.SplitHostPort(<-remotes)
		assert.Equal(t, "127.0.0.7", host, path)
	}
}

func TestHTTPFreshConnectionEachProbe(t *testing.T) {
	srv, s := backend(t, false)
	p := &checker.HTTP{URLs: []checker.URL{{Path: "/ok"}, {Path: "/ok"}}}
	for range 3 {
		require.True(t, p.Probe(context.Background(), checker.Target{Addr: addrOf(srv)}).Up)
	}
	assert.Equal(t, 6, s.get().newConns)
}

func TestHTTPIPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		skipNoLoopback(t, "[::1]", err)
	}
	hosts := make(chan string, 1)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hosts <- r.Host })}}
	srv.Start()
	defer srv.Close()
	tg := checker.Target{Addr: ln.Addr().(*net.TCPAddr).AddrPort()}
	for path, probe := range probePaths {
		r := probe(&checker.HTTP{URLs: []checker.URL{{Path: "/"}}}, tg)
		assert.True(t, r.Up, r.Reason)
		assert.Equal(t, tg.Addr.String(), <-hosts, path)
	}
}

// writeCA writes srv's certificate as a PEM file.
func writeCA(t *testing.T, srv *httptest.Server) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

func TestHTTPS(t *testing.T) {
	srv, s := backend(t, true)
	ca, err := checker.ReadCAFile(writeCA(t, srv))
	require.NoError(t, err)
	unrelated := x509.NewCertPool()
	tg := checker.Target{Addr: addrOf(srv)}
	ok := []checker.URL{{Path: "/ok", Digest: md5hex("hello")}}
	tests := []struct {
		name   string
		probe  checker.HTTP
		up     bool
		reason string
		sni    string
	}{
		{name: "no verification by default, no SNI for an address", probe: checker.HTTP{TLS: true, URLs: ok}, up: true, reason: "status 200"},
		{name: "server_name is sent as SNI", probe: checker.HTTP{TLS: true, ServerName: "lvs.example", URLs: ok}, up: true, reason: "status 200", sni: "lvs.example"},
		{name: "SNI defaults to the virtualhost", probe: checker.HTTP{TLS: true, VirtualHost: "www.example:8443", URLs: ok}, up: true, reason: "status 200", sni: "www.example"},
		{
			name: "verified against the CA file and the name", probe: checker.HTTP{TLS: true, Verify: true, RootCAs: ca, ServerName: "example.com", URLs: ok},
			up: true, reason: "status 200", sni: "example.com",
		},
		{name: "verified against the address's IP SAN", probe: checker.HTTP{TLS: true, Verify: true, RootCAs: ca, URLs: ok}, up: true, reason: "status 200"},
		{
			name: "wrong name", probe: checker.HTTP{TLS: true, Verify: true, RootCAs: ca, ServerName: "other.example", URLs: ok},
			reason: "tls: failed to verify certificate: x509: certificate is valid for example.com, *.example.com, not other.example", sni: "other.example",
		},
		{
			name: "unknown authority", probe: checker.HTTP{TLS: true, Verify: true, RootCAs: unrelated, ServerName: "example.com", URLs: ok},
			reason: "tls: failed to verify certificate: x509: certificate signed by unknown authority", sni: "example.com",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.mu.Lock()
			s.sni = "unset"
			s.mu.Unlock()
			require.NoError(t, tc.probe.Validate())
			r := tc.probe.Probe(context.Background(), tg)
			assert.Equal(t, tc.reason, r.Reason)
			assert.Equal(t, tc.up, r.Up)
			if tc.up {
				assert.Equal(t, tc.sni, s.get().sni)
			}
		})
	}
}

func TestHTTPSToPlainServer(t *testing.T) {
	srv, _ := backend(t, false)
	r := (&checker.HTTP{TLS: true, Timeout: time.Second, URLs: []checker.URL{{Path: "/ok"}}}).Probe(context.Background(), checker.Target{Addr: addrOf(srv)})
	assert.False(t, r.Up)
	assert.Contains(t, r.Reason, "tls: ")
}

func TestHTTPCancel(t *testing.T) {
	srv, _ := backend(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := (&checker.HTTP{Timeout: 10 * time.Second, URLs: []checker.URL{{Path: "/slow"}}}).Probe(ctx, checker.Target{Addr: addrOf(srv)})
	assert.False(t, r.Up)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestHTTPValidate(t *testing.T) {
	err := (&checker.HTTP{
		URLs: []checker.URL{
			{Path: "health"},
			{Path: "/a b"},
			{Path: "/x", Digest: "abc", Status: []checker.StatusRange{{300, 200}}},
			{Path: "/y", VirtualHost: "a\r\nX-Evil: 1"},
			{Path: "/z", RegexNoMatch: true, RegexMinOffset: -1},
			{Path: "/w", Regex: regexp.MustCompile(`x`), RegexMinOffset: 5, RegexMaxOffset: 4},
		},
		RootCAs:    x509.NewCertPool(),
		ServerName: "x",
	}).Validate()
	require.Error(t, err)
	for _, want := range []string{
		`url path "health": want an absolute path without spaces`,
		`url path "/a b": want an absolute path without spaces`,
		`url /x: status range 300-200: want codes within 100-599, low to high`,
		`url /x: digest "abc": want 32 hex digits (an MD5 sum)`,
		`url /y: virtualhost "a\r\nX-Evil: 1" contains spaces`,
		`url /z: regex_no_match, regex_min_offset or regex_max_offset without regex`,
		`url /z: regex_min_offset -1 and regex_max_offset 0: want 0 <= min <= max (max 0: no limit)`,
		`url /w: regex_min_offset 5 and regex_max_offset 4: want 0 <= min <= max (max 0: no limit)`,
		"a CA is set but verification is off",
		"server_name and verify need TLS",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.EqualError(t, (&checker.HTTP{}).Validate(), "no url to check")
}

func TestParseStatusRanges(t *testing.T) {
	got, err := checker.ParseStatusRanges("200-299, 301,302")
	require.NoError(t, err)
	assert.Equal(t, []checker.StatusRange{{200, 299}, {301, 301}, {302, 302}}, got)
	assert.Equal(t, "200-299", fmt.Sprint(got[0]))
	for _, bad := range []string{"", "abc", "200-", "99", "600", "300-200"} {
		_, err := checker.ParseStatusRanges(bad)
		assert.Error(t, err, bad)
	}
}

func TestReadCAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(path, []byte("not a certificate"), 0o600))
	_, err := checker.ReadCAFile(path)
	assert.EqualError(t, err, path+": no PEM certificate found")
	_, err = checker.ReadCAFile(filepath.Join(t.TempDir(), "missing.pem"))
	assert.Error(t, err)

	// A device is refused, not read without end; a FIFO without a writer
	// neither blocks the open.
	_, err = checker.ReadCAFile("/dev/zero")
	assert.EqualError(t, err, "/dev/zero: not a regular file")
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	_, err = checker.ReadCAFile(fifo)
	assert.EqualError(t, err, fifo+": not a regular file")
	big := filepath.Join(t.TempDir(), "big.pem")
	require.NoError(t, os.WriteFile(big, make([]byte, checker.MaxCAFile+1), 0o600))
	_, err = checker.ReadCAFile(big)
	assert.ErrorContains(t, err, "larger than 16 MiB")
}

// clientCert makes a self-signed client certificate and writes it and its
// key as PEM files in dir.
func clientCert(t *testing.T, dir string) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lvsctl-checker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	return c, certFile, keyFile
}

// TestHTTPSClientCertificate: a server that requires a client certificate
// refuses the handshake without one and serves the check with one.
func TestHTTPSClientCertificate(t *testing.T) {
	cert, _, _ := clientCert(t, t.TempDir())
	var got atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			got.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		io.WriteString(w, "hello")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tg := checker.Target{Addr: addrOf(srv)}
	urls := []checker.URL{{Path: "/"}}

	r := (&checker.HTTP{TLS: true, URLs: urls, Timeout: 2 * time.Second}).Probe(context.Background(), tg)
	assert.False(t, r.Up, r.Reason)

	p := &checker.HTTP{TLS: true, URLs: urls, Timeout: 2 * time.Second, Certificate: &cert}
	require.NoError(t, p.Validate())
	r = p.Probe(context.Background(), tg)
	assert.True(t, r.Up, r.Reason)
	assert.Equal(t, "lvsctl-checker", got.Load())

	assert.EqualError(t, (&checker.HTTP{URLs: urls, Certificate: &cert}).Validate(), "a client certificate needs TLS")
}
