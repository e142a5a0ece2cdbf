package kaimport

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Pos is a place in a keepalived configuration file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Stmt is one keepalived statement: a line's words, and the block that
// follows it if any ("keyword args... { ... }").
type Stmt struct {
	Pos Pos
	// Words are the line's words as keepalived splits them for most
	// keywords: on blanks, a double-quoted string being one word without
	// its quotes.
	Words []string
	// Raw is the line as keepalived's handlers see it (comments removed,
	// parameters substituted), for the commands, which keepalived splits
	// again with its own quoting rules.
	Raw      string
	HasBlock bool
	Block    []*Stmt
	End      Pos // the closing brace of the block
}

// Keyword is the statement's first word.
func (s *Stmt) Keyword() string { return s.Words[0] }

// Args are the words after the keyword.
func (s *Stmt) Args() []string { return s.Words[1:] }

// Arg returns the i-th argument, "" if there are fewer.
func (s *Stmt) Arg(i int) string {
	if i+1 < len(s.Words) {
		return s.Words[i+1]
	}
	return ""
}

// ParseError is a syntax error of the keepalived file, at a place.
type ParseError struct {
	Pos Pos
	Msg string
}

func (e *ParseError) Error() string { return e.Pos.String() + ": " + e.Msg }

// ParseErrors are all the syntax errors found.
type ParseErrors []*ParseError

func (e ParseErrors) Error() string {
	var b strings.Builder
	for i, pe := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(pe.Error())
	}
	return b.String()
}

// line is one logical line: a statement's text or a lone brace.
type line struct {
	pos  Pos
	text string
}

// reader turns files into logical lines the way keepalived's read_line
// does: comments, conditional lines, parameter definitions and includes
// are handled, and the text is cut before and after every brace that is
// not in double quotes.
type reader struct {
	opts   Options
	fs     fileSource
	lim    Limits
	lines  []line
	errs   ParseErrors
	diags  []Diag
	defs   map[string]string
	depth  int
	opened map[string]bool // files being read (include cycles)
	files  []string        // in the order they were read
	// read and size count the files read and their bytes, for the
	// limits; stop is set when one is reached: nothing more is read.
	read int
	size int64
	stop bool
	// comments show the lines that are not read, for the output.
	comments []hcomment
}

// readFile reads one file (the top one or an included one) and appends its
// logical lines.
func (r *reader) readFile(name string, from *Pos, fromText string) {
	if r.stop {
		return
	}
	at := Pos{File: name}
	if from != nil {
		at = *from
	}
	abs := r.fs.abs(name)
	if r.opened[abs] {
		r.errs = append(r.errs, &ParseError{Pos: at, Msg: fmt.Sprintf("include cycle: %s includes itself", name)})
		return
	}
	if r.depth >= r.lim.Depth {
		r.limit(at, "includes nested more than %d deep", r.lim.Depth)
		return
	}
	if r.read >= r.lim.Files {
		r.limit(at, "more than %d files to read (each file an include matches counts): does an include fan out?", r.lim.Files)
		return
	}
	r.read++
	data, err := r.fs.readFile(name, r.lim.FileSize)
	what := name + ": " // the included file; the top one is the position
	if from == nil {
		what = ""
	}
	switch {
	case errors.Is(err, errNotRegular):
		r.limit(at, "%srefused: %v; the import reads only regular files", what, unwrapPath(err))
		return
	case errors.Is(err, errTooBig):
		r.limit(at, "%srefused: %v (the limit of one file)", what, unwrapPath(err))
		return
	case err != nil && from == nil:
		r.errs = append(r.errs, &ParseError{Pos: at, Msg: unwrapPath(err).Error()})
		return
	case err != nil:
		r.warn(*from, fromText, "include", "not translated: cannot read %s: %v", name, unwrapPath(err))
		return
	}
	r.size += int64(len(data))
	if r.size > r.lim.TotalSize {
		r.limit(at, "%srefused: the files read reach more than %d bytes in all", what, r.lim.TotalSize)
		return
	}
	r.opened[abs] = true
	r.files = append(r.files, name)
	r.depth++
	defer func() { r.depth--; delete(r.opened, abs) }()

	// keepalived reads bytes; HCL is UTF-8.
	text := strings.ToValidUTF8(strings.ReplaceAll(string(data), "\r\n", "\n"), "\uFFFD")
	src := strings.Split(text, "\n")
	var multi string // name of the multi-line definition being read
	for i := 0; i < len(src); i++ {
		pos := Pos{File: name, Line: i + 1}
		text, cont, err := decomment(src[i])
		if err != nil {
			r.errs = append(r.errs, &ParseError{Pos: pos, Msg: err.Error()})
			continue
		}
		if multi != "" {
			// A multi-line definition goes on while its lines end in '\'.
			if text != "" {
				if r.defs[multi] != "" {
					r.defs[multi] += "\n"
				}
				r.defs[multi] += text
			}
			if !cont {
				multi = ""
			}
			continue
		}
		if text == "" {
			if cont {
				r.errs = append(r.errs, &ParseError{Pos: pos, Msg: `a line ending in '\' continues only a $NAME=... definition; keepalived ignores this line`})
			}
			continue
		}
		// Conditional lines: "@ID text" only for config id ID, "@^ID text"
		// for every other.
		if text[0] == '@' {
			var ok bool
			text, ok = r.conditional(pos, text)
			if !ok {
				continue
			}
		}
		if name, value, ok := definition(text); ok {
			r.defs[name] = value
			if cont {
				multi = name
			}
			continue
		}
		if cont {
			r.errs = append(r.errs, &ParseError{Pos: pos, Msg: `a line ending in '\' continues only a $NAME=... definition; keepalived ignores this line`})
			continue
		}
		if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
			r.warn(pos, text, text[:4], "not translated: %s line generators are not supported; write the lines out", text[:4])
			continue
		}
		text = r.substitute(pos, text, name)
		for _, t := range strings.Split(text, "\n") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if r.include(pos, t) {
				continue
			}
			r.split(pos, t)
		}
	}
	if multi != "" {
		r.errs = append(r.errs, &ParseError{Pos: Pos{File: name, Line: len(src)}, Msg: fmt.Sprintf("definition $%s continues past the end of the file", multi)})
	}
}

