package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// TestVMImportKeepalived proves the import on a real kernel: Debian's
// keepalived programs a configuration's IPVS table in one namespace, lvsctl
// applies the imported configuration in another, and `ipvsadm -S -n`
// saves the same table from both.
//
// keepalived runs as the checker alone (-C). Its health checks would make
// the table depend on backends the guest does not have, so the copy it
// reads has its checkers removed: every real server is then up, and the
// table is what the configuration says, which is what `lvsctl apply`
// programs (it ignores checks). The import reads the original file.
func TestVMImportKeepalived(t *testing.T) {
	requireVM(t)
	keepalived := "/usr/sbin/keepalived"
	if _, err := os.Stat(keepalived); err != nil {
		t.Fatalf("keepalived is not in the guest (.ci/vm-assets copies it): %v", err)
	}
	// The classic deployments, the split configuration, and every Debian
	// sample with a virtual_server (the others are VRRP only).
	confs := []string{"mycat-dr.conf", "mysql-dr-wrr.conf", "mysql-tun.conf", "corrections.conf", "include/keepalived.conf"}
	samples, err := filepath.Glob(filepath.Join(kaTestdata, "samples", "keepalived.conf.*"))
	require.NoError(t, err)
	for _, s := range samples {
		src, err := os.ReadFile(s)
		require.NoError(t, err)
		if regexp.MustCompile(`(?m)^virtual_server `).Match(src) {
			confs = append(confs, filepath.Join("samples", filepath.Base(s)))
		}
	}
	require.GreaterOrEqual(t, len(confs), 5+16)

	for i, conf := range confs {
		t.Run(conf, func(t *testing.T) {
			start := time.Now()
			l := lab.New(fmt.Sprintf("vmka%d-", i))
			t.Cleanup(func() { l.Close() })
			require.NoError(t, l.AddHost("ka"))
			require.NoError(t, l.AddHost("lvs"))

			// lvsctl: import the original, apply it.
			cli := newVMCLI(t, l.NSPath("lvs"))
			out := filepath.Join(t.TempDir(), "lvsctl.hcl")
			code := cli.run("import", "keepalived", filepath.Join(kaTestdata, conf), "-o", out)
			require.Contains(t, []int{0, exitIncomplete}, code, cli.errOut.String())
			want := loadHCL(t, out)
			require.NotEmpty(t, want)
			standInPrograms(t, out) // dig, the samples' scripts
			require.Equal(t, 0, cli.run("apply", "-f", out), cli.errOut.String())
			lvsTable := savedTable(t, l, "lvs")

			// keepalived: the same file without checkers.
			dir := t.TempDir()
			main := copyWithoutCheckers(t, filepath.Join(kaTestdata, conf), dir)
			kaTable := runKeepalived(t, l, keepalived, main, dir, len(lvsTable))

			assert.Equal(t, kaTable, lvsTable, "ipvsadm -S -n: keepalived (first) and lvsctl")
			t.Logf("%s: %d services, %d lines, %v", conf, len(want), len(lvsTable), time.Since(start).Round(time.Millisecond))
		})
	}
}

// savedTable is `ipvsadm -S -n` in host's namespace, sorted (the order of
// the services is the kernel's hash order).
func savedTable(t *testing.T, l *lab.Lab, host string) []string {
	t.Helper()
	r := ipvsadmIn(t, l, host, nil, "-S", "-n")
	require.Zero(t, r.code, "%s", r.stderr)
	lines := strings.Split(strings.TrimSpace(string(r.stdout)), "\n")
	lines = slices.DeleteFunc(lines, func(s string) bool { return s == "" })
	slices.Sort(lines)
	return lines
}

// runKeepalived starts keepalived's checker in host "ka" with conf, waits
// until its table has lines lines (or stops changing), saves it, and stops
// keepalived.
func runKeepalived(t *testing.T, l *lab.Lab, bin, conf, dir string, lines int) []string {
	t.Helper()
	var log kaLogBuffer
	cmd := exec.Command(bin, "-C", "-n", "-l", "-D", "-f", conf,
		"-p", filepath.Join(dir, "keepalived.pid"), "-c", filepath.Join(dir, "checkers.pid"))
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, l.Do("ka", cmd.Start))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("keepalived log:\n%s", log.String())
		}
	})

	var table []string
	deadline := time.Now().Add(15 * time.Second)
	for stable := 0; time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("keepalived exited: %v\n%s", err, log.String())
		default:
		}
		now := savedTable(t, l, "ka")
		if len(now) > 0 && slices.Equal(now, table) {
			stable++
		} else {
			stable = 0
		}
		table = now
		if len(table) == lines && stable >= 2 {
			break
		}
	}
	stop()
	return table
}

type kaLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *kaLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *kaLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// copyWithoutCheckers copies conf into dir (with the tree it includes, for
// a configuration in a directory of its own) minus comments and checker
// blocks, and returns the copy of conf.
func copyWithoutCheckers(t *testing.T, conf, dir string) string {
	t.Helper()
	srcDir := filepath.Dir(conf)
	var srcs []string
	if filepath.Base(srcDir) == "include" {
		require.NoError(t, filepath.Walk(srcDir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				srcs = append(srcs, p)
			}
			return err
		}))
	} else {
		srcs = []string{conf}
	}
	for _, src := range srcs {
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		rel, err := filepath.Rel(srcDir, src)
		require.NoError(t, err)
		dst := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, []byte(withoutCheckers(string(data))), 0o644))
	}
	return filepath.Join(dir, filepath.Base(conf))
}

var checkerBlock = regexp.MustCompile(`\b(TCP_CHECK|HTTP_GET|SSL_GET|MISC_CHECK|SMTP_CHECK|DNS_CHECK|UDP_CHECK|PING_CHECK|BFD_CHECK|FILE_CHECK)\s*\{`)

// withoutCheckers drops comments ('!' or '#' outside double quotes) and
// checker blocks from a keepalived configuration.
func withoutCheckers(src string) string {
	var lines []string
	for _, l := range strings.Split(src, "\n") {
		quote := false
		for i := 0; i < len(l); i++ {
			if l[i] == '"' {
				quote = !quote
			} else if !quote && (l[i] == '#' || l[i] == '!') && (i == 0 || l[i-1] != '\\') {
				l = l[:i]
				break
			}
		}
		lines = append(lines, l)
	}
	src = strings.Join(lines, "\n")
	for {
		m := checkerBlock.FindStringIndex(src)
		if m == nil {
			return src
		}
		depth, end := 0, len(src)
		for i := m[1] - 1; i < len(src); i++ {
			if src[i] == '{' {
				depth++
			} else if src[i] == '}' {
				if depth--; depth == 0 {
					end = i + 1
					break
				}
			}
		}
		src = src[:m[0]] + src[end:]
	}
}
