# .ci/vm.mk: real-kernel test harness (included from the top-level Makefile).
#
#   make vm-assets      # once per machine (and after kernel ABI bumps): kernel + guest rootfs
#   make vmexec         # bin/vmexec, the `go test -exec` adapter (static)
#   go test -exec $(VMEXEC) ./ipvs   # runs the package's tests in a QEMU guest
#
# Assets live in $(LVSCTL_VM_CACHE) (default ~/.cache/lvsctl-vm). vmexec exits
# 125 when the guest produced no result (did not boot, QEMU died, deadline).

VMEXEC := $(CURDIR)/bin/vmexec

.PHONY: vm-assets vmexec
vm-assets:
	bash $(CURDIR)/.ci/vm-assets

# Always rebuilt (go's cache makes that cheap), so bin/vmexec never goes stale.
vmexec:
	CGO_ENABLED=0 go build -o $(VMEXEC) ./cmd/vmexec

# Proof that the guest has what kernel tests need (IPVS autoload, ipvsadm,
# tunl0, netns, testdata); fails rather than skips under CI.
.PHONY: vm-smoke
vm-smoke: vm-assets vmexec
	go test -count=1 -exec $(VMEXEC) -run TestVMSmoke -v ./cmd/vmexec
