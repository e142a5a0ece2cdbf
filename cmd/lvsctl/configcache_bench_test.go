package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// cacheBenchTable is n services of 4 real servers each, a comment before each
// service.
func cacheBenchTable(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "# service %d\nvirtual_server \"s%d\" {\n  address    = \"10.%d.%d.%d\"\n  port       = 80\n  scheduler  = \"wlc\"\n  forwarding = \"nat\"\n\n  check \"tcp\" {\n    connect_timeout = 3\n  }\n",
			i, i, i>>12, i>>4&0xff, 1+i&0xf)
		for j := range 4 {
			fmt.Fprintf(&b, "\n  real_server {\n    address = \"172.%d.%d.%d\"\n    port    = 8080\n    weight  = %d\n  }\n", 16+j, i>>8, i&0xff, j+1)
		}
		b.WriteString("}\n\n")
	}
	return b.Bytes()
}

// BenchmarkEditedApplyCache is the host part of `lvsctl apply` of an
// edited file at 10k objects (2,000 services x 4 real servers) without
// the kernel: the config cache read (a miss of the table, which hands
// over the persisted blocks), the parse through the block cache, and the
// cache written back with the new table and blocks. Each run edits one
// port of the middle service.
func BenchmarkEditedApplyCache(b *testing.B) {
	const n = 2000
	src := cacheBenchTable(n)
	file := "/etc/lvsctl/lvs.hcl"
	state := filepath.Join(b.TempDir(), "state.json")
	mid := bytes.Index(src, fmt.Appendf(nil, "\"s%d\"", n/2))
	at := mid + bytes.Index(src[mid:], []byte("8080"))
	apply := func(b *testing.B, src []byte) {
		cache := cacheFor(state)
		if cache.build == "" {
			b.Fatal("the test binary has no Go build ID")
		}
		if _, hit := cache.load(file, src); hit {
			b.Fatal("an edited file hit the table cache")
		}
		cfg, _, diags := lvshcl.Options{Blocks: cache.blocks}.Parse(src, file)
		if diags.HasErrors() || len(cfg.Services) != n {
			b.Fatal(diags.Error())
		}
		if err := cache.store(file, src, cfg.Services); err != nil {
			b.Fatal(err)
		}
	}
	apply(b, src) // the cold apply
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		next := bytes.Clone(src)
		copy(next[at:], fmt.Sprintf("%04d", 1000+i%9000))
		i++
		b.StartTimer()
		apply(b, next)
	}
}
