package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Paths inside the guest.
const (
	guestDir     = "/test"
	guestTest    = "/test/pkg.test"
	guestSpec    = "/test/args.json"
	guestOutDir  = "/test/out"
	guestTTY     = "/dev/ttyS1"
	guestPath    = "/usr/sbin:/usr/bin:/sbin:/bin"
	guestModprob = "/sbin/modprobe"
)

// guestMain is PID 1 in the VM. Its stdout/stderr are /dev/console (ttyS0,
// the host's console.log) until ttyS1 is open. It never returns.
func guestMain() {
	if err := guestRun(); err != nil {
		fmt.Fprintf(os.Stderr, "vmexec guest: %v\n", err)
	}
	unix.Sync()
	// Returning from PID 1 would panic the kernel; with panic=-1 and QEMU's
	// -no-reboot that also ends the VM, so it is the fallback if poweroff fails.
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Fprintf(os.Stderr, "vmexec guest: poweroff: %v\n", err)
	}
	os.Exit(1)
}

// guestRun sets the guest up, runs the test and reports to the host. Errors
// before ttyS1 is open only reach the console; the host then reports "no
// result" with the console tail.
func guestRun() error {
	if err := mountAll(); err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	raw, err := os.ReadFile(guestSpec)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	var sp spec
	if err := json.Unmarshal(raw, &sp); err != nil {
		return fmt.Errorf("parse %s: %w", guestSpec, err)
	}
	tty, err := openRaw(guestTTY)
	if err != nil {
		return fmt.Errorf("open %s: %w", guestTTY, err)
	}
	defer tty.Close()
	if err := writeRecord(tty, sp.Nonce, nil, recBooted); err != nil {
		return fmt.Errorf("write boot record: %w", err)
	}

	code, err := setupAndTest(tty, &sp)
	if err != nil {
		// Shown to the user like test output: the host has no console tail here.
		fmt.Fprintf(tty, "vmexec guest: %v\n", err)
	}
	if err := sendOutputs(tty, &sp); err != nil {
		fmt.Fprintf(tty, "vmexec guest: send outputs: %v\n", err)
	}
	unix.Sync()
	if err := writeRecord(tty, sp.Nonce, nil, recExit, strconv.Itoa(code)); err != nil {
		return fmt.Errorf("write exit record: %w", err)
	}
	// tcdrain: wait until the UART has sent everything before powering off.
	if err := unix.IoctlSetInt(int(tty.Fd()), unix.TCSBRK, 1); err != nil {
		return fmt.Errorf("drain %s: %w", guestTTY, err)
	}
	return nil
}

// mountAll mounts the pseudo filesystems a test expects.
func mountAll() error {
	for _, m := range []struct{ fstype, dir, data string }{
		{"proc", "/proc", ""},
		{"sysfs", "/sys", ""},
		{"devtmpfs", "/dev", "mode=0755"},
		{"tmpfs", "/tmp", "mode=1777"},
		{"tmpfs", "/run", "mode=0755"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, unix.MS_NOSUID, m.data); err != nil {
			return fmt.Errorf("%s on %s: %w", m.fstype, m.dir, err)
		}
	}
	// Where iproute2 and vishvananda/netns keep named network namespaces.
	return os.MkdirAll("/run/netns", 0o755)
}

// openRaw opens a serial port in raw mode (no output post-processing such as
// "\n" -> "\r\n", no echo, no line discipline) so bytes pass unmodified.
func openRaw(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("get termios: %w", err)
	}
	// cfmakeraw(3)
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t); err != nil {
		f.Close()
		return nil, fmt.Errorf("set termios: %w", err)
	}
	return f, nil
}

// setupAndTest finishes the guest setup and runs the test binary with its
// output on tty. It returns the exit status to report.
func setupAndTest(tty *os.File, sp *spec) (int, error) {
	if err := unix.Sethostname([]byte("vmexec")); err != nil {
		return exitNoResult, fmt.Errorf("sethostname: %w", err)
	}
	if err := linkUp("lo"); err != nil {
		return exitNoResult, fmt.Errorf("bring lo up: %w", err)
	}
	// The kernel runs this helper to autoload modules: ip_vs on the first
	// IPVS genetlink request, ip_vs_SCHED when a service uses SCHED, ipip
	// when an ipip link is created, and so on.
	if err := os.WriteFile("/proc/sys/kernel/modprobe", []byte(guestModprob+"\n"), 0o644); err != nil {
		return exitNoResult, fmt.Errorf("set kernel.modprobe: %w", err)
	}
	// The cloud kernel seeds its CRNG from RDRAND (-cpu max), so getrandom
	// never blocks. Should that ever change, feed it from QEMU's virtio-rng
	// device (virtio_pci is a module in this kernel, nothing loads it).
	if _, err := unix.Getrandom(make([]byte, 1), unix.GRND_NONBLOCK); errors.Is(err, unix.EAGAIN) {
		if out, err := exec.Command(guestModprob, "-a", "virtio_pci", "virtio_rng").CombinedOutput(); err != nil {
			fmt.Fprintf(tty, "vmexec guest: load virtio_rng: %v: %s\n", err, out)
		}
	}
	if err := os.MkdirAll(guestOutDir, 0o755); err != nil {
		return exitNoResult, err
	}
	for _, o := range sp.Outputs {
		if o.Dir {
			if err := os.MkdirAll(o.Path, 0o755); err != nil {
				return exitNoResult, err
			}
		}
	}

	cmd := exec.Command(guestTest, sp.Args...)
	cmd.Dir = guestDir
	if sp.Dir != "" {
		cmd.Dir = sp.Dir
	}
	cmd.Env = append([]string{"PATH=" + guestPath, "HOME=/root", "TMPDIR=/tmp"}, sp.Env...)
	cmd.Stdout, cmd.Stderr = tty, tty
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	default:
		return exitNoResult, fmt.Errorf("run test binary: %w", err)
	}
}

// linkUp sets IFF_UP on an interface of the current network namespace.
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// sendOutputs copies the test's output files back to the host as file
// records (base64, so the stream stays printable).
func sendOutputs(w io.Writer, sp *spec) error {
	for i, o := range sp.Outputs {
		if !o.Dir {
			if err := sendFile(w, sp.Nonce, i, "-", o.Path); err != nil {
				return err
			}
			continue
		}
		ents, err := os.ReadDir(o.Path)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				if err := sendFile(w, sp.Nonce, i, hex.EncodeToString([]byte(e.Name())), filepath.Join(o.Path, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func sendFile(w io.Writer, nonce string, idx int, name, path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // the test did not write it (e.g. it failed early)
	}
	if err != nil {
		return err
	}
	enc := []byte(base64.StdEncoding.EncodeToString(data))
	return writeRecord(w, nonce, enc, recFile, strconv.Itoa(idx), name, strconv.Itoa(len(enc)))
}
