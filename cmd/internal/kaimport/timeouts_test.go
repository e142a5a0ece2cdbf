package kaimport

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lvsctl/lvsctl/ipvs"
)

// TestLVSTimeouts: global_defs' lvs_timeouts becomes the timeouts block, as
// keepalived reads it: 0 and bad values leave the kernel's timeout, later
// statements override earlier ones option by option.
func TestLVSTimeouts(t *testing.T) {
	const vs = "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    real_server 10.0.1.1 80 {\n    }\n}\n"
	tests := []struct {
		name, lines string
		want        *ipvs.Timeouts
		diags       string
	}{
		{"all", "lvs_timeouts tcp 7200 tcpfin 120 udp 300",
			&ipvs.Timeouts{TCP: 2 * time.Hour, TCPFin: 2 * time.Minute, UDP: 5 * time.Minute}, ""},
		{"udp only", "lvs_timeouts udp 10", &ipvs.Timeouts{UDP: 10 * time.Second}, ""},
		{"zero is unchanged", "lvs_timeouts tcp 0 udp 60", &ipvs.Timeouts{UDP: time.Minute}, ""},
		{"later wins", "lvs_timeouts tcp 100 udp 60\n    lvs_timeouts tcp 200", &ipvs.Timeouts{TCP: 200 * time.Second, UDP: time.Minute}, ""},
		{"bad value", "lvs_timeouts tcp x udp 60", &ipvs.Timeouts{UDP: time.Minute},
			`k.conf:2: note: lvs_timeouts: tcp "x" is not a whole number of seconds from 0 to 2678400: keepalived ignores it, and so does the translation` + "\n"},
		{"unknown option", "lvs_timeouts tcp_fin 60", &ipvs.Timeouts{},
			`k.conf:2: note: lvs_timeouts: unknown option "tcp_fin": keepalived ignores it, and so does the translation` + "\n" +
				`k.conf:2: note: lvs_timeouts: unknown option "60": keepalived ignores it, and so does the translation` + "\n"},
		{"beyond lvsctl's limit", "lvs_timeouts tcp 2678400", &ipvs.Timeouts{},
			"k.conf:2: warning: lvs_timeouts: tcp 2678400: lvsctl takes at most 2147483 seconds (the kernel's limit at HZ 1000); the translation leaves the kernel's tcp timeout as it is\n"},
		{"no value", "lvs_timeouts", nil,
			"k.conf:2: note: lvs_timeouts: needs an option and a value: keepalived ignores it, and so does the translation\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cfg := importSrc(t, "global_defs {\n    "+tt.lines+"\n}\n"+vs)
			assert.Equal(t, tt.diags, diagLines(res), "%s", res.HCL)
			assert.Equal(t, tt.want, cfg.Timeouts, "%s", res.HCL)
		})
	}
}