// limit records a limit reached at pos, and stops reading.
func (r *reader) limit(pos Pos, format string, args ...any) {
	r.errs = append(r.errs, &ParseError{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	r.stop = true
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// conditional handles an "@ID ..." or "@^ID ..." line: the text without its
// condition, and whether it is kept.
func (r *reader) conditional(pos Pos, text string) (string, bool) {
	line := text
	neg := strings.HasPrefix(text, "@^")
	rest := strings.TrimPrefix(strings.TrimPrefix(text, "@"), "^")
	i := strings.IndexAny(rest, " \t")
	if i < 0 {
		return "", false
	}
	id, body := rest[:i], rest[i+1:]
	body = strings.TrimSpace(body)
	match := r.opts.ConfigID != "" && id == r.opts.ConfigID
	keep := match != neg
	if r.opts.ConfigID == "" {
		// keepalived's config id is -i, by default the director's host
		// name up to the first dot (main.c): the import cannot know it.
		if keep {
			r.warn(pos, line, "@^"+id, "kept: keepalived drops this line on a director whose config id (-i, by default its host name up to the first dot) is %s; pass --config-id with the director's id to import it as keepalived reads it there", id)
		} else {
			r.warn(pos, line, "@"+id, "not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is %s; pass --config-id %s to import it", id, id)
		}
	}
	return body, keep
}

// definition recognizes "$NAME=value".
func definition(text string) (name, value string, ok bool) {
	if len(text) < 3 || text[0] != '$' || !(isAlpha(text[1]) || text[1] == '_') {
		return "", "", false
	}
	i := 2
	for i < len(text) && (isAlnum(text[i]) || text[i] == '_') {
		i++
	}
	name = text[1:i]
	rest := strings.TrimLeft(text[i:], " \t")
	if !strings.HasPrefix(rest, "=") {
		return "", "", false
	}
	return name, strings.TrimSpace(rest[1:]), true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

// substitute replaces $NAME and ${NAME} of defined parameters (and the
// standard _PWD and _INSTANCE) in text.
func (r *reader) substitute(pos Pos, text, file string) string {
	if !strings.Contains(text, "$") {
		return text
	}
	raw := text
	warned := map[string]bool{}
	warnOnce := func(name, format string, args ...any) {
		if !warned[name] {
			warned[name] = true
			r.warn(pos, raw, "$"+name, format, args...)
		}
	}
	lookup := func(name string) (string, bool) {
		if v, ok := r.defs[name]; ok {
			return v, true
		}
		// keepalived's standard definitions (lib/parser.c).
		switch name {
		case "_PWD":
			dir, err := filepath.Abs(filepath.Dir(file))
			return dir, err == nil
		case "_INSTANCE":
			if r.opts.ConfigID == "" {
				warnOnce(name, "left as written: keepalived replaces $_INSTANCE with its config id (-i, by default the director's host name up to the first dot); pass --config-id with the director's id")
			}
			return r.opts.ConfigID, r.opts.ConfigID != ""
		case "_HASH":
			return "#", true
		case "_BANG":
			return "!", true
		}
		return "", false
	}
	if strings.Contains(text, "$_RANDOM") || strings.Contains(text, "${_RANDOM") {
		warnOnce("_RANDOM", "left as written: keepalived replaces $_RANDOM with a random number each time it reads the file; write the value out")
	}
	var b strings.Builder
	for pass := 0; pass < 10 && strings.Contains(text, "$"); pass++ {
		b.Reset()
		changed := false
		for i := 0; i < len(text); i++ {
			if text[i] != '$' || i+1 >= len(text) {
				b.WriteByte(text[i])
				continue
			}
			j, braces := i+1, false
			if text[j] == '{' {
				braces, j = true, j+1
			}
			k := j
			for k < len(text) && (isAlnum(text[k]) || text[k] == '_') {
				k++
			}
			if k == j || !(isAlpha(text[j]) || text[j] == '_') || (braces && (k >= len(text) || text[k] != '}')) {
				b.WriteByte(text[i])
				continue
			}
			v, ok := lookup(text[j:k])
			if !ok {
				b.WriteByte(text[i])
				continue
			}
			b.WriteString(v)
			changed = true
			if braces {
				k++
			}
			i = k - 1
		}
		text = b.String()
		if !changed {
			break
		}
	}
	return text
}

// include handles "include PATTERN": every regular file the pattern matches,
// relative to the including file's directory, is read in its place.
func (r *reader) include(pos Pos, text string) bool {
	words, err := splitWords(text)
	// includer, includem, includew, includeb and includea are include with
	// keepalived's checks of the match (include_check): read the same.
	if err != nil || len(words) != 2 || !slices.Contains([]string{"include", "includer", "includem", "includew", "includeb", "includea"}, words[0]) {
		return false
	}
	pattern := words[1]
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(pos.File), pattern)
	}
	if r.stop {
		return true
	}
	patterns, ok := expandBraces(pattern, r.lim.Files)
	if !ok {
		r.limit(pos, "include %s: its braces make more than %d patterns", words[1], r.lim.Files)
		return true
	}
	var matches []string
	for _, p := range patterns {
		m, err := r.fs.glob(p)
		if err != nil {
			r.errs = append(r.errs, &ParseError{Pos: pos, Msg: fmt.Sprintf("include %s: %v", words[1], err)})
			return true
		}
		matches = append(matches, m...)
	}
	sort.Strings(matches)
	matches = slices.DeleteFunc(matches, func(m string) bool {
		st, err := r.fs.stat(m)
		return err == nil && st.IsDir()
	})
	if left := r.lim.Files - r.read; left == 0 && len(matches) > 0 {
		r.limit(pos, "include %s: more than %d files to read (each file an include matches counts): does an include fan out?", words[1], r.lim.Files)
		return true
	} else if len(matches) > left {
		r.limit(pos, "include %s: %d files match, more than the %d left of the limit of %d files to read", words[1], len(matches), left, r.lim.Files)
		return true
	}
	n := 0
	for _, m := range matches {
		n++
		r.readFile(m, &pos, text)
	}
	if n == 0 {
		r.warn(pos, text, words[0], "not translated: no file matches %s (keepalived skips it too)", pattern)
	}
	return true
}

// expandBraces expands glob braces ("a{b,c}d"), as keepalived's GLOB_BRACE;
// false when that makes more than max patterns.
func expandBraces(p string, max int) ([]string, bool) {
	var out []string
	var expand func(p string) bool
	expand = func(p string) bool {
		open := strings.IndexByte(p, '{')
		if open < 0 {
			out = append(out, p)
			return len(out) <= max
		}
		depth := 0
		for i := open; i < len(p); i++ {
			switch p[i] {
			case '{':
				depth++
			case '}':
				depth--
				if depth != 0 {
					continue
				}
				var alts []string
				start, d := open+1, 0
				for j := open + 1; j < i; j++ {
					switch p[j] {
					case '{':
						d++
					case '}':
						d--
					case ',':
						if d == 0 {
							alts = append(alts, p[start:j])
							start = j + 1
						}
					}
				}
				alts = append(alts, p[start:i])
				for _, a := range alts {
					if !expand(p[:open] + a + p[i+1:]) {
						return false
					}
				}
				return true
			}
		}
		out = append(out, p)
		return len(out) <= max
	}
	return out, expand(p)
}

// split cuts text at every brace outside double quotes, as keepalived does:
// "TCP_CHECK { connect_timeout 3 }" is the lines "TCP_CHECK", "{",
// "connect_timeout 3" and "}".
func (r *reader) split(pos Pos, text string) {
	for text != "" {
		if text[0] == '{' || text[0] == '}' {
			r.lines = append(r.lines, line{pos, text[:1]})
			text = strings.TrimSpace(text[1:])
			continue
		}
		i, quote := 0, false
		for ; i < len(text); i++ {
			c := text[i]
			if c == '"' {
				quote = !quote
			} else if !quote && (c == '{' || c == '}') {
				break
			}
		}
		r.lines = append(r.lines, line{pos, strings.TrimSpace(text[:i])})
		text = strings.TrimSpace(text[i:])
	}
}

// decomment removes a comment ('!' or '#' outside double quotes, to the end
// of the line) and surrounding blanks, and unescapes "\#" and "\!". cont is
// set when the line ends in a lone '\'.
func decomment(s string) (text string, cont bool, err error) {
	s = strings.TrimRight(s, "\r")
	var b strings.Builder
	quote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quote = !quote
		case c == '\\':
			if i+1 == len(s) {
				cont = true
				i++
				continue
			}
			if !quote && (s[i+1] == '#' || s[i+1] == '!') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte(c)
			b.WriteByte(s[i+1])
			i++
			continue
		case !quote && (c == '!' || c == '#'):
			return strings.TrimSpace(b.String()), cont, nil
		}
		b.WriteByte(c)
	}
	if quote {
		return "", false, errors.New("unterminated quoted string")
	}
	return strings.TrimSpace(b.String()), cont, nil
}

