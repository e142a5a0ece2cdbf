package hcl_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// TestGuard covers allow_empty and allow_destroy: a file that configures
// nothing is an error at 1:1 unless it says allow_empty = true.
func TestGuard(t *testing.T) {
	const vs = `virtual_server "web" {
  address = "10.0.0.1"
  port    = 80
  real_server { address = "10.0.1.1" }
}
`
	const vrrp = `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["10.0.0.1/24"]
}
`
	tests := []struct {
		name string
		src  string
		// err is the error's summary and position, "" for none.
		err, pos string
		want     lvshcl.Guard
	}{
		{name: "zero bytes", src: "", err: "Empty configuration", pos: "1:1"},
		{name: "comments only", src: "# truncated\n\n", err: "Empty configuration", pos: "1:1"},
		{name: "flush_on_exit only", src: "flush_on_exit = true\n", err: "Empty configuration", pos: "1:1"},
		{name: "allow_empty = false", src: "allow_empty = false\n", err: "Empty configuration", pos: "1:1"},
		{name: "allow_empty = true", src: "allow_empty = true\n", want: lvshcl.Guard{AllowEmpty: true}},
		{name: "allow_empty not a bool", src: "\nallow_empty = \"yes\"\n", err: "Incorrect attribute value type", pos: "2:15"},
		{name: "allow_destroy not a bool", src: vs + "allow_destroy = 2\n", err: "Incorrect attribute value type", pos: "6:17"},
		{name: "a virtual_server", src: vs},
		{name: "a vrrp_instance", src: vrrp},
		{name: "a realserver block only (a backend's file)", src: "realserver {\n  vips = [\"10.0.0.1\"]\n  mode = \"dr\"\n}\n"},
		{name: "allow_destroy", src: "allow_destroy = true\n" + vs, want: lvshcl.Guard{AllowDestroy: true}},
		{name: "both", src: "allow_destroy = true\nallow_empty = true\n", want: lvshcl.Guard{AllowEmpty: true, AllowDestroy: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, diags := lvshcl.Parse([]byte(tt.src), "g.hcl")
			if tt.err == "" {
				require.False(t, diags.HasErrors(), diags.Error())
				assert.Equal(t, tt.want, cfg.Guard)
				return
			}
			require.True(t, diags.HasErrors())
			assert.Nil(t, cfg)
			require.Len(t, diags, 1, diags.Error())
			assert.Equal(t, tt.err, diags[0].Summary)
			require.NotNil(t, diags[0].Subject)
			assert.Equal(t, "g.hcl", diags[0].Subject.Filename)
			assert.Equal(t, tt.pos, fmt.Sprintf("%d:%d", diags[0].Subject.Start.Line, diags[0].Subject.Start.Column))
		})
	}
}
