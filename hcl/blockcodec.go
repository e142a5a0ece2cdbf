package hcl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// The block cache (blockcache.go) keeps a decoded virtual_server block as
// bytes: a compact encoding of its syntax struct (decode.go) with every
// range relative to the start of the block's text. Decoding the bytes
// builds a fresh struct, nothing shared with the cache, with each range
// moved to where the text is now and given the file's name: that is the
// struct decoding the block where it now is yields, because decoding is a
// function of the block's text and its position only.
//
// The encoding is generic over the syntax structs, by reflection: structs
// (exported fields only), pointers, slices, strings, booleans, integers,
// hcl.Range, *big.Float, cty.Value (null, string, number, bool, tuple,
// object) and interface values of the types in codecTypes. Anything else
// (a map, a function, an hcl.Expression, an unexported field, a marked or
// unknown value) is an encoding error: the block is then not cached and is
// decoded from its text every time, so a new field in a syntax struct can
// make the cache slower, never wrong.

// codecTypes are the dynamic types an interface field of a syntax struct
// may hold (checkSyntax.More: the syntax of the check types of their own
// files, check_kinds.go). A value of any other type is not cached.
var codecTypes = []reflect.Type{
	reflect.TypeFor[*fileCheckSyntax](),
	reflect.TypeFor[*udpSyntax](),
	reflect.TypeFor[*pingSyntax](),
	reflect.TypeFor[*dnsSyntax](),
	reflect.TypeFor[*smtpSyntax](),
	reflect.TypeFor[*attr[string]](), // check "bfd"
}

var (
	rangeType    = reflect.TypeFor[hcl.Range]()
	bigFloatType = reflect.TypeFor[*big.Float]()
	ctyValueType = reflect.TypeFor[cty.Value]()
)

// errCodec says a value has a part the block codec does not encode.
var errCodec = errors.New("not encodable")

// encodeBlock appends the encoding of v (a pointer to a syntax struct) to
// buf, with every range relative to at, where the block's text starts.
//
// The encoding starts with how many structs of each type the pointers of
// the value point to, the types in the order the value's walk first meets
// them (which the decoder's walk repeats), so that the decoder allocates
// each type's structs as one slice (slabs) instead of one by one.
func encodeBlock(buf []byte, v any, at cut) ([]byte, error) {
	e := blockEncoder{line: at.line - 1, byte: at.byte}
	body, err := e.value(nil, reflect.ValueOf(v).Elem())
	if err != nil {
		return nil, err
	}
	buf = binary.AppendUvarint(buf, uint64(len(e.counts)))
	for _, n := range e.counts {
		buf = binary.AppendUvarint(buf, uint64(n))
	}
	return append(buf, body...), nil
}

// blockEncoder encodes ranges moved back by line lines and byte bytes,
// counting the structs pointed to by type (types, counts).
type blockEncoder struct {
	line, byte int
	types      []reflect.Type
	counts     []int
}

// count counts a pointer to a t.
func (e *blockEncoder) count(t reflect.Type) {
	if i := indexOf(e.types, t); i >= 0 {
		e.counts[i]++
		return
	}
	e.types = append(e.types, t)
	e.counts = append(e.counts, 1)
}

