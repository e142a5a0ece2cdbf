package hcl_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

func TestCheckSource(t *testing.T) {
	tests := []struct {
		name, check string
		want        checker.Source
		err         string
	}{
		{"tcp", `check "tcp" {
    bind_port = 40000
    bind_if   = "eth1"
  }`, checker.Source{Port: 40000, Interface: "eth1"}, ""},
		{"http", `check "http" {
    bind_if = "lo"
    url { path = "/" }
  }`, checker.Source{Interface: "lo"}, ""},
		{"https port", `check "https" {
    bind_port = 1
    url { path = "/" }
  }`, checker.Source{Port: 1}, ""},
		{"port 0", `check "tcp" { bind_port = 0 }`, checker.Source{}, "t.hcl:5,29-30: Invalid bind_port; bind_port must be a whole number from 1 to 65535; got 0."},
		{"bad interface", `check "tcp" { bind_if = "eth1:0" }`, checker.Source{}, `t.hcl:5,27-35: Invalid interface name; bind_if "eth1:0" is not a Linux interface name`},
		{"not for udp", `check "udp" { bind_if = "eth1" }`, checker.Source{}, `t.hcl:5,17-24: Unsupported argument; An argument named "bind_if" is not expected in check "udp": it applies to tcp, http and https checks.`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "virtual_server \"web\" {\n  address = \"10.0.0.1\"\n  port = 80\n  real_server { address = \"10.0.1.1\" }\n  " + tc.check + "\n}\n"
			cfg, _, diags := lvshcl.Parse([]byte(src), "t.hcl")
			if tc.err != "" {
				require.True(t, diags.HasErrors())
				assert.Contains(t, diags.Error(), tc.err)
				return
			}
			require.False(t, diags.HasErrors(), diags.Error())
			var got checker.Source
			switch p := cfg.Pools[0].Members[0].Check.Prober.(type) {
			case *checker.TCP:
				got = p.Source
			case *checker.HTTP:
				got = p.Source
			default:
				t.Fatalf("prober %T", p)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
