package hcl_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

const timeoutsService = `
virtual_server "web" {
  address = "10.0.0.1"
  port    = 80
  real_server { address = "10.0.1.1" }
}
`

func TestTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      *ipvs.Timeouts
	}{
		{"absent", ``, nil},
		{"all", `timeouts {
  tcp     = "15m"
  tcp_fin = 120
  udp     = "300"
}`, &ipvs.Timeouts{TCP: 15 * time.Minute, TCPFin: 2 * time.Minute, UDP: 5 * time.Minute}},
		{"one", `timeouts { udp = "1h" }`, &ipvs.Timeouts{UDP: time.Hour}},
		{"largest", `timeouts { tcp = 2147483 }`, &ipvs.Timeouts{TCP: 2147483 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, diags := lvshcl.Parse([]byte(timeoutsService+tc.src), "t.hcl")
			require.False(t, diags.HasErrors(), diags.Error())
			assert.Equal(t, tc.want, cfg.Timeouts)
		})
	}
}

func TestTimeoutsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"zero", `timeouts { tcp = 0 }`, `t.hcl:8,18-19: Invalid tcp timeout; A timeout is a number of seconds`},
		{"fraction", `timeouts { udp = "1.5s" }`, `t.hcl:8,18-24: Invalid udp timeout`},
		{"too long", `timeouts { tcp_fin = 2147484 }`, `t.hcl:8,22-29: Invalid tcp_fin timeout`},
		{"not a duration", `timeouts { tcp = "soon" }`, `t.hcl:8,18-24: Invalid tcp timeout; "soon" is not a duration`},
		{"type", `timeouts { tcp = true }`, `t.hcl:8,18-22: Incorrect attribute value type`},
		{"unknown", `timeouts { tcpfin = 10 }`, `t.hcl:8,12-18: Unsupported argument`},
		{"duplicate", "timeouts { tcp = 10 }\ntimeouts { udp = 10 }", `t.hcl:9,1-9: Duplicate timeouts block; The kernel has one set of connection timeouts; there is already a timeouts block at t.hcl:8:1.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, diags := lvshcl.Parse([]byte(timeoutsService+"\n"+tc.src), "t.hcl")
			require.True(t, diags.HasErrors())
			assert.Nil(t, cfg)
			assert.Contains(t, diags.Error(), tc.want)
		})
	}
}
