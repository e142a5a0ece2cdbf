package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/lab"
)

// TestVMRealServerTunnels: `lvsctl realserver --mode tun` for the
// director's GUE and GRE encapsulations, end to end on the TUN topology.
// The director forwards with a tunnel block; without realserver start the
// backends drop its packets; with it both answer in turn; after stop the
// backend is as it was (VIP, fou port) and its requests fail again. The
// second backend is prepared from the cluster file's realserver block,
// which takes the tunnel type and port from the virtual service.
func TestVMRealServerTunnels(t *testing.T) {
	requireVM(t)
	tests := []struct {
		name, tunnel string
		flags        []string
		device       string
	}{
		{"gue", "tunnel {\n    type = \"gue\"\n    port = 6080\n  }", []string{"--tunnel", "gue", "--tunnel-port", "6080"}, "tunl0"},
		{"gre", "tunnel { type = \"gre\" }", []string{"--tunnel", "gre"}, "gre0"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := lab.New(fmt.Sprintf("vmrstn%d-", i))
			t.Cleanup(func() { l.Close() })
			top, err := l.TUNTopology(2)
			require.NoError(t, err)
			for j := range top.Backends {
				name := fmt.Sprintf("be%d", j+1)
				require.NoError(t, l.ServeHTTP(name, ":80", name))
				for _, k := range []string{"all", "default"} {
					require.NoError(t, l.Sysctl(name, "net.ipv4.conf."+k+".rp_filter", "1"))
				}
			}
			cluster := writeHCL(t, "cluster.hcl", fmt.Sprintf(`
virtual_server "web" {
  address    = "%s"
  port       = 80
  scheduler  = "rr"
  forwarding = "tun"
  %s
  real_server { address = "%s" }
  real_server { address = "%s" }
}
realserver {}
`, top.VIP, tt.tunnel, top.Backends[0], top.Backends[1]))
			director := newVMCLI(t, l.NSPath("director"))
			require.Equal(t, 0, director.run("apply", "-f", cluster), director.errOut.String())
			_, err = getWithin(l, fmt.Sprintf("http://%s/", top.VIP), 2*time.Second)
			require.Error(t, err, "without the receive side, %s cannot work", tt.name)

			be1 := newVMCLI(t, l.NSPath("be1"))
			require.Equal(t, 0, be1.run(append([]string{"realserver", "start", "--mode", "tun", "--vip", top.VIP.String()}, tt.flags...)...), be1.errOut.String())
			if tt.name == "gue" {
				assert.Contains(t, be1.out.String(), "open    fou port 6080 (gue)")
			}
			assert.Contains(t, be1.out.String(), "add     "+top.VIP.String()+"/32 to "+tt.device)
			be2 := newVMCLI(t, l.NSPath("be2"))
			require.Equal(t, 0, be2.run("realserver", "start", "-f", cluster), be2.errOut.String())
			for _, b := range []*vmCLI{be1, be2} {
				require.Equal(t, 0, b.run("realserver", "status"), b.out.String())
			}

			answers := trafficCheck(t, l, top.VIP, 4, 5*time.Second)
			require.ElementsMatch(t, []string{"be1", "be2"}, answers[:2], "both backends answer through %s", tt.name)
			assert.Equal(t, answers[:2], answers[2:], "round robin alternates")

			require.Equal(t, 0, be1.run("realserver", "stop"), be1.errOut.String())
			if tt.name == "gue" {
				assert.Contains(t, be1.out.String(), "close   fou port 6080")
			}
			assert.NotContains(t, addrsIn(t, l, "be1", tt.device), top.VIP.String()+"/32")
			answers = trafficCheck(t, l, top.VIP, 4, 2*time.Second)
			failed := 0
			for _, a := range answers {
				if a == "" {
					failed++
				} else {
					assert.Equal(t, "be2", a)
				}
			}
			assert.Equal(t, 2, failed, "the requests scheduled to be1 fail after stop")
		})
	}
}
