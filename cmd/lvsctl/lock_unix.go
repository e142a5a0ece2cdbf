//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The state lock is a file beside the ownership record (STATE.lock),
// locked with flock(2). Writers (apply, run, realserver start/stop) hold it
// exclusively and write "PID ROLE" into it, so that others can say who
// holds it; plan holds it shared while it reads the kernel and the record,
// so that it never shows a table an apply is half-way through.

// roleApply marks the lock of an apply: plan waits for those.
const roleApply = "apply"

const (
	// lockPoll is how often a waiting lock tries again.
	lockPoll = 50 * time.Millisecond
	// readersWait bounds a writer's wait for plans to finish reading.
	readersWait = time.Minute
)

// lockState takes an exclusive lock beside the ownership record so that two
// lvsctl writers of one namespace never interleave. It fails at once if
// another writer holds it.
func lockState(statePath string) (unlock func(), err error) {
	return lockExclusive(context.Background(), statePath, "", readersWait)
}

// lockExclusive takes the lock for role. If another writer holds it, it
// fails at once; if only plans hold it (shared, for the time of a kernel
// dump), it waits up to wait for them.
func lockExclusive(ctx context.Context, statePath, role string, wait time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(statePath), 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	f, err := os.OpenFile(statePath+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", statePath, err)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", statePath, err)
		}
		// Busy. A shared lock is granted only when no writer holds it:
		// then the holders are plans, which finish soon.
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
			pid, _ := lockHolder(f)
			f.Close()
			return nil, fmt.Errorf("another lvsctl%s is applying to this namespace (lock %s.lock is held)", pidText(pid), statePath)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", statePath, err)
		}
		if err := sleepCtx(ctx, lockPoll); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s.lock: still read by lvsctl plan after %v: %w", statePath, wait, err)
		}
	}
	// Say who holds it; best effort: a reader that finds no owner waits.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strings.TrimSpace(strconv.Itoa(os.Getpid())+" "+role)+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// lockShared takes the lock shared for plan, read-only: it creates
// nothing, and a state directory without a lock file has no apply running.
// While an apply holds the lock, it prints one line to progress and waits
// up to wait for it to finish. Another writer (lvsctl run, which holds the
// lock for its whole life) is not waited for: the plan reads the table as
// it is, and says so.
func lockShared(ctx context.Context, statePath string, wait time.Duration, progress io.Writer) (unlock func(), err error) {
	f, err := os.Open(statePath + ".lock")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		// No lock file: no apply has run here. Not allowed to read it:
		// the record cannot be read either, and the plan reports that
		// (or the missing privilege) without showing any table.
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", statePath, err)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	waiting, other := false, false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", statePath, err)
		}
		pid, role := lockHolder(f)
		if pid != 0 && role != roleApply && other {
			// Seen twice, a poll apart: not an apply that has just taken
			// the lock and not yet written its role over the last holder's.
			f.Close()
			fmt.Fprintf(progress, "lvsctl: lvsctl%s holds %s.lock (lvsctl run); planning against the table as it is now\n", pidText(pid), statePath)
			return func() {}, nil
		}
		other = pid != 0 && role != roleApply
		if !waiting && !other {
			fmt.Fprintf(progress, "lvsctl: waiting for the running apply%s to finish...\n", pidText(pid))
			waiting = true
		}
		if err := sleepCtx(ctx, lockPoll); err != nil {
			f.Close()
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("timed out after %v waiting for the running apply%s (lock %s.lock); nothing was planned, try again when it has finished", wait, pidText(pid), statePath)
			}
			return nil, fmt.Errorf("waiting for the running apply%s: %w", pidText(pid), err)
		}
	}
}

// lockHolder reads who holds the lock, as the holder wrote it: its pid (0
// if unknown) and role ("" for writers other than apply).
func lockHolder(f *os.File) (pid int, role string) {
	b := make([]byte, 64)
	n, _ := f.ReadAt(b, 0)
	fields := strings.Fields(string(b[:n]))
	if len(fields) == 0 {
		return 0, ""
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return 0, ""
	}
	if len(fields) > 1 {
		role = fields[1]
	}
	return pid, role
}

func pidText(pid int) string {
	if pid == 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}

// sleepCtx waits for d, or returns ctx's error.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
