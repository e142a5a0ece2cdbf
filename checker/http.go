package checker

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// HTTPVersion is the protocol version of an HTTP check's requests.
type HTTPVersion uint8

// HTTP versions. The zero value is HTTP/1.1.
const (
	HTTP11 HTTPVersion = iota
	HTTP10
)

func (v HTTPVersion) String() string {
	if v == HTTP10 {
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}

// StatusRange is an inclusive range of HTTP status codes; a single code has
// Min == Max.
type StatusRange struct{ Min, Max int }

// ParseStatusRanges parses a comma-separated list of codes and ranges:
// "200", "200-299", "200-299,301,302".
func ParseStatusRanges(s string) ([]StatusRange, error) {
	var out []StatusRange
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		a, b, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.Atoi(strings.TrimSpace(a))
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(strings.TrimSpace(b))
		}
		r := StatusRange{lo, hi}
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("status %q: want a code (200) or a range (200-299)", part)
		}
		if err := r.validate(); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (r StatusRange) validate() error {
	if r.Min < 100 || r.Max > 599 || r.Min > r.Max {
		return fmt.Errorf("status range %d-%d: want codes within 100-599, low to high", r.Min, r.Max)
	}
	return nil
}

func (r StatusRange) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	return strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max)
}

// URL is one request of an HTTP check. Every condition that is set must hold.
type URL struct {
	// Path is the request target, starting with "/" ("/health?full=1").
	Path string
	// Status lists the acceptable status codes; empty means 200-299.
	Status []StatusRange
	// Regex, when set, must match the body (regex), or must not with
	// RegexNoMatch (regex_no_match).
	Regex        *regexp.Regexp
	RegexNoMatch bool
	// RegexMinOffset skips the body's first bytes (regex_min_offset);
	// RegexMaxOffset, when not 0, is the last offset where a match may
	// start (regex_max_offset).
	RegexMinOffset, RegexMaxOffset int
	// Digest, when set, is the hex MD5 of the body (keepalived's genhash).
	Digest string
	// VirtualHost, when set, overrides the check's VirtualHost for this URL.
	VirtualHost string
}

// DefaultMaxBody bounds the body an HTTP check reads for Regex and Digest.
const DefaultMaxBody = 1 << 20

// HTTP is keepalived's HTTP_GET and SSL_GET: the real server is up when a GET
// of every URL, in order, returns an expected status and a body that matches.
// Each URL is fetched on a fresh connection that is closed afterwards; the
// body is read only when Regex or Digest needs it.
//
// Requests are written by hand rather than with http.Client so that HTTP/1.0
// is possible and no connection is ever reused; responses are parsed with
// net/http (chunked bodies are decoded before Regex and Digest see them).
type HTTP struct {
	URLs []URL
	// TLS makes this an HTTPS check (SSL_GET).
	TLS bool
	// VirtualHost is the Host header; empty means the connect address, with
	// its port unless it is the scheme's default.
	VirtualHost string
	// ServerName is the TLS SNI and the name verified in the certificate;
	// empty means the host of the request's virtualhost (the URL's or the
	// check's), and no SNI when there is none; with Verify and no name at
	// all, the certificate must name the connect address.
	ServerName string
	// Verify turns on certificate verification against RootCAs (the
	// system's roots when nil). Off by default, like keepalived: real
	// servers are usually addressed by IP with self-signed certificates.
	Verify  bool
	RootCAs *x509.CertPool
	// Certificate, when set, is presented to servers that ask for a
	// client certificate (keepalived's SSL { certificate key }).
	Certificate *tls.Certificate
	Version     HTTPVersion
	// ConnectIP, ConnectPort and BindTo are as for TCP.
	ConnectIP   netip.Addr
	ConnectPort uint16
	BindTo      netip.Addr
	// Source is as for TCP (bind_port, bind_if).
	Source Source
	// Timeout bounds each step of each URL on its own: the connect, the TLS
	// handshake, the request and the response (keepalived's
	// connect_timeout, which bounds each read and write); zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxBody bounds the body read for Regex and Digest; a longer body fails
	// the check. Zero means DefaultMaxBody.
	MaxBody int64
}

// MaxCAFile bounds a CA file: Debian's whole ca-certificates bundle is
// about 200 KiB.
const MaxCAFile = 16 << 20

