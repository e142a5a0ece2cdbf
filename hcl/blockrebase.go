package hcl

import (
	"reflect"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A decodedBlock is a cache entry in its decoded form, as a parse in
// this process last used it: the syntax with its ranges where the block
// was then (at, in filename). The daemon parses the file again on every
// reload: a block that has not moved is used as it is, one that moved is
// copied with its ranges moved (rebaseBlock), and neither is decoded from
// the entry's bytes again.
//
// The syntax structs are never modified once decoded (the build step
// reads them: TestDecodedBlocksUnchanged), so a parse may hand out the
// same struct a previous parse did, and the parts of a block without
// ranges (strings, numbers, cty values) are shared by its copies.
type decodedBlock struct {
	cb       *cachedBlock
	at       cut
	filename string
}

// stub is the stand-in block of the file's body for d (see parse).
func (cb *cachedBlock) stub() *hclsyntax.Block {
	s := cb.Service
	// One allocation for the block and its parts.
	st := new(struct {
		block       hclsyntax.Block
		body        hclsyntax.Body
		labels      [1]string
		labelRanges [1]hcl.Range
	})
	st.labels[0], st.labelRanges[0] = s.Name, s.NameRange
	st.body = hclsyntax.Body{SrcRange: hcl.RangeBetween(cb.OpenBraceRange, cb.CloseBraceRange), EndRange: cb.CloseBraceRange}
	st.block = hclsyntax.Block{
		Type:            blockVirtualServer,
		Labels:          st.labels[:],
		Body:            &st.body,
		TypeRange:       cb.TypeRange,
		LabelRanges:     st.labelRanges[:],
		OpenBraceRange:  cb.OpenBraceRange,
		CloseBraceRange: cb.CloseBraceRange,
	}
	return &st.block
}

// rebaseBlock returns a copy of cb with every set range moved by lines
// lines and bytes bytes and named filename: what decoding the block's
// text there gives, as decoding is a function of the text and where it
// starts (at the beginning of a line, so columns do not move).
func rebaseBlock(cb *cachedBlock, lines, bytes int, filename string) *cachedBlock {
	out := new(cachedBlock)
	r := rebaser{lines: lines, bytes: bytes, filename: filename}
	r.value(reflect.ValueOf(out).Elem(), reflect.ValueOf(cb).Elem())
	return out
}

type rebaser struct {
	lines, bytes int
	filename     string
}

// value sets dst, a settable value of src's type, to src moved.
func (r rebaser) value(dst, src reflect.Value) {
	t := src.Type()
	if t == rangeType {
		p := src.Addr().Interface().(*hcl.Range) // not boxed
		q := dst.Addr().Interface().(*hcl.Range)
		if *p == (hcl.Range{}) {
			*q = hcl.Range{}
			return
		}
		*q = hcl.Range{
			Filename: r.filename,
			Start:    hcl.Pos{Line: p.Start.Line + r.lines, Column: p.Start.Column, Byte: p.Start.Byte + r.bytes},
			End:      hcl.Pos{Line: p.End.Line + r.lines, Column: p.End.Column, Byte: p.End.Byte + r.bytes},
		}
		return
	}
	if !hasRanges(t) {
		dst.Set(src)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		r.value(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Struct:
		dst.Set(src)
		for _, i := range rangeFields(t) {
			r.value(dst.Field(i), src.Field(i))
		}
	case reflect.Slice:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		s := reflect.MakeSlice(t, src.Len(), src.Len())
		for i := range src.Len() {
			r.value(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Interface:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		e := src.Elem()
		x := reflect.New(e.Type()).Elem()
		r.value(x, e)
		dst.Set(x)
	default:
		dst.Set(src)
	}
}

// typeRanges memoizes which types hold ranges (hasRanges) and, for a
// struct, which of its fields do.
var typeRanges sync.Map // reflect.Type -> *rangeInfo

type rangeInfo struct {
	has    bool
	fields []int
}

func hasRanges(t reflect.Type) bool { return rangeInfoOf(t, nil).has }

func rangeFields(t reflect.Type) []int { return rangeInfoOf(t, nil).fields }

// rangeInfoOf works out whether t holds a range; seen breaks cycles (a
// type being worked out is taken to hold none, which the type that holds
// it corrects if any of its other parts do). Interface types are taken
// to hold ranges: their dynamic values are checked as they are copied.
func rangeInfoOf(t reflect.Type, seen map[reflect.Type]bool) *rangeInfo {
	if v, ok := typeRanges.Load(t); ok {
		return v.(*rangeInfo)
	}
	if seen[t] {
		return &rangeInfo{}
	}
	if seen == nil {
		seen = map[reflect.Type]bool{}
	}
	seen[t] = true
	info := &rangeInfo{}
	switch t.Kind() {
	case reflect.Struct:
		if t == rangeType {
			info.has = true
			break
		}
		for i := range t.NumField() {
			if t.Field(i).IsExported() && rangeInfoOf(t.Field(i).Type, seen).has {
				info.has = true
				info.fields = append(info.fields, i)
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array:
		info.has = t.Kind() != reflect.Array && rangeInfoOf(t.Elem(), seen).has
	case reflect.Interface:
		info.has = true
	}
	delete(seen, t)
	if len(seen) == 0 { // not under a cycle's provisional answer
		typeRanges.Store(t, info)
	}
	return info
}
