package hcl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Limits bound what a configuration file may ask of the parser. They are
// checked before hclsyntax sees the bytes, by one linear scan that does not
// recurse: hclsyntax parses expressions and bodies by recursive descent, and
// a Go stack overflow (about 100,000 nested parentheses are enough) kills
// the process without a chance to recover. The zero value of each field
// means its default.
type Limits struct {
	// MaxSize is the largest file in bytes (default DefaultMaxSize). Load
	// reads at most this many bytes and one more.
	MaxSize int64
	// MaxDepth bounds nesting (default DefaultMaxDepth). Each enclosing
	// block, parenthesis, bracket, brace, quoted string, heredoc and
	// template sequence (${ and %{) counts one level, and so does each
	// operator (unary, binary, conditional ? :, splat, index, template
	// directive) of an enclosing expression up to the point: hclsyntax
	// recurses once per unary and conditional operator and builds one level
	// of syntax tree per binary operator, which is walked recursively
	// later. A real configuration stays below 10.
	MaxDepth int
	// MaxBlocks is the largest number of blocks in a file, counted at
	// every level (default DefaultMaxBlocks).
	MaxBlocks int
}

// Default limits: generous for generated tables (100,000 services with
// their real servers and checks are 10 to 20 MB), far below what exhausts
// the stack or memory.
const (
	DefaultMaxSize   = 64 << 20
	DefaultMaxDepth  = 100
	DefaultMaxBlocks = 1_000_000
)

// DefaultLimits returns the limits Load and Parse apply.
func DefaultLimits() Limits {
	return Limits{MaxSize: DefaultMaxSize, MaxDepth: DefaultMaxDepth, MaxBlocks: DefaultMaxBlocks}
}

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxSize <= 0 {
		l.MaxSize = d.MaxSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxBlocks <= 0 {
		l.MaxBlocks = d.MaxBlocks
	}
	return l
}

// Load is the package's Load under these limits.
func (l Limits) Load(filename string) (*Config, Files, hcl.Diagnostics) {
	src, diags := l.ReadFile(filename)
	if diags.HasErrors() {
		files := Files{}
		if src != nil {
			files[filename] = &hcl.File{Bytes: src}
		}
		return nil, files, diags
	}
	return l.Parse(src, filename)
}

// Parse is the package's Parse under these limits.
func (l Limits) Parse(src []byte, filename string) (*Config, Files, hcl.Diagnostics) {
	if diags := l.Check(src, filename); diags.HasErrors() {
		// The bytes are there for the snippet; there is no syntax tree.
		return nil, Files{filename: &hcl.File{Bytes: src}}, diags
	}
	f, diags := parseConfig(src, filename)
	return load(Files{filename: f}, f, diags)
}

// ReadFile reads a configuration file, at most MaxSize bytes: a larger
// file (or an endless one, such as /dev/zero) is refused with a diagnostic
// pointing at its first byte past the limit, and the bytes read so far.
func (l Limits) ReadFile(filename string) ([]byte, hcl.Diagnostics) {
	l = l.withDefaults()
	f, err := os.Open(filename)
	if err != nil {
		return nil, readError(filename, err)
	}
	defer f.Close()
	// Grow by doubling up to the limit and one byte, never past it.
	size := int64(64 << 10)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size() + 1
	}
	src := make([]byte, 0, min(size, l.MaxSize+1))
	for {
		if len(src) == cap(src) {
			if int64(len(src)) > l.MaxSize {
				break
			}
			src = slices.Grow(src, int(min(int64(cap(src)), l.MaxSize+1-int64(len(src)))))
		}
		n, err := f.Read(src[len(src):cap(src)])
		src = src[:len(src)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readError(filename, err)
		}
	}
	if int64(len(src)) > l.MaxSize {
		return src[:l.MaxSize], hcl.Diagnostics{tooLarge(src[:l.MaxSize], filename, l.MaxSize)}
	}
	return src, nil
}

func readError(filename string, err error) hcl.Diagnostics {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is in the message already
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Failed to read file",
		Detail:   fmt.Sprintf("The configuration file %q could not be read: %v.", filename, err),
		Subject:  &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
	}}
}

