package hcl

import (
	"runtime"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Large files are parsed in pieces. hclsyntax lexes a whole file into one
// slice of tokens before parsing it; for a generated table of thousands of
// services that slice is tens of megabytes, grown by doubling, and its
// growth and garbage collection cost more than the lexing itself. A file is
// a sequence of top-level blocks and attributes, so it can be cut at the
// ends of its top-level blocks and the pieces parsed on their own, each
// with its real start position, so that every range (and so every
// diagnostic) is the one a whole-file parse reports. Pieces are parsed in
// parallel.
//
// The cutter is deliberately simple: it tracks comments, quoted strings
// and brackets, and gives up (the file is then parsed whole) on anything
// it does not model: heredocs, template sequences in strings, a byte order
// mark, unbalanced brackets. Any error in a piece, or an attribute defined
// in two pieces, also falls back to the whole-file parse, so diagnostics
// always come from it.

const (
	// chunkMin is the size below which a file is parsed whole.
	chunkMin = 64 << 10
	// chunkSize is the size a piece grows to before it is cut.
	chunkSize = 32 << 10
)

// parseConfig parses src as hclsyntax.ParseConfig does.
func parseConfig(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if len(src) >= chunkMin {
		if cuts := topLevelCuts(src, chunkSize); len(cuts) > 1 {
			if f := parseChunks(src, filename, cuts); f != nil {
				return f, nil
			}
		}
	}
	return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
}

// cut is where a piece starts: a byte offset at the start of a line.
type cut struct {
	byte, line int
}

// topLevelCuts returns the starts of pieces of about size bytes that end
// with a top-level block, the first at offset 0; nil if src has anything
// the scan does not model.
func topLevelCuts(src []byte, size int) []cut {
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		return nil
	}
	cuts := []cut{{0, 1}}
	depth, line := 0, 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		next := byte(0)
		if i+1 < len(src) {
			next = src[i+1]
		}
		switch {
		case c == '\n':
			line++
		case c == '#' || c == '/' && next == '/':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case c == '/' && next == '*':
			i += 2
			for ; i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/'); i++ {
				if src[i] == '\n' {
					line++
				}
			}
			if i+1 >= len(src) {
				return nil
			}
			i++
		case c == '"':
			for i++; ; i++ {
				if i >= len(src) || src[i] == '\n' {
					return nil
				}
				if src[i] == '\\' {
					i++
					continue
				}
				if (src[i] == '$' || src[i] == '%') && i+1 < len(src) && src[i+1] == '{' {
					return nil // a template sequence: may hold quotes and braces
				}
				if src[i] == '"' {
					break
				}
			}
		case c == '<' && next == '<':
			return nil // heredoc
		case c == '{' || c == '[' || c == '(':
			depth++
		case c == '}' || c == ']' || c == ')':
			depth--
			if depth < 0 {
				return nil
			}
			if depth == 0 && c == '}' && next == '\n' && i+2-cuts[len(cuts)-1].byte >= size && i+2 < len(src) {
				cuts = append(cuts, cut{i + 2, line + 1})
			}
		}
	}
	if depth != 0 {
		return nil
	}
	return cuts
}

// parseChunks parses the pieces and joins them into one file; nil if any
// piece has an error or the pieces define one attribute twice.
func parseChunks(src []byte, filename string, cuts []cut) *hcl.File {
	bodies := make([]*hclsyntax.Body, len(cuts))
	failed := make([]bool, len(cuts))
	var wg sync.WaitGroup
	work := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(cuts)) {
		wg.Go(func() {
			for i := range work {
				end := len(src)
				if i+1 < len(cuts) {
					end = cuts[i+1].byte
				}
				start := hcl.Pos{Line: cuts[i].line, Column: 1, Byte: cuts[i].byte}
				f, diags := hclsyntax.ParseConfig(src[cuts[i].byte:end], filename, start)
				b, ok := f.Body.(*hclsyntax.Body)
				if diags.HasErrors() || !ok {
					failed[i] = true
					continue
				}
				bodies[i] = b
			}
		})
	}
	for i := range cuts {
		work <- i
	}
	close(work)
	wg.Wait()

	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	for i, b := range bodies {
		if failed[i] {
			return nil
		}
		for name, a := range b.Attributes {
			if _, dup := body.Attributes[name]; dup {
				return nil
			}
			body.Attributes[name] = a
		}
		body.Blocks = append(body.Blocks, b.Blocks...)
	}
	last := bodies[len(bodies)-1]
	body.SrcRange = hcl.Range{Filename: filename, Start: hcl.InitialPos, End: last.SrcRange.End}
	body.EndRange = last.EndRange
	return &hcl.File{Body: body, Bytes: src}
}