func (e *blockEncoder) value(buf []byte, v reflect.Value) ([]byte, error) {
	t := v.Type()
	switch t {
	case rangeType:
		var r hcl.Range
		if v.CanAddr() {
			r = *v.Addr().Interface().(*hcl.Range) // not boxed
		} else {
			r = v.Interface().(hcl.Range)
		}
		if r == (hcl.Range{}) {
			return append(buf, 0), nil // unset: stays unset
		}
		buf = append(buf, 1)
		for _, n := range [...]int{r.Start.Line - e.line, r.Start.Column, r.Start.Byte - e.byte, r.End.Line - e.line, r.End.Column, r.End.Byte - e.byte} {
			buf = binary.AppendVarint(buf, int64(n))
		}
		return buf, nil
	case bigFloatType:
		if v.IsNil() {
			return append(buf, 0), nil
		}
		b, err := v.Interface().(*big.Float).GobEncode()
		if err != nil {
			return nil, err
		}
		buf = append(buf, 1)
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		return append(buf, b...), nil
	case ctyValueType:
		return e.cty(buf, v.Interface().(cty.Value))
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return append(buf, 0), nil
		}
		e.count(t.Elem())
		return e.value(append(buf, 1), v.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				return nil, fmt.Errorf("%s.%s: %w", t, t.Field(i).Name, errCodec)
			}
			var err error
			if buf, err = e.value(buf, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case reflect.Slice:
		if v.IsNil() {
			return append(buf, 0), nil
		}
		buf = binary.AppendUvarint(buf, uint64(v.Len())+1)
		for i := range v.Len() {
			var err error
			if buf, err = e.value(buf, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case reflect.String:
		buf = binary.AppendUvarint(buf, uint64(v.Len()))
		return append(buf, v.String()...), nil
	case reflect.Bool:
		if v.Bool() {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(buf, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return binary.AppendUvarint(buf, v.Uint()), nil
	case reflect.Interface:
		if v.IsNil() {
			return append(buf, 0), nil
		}
		i := indexOf(codecTypes, v.Elem().Type())
		if i < 0 {
			return nil, fmt.Errorf("%s in %s: %w", v.Elem().Type(), t, errCodec)
		}
		return e.value(binary.AppendUvarint(buf, uint64(i)+1), v.Elem())
	}
	return nil, fmt.Errorf("%s: %w", t, errCodec)
}

func indexOf(ts []reflect.Type, t reflect.Type) int {
	for i, x := range ts {
		if x == t {
			return i
		}
	}
	return -1
}

// cty value tags.
const (
	ctyNull byte = iota
	ctyString
	ctyNumber
	ctyTrue
	ctyFalse
	ctyTuple
	ctyObject
)

// cty encodes the values an hclsyntax literal evaluates to.
func (e *blockEncoder) cty(buf []byte, v cty.Value) ([]byte, error) {
	if v.IsMarked() || !v.IsKnown() {
		return nil, fmt.Errorf("marked or unknown value: %w", errCodec)
	}
	ty := v.Type()
	if v.IsNull() {
		if ty != cty.DynamicPseudoType {
			return nil, fmt.Errorf("typed null: %w", errCodec)
		}
		return append(buf, ctyNull), nil
	}
	switch {
	case ty == cty.String:
		s := v.AsString()
		buf = binary.AppendUvarint(append(buf, ctyString), uint64(len(s)))
		return append(buf, s...), nil
	case ty == cty.Number:
		return e.value(append(buf, ctyNumber), reflect.ValueOf(v.AsBigFloat()))
	case ty == cty.Bool:
		if v.True() {
			return append(buf, ctyTrue), nil
		}
		return append(buf, ctyFalse), nil
	case ty.IsTupleType():
		buf = binary.AppendUvarint(append(buf, ctyTuple), uint64(v.LengthInt()))
		for _, el := range v.AsValueSlice() {
			var err error
			if buf, err = e.cty(buf, el); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case ty.IsObjectType():
		m := v.AsValueMap()
		buf = binary.AppendUvarint(append(buf, ctyObject), uint64(len(m)))
		for it := v.ElementIterator(); it.Next(); { // keys in order
			k, el := it.Element()
			buf = binary.AppendUvarint(buf, uint64(len(k.AsString())))
			buf = append(buf, k.AsString()...)
			var err error
			if buf, err = e.cty(buf, el); err != nil {
				return nil, err
			}
		}
		return buf, nil
	}
	return nil, fmt.Errorf("value of type %s: %w", ty.FriendlyName(), errCodec)
}

// blockDecoder reads an encoding, moving every range by line and byte
// lines and bytes and naming it filename. str is the whole encoding as a
// string (buf is its tail): the strings it decodes are substrings of it,
// one allocation a block instead of one a string. nums, if not nil,
// shares the numbers decoded before.
type blockDecoder struct {
	buf      []byte
	str      string
	line     int
	byte     int
	filename string
	nums     *numMemo
	// The structs of the first len(slabs) types the walk meets, by the
	// counts of the encoding's header (see encodeBlock).
	counts [maxSlabs]int
	types  [maxSlabs]reflect.Type
	slabs  [maxSlabs]slab
	ntypes int
}

// maxSlabs is how many types a decoder allocates in slabs; the structs
// of any other type are allocated one by one.
const maxSlabs = 16

// maxArraySlab is the largest slab allocated as an array: reflect keeps
// the type of each length it makes, so their number is bounded.
const maxArraySlab = 64

// A slab is an array or slice of structs of one type and how many are handed out.
type slab struct {
	s    reflect.Value
	next int
}

// alloc returns a pointer to a new zero t: from t's slab, if there is one
// left, or else on its own.
func (d *blockDecoder) alloc(t reflect.Type) reflect.Value {
	i := indexOf(d.types[:d.ntypes], t)
	if i < 0 {
		if d.ntypes == maxSlabs {
			return reflect.New(t)
		}
		i = d.ntypes
		d.ntypes++
		d.types[i] = t
		switch n := d.counts[i]; {
		case n > 1 && n <= maxArraySlab:
			// One allocation; MakeSlice's is two (the slice is boxed).
			d.slabs[i].s = reflect.New(reflect.ArrayOf(n, t)).Elem()
		case n > 1:
			d.slabs[i].s = reflect.MakeSlice(reflect.SliceOf(t), n, n)
		}
	}
	sl := &d.slabs[i]
	if !sl.s.IsValid() || sl.next == sl.s.Len() {
		return reflect.New(t)
	}
	sl.next++
	return sl.s.Index(sl.next - 1).Addr()
}

// header reads the counts of the encoding's header.
func (d *blockDecoder) header() error {
	k, err := d.uvarint()
	if err != nil {
		return err
	}
	for i := range k {
		n, err := d.uvarint()
		if err != nil {
			return err
		}
		if n > uint64(len(d.buf)) { // each pointer takes a byte at least
			return errTruncated
		}
		if i < maxSlabs {
			d.counts[i] = int(n)
		}
	}
	return nil
}

// A numMemo shares decoded numbers between blocks, by their encoding: a
// table repeats a few ports, weights and timeouts in every block, and
// decoding one is two allocations. The syntax structs are never modified
// (TestDecodedBlocksUnchanged), so blocks may share a *big.Float as the
// copies of a rebased block already do. It holds numMemoMax numbers at
// most; the others are decoded each time.
type numMemo struct {
	mu sync.Mutex
	m  map[string]*big.Float
}

const numMemoMax = 4096

// float decodes the gob encoding b of a number.
func (m *numMemo) float(b []byte) (*big.Float, error) {
	if m != nil {
		m.mu.Lock()
		f := m.m[string(b)]
		m.mu.Unlock()
		if f != nil {
			return f, nil
		}
	}
	f := new(big.Float)
	if err := f.GobDecode(b); err != nil {
		return nil, err
	}
	if m != nil {
		m.mu.Lock()
		if m.m == nil {
			m.m = make(map[string]*big.Float)
		}
		if len(m.m) < numMemoMax {
			m.m[string(b)] = f
		}
		m.mu.Unlock()
	}
	return f, nil
}

var errTruncated = errors.New("block cache entry truncated")

func (d *blockDecoder) uvarint() (uint64, error) {
	n, k := binary.Uvarint(d.buf)
	if k <= 0 {
		return 0, errTruncated
	}
	d.buf = d.buf[k:]
	return n, nil
}

func (d *blockDecoder) varint() (int64, error) {
	n, k := binary.Varint(d.buf)
	if k <= 0 {
		return 0, errTruncated
	}
	d.buf = d.buf[k:]
	return n, nil
}

func (d *blockDecoder) bytes() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil || n > uint64(len(d.buf)) {
		return nil, errTruncated
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b, nil
}

// string is the next string: a substring of d.str, or a copy if d.str
// is not set.
func (d *blockDecoder) string() (string, error) {
	b, err := d.bytes()
	if err != nil {
		return "", err
	}
	if len(d.str) == 0 {
		return string(b), nil
	}
	end := len(d.str) - len(d.buf) // b ends where the rest starts
	return d.str[end-len(b) : end], nil
}

func (d *blockDecoder) flag() (bool, error) {
	if len(d.buf) == 0 {
		return false, errTruncated
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b != 0, nil
}

// decodeBlock decodes into v, a pointer to the syntax struct's type that
// was encoded.
func (d *blockDecoder) decodeBlock(v any) error {
	if err := d.header(); err != nil {
		return err
	}
	if err := d.value(reflect.ValueOf(v).Elem()); err != nil {
		return err
	}
	if len(d.buf) != 0 {
		return errors.New("block cache entry has trailing bytes")
	}
	return nil
}

func (d *blockDecoder) value(v reflect.Value) error {
	t := v.Type()
	// By kind first: comparing reflect.Types is a call, and most values
	// are neither ranges, numbers nor cty values.
	switch t.Kind() {
	case reflect.Pointer:
		if t == bigFloatType {
			return d.float(v)
		}
		present, err := d.flag()
		if err != nil || !present {
			return err
		}
		p := d.alloc(t.Elem())
		if err := d.value(p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		switch t {
		case rangeType:
			return d.hclRange(v)
		case ctyValueType:
			cv, err := d.cty()
			if err != nil {
				return err
			}
			*v.Addr().Interface().(*cty.Value) = cv
			return nil
		}
		for i := range t.NumField() {
			f := v.Field(i)
			// An absent pointer, slice or interface is one zero byte,
			// and the field is zero already (v is new).
			if k := f.Kind(); (k == reflect.Pointer || k == reflect.Slice || k == reflect.Interface) && len(d.buf) > 0 && d.buf[0] == 0 {
				d.buf = d.buf[1:]
				continue
			}
			if err := d.value(f); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		n, err := d.uvarint()
		if err != nil || n == 0 {
			return err
		}
		n--
		if n > uint64(len(d.buf)) { // each element takes a byte at least
			return errTruncated
		}
		// In place: v is a field, and the slice is not boxed as
		// MakeSlice's is.
		v.Grow(int(n))
		v.SetLen(int(n))
		for i := range int(n) {
			if err := d.value(v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		s, err := d.string()
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, err := d.flag()
		v.SetBool(b)
		return err
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := d.varint()
		v.SetInt(n)
		return err
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := d.uvarint()
		v.SetUint(n)
		return err
	case reflect.Interface:
		i, err := d.uvarint()
		if err != nil || i == 0 {
			return err
		}
		if i > uint64(len(codecTypes)) {
			return errors.New("block cache entry: unknown type")
		}
		x := reflect.New(codecTypes[i-1]).Elem()
		if err := d.value(x); err != nil {
			return err
		}
		v.Set(x)
		return nil
	}
	return fmt.Errorf("%s: %w", t, errCodec)
}

// hclRange decodes a range into v.
func (d *blockDecoder) hclRange(v reflect.Value) error {
	// Through a pointer: a struct put in a reflect.Value is boxed, and
	// there are tens of ranges in a block.
	r := v.Addr().Interface().(*hcl.Range)
	set, err := d.flag()
	if err != nil || !set {
		*r = hcl.Range{}
		return err
	}
	var n [6]int
	for i := range n {
		x, err := d.varint()
		if err != nil {
			return err
		}
		n[i] = int(x)
	}
	*r = hcl.Range{
		Filename: d.filename,
		Start:    hcl.Pos{Line: n[0] + d.line, Column: n[1], Byte: n[2] + d.byte},
		End:      hcl.Pos{Line: n[3] + d.line, Column: n[4], Byte: n[5] + d.byte},
	}
	return nil
}

// float decodes a *big.Float into v.
func (d *blockDecoder) float(v reflect.Value) error {
	present, err := d.flag()
	if err != nil || !present {
		return err
	}
	b, err := d.bytes()
	if err != nil {
		return err
	}
	f, err := d.nums.float(b)
	if err != nil {
		return err
	}
	v.Set(reflect.ValueOf(f))
	return nil
}

func (d *blockDecoder) cty() (cty.Value, error) {
	if len(d.buf) == 0 {
		return cty.NilVal, errTruncated
	}
	tag := d.buf[0]
	d.buf = d.buf[1:]
	switch tag {
	case ctyNull:
		return cty.NullVal(cty.DynamicPseudoType), nil
	case ctyString:
		s, err := d.string()
		return cty.StringVal(s), err
	case ctyNumber:
		var f *big.Float
		if err := d.float(reflect.ValueOf(&f).Elem()); err != nil || f == nil {
			return cty.NilVal, errors.Join(errTruncated, err)
		}
		return cty.NumberVal(f), nil
	case ctyTrue:
		return cty.True, nil
	case ctyFalse:
		return cty.False, nil
	case ctyTuple:
		n, err := d.uvarint()
		if err != nil || n > uint64(len(d.buf)) {
			return cty.NilVal, errTruncated
		}
		if n == 0 {
			return cty.EmptyTupleVal, nil
		}
		elems := make([]cty.Value, n)
		for i := range elems {
			if elems[i], err = d.cty(); err != nil {
				return cty.NilVal, err
			}
		}
		return cty.TupleVal(elems), nil
	case ctyObject:
		n, err := d.uvarint()
		if err != nil || n > uint64(len(d.buf)) {
			return cty.NilVal, errTruncated
		}
		if n == 0 {
			return cty.EmptyObjectVal, nil
		}
		attrs := make(map[string]cty.Value, n)
		for range n {
			k, err := d.bytes()
			if err != nil {
				return cty.NilVal, err
			}
			if attrs[string(k)], err = d.cty(); err != nil {
				return cty.NilVal, err
			}
		}
		return cty.ObjectVal(attrs), nil
	}
	return cty.NilVal, fmt.Errorf("block cache entry: cty tag %d", tag)
}
