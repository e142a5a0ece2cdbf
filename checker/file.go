package checker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MaxWeight is the largest weight IPVS takes.
const MaxWeight = math.MaxInt32

// maxFileCheck is the most of a file that a File check reads: a number.
const maxFileCheck = 4096

// File is keepalived's FILE_CHECK: the real server's health is a number an
// operator or another program writes into a file.
//
// The file holds one integer (keepalived's track_file). With Weight 0, a
// value of 0 means up and any other value down. Otherwise the value times
// Weight (negated by Reverse) is the result: up when it is positive, down
// when it is 0 or negative; with Dynamic, the result also sets the real
// server's weight. A file that is missing, unreadable, empty or not a number
// is down.
//
// keepalived reads the file when inotify says it changed; File reads it at
// every probe (every delay_loop), which costs one open and one read.
type File struct {
	// Path is the file read (track_file's file).
	Path string
	// Weight multiplies the value (FILE_CHECK's weight); keepalived's
	// default is 1, which callers set: the zero value means "0 is up".
	Weight int64
	// Reverse negates the result (weight ... reverse).
	Reverse bool
	// Dynamic makes the result the real server's weight (dynamic).
	Dynamic bool
}

// Probe reads the file.
func (p *File) Probe(ctx context.Context, _ Target) Result {
	start := time.Now()
	r := p.probe()
	r.Took = time.Since(start)
	return r
}

func (p *File) probe() Result {
	down := Result{Weight: NoWeight}
	v, err := readNumber(p.Path)
	if err != nil {
		down.Reason = err.Error()
		return down
	}
	if p.Weight == 0 {
		if v != 0 {
			down.Reason = fmt.Sprintf("value %d", v)
			return down
		}
		return Result{Up: true, Weight: NoWeight, Reason: "value 0"}
	}
	r := v * p.Weight
	if v != 0 && r/v != p.Weight { // overflow: keep the sign, saturate
		r = math.MaxInt64
		if (v < 0) != (p.Weight < 0) {
			r = math.MinInt64
		}
	}
	if p.Reverse {
		r = -max(r, -math.MaxInt64)
	}
	if r <= 0 {
		down.Reason = fmt.Sprintf("value %d", v)
		if r != v {
			down.Reason = fmt.Sprintf("value %d, times weight %d", v, r)
		}
		return down
	}
	up := Result{Up: true, Weight: NoWeight, Reason: fmt.Sprintf("value %d", v)}
	if p.Dynamic {
		up.Weight = int(min(r, MaxWeight))
		up.Reason = fmt.Sprintf("value %d, weight %d", v, up.Weight)
	}
	return up
}

// readNumber reads the integer in a regular file (a FIFO or device is
// refused, never waited on).
func readNumber(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return 0, fmt.Errorf("open %s: %w", path, pe.Err)
		}
		return 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	} else if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileCheck+1))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFileCheck {
		return 0, fmt.Errorf("%s is larger than %d bytes", path, maxFileCheck)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, fmt.Errorf("%s is empty", path)
	}
	// keepalived reads the number with strtol: leading digits count.
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || end == 0 && (s[0] == '-' || s[0] == '+')) {
		end++
	}
	v, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s does not start with a number", path)
	}
	return v, nil
}

// Validate checks the path.
func (p *File) Validate() error {
	if p.Path == "" {
		return errors.New("file check without a path")
	}
	return nil
}
