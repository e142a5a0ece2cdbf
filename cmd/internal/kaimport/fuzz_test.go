package kaimport

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// fuzzSecret is the contents of a file that is not keepalived's: it must
// never reach the output or the diagnostics.
const fuzzSecret = "S3CR3TV4LU3"

// FuzzImport checks that no input panics, that every import that gets past
// the syntax is valid lvsctl HCL, and that the lines of a file that is not
// keepalived's never show. The input is k.conf of an in-memory file system,
// never the host's: a.conf and conf.d/x.conf hold the same input (so
// includes nest and fan out, within small limits), etc/shadow a secret,
// dev/zero is a device, and the bin directories hold programs of each kind
// keepalived tells apart.
func FuzzImport(f *testing.F) {
	for _, glob := range []string{"*.conf", "samples/keepalived.conf.*"} {
		names, _ := filepath.Glob(filepath.Join(testdata, glob))
		for _, name := range names {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	for _, s := range []string{
		"include /etc/shadow\n",
		"include /dev/zero\n",
		"include a.conf\ninclude a.conf\n",
		"include conf.d/*.conf\ninclude {a,conf.d/x}.conf\n",
		"include " + strings.Repeat("{a,b}", 12) + "\n",
		"$D=include /etc/shadow\n$D\n",
		"global_defs {\n  script_user nobody nogroup\n  enable_script_security\n}\nvrrp_script c {\n  script \"/usr/bin/elf a; b\"\n  user www-data\n}\n",
		"vrrp_instance V {\n  interface eth0\n  virtual_router_id 1\n  notify_master \"/usr/bin/logger master; touch /tmp/pwned\" alice staff\n  notify_backup \"/usr/bin/noshebang 'x' \\\"it's\\\"\"\n}\n",
		"virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 {\n    MISC_CHECK {\n      misc_path \"/usr/local/bin/check 10.0.0.1; rm -rf /\"\n      user nobody\n    }\n  }\n}\n",
		"vrrp_script c {\n  script \"</dev/tcp/127.0.0.1/80\"\n}\nvrrp_script d {\n  script \"noexec \\x414 \\400\"\n}\n",
	} {
		f.Add([]byte(s))
	}
	exe := func(data string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(data), Mode: 0o755} }
	f.Fuzz(func(t *testing.T, src []byte) {
		fsys := fstest.MapFS{
			"k.conf":               {Data: src},
			"a.conf":               {Data: src},
			"conf.d/x.conf":        {Data: src},
			"etc/shadow":           {Data: []byte("root:*:" + fuzzSecret + ":19700:0:99999:7:::\n")},
			"etc/passwd":           {Data: []byte("root:x:0:0::/root:/bin/sh\nkeepalived_script:x:998:998::/:/bin/false\n")},
			"dev/zero":             {Mode: fs.ModeDevice | fs.ModeCharDevice},
			"usr/bin/elf":          exe("\x7fELF"),
			"usr/bin/logger":       exe("#!/bin/sh\n"),
			"usr/bin/noshebang":    exe("true\n"),
			"usr/bin/noexec":       {Data: []byte("#!/bin/sh\n"), Mode: 0o644},
			"usr/local/bin/check":  exe("#!/bin/sh\n"),
			"usr/local/bin/script": exe("echo\n"),
		}
		res, err := Import("k.conf", Options{FS: fsys, Limits: Limits{FileSize: 1 << 16, TotalSize: 1 << 18, Files: 64, Depth: 8}})
		if err != nil {
			return
		}
		// An empty translation is valid with allow_empty (hcl/guard.go).
		if _, _, diags := lvshcl.Parse(append(res.HCL, "\nallow_empty = true\n"...), "out.hcl"); diags.HasErrors() {
			t.Fatalf("invalid output: %s\n%s", diags.Error(), res.HCL)
		}
		if bytes.Contains(src, []byte(fuzzSecret)) {
			return
		}
		if bytes.Contains(res.HCL, []byte(fuzzSecret)) {
			t.Fatalf("the output shows etc/shadow:\n%s", res.HCL)
		}
		for _, d := range res.Diags {
			if strings.Contains(d.String(), fuzzSecret) {
				t.Fatalf("a diagnostic shows etc/shadow: %s", d)
			}
		}
	})
}