// splitWords splits a line as keepalived's alloc_strvec: words separated by
// blanks; a word that starts with a double quote runs to the next one and
// is taken without its quotes; a double quote also ends an unquoted word.
func splitWords(s string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		if i >= len(s) {
			return words, nil
		}
		if s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, errors.New("unterminated quoted string")
			}
			words = append(words, s[i+1:i+1+end])
			i += end + 2
			continue
		}
		j := i
		for j < len(s) && !isBlank(s[j]) && s[j] != '"' {
			j++
		}
		words = append(words, s[i:j])
		i = j
	}
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\n' || c == '\r'
}

// tree builds the statements from the logical lines.
func (r *reader) tree() []*Stmt {
	i := 0
	var parse func(open *Stmt) []*Stmt
	parse = func(open *Stmt) []*Stmt {
		var out []*Stmt
		for i < len(r.lines) {
			l := r.lines[i]
			i++
			switch l.text {
			case "}":
				if open != nil {
					open.End = l.pos
					return out
				}
				r.errs = append(r.errs, &ParseError{Pos: l.pos, Msg: "unexpected '}': no block is open"})
			case "{":
				if len(out) == 0 || out[len(out)-1].HasBlock {
					r.errs = append(r.errs, &ParseError{Pos: l.pos, Msg: "unexpected '{': a block opens after its keyword"})
					// Parse it anyway, to stay in step with the braces.
					parse(&Stmt{Pos: l.pos})
					continue
				}
				last := out[len(out)-1]
				last.HasBlock = true
				last.Block = parse(last)
			default:
				words, err := splitWords(l.text)
				if err != nil {
					r.errs = append(r.errs, &ParseError{Pos: l.pos, Msg: err.Error()})
					continue
				}
				out = append(out, &Stmt{Pos: l.pos, Words: words, Raw: l.text})
			}
		}
		if open != nil && open.Words != nil {
			r.errs = append(r.errs, &ParseError{Pos: open.Pos, Msg: fmt.Sprintf("block %s is not closed: '}' missing", shownKeyword(open.Keyword()))})
		}
		return out
	}
	return parse(nil)
}

