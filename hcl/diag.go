package hcl

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// DefaultMaxDiagnostics is how many diagnostics WriteDiagnostics prints
// before it summarizes the rest in one line.
const DefaultMaxDiagnostics = 50

const (
	// snippetLines is the most source lines one diagnostic shows.
	snippetLines = 8
	// snippetWidth is the most bytes of one source line shown; a longer
	// line is cut around the offending range.
	snippetWidth = 160
	// mask replaces the value of a secret attribute.
	mask = "***"
)

// WriteDiagnostics renders at most DefaultMaxDiagnostics of diags, as
// RenderDiagnostics does.
func WriteDiagnostics(w io.Writer, files Files, diags hcl.Diagnostics) error {
	return RenderDiagnostics(context.Background(), w, files, diags, DefaultMaxDiagnostics)
}

// RenderDiagnostics writes diags in their order, each as
//
//	FILE:LINE:COL: Error: Summary
//	  Detail
//	  in virtual_server "web":
//	     7 |     weight  = -1
//	       |               ^^
//
// followed by a blank line: the detail, the top-level block the diagnostic
// is in, and the source lines of its Subject with the Subject marked. It
// prints at most max diagnostics (max <= 0: all), then one line counting
// the errors and warnings left out.
//
// Where Context covers Subject, the snippet shows all of Context (at most
// 8 lines); where Context is another place (the first definition of a
// duplicate, say), the snippet shows Subject alone and the Detail names
// the other place. Lines longer than 160 bytes are cut around Subject, and
// control characters are shown as '?'.
//
// The value of every attribute whose name is, or looks like, a secret's
// (see IsSecretName) is shown as *** in every snippet, whatever the
// diagnostic, even where the line does not parse; a secret's text in a
// Summary or Detail is masked too.
//
// Rendering takes time linear in the sizes of the files and of the output.
// It stops and returns ctx.Err() when ctx is done.
func RenderDiagnostics(ctx context.Context, w io.Writer, files Files, diags hcl.Diagnostics, max int) error {
	if len(diags) == 0 {
		return nil
	}
	r := newRenderer(files)
	bw := bufio.NewWriterSize(w, 32<<10)
	shown := len(diags)
	if max > 0 && max < shown {
		shown = max
	}
	for i, d := range diags[:shown] {
		if i%16 == 0 {
			if err := ctx.Err(); err != nil {
				_ = bw.Flush()
				return err
			}
		}
		if d == nil {
			continue
		}
		r.write(bw, d)
	}
	if shown < len(diags) {
		var errs, warns int
		for _, d := range diags[shown:] {
			if d != nil && d.Severity == hcl.DiagError {
				errs++
			} else {
				warns++
			}
		}
		var parts []string
		if errs > 0 {
			parts = append(parts, plural(errs, "more error"))
		}
		if warns > 0 {
			parts = append(parts, plural(warns, "more warning"))
		}
		fmt.Fprintf(bw, "... and %s\n", strings.Join(parts, " and "))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// renderer holds what rendering needs of each file, computed once.
type renderer struct {
	files map[string]*fileIndex
	// scrub masks secrets in Summary and Detail; nil if there are none.
	scrub *strings.Replacer
	line  []byte // scratch
}

// fileIndex is one file prepared for snippets.
type fileIndex struct {
	src     []byte
	lines   []int   // byte offset of the start of each line
	secrets []span  // values of secret attributes, sorted, disjoint
	blocks  []block // top-level blocks, in file order
}

type span struct{ start, end int }

// block is a top-level block: where it is, and what to call it.
type block struct {
	span
	b *hclsyntax.Block
}

func newRenderer(files Files) *renderer {
	r := &renderer{files: make(map[string]*fileIndex, len(files))}
	var literals []string
	for name, f := range files {
		if f == nil || f.Bytes == nil {
			continue
		}
		fi := &fileIndex{src: f.Bytes, lines: lineStarts(f.Bytes)}
		fi.secrets, literals = secretSpans(f.Bytes, literals)
		if b, ok := f.Body.(*hclsyntax.Body); ok {
			fi.blocks = make([]block, len(b.Blocks))
			for i, b := range b.Blocks {
				r := b.Range()
				fi.blocks[i] = block{span{r.Start.Byte, r.End.Byte}, b}
			}
		}
		r.files[name] = fi
	}
	if len(literals) > 0 {
		// Longest first, so that a secret holding another is masked whole.
		slices.SortFunc(literals, func(a, b string) int { return len(b) - len(a) })
		pairs := make([]string, 0, 2*len(literals))
		for _, l := range slices.Compact(literals) {
			pairs = append(pairs, l, mask)
		}
		r.scrub = strings.NewReplacer(pairs...)
	}
	return r
}

func lineStarts(src []byte) []int {
	lines := []int{0}
	for i, c := range src {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// lineOf returns the index in lines of the line holding offset off.
func (fi *fileIndex) lineOf(off int) int {
	i, found := slices.BinarySearch(fi.lines, off)
	if !found {
		i--
	}
	return i
}

// lineEnd returns the end of line i, without its newline (or \r\n).
func (fi *fileIndex) lineEnd(i int) int {
	end := len(fi.src)
	if i+1 < len(fi.lines) {
		end = fi.lines[i+1] - 1
	}
	if end > fi.lines[i] && fi.src[end-1] == '\r' {
		end--
	}
	return end
}

// context names the top-level block holding off, as hcl's writer does.
func (fi *fileIndex) context(off int) string {
	i, _ := slices.BinarySearchFunc(fi.blocks, off, func(b block, off int) int {
		if b.end <= off {
			return -1
		}
		return 1
	})
	if i == len(fi.blocks) || fi.blocks[i].start > off {
		return ""
	}
	b := fi.blocks[i].b
	if IsSecretName(b.Type) {
		return b.Type
	}
	var s strings.Builder
	s.WriteString(b.Type)
	for _, l := range b.Labels {
		s.WriteByte(' ')
		s.WriteString(strconv.Quote(l))
	}
	return s.String()
}

func (r *renderer) text(s string) string {
	if r.scrub != nil {
		s = r.scrub.Replace(s)
	}
	return sanitize(s)
}

// sanitize replaces control characters but newline and tab, so that a
// hostile file cannot drive the terminal.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func (r *renderer) write(w *bufio.Writer, d *hcl.Diagnostic) {
	sev := "Error"
	if d.Severity == hcl.DiagWarning {
		sev = "Warning"
	}
	if d.Subject != nil {
		w.WriteString(sanitize(d.Subject.Filename))
		w.WriteByte(':')
		w.WriteString(strconv.Itoa(d.Subject.Start.Line))
		w.WriteByte(':')
		w.WriteString(strconv.Itoa(d.Subject.Start.Column))
		w.WriteString(": ")
	}
	w.WriteString(sev)
	w.WriteString(": ")
	w.WriteString(r.text(d.Summary))
	w.WriteByte('\n')
	if d.Detail != "" {
		for l := range strings.SplitSeq(r.text(d.Detail), "\n") {
			w.WriteString("  ")
			w.WriteString(l)
			w.WriteByte('\n')
		}
	}
	if d.Subject != nil {
		if fi := r.files[d.Subject.Filename]; fi != nil {
			r.snippet(w, fi, d)
		}
	}
	w.WriteByte('\n')
}

// snippet writes the source lines of d, Subject marked.
func (r *renderer) snippet(w *bufio.Writer, fi *fileIndex, d *hcl.Diagnostic) {
	clamp := func(off int) int { return min(max(off, 0), len(fi.src)) }
	hs, he := clamp(d.Subject.Start.Byte), clamp(d.Subject.End.Byte)
	if he < hs {
		he = hs
	}
	ss, se := hs, he
	if c := d.Context; c != nil && contains(*c, *d.Subject) {
		ss, se = min(ss, clamp(c.Start.Byte)), max(se, clamp(c.End.Byte))
	}
	if he == hs {
		he++ // an empty range is marked as one character
	}
	first, last := fi.lineOf(ss), fi.lineOf(max(se-1, ss))
	subject := fi.lineOf(hs)
	// At most snippetLines, starting a little before Subject.
	from := max(first, min(subject-2, last-snippetLines+1))
	to := min(last, from+snippetLines-1)

	if ctx := fi.context(hs); ctx != "" {
		w.WriteString("  in ")
		w.WriteString(sanitize(ctx))
		w.WriteString(":\n")
	}
	width := len(strconv.Itoa(to + 1))
	num := func(n int) {
		s := ""
		if n > 0 {
			s = strconv.Itoa(n)
		}
		w.WriteString("  ")
		for range width + 2 - len(s) {
			w.WriteByte(' ')
		}
		w.WriteString(s)
		w.WriteString(" | ")
	}
	if from > first {
		num(0)
		w.WriteString("...\n")
	}
	for i := from; i <= to; i++ {
		ls, le := fi.lines[i], fi.lineEnd(i)
		line, cs, ce := r.render(fi, ls, le, hs, he)
		num(i + 1)
		w.Write(line)
		w.WriteByte('\n')
		if cs < 0 {
			continue
		}
		num(0)
		for _, c := range string(line[:cs]) {
			if c == '\t' {
				w.WriteByte('\t')
			} else {
				w.WriteByte(' ')
			}
		}
		for range max(1, utf8.RuneCount(line[cs:ce])) {
			w.WriteByte('^')
		}
		w.WriteByte('\n')
	}
	if to < last {
		num(0)
		w.WriteString("...\n")
	}
}

// render returns the display text of the line src[ls:le], with secrets
// masked, control characters replaced and cut to snippetWidth, and where
// [hs,he) falls in it (cs < 0: not in this line).
func (r *renderer) render(fi *fileIndex, ls, le, hs, he int) (line []byte, cs, ce int) {
	src := fi.src
	// The window: the whole line, or snippetWidth bytes around Subject.
	ws, we := ls, le
	if le-ls > snippetWidth {
		anchor := ls
		if hs >= ls && hs <= le {
			anchor = hs
		}
		ws = max(ls, anchor-snippetWidth/4)
		for ws > ls && !utf8.RuneStart(src[ws]) {
			ws--
		}
		we = min(le, ws+snippetWidth)
		for we < le && !utf8.RuneStart(src[we]) {
			we++
		}
	}
	out := r.line[:0]
	if ws > ls {
		out = append(out, "..."...)
	}
	touches := hs <= le && he > ls
	cs, ce = -1, -1
	if touches && hs < ws {
		cs = len(out)
	}
	// The first secret span that ends after ws.
	k, _ := slices.BinarySearchFunc(fi.secrets, ws, func(s span, off int) int {
		if s.end <= off {
			return -1
		}
		return 1
	})
	for p := ws; p < we; {
		if touches && p == hs {
			cs = len(out)
		}
		if touches && p == he {
			ce = len(out)
		}
		if k < len(fi.secrets) && fi.secrets[k].start <= p {
			end := min(fi.secrets[k].end, we)
			if touches && hs > p && hs < end {
				cs = len(out)
			}
			out = append(out, mask...)
			if touches && he > p && he <= end {
				ce = len(out)
			}
			p = end
			k++
			continue
		}
		c := src[p]
		n := 1
		switch {
		case c == '\t':
			out = append(out, c)
		case c < 0x20 || c == 0x7f:
			out = append(out, '?')
		case c < utf8.RuneSelf:
			out = append(out, c)
		default:
			var rn rune
			rn, n = utf8.DecodeRune(src[p:we])
			if rn == utf8.RuneError && n <= 1 {
				out = append(out, '?')
				n = 1
			} else {
				out = append(out, src[p:p+n]...)
			}
		}
		p += n
	}
	if touches {
		if cs < 0 { // Subject starts at or past the window's end
			cs = len(out)
		}
		if ce < 0 || he >= we {
			ce = len(out)
		}
	}
	if we < le {
		out = append(out, "..."...)
	}
	r.line = out
	return out, cs, max(ce, cs)
}

// contains reports whether outer covers inner.
func contains(outer, inner hcl.Range) bool {
	return outer.Filename == inner.Filename &&
		outer.Start.Byte <= inner.Start.Byte && inner.End.Byte <= outer.End.Byte
}
