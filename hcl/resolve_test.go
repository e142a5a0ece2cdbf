package hcl_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// fakeHosts is a hosts file: each name's addresses, and the names asked.
type fakeHosts struct {
	m     map[string][]string
	asked []string
}

func (h *fakeHosts) resolve(host string) ([]netip.Addr, error) {
	h.asked = append(h.asked, host)
	ss, ok := h.m[host]
	if !ok {
		return nil, errors.New("lookup " + host + ": no such host")
	}
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func TestRealServerHostName(t *testing.T) {
	hosts := map[string][]string{
		"web1":              {"10.0.1.1"},
		"web2.example.com":  {"2001:db8::2", "10.0.1.2"},
		"web6.example.com.": {"10.0.1.6", "2001:db8::6"},
		"sorry":             {"10.0.9.9", "2001:db8::9"},
	}
	tests := []struct {
		name, svc, real string
		want            string // the real server's address
		asked           []string
		err             string
	}{
		{"IPv4 name", `address = "10.0.0.1"`, `"web1"`, "10.0.1.1", []string{"web1"}, ""},
		{"the service's family first", `address = "10.0.0.1"`, `"web2.example.com"`, "10.0.1.2", []string{"web2.example.com"}, ""},
		{"IPv6 service", `address = "2001:db8::1"`, `"web6.example.com."`, "2001:db8::6", []string{"web6.example.com."}, ""},
		{"a literal is not resolved", `address = "10.0.0.1"`, `"10.0.1.7"`, "10.0.1.7", nil, ""},
		{"a bad literal is no name", `address = "10.0.0.1"`, `"10.0.1.256"`, "", nil, `t.hcl:5,27-39: Invalid IP address`},
		{"does not resolve", `address = "10.0.0.1"`, `"web9"`, "", []string{"web9"},
			`t.hcl:5,27-33: Host name does not resolve; A real server address given by host name is resolved when the file is loaded; "web9" does not resolve: lookup web9: no such host.`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &fakeHosts{m: hosts}
			src := "virtual_server \"web\" {\n  " + tc.svc + "\n  port = 80\n  sorry_server { address = \"sorry\" }\n  real_server { address = " + tc.real + " }\n}\n"
			cfg, _, diags := lvshcl.Options{Resolve: h.resolve}.Parse([]byte(src), "t.hcl")
			if tc.err != "" {
				require.True(t, diags.HasErrors())
				assert.Contains(t, diags.Error(), tc.err)
				return
			}
			require.False(t, diags.HasErrors(), diags.Error())
			reals := cfg.Services[0].RealServers
			require.NotEmpty(t, reals)
			assert.Equal(t, netip.MustParseAddr(tc.want), reals[0].Addr)
			assert.Equal(t, append(tc.asked, "sorry"), h.asked) // real servers are built first
			var got []string
			for _, r := range cfg.Resolved {
				got = append(got, r.Host+"="+r.Addr.String()+"@"+r.Range.String())
			}
			sorry := "10.0.9.9"
			if reals[0].Addr.Is6() {
				sorry = "2001:db8::9"
			}
			want := []string{"sorry=" + sorry + "@t.hcl:4,28-35"}
			if tc.asked != nil {
				want = append(want, tc.asked[0]+"="+tc.want+"@t.hcl:5,27-"+map[string]string{"web1": "33", "web2.example.com": "45", "web6.example.com.": "46"}[tc.asked[0]])
			}
			assert.Equal(t, want, got)
		})
	}
}

// TestRealServerHostNameWithoutResolver: without a resolver (the package's
// Parse) an address must be a literal, as before.
func TestRealServerHostNameWithoutResolver(t *testing.T) {
	_, _, diags := lvshcl.Parse([]byte("virtual_server \"web\" {\n  address = \"10.0.0.1\"\n  port = 80\n  real_server { address = \"web1\" }\n}\n"), "t.hcl")
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "t.hcl:4,27-33: Invalid IP address")
}
