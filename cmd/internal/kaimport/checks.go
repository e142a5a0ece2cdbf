package kaimport

import (
	"fmt"
	"strings"

	"github.com/lvsctl/lvsctl/checker"
)

// The checkers of issue 17: PING_CHECK, UDP_CHECK, DNS_CHECK, SMTP_CHECK
// and FILE_CHECK become check "ping", "udp", "dns", "smtp" and "file"
// (checkKinds).
// t.check translates their shared options (connect_ip, timing...) and asks
// moreCheckOption for the others; finishCheck fixes what a kind does not
// take. BFD_CHECK becomes check "bfd", which lvsctl does not run: a
// warning here, and at every load of the output (hcl/check_bfd.go).

// moreCheckOption translates option c of checker s, of check type kind,
// when it is one of this file's; false if it is not.
func (t *translator) moreCheckOption(b *hblock, s, c *Stmt, kind string) bool {
	switch kw := c.Keyword(); {
	case kind == "udp" && kw == "payload":
		hex := strings.Join(c.Args(), " ")
		if _, _, err := checker.ParseHex(hex, false); err != nil || hex == "" {
			t.drop(b, c, Warning, "payload is not hex digits (%v); keepalived sends a random payload", errOr(err, "empty"))
			return true
		}
		b.set("payload", str(hex))
	case kind == "udp" && kw == "require_reply":
		hex := strings.Join(c.Args(), " ")
		if hex == "" {
			b.set("require_reply", truth)
			return true
		}
		if _, _, err := checker.ParseHex(hex, true); err != nil {
			t.drop(b, c, Warning, "require_reply is not hex digits and x: %v", err)
			return true
		}
		b.set("require_reply", str(hex))
	case kind == "udp" && (kw == "min_reply_length" || kw == "max_reply_length"):
		if f, ok := t.number(b, c, 0, 0, 65507, true); ok {
			b.set(kw, num(f))
		}
	case kind == "dns" && kw == "type":
		if _, err := checker.ParseDNSType(c.Arg(0)); err != nil {
			t.drop(b, c, Warning, "%v", err)
			return true
		}
		b.set("type", str(strings.ToUpper(c.Arg(0))))
	case kind == "dns" && kw == "name":
		b.set("name", str(c.Arg(0)))
	case kind == "smtp" && kw == "helo_name":
		b.set("helo_name", str(c.Arg(0)))
	case kind == "smtp" && kw == "host":
		// finishCheck.
	case (kind == "http" || kind == "https") && kw == "fast_recovery":
		t.drop(b, c, Note, "lvsctl checks every url at each probe, without delay_loop between them, as fast_recovery does")
	case kind == "bfd" && kw == "name":
		b.set("name", str(c.Arg(0)))
	case kind == "file" && (kw == "track_file" || kw == "weight" || kw == "dynamic"):
		// finishCheck: track_file names a top-level block.
	default:
		return false
	}
	return true
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// finishCheck completes check b of type kind translated from checker s:
// what needs the whole block. It returns the checks of s: none for a
// checker keepalived ignores, one per host of an SMTP_CHECK.
func (t *translator) finishCheck(s *Stmt, b *hblock, kind string) []*hblock {
	switch kind {
	case "ping":
		for _, c := range s.Block {
			if c.Keyword() == "connect_port" {
				b.unset("connect_port")
				t.drop(b, c, Note, "an ICMP echo has no port")
			}
		}
	case "smtp":
		return t.smtpHosts(s, b)
	case "file":
		if b = t.fileCheck(s, b); b == nil {
			return nil
		}
	case "https":
		t.clientCert(b)
	case "bfd":
		t.partly(b, s, Warning, "lvsctl runs no BFD session (no maintained Go BFD library exists to build one on): written as check \"bfd\", always up, which validate and run report at every start; check the server with check \"ping\" or a check of its service")
	}
	return []*hblock{b}
}

// smtpHosts translates the host blocks of an SMTP_CHECK (keepalived's
// older way to check several addresses, deprecated in favour of several
// checkers): each host is a check "smtp" of its own, with the SMTP_CHECK's
// options and the host's connection options over them, since keepalived
// copies the checker's into each host and needs every host to answer.
// Without hosts, the check is b.
func (t *translator) smtpHosts(s *Stmt, b *hblock) []*hblock {
	var hosts []*Stmt
	for _, c := range s.Block {
		if c.Keyword() == "host" {
			hosts = append(hosts, c)
		}
	}
	if len(hosts) == 0 {
		return []*hblock{b}
	}
	if len(hosts) > 1 {
		t.record(s, Note, fmt.Sprintf("each of its %d host blocks is a check \"smtp\" of its own: the real server is up when every one is, as in keepalived", len(hosts)))
	}
	var out []*hblock
	for i, h := range hosts {
		hb := b.clone()
		if i > 0 {
			hb.notes = nil // the SMTP_CHECK's comments, shown once
		}
		if len(hosts) > 1 {
			hb.lead = hcomment{fmt.Sprintf("%s: host %d of %d of the SMTP_CHECK at %s", h.Pos, i+1, len(hosts), s.Pos)}
		}
		for _, o := range h.Block {
			switch kw := o.Keyword(); kw {
			case "connect_ip":
				hb.set(kw, str(o.Arg(0)))
			case "connect_port":
				if f, ok := t.number(hb, o, 0, 1, 65535, true); ok {
					hb.set(kw, num(f))
				}
			case "bindto":
				hb.set("bind_to", str(o.Arg(0)))
			case "connect_timeout":
				if f, ok := t.duration(hb, o, false); ok {
					hb.set(kw, num(f))
				}
			default:
				t.unsupported(hb, o, "host", checkReasons)
			}
		}
		out = append(out, hb)
	}
	return out
}

// fileCheck completes a FILE_CHECK: its track_file names a top-level
// track_file block (or vrrp_track_file) whose file is the check's path.
func (t *translator) fileCheck(s *Stmt, b *hblock) *hblock {
	var track, weight *Stmt
	for _, c := range s.Block {
		switch c.Keyword() {
		case "track_file":
			track = c
		case "weight":
			weight = c
		case "dynamic":
			b.set("dynamic", truth)
		case "connect_ip", "connect_port", "bindto":
			name := c.Keyword()
			if name == "bindto" {
				name = "bind_to"
			}
			b.unset(name)
			t.drop(b, c, Warning, "FILE_CHECK has no connection (keepalived ignores it too)")
		}
	}
	if track == nil {
		t.drop(nil, s, Warning, "FILE_CHECK without track_file; keepalived ignores the checker")
		return nil
	}
	def := t.trackFile(track.Arg(0))
	if def == nil {
		t.drop(nil, s, Warning, "no track_file block is named %q; keepalived ignores the checker", track.Arg(0))
		return nil
	}
	path := ""
	w := weight
	for _, c := range def.Block {
		switch c.Keyword() {
		case "file":
			path = c.Arg(0)
		case "weight":
			if w == nil {
				w = c
			}
		}
	}
	if path == "" {
		t.drop(nil, s, Warning, "track_file %s has no file; keepalived ignores the checker", track.Arg(0))
		return nil
	}
	b.set("path", str(path))
	for _, c := range def.Block {
		if c.Keyword() == "init_file" {
			t.partly(b, c, Warning, "lvsctl does not create or write the file; while it is missing, the server is down")
		}
	}
	if w != nil {
		if f, ok := t.number(b, w, 0, -2147483647, 2147483647, true); ok && f != 1 {
			b.set("weight", num(f))
		}
		if w.Arg(1) == "reverse" {
			b.set("reverse", truth)
		}
	}
	t.partly(b, s, Warning, "lvsctl reads the file every delay_loop; the value times weight is the server's health (above 0 is up) and, with dynamic, its weight; keepalived adds it to the configured weight instead")
	return b
}

// trackFile returns the top-level track_file block named name.
func (t *translator) trackFile(name string) *Stmt {
	for _, s := range t.top {
		if kw := s.Keyword(); (kw == "track_file" || kw == "vrrp_track_file") && s.Arg(0) == name {
			return s
		}
	}
	return nil
}

// regexFlags are the PCRE options of regex_options that RE2 has, as
// inline flags.
var regexFlags = map[string]string{"caseless": "i", "multiline": "m", "dotall": "s", "ungreedy": "U"}

// moreURLOption translates option c of a url block when it is one of this
// file's; false if it is not.
func (t *translator) moreURLOption(u *hblock, c *Stmt) bool {
	switch kw := c.Keyword(); kw {
	case "regex_no_match":
		u.set("regex_no_match", truth)
	case "regex_min_offset":
		if f, ok := t.number(u, c, 0, 0, float64(checker.DefaultMaxBody), true); ok && f > 0 {
			u.set(kw, num(f))
		}
	case "regex_max_offset":
		if f, ok := t.number(u, c, 0, 0, float64(checker.DefaultMaxBody), true); ok && f > 0 {
			u.set(kw, num(f))
		}
	case "regex_options":
		// finishURL: the flags go in front of the regex.
	default:
		return false
	}
	return true
}

// finishURL completes url block u translated from s: regex_options become
// inline flags of the regex; the regex options without a regex are
// dropped, as keepalived ignores them.
func (t *translator) finishURL(s *Stmt, u *hblock) *hblock {
	flags := ""
	for _, c := range s.Block {
		if c.Keyword() != "regex_options" {
			continue
		}
		var missing []string
		for _, o := range c.Args() {
			if f, ok := regexFlags[o]; ok {
				if !strings.Contains(flags, f) {
					flags += f
				}
			} else {
				missing = append(missing, o)
			}
		}
		if len(missing) > 0 {
			t.partly(u, c, Warning, "Go's regular expressions (RE2) have no %s: the regex is translated without", strings.Join(missing, ", "))
		}
	}
	re, ok := u.get("regex")
	if !ok {
		for _, c := range s.Block {
			switch c.Keyword() {
			case "regex_no_match", "regex_min_offset", "regex_max_offset", "regex_options":
				for _, name := range []string{"regex_no_match", "regex_min_offset", "regex_max_offset"} {
					u.unset(name)
				}
				t.drop(u, c, Note, "%s without a (usable) regex has no effect", c.Keyword())
			}
		}
		return u
	}
	if flags != "" {
		u.set("regex", str("(?"+flags+")"+re.AsString()))
	}
	return u
}

// topTrackFile translates a top-level track_file block: a note when a
// FILE_CHECK uses it (its file becomes the check's path), else keepalived's
// VRRP tracking, which lvsctl lacks.
func (t *translator) topTrackFile(s *Stmt) {
	if name := s.Arg(0); name != "" && t.fileCheckUses(name) {
		t.drop(nil, s, Note, "its file is the path of each check \"file\" from a FILE_CHECK that names %s; lvsctl tracks no file for VRRP", name)
		return
	}
	t.unsupported(nil, s, "the top level", topReasons)
}

// fileCheckUses reports whether a FILE_CHECK of a virtual_server names
// track_file name.
func (t *translator) fileCheckUses(name string) bool {
	var walk func(stmts []*Stmt) bool
	walk = func(stmts []*Stmt) bool {
		for _, s := range stmts {
			if s.Keyword() == "FILE_CHECK" {
				for _, c := range s.Block {
					if c.Keyword() == "track_file" && c.Arg(0) == name {
						return true
					}
				}
			}
			if walk(s.Block) {
				return true
			}
		}
		return false
	}
	for _, s := range t.top {
		if s.Keyword() == "virtual_server" && walk(s.Block) {
			return true
		}
	}
	return false
}

// sslBlock returns the top-level SSL block and its certificate and key
// (empty when absent).
func (t *translator) sslBlock() (ssl *Stmt, cert, key string) {
	for _, s := range t.top {
		if s.Keyword() != "SSL" {
			continue
		}
		ssl = s
		for _, c := range s.Block {
			switch c.Keyword() {
			case "certificate":
				cert = c.Arg(0)
			case "key":
				key = c.Arg(0)
			}
		}
	}
	return ssl, cert, key
}

// clientCert gives https check b the client certificate of the top-level
// SSL block, which keepalived presents in every SSL_GET.
func (t *translator) clientCert(b *hblock) {
	if _, cert, key := t.sslBlock(); cert != "" && key != "" {
		b.set("cert_file", str(cert))
		b.set("key_file", str(key))
	}
}

// topSSL translates the top-level SSL block: its certificate and key are
// each https check's cert_file and key_file.
func (t *translator) topSSL(s *Stmt) {
	_, cert, key := t.sslBlock()
	if cert == "" || key == "" {
		t.drop(nil, s, Warning, "an SSL block without both certificate and key: lvsctl's https checks present no client certificate")
		return
	}
	for _, c := range s.Block {
		switch c.Keyword() {
		case "password":
			t.partly(nil, c, Warning, "lvsctl reads unencrypted private keys only: decrypt the key (openssl pkey -in KEY -out KEY.plain) and point key_file at it")
		case "ca":
			t.partly(nil, c, Note, "lvsctl's https checks verify no certificate unless tls_verify = true, with ca_file for the CA")
		}
	}
	t.drop(nil, s, Note, "its certificate and key are the cert_file and key_file of every check \"https\"")
}
