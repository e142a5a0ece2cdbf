# lvsctl — see README.md. Two entry points on a fresh machine:
#   make demo   boot a VM with a stock Debian kernel and show lvsctl at work
#   make test   unit + network-namespace tests on the host, then the VM tests
SHELL := /bin/bash
GO    ?= go
export PATH := $(PATH):/usr/local/go/bin

include .ci/vm.mk

# Release identity, linked into the binary (lvsctl version): the tag on a
# tagged commit, git describe after it (.ci/version; docs/packaging/README.md).
VERSION     ?= $(shell bash .ci/version)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null)
COMMIT_TIME ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS     := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.commitTime=$(COMMIT_TIME)

# Packages with real-kernel tests (func TestVM...), run inside the guest.
VM_PKGS := $(sort $(dir $(shell grep -rl --include='*_test.go' '^func TestVM' .)))

.PHONY: all build test host-deps test-host fuzz test-vm demo bench fmt vet clean man install package package-check

all: build

build:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -ldflags '$(LDFLAGS)' -o bin/lvsctl ./cmd/lvsctl

## test: everything CI runs: vet, host tests, fuzzing, the packages, VM tests (packages
## first: the host tests use keepalived and GNU cpio).
test: host-deps vm-assets vet test-host fuzz package-check test-vm

## host-deps: Debian packages the host tests need (keepalived, iproute2, cpio).
host-deps:
	bash .ci/host-deps

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags nobgp ./...

## test-host: unit and network-namespace tests (root for the latter).
test-host:
	$(GO) test -count=1 -skip '^TestVM' ./...
	$(GO) test -count=1 -tags nobgp ./bgp/ ./cmd/internal/director/

## fuzz: every fuzz target for FUZZTIME (default 10s) on top of its corpus.
fuzz:
	GO=$(GO) bash .ci/fuzz

## test-vm: tests that need kernel IPVS, run in a QEMU guest (with a
## MariaDB bundle for TestVMMySQLRoles: .ci/vm-mariadb; the packaged units
## and /etc/default/lvsctl at their installed paths for TestVMPackagedUnits).
UNIT_VM_FILES := $(CURDIR)/docs/systemd/lvsctl.service:/lib/systemd/system/lvsctl.service,$(CURDIR)/docs/systemd/lvsctl-realserver.service:/lib/systemd/system/lvsctl-realserver.service,$(CURDIR)/docs/packaging/lvsctl.default:/etc/default/lvsctl
test-vm: vm-assets vmexec
	bash .ci/vm-mariadb bin/vm-mariadb.tar.gz
	LVSCTL_VM_FILES=$(CURDIR)/bin/vm-mariadb.tar.gz:/mariadb.tar.gz,$(UNIT_VM_FILES) LVSCTL_MARIADB_BUNDLE=/mariadb.tar.gz \
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 20m -exec $(VMEXEC) -run '^TestVM' -skip '^(TestVMBench|TestVMBenchReload|TestVMBenchColdImported|TestVMCheckBench)$$' -v $(VM_PKGS)

## demo: the product in one VM boot (cmd/lvsdemo): NAT plan/apply/list and
## traffic; DR backends by lvsctl realserver; lvsctl run evicting and
## restoring a backend, status, metrics; VRRP failover between two
## directors; lvsctl import keepalived. Ends with its time.
demo: vm-assets vmexec
	@start=$$(date +%s); \
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o bin/lvsctl ./cmd/lvsctl && \
	CGO_ENABLED=0 $(GO) build -o bin/lvsdemo ./cmd/lvsdemo && \
	LVSCTL_VM_FILES=$(CURDIR)/bin/lvsctl:/usr/bin/lvsctl $(VMEXEC) $(CURDIR)/bin/lvsdemo && \
	echo "make demo: $$(( $$(date +%s) - start )) s, from the build through the VM boot to the end ($$(nproc) cores)"