func tooLarge(src []byte, filename string, limit int64) *hcl.Diagnostic {
	at := posAt(src, len(src))
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Configuration file too large",
		Detail: fmt.Sprintf("The file is larger than the limit of %s (%d bytes); nothing past it was read. "+
			"If the file is genuine, raise the limit with --max-config-size.", sizeString(limit), limit),
		Subject: &hcl.Range{Filename: filename, Start: at, End: at},
	}
}

// sizeString writes n bytes in the largest binary unit that divides it.
func sizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// posAt returns the position of byte offset off of src. Columns count
// characters (runes), as hcl's do for all but combining sequences.
func posAt(src []byte, off int) hcl.Pos {
	line := 1 + bytes.Count(src[:off], []byte{'\n'})
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(src[start:off]), Byte: off}
}

// Check applies the limits to src without parsing it: at most one
// diagnostic, for the first limit exceeded.
func (l Limits) Check(src []byte, filename string) hcl.Diagnostics {
	l = l.withDefaults()
	if int64(len(src)) > l.MaxSize {
		return hcl.Diagnostics{tooLarge(src[:l.MaxSize], filename, l.MaxSize)}
	}
	s := scanner{src: src, maxDepth: l.MaxDepth, maxBlocks: l.MaxBlocks}
	off, what := s.scan()
	if what == limitNone {
		return nil
	}
	at := posAt(src, off)
	end := at
	if off < len(src) {
		_, n := utf8.DecodeRune(src[off:])
		end = hcl.Pos{Line: at.Line, Column: at.Column + 1, Byte: off + n}
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Subject:  &hcl.Range{Filename: filename, Start: at, End: end},
	}
	switch what {
	case limitDepth:
		d.Summary = "Configuration nested too deeply"
		d.Detail = fmt.Sprintf("The configuration nests more than %d levels deep here; it is refused before parsing, "+
			"since parsing it could exhaust the stack. Each enclosing block, bracket, brace, parenthesis, string, "+
			"template sequence and operator of an enclosing expression counts one level; "+
			"a real configuration stays below 10.", l.MaxDepth)
	case limitTemplate:
		d.Summary = "String too complex"
		d.Detail = "This string or heredoc has too many lines or pieces for its size: parsing joins them at a cost " +
			"that grows with the product of the two (an unterminated heredoc runs to the end of the file). " +
			"It is refused before parsing; shorten it, or keep the text in a file of its own."
	case limitBlocks:
		d.Summary = "Too many blocks"
		d.Detail = fmt.Sprintf("The file has more than %d blocks; this is the first past the limit.", l.MaxBlocks)
	}
	return hcl.Diagnostics{d}
}

type limitKind int

const (
	limitNone limitKind = iota
	limitDepth
	limitBlocks
	limitTemplate
)

// maxTemplateCost bounds the work hclsyntax does to join the literal
// pieces of one string or heredoc (see templateCost).
const maxTemplateCost = 1 << 30

// templateCost estimates what hclsyntax spends on a template of this many
// literal pieces and bytes: it joins consecutive pieces one at a time,
// copying the text joined so far and moving the pieces after it, which is
// quadratic (a heredoc of 200,000 lines takes minutes).
func templateCost(parts, length int) int64 {
	p := int64(parts)
	return p*int64(length)/2 + 16*p*p
}

// levelKind is what opened a level of the scan.
type levelKind uint8

const (
	levelBlock   levelKind = iota // a block body: newline ends an item
	levelParen                    // ( ... )
	levelBrack                    // [ ... ]
	levelObject                   // { ... } in an expression: newline ends an item
	levelInterp                   // ${ ... } or %{ ... }
	levelQuote                    // " ... "
	levelHeredoc                  // <<EOT ... EOT
)

type level struct {
	kind levelKind
	// ops counts the operators of the expression being scanned at this
	// level, since its last separator.
	ops int
	// value is set in a block body once "=" was seen on the line: a brace
	// then opens an object, not a block.
	value bool
	// marker ends a heredoc; lineStart is set at the start of its lines.
	marker    []byte
	lineStart bool
	// start and parts are where a string or heredoc starts and how many
	// literal pieces hclsyntax will see in it, at least.
	start, parts int
}

// scanner is a tokenizer of HCL native syntax reduced to what bounds the
// parser's recursion: comments, strings, heredocs and template sequences
// are followed exactly as hclsyntax's scanner does, so that brackets in
// them are not counted, and every opening bracket and operator is. Where
// the file is malformed the scan errs on the side of counting more.
type scanner struct {
	src                 []byte
	maxDepth, maxBlocks int

	stack []level // the file's body is the bottom, never popped
	// noCommentEnd is set once a search for */ failed.
	noCommentEnd bool
	depth        int // levels above the bottom plus their ops
	blocks       int
}

