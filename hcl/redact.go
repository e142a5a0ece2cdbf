package hcl

import (
	"bytes"
	"strconv"
	"strings"
)

// Secrets are masked by name, not by schema, so that a misspelled, a
// misplaced or a future attribute (a BGP neighbor's or an SMTP server's
// password) is covered too, and so that masking works on lines that do not
// parse. Diagnostic snippets are rendered from the file's bytes: every
// value written after a secret name is replaced by *** there, whatever the
// diagnostic.

// secretParts make a name a secret's when the name, lowercased and without
// '_' and '-', contains one of them.
var secretParts = []string{
	"pass", "pwd", "secret", "token", "credential",
	"privatekey", "apikey", "accesskey", "authkey", "psk",
}

// notSecretParts are words that contain a secret part but name no secret.
var notSecretParts = []string{"passive", "bypass", "passthrough", "passthru", "compass"}

// notSecretSuffixes name where a secret is kept, not the secret:
// password_file is a path, shown in full.
var notSecretSuffixes = []string{"file", "path", "dir"}

// secretWords are matched with up to maxEdits typing errors (insertion,
// deletion, substitution or transposition): pasword, passowrd, secert.
var secretWords = []struct {
	word     string
	maxEdits int
}{{"password", 2}, {"passwd", 1}, {"secret", 1}, {"token", 1}}

// IsSecretName reports whether an attribute, block or object key of this
// name holds a secret, whose value diagnostics must never show: a name
// that contains pass (not passive, bypass or passthrough), pwd, secret,
// token, credential, private_key, api_key, access_key, auth_key or psk, or
// is within two typing errors of password (one of passwd, secret and
// token), unless it ends in file, path or dir (password_file names a file).
// Matching ignores case, '_' and '-'. The name "key" alone is not a
// secret: it is too common a word for what is not one.
func IsSecretName(name string) bool {
	return isSecretName([]byte(name))
}

// maxSecretName is the longest name looked at: longer ones are no
// attribute names anyone writes.
const maxSecretName = 64

// isSecretName is IsSecretName without allocating.
func isSecretName(name []byte) bool {
	if len(name) > maxSecretName {
		return false
	}
	var buf [maxSecretName]byte
	n := buf[:0]
	for _, c := range name {
		switch {
		case c == '_' || c == '-':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		n = append(n, c)
	}
	for _, x := range notSecretSuffixes {
		if bytes.HasSuffix(n, []byte(x)) {
			return false
		}
	}
	for _, x := range notSecretParts {
		for {
			i := bytes.Index(n, []byte(x))
			if i < 0 {
				break
			}
			n = append(n[:i], n[i+len(x):]...)
		}
	}
	for _, p := range secretParts {
		if bytes.Contains(n, []byte(p)) {
			return true
		}
	}
	for _, w := range secretWords {
		if d := len(n) - len(w.word); d >= -w.maxEdits && d <= w.maxEdits && editDistance(n, w.word) <= w.maxEdits {
			return true
		}
	}
	return false
}

// editDistance is the optimal string alignment distance of two short
// strings (b at most 15 bytes): insertions, deletions, substitutions and
// adjacent transpositions.
func editDistance(a []byte, b string) int {
	var rows [3][16]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// secretSpans finds the values written after secret names in src: from
// after the name (and its = or :) to the end of the value: a newline, a
// comma or a closing bracket outside brackets and strings, or the end of a
// heredoc. The scan follows no syntax beyond brackets, strings and
// heredocs, so that it works on files that do not parse; where in doubt
// it masks more. It appends to literals the texts of the values worth
// looking for in messages.
func secretSpans(src []byte, literals []string) ([]span, []string) {
	var spans []span
	// A file repeats a few dozen names: decide each once.
	known := map[string]bool{}
	litBytes := 0
	// inString follows quoted strings within a line, so that a secret name
	// in a string ("/etc/lvsctl/monitor.password") needs = or : after it
	// to count (a quoted object key, or a line whose quotes are wrong).
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			inString = false
			continue
		case c == '"':
			inString = !inString
			continue
		case c == '\\' && inString:
			i++
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') || i > 0 && isIdentByte(src[i-1]) {
			continue
		}
		j := i + 1
		for j < len(src) && isIdentByte(src[j]) {
			j++
		}
		name := src[i:j]
		isSecret, ok := known[string(name)]
		if !ok {
			isSecret = isSecretName(name)
			if len(known) < 4096 {
				known[string(name)] = isSecret
			}
		}
		if !isSecret || inString && !assignedAfter(src, j) {
			i = j - 1
			continue
		}
		if inString && j < len(src) && src[j] == '"' {
			j++ // a quoted key: its value follows the quote
			inString = false
		}
		if n := len(spans); n > 0 && i < spans[n-1].end {
			// Inside a secret's value, masked already: scanning its
			// value too would make the scan quadratic (password = (
			// password = ( ...).
			i = j - 1
			continue
		}
		start, end, assigned := secretValue(src, j)
		if end > start {
			if n := len(spans); n > 0 && start <= spans[n-1].end {
				spans[n-1].end = max(spans[n-1].end, end)
			} else {
				spans = append(spans, span{start, end})
			}
			if assigned && litBytes < maxLiteralBytes {
				n := len(literals)
				literals = valueLiterals(src[start:end], literals)
				for _, l := range literals[n:] {
					litBytes += len(l)
				}
			}
		}
		i = j - 1
	}
	return spans, literals
}