## bench: issue 11's benchmark (docs/BENCHMARKS.md). Host: micro-benchmarks
## (HCL parse, Diff, netlink codec, ipvsadm formatter), checker CPU and peak
## RSS for 10k TCP and 1k HTTP checks, daemon mass failure (fake kernel).
## Then one VM boot: lvsctl vs ipvsadm at 200, 10,000 and 20,000 services x 4
## (1k, 50k, 100k objects; LVSCTL_BENCH_SIZES, LVSCTL_BENCH_RUNS), one table.
## Then issue 22's boot: keepalived's checker vs lvsctl run (bin/lvsctl, as
## packaged), TCP_CHECK and HTTP_GET at 500 and 1,000 real servers
## (LVSCTL_CHECKBENCH_SIZES), one table.
bench: vm-assets vmexec build
	$(GO) test -count=1 -run '^$$' -bench . -benchmem ./hcl/ ./ipvs/ ./ipvs/ipvsadm/
	$(GO) test -c -o bin/checker.test ./checker
	/usr/bin/time -f 'checker process peak RSS: %M KiB' bin/checker.test -test.run '^$$' -test.bench 'PoolTCP/10000$$'
	/usr/bin/time -f 'checker process peak RSS: %M KiB' bin/checker.test -test.run '^$$' -test.bench 'PoolHTTP/1000$$'
	$(GO) test -count=1 -run '^$$' -bench MassFailure ./cmd/internal/daemon/
	set -o pipefail; CGO_ENABLED=0 LVSCTL_BENCH=1 LVSCTL_VM_MEM=$${LVSCTL_VM_MEM:-4096} LVSCTL_VM_TIMEOUT=$${LVSCTL_VM_TIMEOUT:-150m} \
		LVSCTL_BENCH_HOST_CPU="$$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $$(nproc) cores" \
		$(GO) test -count=1 -timeout 160m -exec $(VMEXEC) -run '^TestVMBench$$' -v ./cmd/lvsctl | sed -n '/^=== lvsctl VM benchmark/,/^$$/p;/^--- \|^FAIL\|^ok/p'
	set -o pipefail; CGO_ENABLED=0 LVSCTL_BENCH=1 LVSCTL_VM_MEM=$${LVSCTL_VM_MEM:-4096} LVSCTL_VM_TIMEOUT=$${LVSCTL_VM_TIMEOUT:-60m} \
		LVSCTL_VM_FILES=$(CURDIR)/bin/lvsctl:/usr/bin/lvsctl LVSCTL_CHECKBENCH_BIN=/usr/bin/lvsctl \
		$(GO) test -count=1 -timeout 70m -exec $(VMEXEC) -run '^TestVMCheckBench$$' -v ./cmd/lvsctl | sed -n '/^=== lvsctl checker VM benchmark/,/^$$/p;/^--- \|^FAIL\|^ok/p'

## man: man pages (section 8) from the command tree, into docs/man.
man:
	LVSCTL_MAN_DIR=$(CURDIR)/docs/man SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || date +%s) \
		$(GO) test -count=1 -run '^TestManPages$$' ./cmd/lvsctl

## install: binary, systemd unit, example configuration, man pages and
## completions under $(DESTDIR) (PREFIX=/usr/local by default).
PREFIX ?= /usr/local
install: build man
	install -D -m 0755 bin/lvsctl $(DESTDIR)$(PREFIX)/sbin/lvsctl
	install -d $(DESTDIR)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)/etc/lvsctl
	for u in lvsctl lvsctl-realserver; do sed 's|/usr/sbin/lvsctl|$(PREFIX)/sbin/lvsctl|g' docs/systemd/$$u.service > $(DESTDIR)/lib/systemd/system/$$u.service; done
	install -m 0644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -D -m 0644 docs/man/lvsctl.hcl.5 $(DESTDIR)$(PREFIX)/share/man/man5/lvsctl.hcl.5
	install -m 0644 docs/packaging/lvsctl.hcl.example docs/packaging/realserver.hcl.example $(DESTDIR)/etc/lvsctl/
	test -e $(DESTDIR)/etc/default/lvsctl || install -D -m 0644 docs/packaging/lvsctl.default $(DESTDIR)/etc/default/lvsctl
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	bin/lvsctl completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lvsctl
	bin/lvsctl completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_lvsctl
	bin/lvsctl completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/lvsctl.fish

## package: .deb, .rpm and .tar.gz for linux/amd64 and linux/arm64 with
## SHA256SUMS, in bin/dist (.ci/package; docs/packaging/README.md). nfpm is
## pinned there and run with go run. VERSION=v1.2.3 overrides git describe.
package:
	GO=$(GO) VERSION=$(VERSION) COMMIT=$(COMMIT) COMMIT_TIME=$(COMMIT_TIME) bash .ci/package

## package-check: the packages' proof (.ci/package-check): lintian; install,
## upgrade from a previous version built in a tagged temporary clone, remove
## and purge in an mmdebstrap Debian root; systemd-analyze verify.
package-check: package
	GO=$(GO) bash .ci/package-check

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
