package kaimport

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealServerHostName: keepalived 2.2 skips a real server given by host
// name (inet_stosockaddr reads literals only); the translation does the
// same, as a note, rather than translating it to lvsctl's resolved name.
func TestRealServerHostName(t *testing.T) {
	res, cfg := importSrc(t, "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    real_server web1.example.com 80 {\n    }\n    real_server 10.0.1.2 80 {\n    }\n}\n")
	assert.Equal(t, `k.conf:3: note: real_server: "web1.example.com" is not an IP address: keepalived skips the real_server ("Invalid real server ip address/port - skipping"), and so does the translation`+"\n", diagLines(res))
	require.Len(t, cfg.Services, 1)
	require.Len(t, cfg.Services[0].RealServers, 1)
	assert.Equal(t, "10.0.1.2", cfg.Services[0].RealServers[0].Addr.String())
}

// TestCheckBindPortIf: bind_port and bind_if of TCP_CHECK and HTTP_GET
// translate; of another checker they are a warning.
func TestCheckBindPortIf(t *testing.T) {
	res, cfg := importSrc(t, "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    real_server 10.0.1.1 80 {\n        TCP_CHECK {\n            bind_port 40000\n            bind_if eth1\n        }\n    }\n    real_server 10.0.1.2 80 {\n        HTTP_GET {\n            url {\n                path /\n            }\n            bind_if lo\n        }\n    }\n}\n")
	assert.Empty(t, diagLines(res))
	require.Len(t, cfg.Pools, 1)
	assert.Contains(t, string(res.HCL), "bind_port = 40000")
	assert.Contains(t, string(res.HCL), `bind_if   = "eth1"`)
	assert.Contains(t, string(res.HCL), `bind_if = "lo"`)

	res, _ = importSrc(t, "virtual_server 10.0.0.1 53 {\n    protocol UDP\n    real_server 10.0.1.1 53 {\n        DNS_CHECK {\n            bind_port 40000\n        }\n    }\n}\n")
	assert.Contains(t, diagLines(res), "k.conf:5: warning: bind_port: not translated: lvsctl sets the source port of tcp, http and https checks only")
}
