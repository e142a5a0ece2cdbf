package hcl_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// The repository's example configurations live in testdata/ at the module
// root, next to the ones other packages use.
const testdata = "../testdata"

func TestTestdataValid(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(testdata, "*.hcl"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			cfg, files, diags := lvshcl.Load(name)
			require.Empty(t, diags, "%s", render(t, files, diags))
			assert.NotEmpty(t, cfg.Services)
		})
	}
}

// TestTestdataInvalid loads every testdata/invalid/*.hcl. Each file names
// one diagnostic it must produce on its first line: "# error: SUMMARY".
func TestTestdataInvalid(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(testdata, "invalid", "*.hcl"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			want := expectedError(t, name)
			cfg, files, diags := lvshcl.Load(name)
			assert.Nil(t, cfg)
			require.True(t, diags.HasErrors())
			var summaries []string
			for _, d := range diags {
				summaries = append(summaries, d.Summary)
			}
			assert.Contains(t, summaries, want, "%s", render(t, files, diags))
		})
	}
}

func expectedError(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	require.True(t, sc.Scan())
	want, ok := strings.CutPrefix(sc.Text(), "# error: ")
	require.True(t, ok, "%s must start with \"# error: SUMMARY\"", name)
	return want
}

func TestTestdataMycatDR(t *testing.T) {
	cfg, files, diags := lvshcl.Load(filepath.Join(testdata, "mycat-dr.hcl"))
	require.Empty(t, diags, "%s", render(t, files, diags))
	assert.Equal(t, []ipvs.VirtualService{{
		Name:      "mycat",
		Key:       ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: addr("192.168.1.200"), Port: 8066},
		Scheduler: "rr",
		RealServers: []ipvs.RealServer{
			{Addr: addr("192.168.1.201"), Port: 8066, Weight: 3, Forwarding: ipvs.DR},
			{Addr: addr("192.168.1.202"), Port: 8066, Weight: 3, Forwarding: ipvs.DR},
		},
	}}, cfg.Services)
}

func TestTestdataMySQLTun(t *testing.T) {
	cfg, files, diags := lvshcl.Load(filepath.Join(testdata, "mysql-tun.hcl"))
	require.Empty(t, diags, "%s", render(t, files, diags))
	var got []string
	for _, s := range cfg.Services {
		assert.Equal(t, ipvs.Scheduler("wrr"), s.Scheduler, s.Name)
		require.Len(t, s.RealServers, 1, s.Name)
		r := s.RealServers[0]
		assert.Equal(t, ipvs.Tunnel, r.Forwarding, s.Name)
		assert.Equal(t, ipvs.TunnelConfig{Type: ipvs.IPIP}, r.Tunnel, s.Name)
		assert.Equal(t, uint32(9999), r.Weight, s.Name)
		got = append(got, s.Key.String()+" -> "+r.Key().String())
	}
	assert.Equal(t, []string{
		"TCP 192.168.1.100:10101 -> 192.168.2.101:10101",
		"TCP 192.168.1.100:10201 -> 192.168.2.101:10201",
		"TCP 192.168.1.100:20101 -> 192.168.3.102:20101",
		"TCP 192.168.1.100:20201 -> 192.168.3.102:20201",
	}, got)
}
