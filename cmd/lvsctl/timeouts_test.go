package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/ipvs"
)

// TestTimeoutsPlanApply: the timeouts block is a change in plan (exit 2)
// until apply sets it; a second apply changes nothing, including a run
// from the config cache; a timeout left out keeps the kernel's.
func TestTimeoutsPlanApply(t *testing.T) {
	const svc = "virtual_server \"web\" {\n  address = \"10.0.0.1\"\n  port = 80\n}\n"
	for _, tc := range []struct {
		name, block string
		line        string
		want        ipvs.Timeouts
	}{
		{"all", "timeouts {\n  tcp = \"1h\"\n  tcp_fin = 30\n  udp = \"1m\"\n}\n",
			"~ timeouts tcp 900s -> 3600s, tcp_fin 120s -> 30s, udp 300s -> 60s",
			ipvs.Timeouts{TCP: time.Hour, TCPFin: 30 * time.Second, UDP: time.Minute}},
		{"udp only", "timeouts { udp = 10 }\n", "~ timeouts udp 300s -> 10s",
			ipvs.Timeouts{TCP: 15 * time.Minute, TCPFin: 2 * time.Minute, UDP: 10 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			cfg := writeConfig(t, svc+tc.block)
			require.Equal(t, 2, h.run("plan", "-f", cfg), h.errOut.String())
			assert.Contains(t, h.out.String(), "Plan: 1 to add, 1 to change, 0 to delete.")
			assert.Contains(t, h.out.String(), "  "+tc.line+"\n")

			require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
			assert.Contains(t, h.out.String(), tc.line+"\n")
			assert.Contains(t, h.out.String(), "Applied 2 changes.")
			got, err := h.kernel.Timeouts(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)

			for _, cmd := range []string{"plan", "apply", "apply"} {
				require.Equal(t, 0, h.run(cmd, "-f", cfg), h.errOut.String())
				assert.Contains(t, h.out.String(), "No changes", cmd)
			}

			// Only the timeouts differ: set by hand, apply puts them back.
			require.NoError(t, h.kernel.SetTimeouts(context.Background(), ipvs.DefaultTimeouts))
			require.Equal(t, 2, h.run("plan", "-f", cfg), h.errOut.String())
			assert.Contains(t, h.out.String(), "Plan: 0 to add, 1 to change, 0 to delete.")
			require.Equal(t, 0, h.run("apply", "-f", cfg), h.errOut.String())
			assert.Equal(t, tc.line+"\nApplied 1 change.\n", h.out.String())
			got, err = h.kernel.Timeouts(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