// ReadCAFile reads PEM certificates for HTTP.RootCAs from a regular file of
// at most MaxCAFile bytes (a device such as /dev/zero is refused, not read
// without end).
func ReadCAFile(path string) (*x509.CertPool, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxCAFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxCAFile {
		return nil, fmt.Errorf("%s: larger than %d MiB, not a CA file", path, MaxCAFile>>20)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return pool, nil
}

// Validate checks the URLs and options.
func (p *HTTP) Validate() error {
	var errs []error
	if len(p.URLs) == 0 {
		errs = append(errs, errors.New("no url to check"))
	}
	for _, u := range p.URLs {
		if !strings.HasPrefix(u.Path, "/") || strings.ContainsAny(u.Path, " \r\n") {
			errs = append(errs, fmt.Errorf("url path %q: want an absolute path without spaces", u.Path))
		}
		for _, r := range u.Status {
			if err := r.validate(); err != nil {
				errs = append(errs, fmt.Errorf("url %s: %w", u.Path, err))
			}
		}
		if u.Digest != "" {
			if b, err := hex.DecodeString(u.Digest); err != nil || len(b) != md5.Size {
				errs = append(errs, fmt.Errorf("url %s: digest %q: want 32 hex digits (an MD5 sum)", u.Path, u.Digest))
			}
		}
		if strings.ContainsAny(u.VirtualHost, " \r\n") {
			errs = append(errs, fmt.Errorf("url %s: virtualhost %q contains spaces", u.Path, u.VirtualHost))
		}
		if u.Regex == nil && (u.RegexNoMatch || u.RegexMinOffset != 0 || u.RegexMaxOffset != 0) {
			errs = append(errs, fmt.Errorf("url %s: regex_no_match, regex_min_offset or regex_max_offset without regex", u.Path))
		}
		if u.RegexMinOffset < 0 || u.RegexMaxOffset < 0 || (u.RegexMaxOffset != 0 && u.RegexMinOffset > u.RegexMaxOffset) {
			errs = append(errs, fmt.Errorf("url %s: regex_min_offset %d and regex_max_offset %d: want 0 <= min <= max (max 0: no limit)", u.Path, u.RegexMinOffset, u.RegexMaxOffset))
		}
	}
	if strings.ContainsAny(p.VirtualHost, " \r\n") {
		errs = append(errs, fmt.Errorf("virtualhost %q contains spaces", p.VirtualHost))
	}
	if p.RootCAs != nil && !p.Verify {
		errs = append(errs, errors.New("a CA is set but verification is off"))
	}
	if p.Certificate != nil && !p.TLS {
		errs = append(errs, errors.New("a client certificate needs TLS"))
	}
	if (p.ServerName != "" || p.Verify) && !p.TLS {
		errs = append(errs, errors.New("server_name and verify need TLS"))
	}
	if p.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("negative max body %d", p.MaxBody))
	}
	if err := validateConn(p.ConnectIP, p.BindTo, p.Timeout); err != nil {
		errs = append(errs, err)
	}
	if err := p.Source.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Probe fetches every URL in turn and stops at the first failure.
func (p *HTTP) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	reason := ""
	for i := range p.URLs {
		u := &p.URLs[i]
		ok, why := p.get(ctx, t, u)
		if len(p.URLs) > 1 {
			why = u.Path + ": " + why
		}
		if !ok {
			return Result{Weight: NoWeight, Reason: why, Took: time.Since(start)}
		}
		reason = why
	}
	return Result{Up: true, Weight: NoWeight, Reason: reason, Took: time.Since(start)}
}

