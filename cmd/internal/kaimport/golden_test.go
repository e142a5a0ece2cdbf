package kaimport

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/keepalived/golden")

// The inputs: the classic deployments, a configuration split over files,
// and the samples Debian's keepalived package installs in
// /usr/share/doc/keepalived/samples (copied into testdata).
const testdata = "../../../testdata/keepalived"

// inputs lists them, relative to testdata/keepalived (the current
// directory).
func inputs(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, glob := range []string{"*.conf", "include/keepalived.conf", "samples/keepalived.conf.*"} {
		m, err := filepath.Glob(glob)
		require.NoError(t, err)
		names = append(names, m...)
	}
	require.GreaterOrEqual(t, len(names), 4+1+24)
	return names
}

func goldenName(input string) string {
	return filepath.Join("golden", strings.ReplaceAll(input, "/", "_"))
}

// TestGolden imports every input (paths relative to testdata/keepalived,
// as the golden files show them), checks that the output is valid lvsctl
// HCL, and compares output and diagnostics with the golden files. go test
// -update rewrites them.
func TestGolden(t *testing.T) {
	t.Chdir(testdata)
	for _, in := range inputs(t) {
		t.Run(in, func(t *testing.T) {
			res, err := Import(in, Options{FS: os.DirFS(".")})
			require.NoError(t, err)

			_, files, diags := lvshcl.Parse(res.HCL, "out.hcl")
			if diags.HasErrors() {
				var b strings.Builder
				_ = lvshcl.WriteDiagnostics(&b, files, diags)
				t.Fatalf("the output is not valid:\n%s\n%s", b.String(), res.HCL)
			}

			var d strings.Builder
			for _, x := range res.Diags {
				d.WriteString(x.String() + "\n")
			}
			golden := goldenName(in)
			if *update {
				require.NoError(t, os.WriteFile(golden+".hcl", res.HCL, 0o644))
				require.NoError(t, os.WriteFile(golden+".diag", []byte(d.String()), 0o644))
				return
			}
			want, err := os.ReadFile(golden + ".hcl")
			require.NoError(t, err, "go test -update writes it")
			assert.Equal(t, string(want), string(res.HCL))
			want, err = os.ReadFile(golden + ".diag")
			require.NoError(t, err)
			assert.Equal(t, string(want), d.String())
		})
	}
}

// completeSamples are the Debian samples that import without a warning.
// The others use something lvsctl lacks: AH authentication, routes and
// rules, VIPs on another interface, omega, shell syntax in scripts, a sync
// group's instances outside group { }, or lines for a config id.
var completeSamples = []string{
	"keepalived.conf.HTTP_GET.port",
	"keepalived.conf.IPv6",
	"keepalived.conf.PING_CHECK",
	"keepalived.conf.SMTP_CHECK",
	"keepalived.conf.UDP_CHECK",
	"keepalived.conf.fwmark",
	"keepalived.conf.inhibit",
	"keepalived.conf.misc_check",
	"keepalived.conf.misc_check_arg",
	"keepalived.conf.sample",
	"keepalived.conf.status_code",
	"keepalived.conf.virtual_server_group",
	"keepalived.conf.virtualhost",
	"keepalived.conf.vrrp",
	"keepalived.conf.vrrp.scripts",
	"keepalived.conf.vrrp.sync",
}

func TestSamplesComplete(t *testing.T) {
	t.Chdir(testdata)
	var complete []string
	for _, in := range inputs(t) {
		res, err := Import(in, Options{FS: os.DirFS(".")})
		require.NoError(t, err, in)
		if base, ok := strings.CutPrefix(in, "samples/"); ok && res.Complete() {
			complete = append(complete, base)
		}
		if !strings.HasPrefix(in, "samples/") && in != "include/keepalived.conf" {
			assert.True(t, res.Complete(), "%s: the classic configurations import completely: %v", in, res.Diags)
		}
	}
	assert.Equal(t, completeSamples, complete)
}
