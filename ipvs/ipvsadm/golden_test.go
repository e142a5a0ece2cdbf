package ipvsadm

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the real ipvsadm (needs ipvsadm 1.31 and cc)")

// goldenCase is one ipvsadm command line over a fixture and the Options
// that mean the same.
type goldenCase struct {
	fixture string
	args    []string
	kind    string // list, service, rules, conns, timeouts, daemons
	opt     Options
}

var fixtures = map[string]func(testing.TB) fixture{
	"mixed":  mixedFixture,
	"names":  namesFixture,
	"random": func(t testing.TB) fixture { return randomFixture(t, 300, 12, 1) },
}

var goldenCases = []goldenCase{
	{"mixed", []string{"-Ln"}, "list", Options{Numeric: true}},
	{"mixed", []string{"-Ln", "--nosort"}, "list", Options{Numeric: true, NoSort: true}},
	{"mixed", []string{"-Ln", "--stats"}, "list", Options{Numeric: true, Stats: true}},
	{"mixed", []string{"-Ln", "--stats", "--exact"}, "list", Options{Numeric: true, Stats: true, Exact: true}},
	{"mixed", []string{"-Ln", "--rate"}, "list", Options{Numeric: true, Rate: true}},
	{"mixed", []string{"-Ln", "--rate", "--exact"}, "list", Options{Numeric: true, Rate: true, Exact: true}},
	{"mixed", []string{"-Ln", "--thresholds"}, "list", Options{Numeric: true, Thresholds: true}},
	{"mixed", []string{"-Ln", "--persistent-conn"}, "list", Options{Numeric: true, PersistentConn: true}},
	{"mixed", []string{"-Ln", "--tun-info"}, "list", Options{Numeric: true, TunInfo: true}},
	{"mixed", []string{"-Ln", "--rate", "--stats", "--thresholds"}, "list", Options{Numeric: true, Stats: true, Rate: true, Thresholds: true}},
	{"mixed", []string{"-Sn"}, "rules", Options{Numeric: true}},
	{"mixed", []string{"-Ln", "-t", "192.168.0.1:80"}, "service", Options{Numeric: true}},
	{"mixed", []string{"-Ln", "-t", "192.168.0.1:80", "--stats", "--nosort"}, "service", Options{Numeric: true, Stats: true, NoSort: true}},
	{"mixed", []string{"-Lnc"}, "conns", Options{Numeric: true}},
	{"mixed", []string{"-Lnc", "--persistent-conn"}, "conns", Options{Numeric: true, PersistentConn: true}},
	{"mixed", []string{"-L", "--timeout"}, "timeouts", Options{}},
	{"mixed", []string{"-L", "--daemon"}, "daemons", Options{}},
	{"names", []string{"-L"}, "list", Options{}},
	{"names", []string{"-L", "--stats"}, "list", Options{Stats: true}},
	{"names", []string{"-L", "--persistent-conn"}, "list", Options{PersistentConn: true}},
	{"names", []string{"-S"}, "rules", Options{}},
	{"names", []string{"-Ln"}, "list", Options{Numeric: true}},
	{"names", []string{"-Lc"}, "conns", Options{}},
	{"names", []string{"-Lc", "--persistent-conn"}, "conns", Options{PersistentConn: true}},
	{"names", []string{"-L", "-t", "www.example.com:http"}, "service", Options{}},
	{"random", []string{"-Ln"}, "list", Options{Numeric: true}},
	{"random", []string{"-Ln", "--nosort", "--stats"}, "list", Options{Numeric: true, NoSort: true, Stats: true}},
	{"random", []string{"-Sn"}, "rules", Options{Numeric: true}},
}

func (c goldenCase) name() string {
	return c.fixture + "_" + strings.ReplaceAll(strings.Join(c.args, "_"), ":", "_")
}