// shownKeyword is kw if it looks like a keyword; a line that is not a
// keepalived statement (a file that is not keepalived's) is not shown.
func shownKeyword(kw string) string {
	if looksLikeKeyword(kw) {
		return kw
	}
	return "(not shown: not a keepalived statement)"
}

func (r *reader) warn(pos Pos, raw, kw, format string, args ...any) {
	r.diag(pos, raw, Warning, kw, fmt.Sprintf(format, args...))
}

func (r *reader) note(pos Pos, raw, kw, format string, args ...any) {
	r.diag(pos, raw, Note, kw, fmt.Sprintf(format, args...))
}

func (r *reader) diag(pos Pos, raw string, sev Severity, kw, msg string) {
	r.diags = append(r.diags, Diag{Pos: pos, Severity: sev, Keyword: kw, Msg: msg})
	r.comments = append(r.comments, hcomment{fmt.Sprintf("%s: %s: %s", pos, sev, msg), raw})
}

// Parse reads a keepalived configuration file and the files it includes.
// Problems that keepalived would get past (an include that matches
// nothing, a line for another config id) are returned as diagnostics;
// syntax errors as ParseErrors.
func Parse(name string, opts Options) ([]*Stmt, []Diag, error) {
	r, stmts := read(name, opts)
	if len(r.errs) > 0 {
		return nil, r.diags, r.errs
	}
	return stmts, r.diags, nil
}

// read reads file name and what it includes into statements.
func read(name string, opts Options) (*reader, []*Stmt) {
	r := &reader{opts: opts, fs: opts.files(), lim: opts.limits(), defs: map[string]string{}, opened: map[string]bool{}}
	r.readFile(name, nil, "")
	return r, r.tree()
}