func (s *scanner) top() *level { return &s.stack[len(s.stack)-1] }

func (s *scanner) push(k levelKind, i int) bool {
	s.stack = append(s.stack, level{kind: k, start: i})
	s.depth++
	return s.depth <= s.maxDepth
}

func (s *scanner) op() bool {
	s.top().ops++
	s.depth++
	return s.depth <= s.maxDepth
}

// piece counts n literal pieces in the template at the top, at offset i.
func (s *scanner) piece(n, i int) bool {
	t := s.top()
	t.parts += n
	return templateCost(t.parts, i-t.start) <= maxTemplateCost
}

func (s *scanner) pop() {
	t := s.top()
	s.depth -= 1 + t.ops
	s.stack = s.stack[:len(s.stack)-1]
}

// separate ends the expression at the top level: a comma, or a newline
// where newlines end items.
func (s *scanner) separate() {
	t := s.top()
	s.depth -= t.ops
	t.ops = 0
	t.value = false
}

// popTo pops levels down to and including the nearest one of kind k (or,
// for "}", any brace-like level), unless a brace-like level (or the file's
// body) comes first: then the closer is stray and ignored, as hclsyntax's
// recovery skips it.
func (s *scanner) popTo(closer byte) {
	for i := len(s.stack) - 1; i > 0; i-- {
		k := s.stack[i].kind
		braceLike := k == levelBlock || k == levelObject || k == levelInterp
		match := closer == '}' && braceLike ||
			closer == ')' && k == levelParen ||
			closer == ']' && k == levelBrack
		if match {
			for len(s.stack) > i {
				s.pop()
			}
			return
		}
		if braceLike || k == levelQuote || k == levelHeredoc {
			return
		}
	}
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '-'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// template handles byte c at i of a quoted string's or heredoc's literal
// text: a newline or a $ or % cuts the literal into another piece, as
// hclsyntax's scanner does ($${ and %%{ are literal), and ${ and %{ open a
// template sequence (a directive also counts as an operator: if and for
// nest their bodies). It returns where the scan goes on, or the offset and
// kind of an exceeded limit.
func (s *scanner) template(c byte, i int, at func(int) byte) (next, off int, kind limitKind) {
	switch {
	case c == '\n':
		if !s.piece(1, i) {
			return i, i, limitTemplate
		}
	case (c == '$' || c == '%') && at(i+1) == c && at(i+2) == '{':
		i += 2
		if !s.piece(2, i) {
			return i, i - 2, limitTemplate
		}
	case c == '$' && at(i+1) == '{':
		if !s.piece(2, i) {
			return i, i, limitTemplate
		}
		if !s.push(levelInterp, i+1) {
			return i + 1, i, limitDepth
		}
		i++
	case c == '%' && at(i+1) == '{':
		if !s.piece(2, i) {
			return i, i, limitTemplate
		}
		if !s.op() || !s.push(levelInterp, i+1) {
			return i + 1, i, limitDepth
		}
		i++
	case c == '$' || c == '%':
		if !s.piece(2, i) {
			return i, i, limitTemplate
		}
	}
	return i, 0, limitNone
}

// scan returns the offset at which a limit is first exceeded, and which.
func (s *scanner) scan() (int, limitKind) {
	src := s.src
	s.stack = append(s.stack[:0], level{kind: levelBlock})
	s.noCommentEnd = false
	at := func(i int) byte {
		if i < len(src) {
			return src[i]
		}
		return 0
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		t := s.top()
		switch t.kind {
		case levelQuote:
			switch {
			case c == '\\' && at(i+1) != '\n' && at(i+1) != '\r':
				i++ // an escape: the next byte is literal
			case c == '"':
				if templateCost(t.parts, i-t.start) > maxTemplateCost {
					return i, limitTemplate
				}
				s.pop()
			default:
				next, off, kind := s.template(c, i, at)
				if kind != limitNone {
					return off, kind
				}
				i = next
			}
			continue
		case levelHeredoc:
			if t.lineStart {
				end := bytes.IndexByte(src[i:], '\n')
				if end < 0 {
					end = len(src) - i
				}
				if bytes.Equal(bytes.TrimSpace(src[i:i+end]), t.marker) {
					if templateCost(t.parts, i-t.start) > maxTemplateCost {
						return i, limitTemplate
					}
					s.pop()
					i += end - 1 // the newline ends the attribute
					continue
				}
				t.lineStart = false
			}
			if c == '\n' {
				t.lineStart = true
			}
			next, off, kind := s.template(c, i, at)
			if kind != limitNone {
				return off, kind
			}
			i = next
			continue
		}

		// Code: a body, an expression or a template sequence.
		switch {
		case c == '\n':
			if k := t.kind; k == levelBlock || k == levelObject {
				s.separate()
			}
		case c == ' ' || c == '\t' || c == '\r':
		case c == '#' || c == '/' && at(i+1) == '/':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case c == '/' && at(i+1) == '*':
			end := -1
			if !s.noCommentEnd {
				end = bytes.Index(src[i+2:], []byte("*/"))
			}
			if end < 0 {
				// None further on either: do not search again (/*/*/*...
				// would be quadratic).
				s.noCommentEnd = true
				// Unterminated: hclsyntax lexes / and * and goes on.
				if !s.op() {
					return i, limitDepth
				}
				continue
			}
			i += 2 + end + 1
		case c == '"':
			if !s.push(levelQuote, i) {
				return i, limitDepth
			}
		case c == '<' && at(i+1) == '<':
			j := i + 2
			if at(j) == '-' {
				j++
			}
			k := j
			for k < len(src) && isIdentByte(src[k]) {
				k++
			}
			nl := k
			if at(nl) == '\r' {
				nl++
			}
			if k > j && isIdentStart(src[j]) && at(nl) == '\n' {
				if !s.push(levelHeredoc, i) {
					return i, limitDepth
				}
				h := s.top()
				h.marker, h.lineStart = src[j:k], true
				i = nl
				continue
			}
			if !s.op() {
				return i, limitDepth
			}
			i++
		case isIdentStart(c):
			for i+1 < len(src) && isIdentByte(src[i+1]) {
				i++
			}
		case isDigit(c):
			for i+1 < len(src) && (isDigit(src[i+1]) || src[i+1] == '.') {
				i++
			}
			if e := at(i + 1); e == 'e' || e == 'E' {
				j := i + 2
				if at(j) == '+' || at(j) == '-' {
					j++
				}
				if isDigit(at(j)) {
					i = j
					for i+1 < len(src) && isDigit(src[i+1]) {
						i++
					}
				}
			}
		case c == '(':
			if !s.push(levelParen, i) {
				return i, limitDepth
			}
		case c == '[':
			// An index or splat after a value nests the syntax tree (and
			// [*] the parser): count it in the enclosing expression too.
			if !s.op() || !s.push(levelBrack, i) {
				return i, limitDepth
			}
		case c == '{':
			kind := levelObject
			if t.kind == levelBlock && !t.value {
				kind = levelBlock
				s.blocks++
				if s.blocks > s.maxBlocks {
					return i, limitBlocks
				}
			}
			if !s.push(kind, i) {
				return i, limitDepth
			}
		case c == ')' || c == ']' || c == '}':
			s.popTo(c)
		case c == ',':
			s.separate()
		case c == '=':
			switch at(i + 1) {
			case '=':
				i++
				if !s.op() {
					return i - 1, limitDepth
				}
			case '>':
				i++ // => of a for expression
			default:
				if t.kind == levelBlock {
					t.value = true
				}
			}
		case c == '&' && at(i+1) == '&', c == '|' && at(i+1) == '|',
			c == '!' && at(i+1) == '=', c == '<' && at(i+1) == '=', c == '>' && at(i+1) == '=':
			i++
			if !s.op() {
				return i - 1, limitDepth
			}
		case c == '!' || c == '-' || c == '+' || c == '*' || c == '/' || c == '%' ||
			c == '<' || c == '>' || c == '?':
			if !s.op() {
				return i, limitDepth
			}
		}
	}
	for _, l := range s.stack {
		if (l.kind == levelQuote || l.kind == levelHeredoc) && templateCost(l.parts, len(src)-l.start) > maxTemplateCost {
			return len(src), limitTemplate
		}
	}
	return -1, limitNone
}
