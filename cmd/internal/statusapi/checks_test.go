package statusapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteSeveralChecks: a real server with several checks shows one line
// per check under its own, and checks in JSON.
func TestWriteSeveralChecks(t *testing.T) {
	now := t0.Add(time.Hour)
	st := Status{PID: 1, Version: "v", Started: t0, Now: now, Config: Config{File: "f.hcl", Generation: 1, LoadedAt: t0},
		Pools: []Pool{{Name: "web", Service: "TCP 10.0.1.100:80", Scheduler: "rr", QuorumUp: true, InSync: true,
			Reals: []Real{{Address: "10.0.2.11:80", Forwarding: "nat", State: StateDown, HasCheck: true, Checked: true, ConfiguredWeight: 1,
				Since: now.Add(-10 * time.Second), Reason: "http#2: status 503", Transitions: 1,
				Checks: []RealCheck{
					{Name: "tcp#1", State: StateUp, Checked: true, Since: t0, Reason: "connected",
						LastCheck: &Check{At: now.Add(-time.Second), Result: ResultSuccess, Reason: "connected", TookSeconds: 0.0004}},
					{Name: "http#2", State: StateDown, Checked: true, Since: now.Add(-10 * time.Second), Reason: "status 503", Transitions: 1,
						LastCheck: &Check{At: now.Add(-2 * time.Second), Result: ResultFailure, Reason: "status 503", TookSeconds: 0.002}},
				}}}}}}
	var b bytes.Buffer
	require.NoError(t, Write(&b, st))
	assert.Contains(t, b.String(), `  10.0.2.11:80  down   -/1     10s    http#2: status 503  -
    tcp#1       up             1h0m   connected           success 0.4ms, 1s ago
    http#2      down           10s    status 503          failure 2.0ms, 2s ago
`)
	js, err := json.Marshal(st.Pools[0].Reals[0])
	require.NoError(t, err)
	assert.Contains(t, string(js), `"checks":[{"name":"tcp#1","state":"up","checked":true,"since":"2026-11-21T07:00:01Z","reason":"connected","transitions":0,"last_check":`)
}