func render(t *testing.T, f fixture, c goldenCase) []byte {
	if !c.opt.Numeric {
		c.opt.Resolver = &testResolver{hosts: f.hosts, SystemResolver: SystemResolver{ServicesFile: "testdata/services"}}
	}
	var b bytes.Buffer
	var err error
	switch c.kind {
	case "list":
		err = WriteList(&b, f.info, f.services, c.opt)
	case "service":
		err = WriteService(&b, f.services[0], c.opt)
	case "rules":
		err = WriteRules(&b, f.services, c.opt)
	case "conns":
		err = WriteConns(&b, []byte(f.conns), c.opt)
	case "timeouts":
		err = WriteTimeouts(&b, f.timeouts)
	case "daemons":
		err = WriteDaemons(&b, f.daemons)
	}
	require.NoError(t, err)
	return b.Bytes()
}

// TestGolden compares this package's output with ipvsadm's, recorded in
// testdata/*.golden, and, when ipvsadm 1.31 and a C compiler are at hand,
// with what ipvsadm prints right now for the same kernel replies.
func TestGolden(t *testing.T) {
	oracle := newOracle(t)
	for _, c := range goldenCases {
		t.Run(c.name(), func(t *testing.T) {
			f := fixtures[c.fixture](t)
			got := render(t, f, c)
			path := filepath.Join("testdata", c.name()+".golden")
			if oracle != nil {
				live := oracle.run(t, f, c)
				if *update {
					require.NoError(t, os.WriteFile(path, live, 0o644))
				}
				sameBytes(t, live, got, "ipvsadm "+strings.Join(c.args, " ")+" (live)")
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "golden file (regenerate with go test -run TestGolden -update)")
			sameBytes(t, want, got, "ipvsadm "+strings.Join(c.args, " ")+" (recorded)")
		})
	}
}

// oracle runs the real ipvsadm under the LD_PRELOAD shim.
type oracle struct {
	ipvsadm string
	shim    string
}

func newOracle(t *testing.T) *oracle {
	ipvsadm, err := exec.LookPath("ipvsadm")
	if err != nil {
		ipvsadm = "/usr/sbin/ipvsadm"
	}
	cc, ccErr := exec.LookPath("cc")
	_, ipErr := os.Stat(ipvsadm)
	if ccErr != nil || ipErr != nil {
		if *update {
			t.Fatalf("-update needs ipvsadm and cc: %v %v", ipErr, ccErr)
		}
		t.Logf("no live comparison with ipvsadm (ipvsadm: %v, cc: %v): checking the recorded output only", ipErr, ccErr)
		return nil
	}
	shim := filepath.Join(t.TempDir(), "shim.so")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", shim, "../internal/testdata/ipvsadm-capture.c", "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("build the ipvsadm shim: %v\n%s", err, out)
	}
	cmd := exec.Command(ipvsadm, "-v")
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+shim)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("v1.31 ")) {
		if *update {
			t.Fatalf("-update needs ipvsadm 1.31: %q, %v", out, err)
		}
		t.Logf("ipvsadm is not 1.31 (%q, %v): checking the recorded output only", out, err)
		return nil
	}
	return &oracle{ipvsadm: ipvsadm, shim: shim}
}

func (o *oracle) run(t *testing.T, f fixture, c goldenCase) []byte {
	t.Helper()
	dir := t.TempDir()
	replies, one, conns := f.write(t, dir)
	if c.kind == "service" {
		replies = one
	}
	cmd := exec.Command(o.ipvsadm, c.args...)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+o.shim, "IPVSADM_REPLIES="+replies,
		"IPVSADM_CONN="+conns, "IPVSADM_HOSTS="+filepath.Join(dir, "hosts"), "IPVSADM_SERVICES=testdata/services", "CAPTURE_OUT="+filepath.Join(dir, "requests"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "ipvsadm %s: %s", strings.Join(c.args, " "), stderr.String())
	require.Empty(t, stderr.String())
	return stdout.Bytes()
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
}

// sameBytes fails with the first differing lines (quoted, so that trailing
// spaces show) when got is not want.
func sameBytes(t *testing.T, want, got []byte, what string) bool {
	t.Helper()
	if bytes.Equal(want, got) {
		return true
	}
	wl, gl := strings.SplitAfter(string(want), "\n"), strings.SplitAfter(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			t.Errorf("%s: line %d differs\nwant %q\ngot  %q", what, i+1, w, g)
			return false
		}
	}
	return false
}
