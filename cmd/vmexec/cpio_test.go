package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCPIORoundTrip writes an archive and lists and unpacks it with GNU cpio
// (Debian's cpio package), comparing names, types, modes and data.
func TestCPIORoundTrip(t *testing.T) {
	cpioBin, err := exec.LookPath("cpio")
	if err == nil {
		if v, _ := exec.Command(cpioBin, "--version").Output(); !bytes.Contains(v, []byte("GNU cpio")) {
			err = exec.ErrNotFound // e.g. busybox's, in the guest
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no GNU cpio(1) to check against: make test installs it (make vm-assets)")
		}
		t.Skip("no GNU cpio(1) to check against (apt-get install cpio)")
	}
	src := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "a/b"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "a/b/c.txt"), []byte("hello\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "a/odd"), []byte("12345"), 0o755)) // size not a multiple of 4
	must(t, os.WriteFile(filepath.Join(src, "empty"), nil, 0o600))
	must(t, os.Symlink("b/c.txt", filepath.Join(src, "a/link")))

	var buf bytes.Buffer
	cw := newCPIOWriter(&buf)
	must(t, cw.AddTree(src, "root"))
	must(t, cw.File("x/y/generated", 0o644, 0, []byte("gen")))      // parents made on demand
	must(t, cw.Dir("root/a", 0o755, 0))                             // duplicate dirs merge
	must(t, cw.CharDev("dev/null", 0o666, 1, 3))                    // listed, not unpacked
	if err := cw.File("x/y/generated", 0o644, 0, nil); err == nil { // duplicate files do not
		t.Error("duplicate file accepted")
	}
	for _, bad := range []string{"/abs", "../up", "a//b", ""} {
		if err := cw.File(bad, 0o644, 0, nil); err == nil {
			t.Errorf("bad name %q accepted", bad)
		}
	}
	must(t, cw.Close())
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d not 4-aligned", buf.Len())
	}

	list := exec.Command(cpioBin, "-t", "--quiet")
	list.Stdin = bytes.NewReader(buf.Bytes())
	out, err := list.Output()
	if err != nil {
		t.Fatalf("cpio -t: %v", err)
	}
	got := strings.Fields(string(out))
	sort.Strings(got)
	want := []string{"dev", "dev/null", "root", "root/a", "root/a/b", "root/a/b/c.txt", "root/a/link",
		"root/a/odd", "root/empty", "x", "x/y", "x/y/generated"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("cpio -t:\n got %q\nwant %q", got, want)
	}

	dst := t.TempDir()
	in := exec.Command(cpioBin, "-i", "-d", "--quiet", "--no-absolute-filenames", "root/*", "x/*")
	in.Dir = dst
	in.Stdin = bytes.NewReader(buf.Bytes())
	if out, err := in.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v\n%s", err, out)
	}
	for name, data := range map[string]string{
		"root/a/b/c.txt": "hello\n", "root/a/odd": "12345", "root/empty": "", "x/y/generated": "gen",
	} {
		b, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || string(b) != data {
			t.Errorf("%s: %q, %v; want %q", name, b, err, data)
		}
	}
	if st, err := os.Stat(filepath.Join(dst, "root/a/odd")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("root/a/odd mode: %v, %v", st.Mode(), err)
	}
	if target, err := os.Readlink(filepath.Join(dst, "root/a/link")); err != nil || target != "b/c.txt" {
		t.Errorf("root/a/link -> %q, %v", target, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
