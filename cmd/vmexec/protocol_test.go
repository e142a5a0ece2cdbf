package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemux feeds a guest stream in every possible chunking and checks that
// the test output comes out byte for byte and the records are parsed.
func TestDemux(t *testing.T) {
	const nonce = "0123abcd"
	var stream bytes.Buffer
	must(t, writeRecord(&stream, nonce, nil, recBooted))
	stream.WriteString("=== RUN TestX\n@@vmexec not-a-record@@\n\n@@vmexec 0123abce exit 9@@\nno newline at end")
	must(t, writeRecord(&stream, nonce, []byte("aGk="), recFile, "0", "-", "4"))
	must(t, writeRecord(&stream, nonce, nil, recExit, "3"))
	wantText := "=== RUN TestX\n@@vmexec not-a-record@@\n\n@@vmexec 0123abce exit 9@@\nno newline at end"
	wantRecs := "booted|file 0 - 4:aGk=|exit 3|"

	for chunk := 1; chunk <= stream.Len(); chunk++ {
		d := newDemux(nonce)
		var text, recs strings.Builder
		b := stream.Bytes()
		for len(b) > 0 {
			n := min(chunk, len(b))
			err := d.feed(b[:n], &text, func(r record) error {
				recs.WriteString(strings.Join(r.fields, " "))
				if r.payload != nil {
					recs.WriteString(":" + string(r.payload))
				}
				recs.WriteString("|")
				return nil
			})
			must(t, err)
			b = b[n:]
		}
		if text.String() != wantText || recs.String() != wantRecs {
			t.Fatalf("chunk %d:\ntext %q\nrecs %q", chunk, text.String(), recs.String())
		}
	}
}

func TestMakeSpec(t *testing.T) {
	sp, hostOuts := makeSpec("n", "/pkg", []string{
		"-test.v=true", "-test.gocoverdir=/tmp/b/gocoverdir", "-test.coverprofile=/tmp/b/c.out",
		"-test.outputdir=/out", "-test.cpuprofile=cpu.out", "-test.run=X",
	}, []string{"HOME=/root", "LVSCTL_FOO=1", "CI=true", "LVSCTL_IN_VM=0", "PATH=/x", "LVSCTL_VM_OUTDIR=prof"})
	wantArgs := "-test.v=true -test.gocoverdir=/test/out/0 -test.coverprofile=/test/out/1 " +
		"-test.outputdir=/out -test.cpuprofile=/test/out/2 -test.run=X"
	if got := strings.Join(sp.Args, " "); got != wantArgs {
		t.Errorf("args %q", got)
	}
	if got := strings.Join(hostOuts, " "); got != "/tmp/b/gocoverdir /tmp/b/c.out /out/cpu.out /pkg/prof" {
		t.Errorf("host outputs %q", got)
	}
	if len(sp.Outputs) != 4 || !sp.Outputs[0].Dir || sp.Outputs[1].Dir || !sp.Outputs[3].Dir || sp.Outputs[3].Path != "/test/out/3" {
		t.Errorf("outputs %+v", sp.Outputs)
	}
	if got := strings.Join(sp.Env, " "); got != "LVSCTL_FOO=1 CI=true LVSCTL_IN_VM=0 LVSCTL_VM_OUTDIR=/test/out/3 LVSCTL_IN_VM=1" {
		t.Errorf("env %q", got)
	}
}

// TestDemuxIdleNewline checks that a line end held back while the stream is
// idle can be flushed without losing a record that follows.
func TestDemuxIdleNewline(t *testing.T) {
	d := newDemux("n1")
	var text strings.Builder
	var recs []string
	on := func(r record) error { recs = append(recs, strings.Join(r.fields, " ")); return nil }
	must(t, d.feed([]byte("=== RUN   TestX\n"), &text, on))
	if text.String() != "=== RUN   TestX" {
		t.Fatalf("before idle: %q", text.String())
	}
	must(t, d.flushNewline(&text))
	must(t, d.feed([]byte("@@vmexec n1 exit 0@@\n"), &text, on))
	if text.String() != "=== RUN   TestX\n" || strings.Join(recs, "|") != "exit 0" {
		t.Fatalf("text %q recs %q", text.String(), recs)
	}
	must(t, d.feed([]byte("tail @@vm"), &text, on))
	must(t, d.flush(&text))
	if text.String() != "=== RUN   TestX\ntail @@vm" {
		t.Fatalf("after flush: %q", text.String())
	}
}