func (p *HTTP) get(ctx context.Context, t Target, u *URL) (bool, string) {
	timeout := timeoutOr(p.Timeout)
	addr := connectAddr(t, p.ConnectIP, p.ConnectPort)
	var tcp net.Conn
	var err error
	if p.Source.set() {
		var tc *net.TCPConn
		if tc, err = dialSource(ctx, addr, p.BindTo, p.Source, timeout); err == nil {
			if p.Source.Port != 0 {
				// Closed with a reset: a FIN would leave the fixed
				// 4-tuple in TIME_WAIT, and the next check's connect
				// would fail for a minute.
				tc.SetLinger(0)
			}
			tcp = tc
		}
	} else {
		tcp, err = dialConn(ctx, addr, p.BindTo, timeout)
	}
	if err != nil {
		return false, errReason("connect", err, timeout)
	}
	defer tcp.Close()
	// Each step has its own timeout, as in keepalived: the connect, the
	// handshake, the request and the response.
	step := func() { tcp.SetDeadline(time.Now().Add(timeout)) }
	step()
	stop := context.AfterFunc(ctx, func() { tcp.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	host := u.VirtualHost
	if host == "" {
		host = p.VirtualHost
	}
	conn := tcp
	if p.TLS {
		tc := tls.Client(tcp, p.tlsConfig(addr, host))
		if err := tc.HandshakeContext(ctx); err != nil {
			return false, errReason("tls", err, timeout)
		}
		conn = tc
	}
	if host == "" {
		host = hostHeader(addr, p.TLS)
	}

	req := "GET " + u.Path + " " + p.Version.String() + "\r\nHost: " + host +
		"\r\nUser-Agent: lvsctl-checker\r\nAccept: */*\r\n"
	if p.Version == HTTP11 {
		req += "Connection: close\r\n"
	}
	step()
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return false, errReason("send request", err, timeout)
	}
	step()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodGet})
	if err != nil {
		return false, errReason("read response", err, timeout)
	}
	defer resp.Body.Close()
	status := statusReason(resp.StatusCode)
	if !statusOK(u.Status, resp.StatusCode) {
		return false, status
	}
	if u.Regex == nil && u.Digest == "" {
		return true, status
	}
	limit := p.MaxBody
	if limit == 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return false, errReason("read body", err, timeout)
	}
	if int64(len(body)) > limit {
		return false, "body larger than " + strconv.FormatInt(limit, 10) + " bytes"
	}
	if u.Digest != "" {
		sum := md5.Sum(body)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, u.Digest) {
			return false, "digest mismatch: got " + got
		}
	}
	if u.Regex != nil {
		matched := regexMatches(u, body)
		if matched && u.RegexNoMatch {
			return false, "body matches regex (regex_no_match)"
		}
		if !matched && !u.RegexNoMatch {
			return false, "body does not match regex"
		}
	}
	return true, status
}

// regexMatches reports whether u.Regex matches body within u's offsets.
// The leftmost match is the earliest start: if it starts after
// RegexMaxOffset, no match does.
func regexMatches(u *URL, body []byte) bool {
	if u.RegexMinOffset > len(body) {
		return false
	}
	loc := u.Regex.FindIndex(body[u.RegexMinOffset:])
	if loc == nil {
		return false
	}
	return u.RegexMaxOffset == 0 || u.RegexMinOffset+loc[0] <= u.RegexMaxOffset
}

func (p *HTTP) tlsConfig(addr netip.AddrPort, host string) *tls.Config {
	name := p.ServerName
	if name == "" && host != "" {
		name = host
		if h, _, err := net.SplitHostPort(host); err == nil {
			name = h
		}
	}
	if name == "" && p.Verify {
		name = addr.Addr().Unmap().WithZone("").String() // verified against the certificate's IP SANs
	}
	c := &tls.Config{
		ServerName:         name,
		InsecureSkipVerify: !p.Verify,
		RootCAs:            p.RootCAs,
	}
	if p.Certificate != nil {
		c.Certificates = []tls.Certificate{*p.Certificate}
	}
	return c
}

// hostHeader is the Host header for a request to addr: the address, with
// the port unless it is the default for the scheme.
func hostHeader(addr netip.AddrPort, tls bool) string {
	if (!tls && addr.Port() == 80) || (tls && addr.Port() == 443) {
		a := addr.Addr()
		if a.Is6() && !a.Is4In6() {
			return "[" + a.String() + "]"
		}
		return a.String()
	}
	return addr.String()
}

func statusOK(want []StatusRange, code int) bool {
	if len(want) == 0 {
		return code >= 200 && code <= 299
	}
	for _, r := range want {
		if code >= r.Min && code <= r.Max {
			return true
		}
	}
	return false
}

// statusReasons are the reasons "status 100" to "status 599", made once so
// that a check does not format one each time.
var statusReasons = func() (r [500]string) {
	for i := range r {
		r[i] = "status " + strconv.Itoa(100+i)
	}
	return r
}()

// statusReason is "status " and code.
func statusReason(code int) string {
	if code >= 100 && code < 600 {
		return statusReasons[code-100]
	}
	return "status " + strconv.Itoa(code)
}