// assignedAfter reports whether an = or a : follows offset j, after
// spaces and at most a closing quote.
func assignedAfter(src []byte, j int) bool {
	if j < len(src) && src[j] == '"' {
		j++
	}
	for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
		j++
	}
	return j < len(src) && (src[j] == ':' || src[j] == '=' && (j+1 == len(src) || src[j+1] != '='))
}

// secretValue returns the extent of the value after a secret name ending
// at j, and whether it was assigned (= or :) or written right after the
// name, as a label.
func secretValue(src []byte, j int) (start, end int, assigned bool) {
	at := func(i int) byte {
		if i < len(src) {
			return src[i]
		}
		return 0
	}
	k := j
	for at(k) == ' ' || at(k) == '\t' {
		k++
	}
	switch {
	case at(k) == '=' && at(k+1) != '=' || at(k) == ':':
		k++
		for at(k) == ' ' || at(k) == '\t' {
			k++
		}
		for at(k) == '\r' || at(k) == '\n' || at(k) == ' ' || at(k) == '\t' {
			k++ // the value on the next line: an error, but it is the value
		}
		assigned = true
	case at(k) == '"':
		assigned = true
	}
	start = k
	depth := 0
scan:
	for k < len(src) {
		switch c := src[k]; {
		case c == '"':
			for k++; k < len(src) && src[k] != '"'; k++ {
				if src[k] == '\\' {
					k++
				}
			}
		case c == '<' && at(k+1) == '<':
			if e := heredocEnd(src, k); e > k {
				k = e
				continue
			}
			k++
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			if depth == 0 {
				break scan
			}
			depth--
		case c == ',' || c == '\n':
			if depth == 0 {
				break scan
			}
		}
		k++
	}
	end = min(k, len(src))
	for end > start && (src[end-1] == ' ' || src[end-1] == '\t' || src[end-1] == '\r') {
		end--
	}
	return start, end, assigned
}

// heredocEnd returns the end of the heredoc starting with << at k (the end
// of its closing line, or of the file), or k if none starts there.
func heredocEnd(src []byte, k int) int {
	j := k + 2
	if j < len(src) && src[j] == '-' {
		j++
	}
	m := j
	for m < len(src) && isIdentByte(src[m]) {
		m++
	}
	if m == j {
		return k
	}
	marker := src[j:m]
	nl := bytes.IndexByte(src[m:], '\n')
	if nl < 0 || len(bytes.TrimSpace(src[m:m+nl])) > 0 {
		return k
	}
	for p := m + nl + 1; p < len(src); {
		e := bytes.IndexByte(src[p:], '\n')
		if e < 0 {
			e = len(src) - p
		}
		if bytes.Equal(bytes.TrimSpace(src[p:p+e]), marker) {
			return p + e
		}
		p += e + 1
	}
	return len(src)
}

// maxLiteralBytes bounds the texts looked for in messages: messages
// quote no secrets (this is a second line of defence), and a hostile file
// must not make the search structure huge.
const maxLiteralBytes = 1 << 20

// minLiteral is the shortest value text looked for in messages: shorter
// ones would mask ordinary words.
const minLiteral = 4

// maxLiteral is the longest value text looked for: no secret is longer.
const maxLiteral = 1024

// valueLiterals appends the quoted strings of a secret's value (as written
// and unquoted), its heredoc lines, or the value itself if it has neither.
func valueLiterals(v []byte, literals []string) []string {
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= minLiteral && len(s) <= maxLiteral {
			literals = append(literals, s)
		}
	}
	quoted := false
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '"':
			j := i + 1
			for ; j < len(v) && v[j] != '"'; j++ {
				if v[j] == '\\' {
					j++
				}
			}
			j = min(j, len(v))
			add(string(v[i+1 : j]))
			if u, err := strconv.Unquote(string(v[i:min(j+1, len(v))])); err == nil {
				add(u)
			}
			quoted = true
			i = j
		case v[i] == '<' && i+1 < len(v) && v[i+1] == '<':
			if e := heredocEnd(v, i); e > i {
				lines := strings.Split(string(v[i:e]), "\n")
				for _, l := range lines[1 : len(lines)-1] {
					add(l)
				}
				quoted = true
				i = e
			}
		}
	}
	if !quoted {
		add(string(v))
	}
	return literals
}
