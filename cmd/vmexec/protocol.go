package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The guest and the host talk over one byte stream, the guest's ttyS1, which
// also carries the test binary's stdout and stderr. The guest frames its own
// messages as records:
//
//	"\n@@vmexec NONCE CMD ARGS...@@\n" [payload]
//
// NONCE is random per run (so test output cannot forge a record), and the
// leading "\n" belongs to the record, so test output that does not end in a
// newline is reproduced exactly. Commands:
//
//	booted              the guest is up and about to run the test
//	file IDX NAME LEN   LEN bytes of base64 follow: the contents of output IDX
//	                    (NAME, hex-encoded, names a file inside a directory
//	                    output, "-" for file outputs)
//	exit N              the test binary exited with status N; nothing follows
const (
	recBooted = "booted"
	recFile   = "file"
	recExit   = "exit"

	recEnd       = "@@\n"
	maxRecHeader = 512 // longer "headers" are a protocol error
)

// spec is what the host tells the guest, stored as /test/args.json.
type spec struct {
	Nonce   string   `json:"nonce"`
	Args    []string `json:"args"`    // argv[1:] of the test binary
	Env     []string `json:"env"`     // KEY=VALUE, added to the guest's base env
	Outputs []output `json:"outputs"` // files the test writes that go back to the host
	// Dir is the working directory in the guest: /test plus the package's
	// path in its module, so relative paths like ../../testdata resolve as
	// on the host. Empty means /test.
	Dir string `json:"dir,omitempty"`
}

// output is a file (or a directory of files) that the test binary writes in
// the guest and that must be copied back to the host, e.g. -test.coverprofile.
type output struct {
	Path string `json:"path"` // in the guest
	Dir  bool   `json:"dir"`
}

func recPrefix(nonce string) string { return "\n@@vmexec " + nonce + " " }

// writeRecord writes one record (guest side).
func writeRecord(w io.Writer, nonce string, payload []byte, fields ...string) error {
	_, err := io.WriteString(w, recPrefix(nonce)+strings.Join(fields, " ")+recEnd)
	if err == nil && len(payload) > 0 {
		_, err = w.Write(payload)
	}
	return err
}

// record is one parsed record (host side).
type record struct {
	fields  []string
	payload []byte
}

// demux splits the guest stream into test output and records (host side).
// Feed it the stream in chunks of any size.
type demux struct {
	core    []byte  // "@@vmexec NONCE ": a record, with or without its "\n"
	buf     []byte  // undecided bytes
	pending *record // a file record waiting for its payload
	need    int     // payload bytes still missing for pending
}

func newDemux(nonce string) *demux {
	return &demux{core: []byte(strings.TrimPrefix(recPrefix(nonce), "\n"))}
}

// feed consumes p, writes test output to text and calls onRecord for each
// complete record. Bytes that may start a record are held back until decided.
func (d *demux) feed(p []byte, text io.Writer, onRecord func(record) error) error {
	d.buf = append(d.buf, p...)
	for {
		if d.pending != nil {
			if len(d.buf) < d.need {
				return nil
			}
			d.pending.payload = append([]byte(nil), d.buf[:d.need]...)
			d.buf = d.buf[d.need:]
			r := *d.pending
			d.pending = nil
			if err := onRecord(r); err != nil {
				return err
			}
			continue
		}
		i := bytes.Index(d.buf, d.core)
		if i < 0 {
			// Hold back a possible record start: "\n@@vme" or, if the "\n"
			// was already flushed, "@@vme".
			nl := append([]byte{'\n'}, d.core...)
			keep := max(partialSuffix(d.buf, nl), partialSuffix(d.buf, d.core))
			if _, err := text.Write(d.buf[:len(d.buf)-keep]); err != nil {
				return err
			}
			d.buf = append(d.buf[:0], d.buf[len(d.buf)-keep:]...)
			return nil
		}
		end := i
		if i > 0 && d.buf[i-1] == '\n' {
			end = i - 1 // the record's own leading newline
		}
		if _, err := text.Write(d.buf[:end]); err != nil {
			return err
		}
		rest := d.buf[i+len(d.core):]
		j := bytes.Index(rest, []byte(recEnd))
		if j < 0 {
			if len(rest) > maxRecHeader {
				return fmt.Errorf("malformed record %q", rest[:64])
			}
			d.buf = append(d.buf[:0], d.buf[i:]...)
			return nil
		}
		r := record{fields: strings.Fields(string(rest[:j]))}
		d.buf = append(d.buf[:0], rest[j+len(recEnd):]...)
		if len(r.fields) == 4 && r.fields[0] == recFile {
			n, err := strconv.Atoi(r.fields[3])
			if err != nil || n < 0 {
				return fmt.Errorf("malformed file record %q", r.fields)
			}
			d.pending, d.need = &r, n
			continue
		}
		if err := onRecord(r); err != nil {
			return err
		}
	}
}

// flushNewline writes a held-back lone "\n" (the usual end of a line) when
// the stream is idle, so a streaming reader sees complete lines. Should it
// have been a record's, the output just gains an empty line.
func (d *demux) flushNewline(text io.Writer) error {
	if d.pending != nil || string(d.buf) != "\n" {
		return nil
	}
	d.buf = d.buf[:0]
	_, err := text.Write([]byte{'\n'})
	return err
}

// flush writes all held-back text; for when the stream has ended.
func (d *demux) flush(text io.Writer) error {
	if d.pending != nil {
		return nil
	}
	_, err := text.Write(d.buf)
	d.buf = d.buf[:0]
	return err
}

// partialSuffix returns the length of the longest suffix of b that is a
// proper prefix of p (bytes that might become a record once more arrive).
func partialSuffix(b, p []byte) int {
	for n := min(len(b), len(p)-1); n > 0; n-- {
		if bytes.HasSuffix(b, p[:n]) {
			return n
		}
	}
	return 0
}
