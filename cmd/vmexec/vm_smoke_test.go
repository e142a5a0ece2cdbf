package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// TestVMSmoke proves the guest can do what lvsctl's kernel tests need. It
// only means something inside vmexec's guest (LVSCTL_IN_VM=1):
//
//	go test -exec $PWD/bin/vmexec -run TestVMSmoke -v ./cmd/vmexec
//
// Outside it skips, except under CI, where running it outside is a mistake.
func TestVMSmoke(t *testing.T) {
	if os.Getenv("LVSCTL_IN_VM") != "1" {
		if os.Getenv("CI") != "" {
			t.Fatal("TestVMSmoke must run in the VM (go test -exec bin/vmexec); CI is set, so not skipping")
		}
		t.Skip("not in the vmexec guest (LVSCTL_IN_VM != 1); run with go test -exec bin/vmexec")
	}

	t.Run("guest", func(t *testing.T) {
		if cmdline, _ := os.ReadFile("/proc/1/cmdline"); !strings.HasPrefix(string(cmdline), "/init\x00") {
			t.Fatalf("PID 1 is %q, want vmexec as /init", cmdline)
		}
		// getrandom must not block: crng is seeded (RDRAND via -cpu max).
		if _, err := unix.Getrandom(make([]byte, 16), unix.GRND_NONBLOCK); err != nil {
			t.Errorf("getrandom(GRND_NONBLOCK): %v (crng not ready)", err)
		}
		if lo, err := net.InterfaceByName("lo"); err != nil || lo.Flags&net.FlagUp == 0 {
			t.Errorf("lo not up: %+v %v", lo, err)
		}
	})

	t.Run("ipvs-autoload", func(t *testing.T) {
		if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
			t.Fatal("ip_vs already loaded; cannot prove autoload")
		}
		c, err := genetlink.Dial(nil)
		if err != nil {
			t.Fatalf("dial genetlink: %v", err)
		}
		defer c.Close()
		// The kernel asks modprobe for "net-pf-16-proto-16-family-IPVS".
		f, err := c.GetFamily("IPVS")
		if err != nil {
			t.Fatalf("resolve IPVS genetlink family: %v", err)
		}
		t.Logf("IPVS family id %d version %d", f.ID, f.Version)
		b, err := os.ReadFile("/proc/net/ip_vs")
		if err != nil {
			t.Fatalf("after autoload: %v", err)
		}
		t.Logf("/proc/net/ip_vs:\n%s", b)
	})

	t.Run("ipvsadm", func(t *testing.T) {
		out, err := exec.Command("ipvsadm", "-Ln").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "IP Virtual Server version") {
			t.Fatalf("ipvsadm -Ln: %v\n%s", err, out)
		}
		// A service with scheduler mh makes the kernel load ip_vs_mh on demand.
		if out, err := exec.Command("ipvsadm", "-A", "-t", "127.0.0.1:80", "-s", "mh").CombinedOutput(); err != nil {
			t.Fatalf("ipvsadm -A -s mh: %v\n%s", err, out)
		}
		defer exec.Command("ipvsadm", "-C").Run()
		mods, _ := os.ReadFile("/proc/modules")
		if !strings.Contains(string(mods), "ip_vs_mh ") {
			t.Errorf("ip_vs_mh not autoloaded; /proc/modules:\n%s", mods)
		}
		out, _ = exec.Command("ipvsadm", "-Ln").CombinedOutput()
		t.Logf("ipvsadm -Ln:\n%s", out)
	})

	t.Run("tunl0", func(t *testing.T) {
		if out, err := exec.Command("modprobe", "ipip").CombinedOutput(); err != nil {
			t.Fatalf("modprobe ipip: %v\n%s", err, out)
		}
		if _, err := net.InterfaceByName("tunl0"); err != nil {
			t.Fatalf("tunl0 after loading ipip: %v", err)
		}
	})

	t.Run("netns", func(t *testing.T) {
		// NewNamed switches the calling thread into the new namespace.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		orig, err := netns.Get()
		if err != nil {
			t.Fatalf("current netns: %v", err)
		}
		defer orig.Close()
		ns, err := netns.NewNamed("smoke")
		if err != nil {
			t.Fatalf("NewNamed(smoke): %v", err)
		}
		ns.Close()
		if err := netns.Set(orig); err != nil {
			t.Fatalf("back to the original netns: %v", err)
		}
		if _, err := os.Stat("/run/netns/smoke"); err != nil {
			t.Errorf("named netns not bound: %v", err)
		}
		if err := netns.DeleteNamed("smoke"); err != nil {
			t.Fatalf("DeleteNamed(smoke): %v", err)
		}
		if _, err := os.Stat("/run/netns/smoke"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("/run/netns/smoke still there: %v", err)
		}
	})

	t.Run("virtio-rng", func(t *testing.T) {
		// vmexec's fallback entropy source, should RDRAND ever be missing.
		if out, err := exec.Command("modprobe", "-a", "virtio_pci", "virtio_rng").CombinedOutput(); err != nil {
			t.Fatalf("modprobe virtio_rng: %v\n%s", err, out)
		}
		b, err := os.ReadFile("/sys/class/misc/hw_random/rng_current")
		if err != nil || !strings.HasPrefix(string(b), "virtio_rng") {
			t.Errorf("hw_random rng_current = %q, %v; want virtio_rng", b, err)
		}
	})

	t.Run("testdata", func(t *testing.T) {
		b, err := os.ReadFile("testdata/smoke.txt")
		if err != nil || string(b) != "vmexec smoke testdata\n" {
			t.Fatalf("testdata/smoke.txt: %q, %v", b, err)
		}
	})
}
