// Command vmexec runs a Go test binary inside a QEMU guest that boots Debian's
// stock cloud kernel, so tests that need kernel features the host lacks (IPVS,
// ipip/tunl0, GRE, FOU, dummy, veth, bridge, network namespaces) run for real:
//
//	go test -exec "$PWD/bin/vmexec" ./ipvs
//
// The same static binary plays two roles:
//
//   - Host (normal invocation, "vmexec TESTBINARY ARGS...", cwd = package dir):
//     packs one uncompressed newc initramfs from the skeleton prepared by
//     .ci/vm-assets (busybox, a kernel-module subset with modules.dep, ipvsadm),
//     itself as /init, the test binary as /test/pkg.test, the package's
//     testdata/ as /test/testdata and /test/args.json (argv, selected env).
//     It boots QEMU (TCG, no network device) with the kernel console on ttyS0
//     (console.log) and the test's output on ttyS1 (out.log), streams out.log
//     to stdout while the guest runs and exits with the test's exit status.
//     Exit status 125 means "no result" (guest did not boot, QEMU died,
//     deadline): distinct from a test failure (1) or a test panic (2).
//   - Guest (PID 1 inside the VM): mounts /proc, /sys, /dev, /tmp, /run, brings
//     lo up, points the kernel's module autoloader at busybox modprobe, runs
//     /test/pkg.test in /test with stdout/stderr on ttyS1, reports its exit
//     status and any output files (coverage, profiles) back to the host, and
//     powers off.
//
// Host and guest frame their messages on ttyS1 as described in protocol.go.
// Assets are located via LVSCTL_VM_CACHE (default ~/.cache/lvsctl-vm). Other
// knobs: LVSCTL_VM_OUTDIR (a host directory: the guest sees a directory of
// its own under the same variable, and whatever is written there, such as
// profiles, is copied back), LVSCTL_VM_MEM (MiB, default 1024), LVSCTL_VM_TIMEOUT (default 20m),
// LVSCTL_VM_APPEND (extra kernel command line), LVSCTL_VM_BOOT_TIMEOUT (boot
// watchdog, default 60s), LVSCTL_VM_DEBUG=1 (timings), LVSCTL_VM_KEEP=1 (keep the
// temp dir with initramfs and logs).
package main

import "os"

func main() {
	if os.Getpid() == 1 {
		guestMain() // never returns: powers the VM off
	}
	os.Exit(hostMain(os.Args[1:]))
}
