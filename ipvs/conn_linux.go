package ipvs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// ConnTableFile is the kernel's text listing of IPVS connections. It is per
// network namespace: the file shows the namespace of the thread that opens
// it.
const ConnTableFile = "/proc/net/ip_vs_conn"

// ReadConnTable returns the text of /proc/net/ip_vs_conn as seen in the
// network namespace at netnsPath ("" is the caller's). The file is opened
// by a thread inside that namespace, which needs CAP_SYS_ADMIN (the error
// then matches ErrPermission); once open, it keeps showing that namespace.
// If IPVS is not loaded there is no such file and the error matches
// fs.ErrNotExist.
func ReadConnTable(netnsPath string) ([]byte, error) {
	var (
		f   *os.File
		err error
	)
	if netnsPath == "" {
		f, err = os.Open(ConnTableFile)
	} else {
		f, err = openInNetns(netnsPath, "/proc/thread-self/net/ip_vs_conn")
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("ipvs: read %s: %w", ConnTableFile, err)
	}
	return b, nil
}

// openInNetns opens file from a thread that has entered the network
// namespace at nsPath, then returns the thread to its own namespace (or, if
// that fails, lets it die with its goroutine).
func openInNetns(nsPath, file string) (*os.File, error) {
	ns, err := os.Open(nsPath)
	if err != nil {
		return nil, fmt.Errorf("ipvs: open network namespace: %w", err)
	}
	defer ns.Close()
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("ipvs: open own network namespace: %w", err)}
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			if errors.Is(err, unix.EPERM) {
				err = explain("ipvs: enter network namespace "+nsPath+": permission denied: entering a network namespace needs root or CAP_SYS_ADMIN", ErrPermission, err)
			} else {
				err = fmt.Errorf("ipvs: enter network namespace %s: %w", nsPath, err)
			}
			done <- result{err: err}
			return
		}
		f, ferr := os.Open(file)
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread stays locked and is thrown away with this goroutine.
			if f != nil {
				f.Close()
			}
			done <- result{err: fmt.Errorf("ipvs: return from network namespace %s: %w", nsPath, err)}
			return
		}
		runtime.UnlockOSThread()
		if ferr != nil {
			if errors.Is(ferr, fs.ErrNotExist) {
				ferr = fmt.Errorf("ipvs: %s in network namespace %s: %w (is ip_vs loaded?)", ConnTableFile, nsPath, fs.ErrNotExist)
			}
		}
		done <- result{f: f, err: ferr}
	}()
	r := <-done
	return r.f, r.err
}
