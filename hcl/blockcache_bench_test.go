package hcl

import (
	"bytes"
	"fmt"
	"testing"
)

// importedTable is n services of 4 real servers in the shape `lvsctl
// import keepalived` writes (the header, a comment naming the keepalived
// line before each block, blank lines, a service-level check).
func importedTable(n int) []byte {
	var b bytes.Buffer
	b.WriteString("# lvsctl configuration imported from keepalived.conf by `lvsctl import keepalived`.\n" +
		"# Comments that start with \"FILE:LINE:\" show keepalived statements that are\n" +
		"# not translated, or translated with a difference: review them.\n\n" +
		"# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.\nflush_on_exit = true\n")
	for i := range n {
		vip := fmt.Sprintf("10.%d.%d.%d", i>>12, i>>4&0xff, 1+i&0xf)
		fmt.Fprintf(&b, "\n# keepalived.conf:%d: virtual_server %s 80\nvirtual_server \"%s:80\" {\n  address    = %q\n  port       = 80\n  scheduler  = \"wlc\"\n  forwarding = \"nat\"\n  delay_loop = 6\n\n  check \"tcp\" {\n    connect_timeout = 3\n  }\n",
			2+35*i, vip, vip, vip)
		for j := range 4 {
			fmt.Fprintf(&b, "\n  real_server {\n    address = \"172.%d.%d.%d\"\n    port    = 8080\n    weight  = %d\n  }\n", 16+j, i>>8, i&0xff, j+1)
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// BenchmarkParseBlocks is Parse (syntax, decoding and validation) of a
// hand-written table (bigTable) and an imported one at 10k and 50k objects
// (services x 5):
//   - cold: no cache, as before the block cache;
//   - cold-fill: an empty cache, which the parse fills (a cold apply);
//   - edit: the cache holds the file; one block differs in each parse
//     (apply of an edited file, or a SIGHUP after a one-line edit);
//   - edit-persisted: as edit, but the cache is read from the entries
//     of the unedited file's parse each time (an edited apply, whose
//     cache is the config cache file's);
//   - edit-moved: as edit, but the edit adds lines, so that the blocks
//     after it move in each parse.
func BenchmarkParseBlocks(b *testing.B) {
	for _, shape := range []struct {
		name string
		gen  func(int) []byte
	}{{"hand", bigTable}, {"imported", importedTable}} {
		for _, objects := range []int{10_000, 50_000} {
			n := objects / 5
			src := shape.gen(n)
			// The edited block: the middle service's first port.
			mid := bytes.Index(src, fmt.Appendf(nil, "\"s%d ", n/2))
			if shape.name == "imported" {
				mid = bytes.Index(src, fmt.Appendf(nil, "keepalived.conf:%d:", 2+35*(n/2)))
			}
			at := mid + bytes.Index(src[mid:], []byte("8080"))
			edited := func(i int) []byte {
				out := bytes.Clone(src)
				copy(out[at:], fmt.Sprintf("%04d", 1000+i%9000))
				return out
			}
			// An edit that moves the blocks after it: one or two comment
			// lines in the middle service, in turns.
			line := bytes.LastIndexByte(src[:at], '\n') + 1 // the edited line's start
			moved := func(i int) []byte {
				ins := fmt.Sprintf("# edit %d\n", i)
				if i%2 == 1 {
					ins += ins
				}
				return insertAt(src, line, ins)
			}
			parse := func(b *testing.B, o Options, src []byte) {
				cfg, _, diags := o.Parse(src, "x.hcl")
				if diags.HasErrors() || len(cfg.Services) != n {
					b.Fatal(diags.Error())
				}
			}
			name := fmt.Sprintf("%s/objects=%d", shape.name, objects)
			b.Run(name+"/cold", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(src)))
				for b.Loop() {
					parse(b, Options{}, src)
				}
			})
			b.Run(name+"/cold-fill", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(src)))
				for b.Loop() {
					parse(b, Options{Blocks: NewBlockCache()}, src)
				}
			})
			// editRun parses next(i) through a cache holding src's blocks:
			// the same cache every time, or (persisted) a new one read
			// from src's entries each time, as an edited apply does.
			editRun := func(next func(int) []byte, persisted bool) func(*testing.B) {
				return func(b *testing.B) {
					cache := NewBlockCache()
					parse(b, Options{Blocks: cache}, src)
					entries := cache.Entries()
					b.ReportAllocs()
					b.SetBytes(int64(len(src)))
					i := 0
					for b.Loop() {
						b.StopTimer()
						in := next(i)
						i++
						if persisted {
							cache = NewBlockCache()
							cache.AddEntries(entries)
						}
						b.StartTimer()
						parse(b, Options{Blocks: cache}, in)
					}
					if hits, misses := cache.Stats(); misses != 1 || hits < n-3 {
						b.Fatalf("%d hits, %d misses", hits, misses)
					}
				}
			}
			b.Run(name+"/edit", editRun(edited, false))
			b.Run(name+"/edit-persisted", editRun(edited, true))
			b.Run(name+"/edit-moved", editRun(moved, false))
		}
	}
}

// BenchmarkUnpackBlocks is decoding every persisted entry of a hand-written
// table of 10k objects (2,000 blocks) from its bytes: the block codec's
// part of an edited apply (edit-persisted above), on one goroutine.
func BenchmarkUnpackBlocks(b *testing.B) {
	cache := NewBlockCache()
	if _, _, diags := (Options{Blocks: cache}).Parse(bigTable(2000), "x.hcl"); diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	entries := cache.Entries()
	b.ReportAllocs()
	for b.Loop() {
		var nums numMemo
		for _, e := range entries {
			var cb cachedBlock
			if !unpackInto(&cb, e.Data, "x.hcl", cut{line: 1}, &nums) {
				b.Fatal("an entry does not decode")
			}
		}
	}
}
