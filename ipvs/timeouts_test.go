package ipvs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTimeoutChanges(t *testing.T) {
	for _, tc := range []struct {
		name       string
		have, want Timeouts
		line       string
	}{
		{"nothing asked", DefaultTimeouts, Timeouts{}, ""},
		{"same", DefaultTimeouts, Timeouts{TCP: 15 * time.Minute}, ""},
		{"two", DefaultTimeouts, Timeouts{TCP: time.Hour, TCPFin: 2 * time.Minute, UDP: time.Minute}, "~ timeouts tcp 900s -> 3600s, udp 300s -> 60s"},
		{"fin", DefaultTimeouts, Timeouts{TCPFin: 10 * time.Second}, "~ timeouts tcp_fin 120s -> 10s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.line, FormatTimeoutChanges(TimeoutChanges(tc.have, tc.want)))
		})
	}
}

func TestFakeTimeouts(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	got, err := f.Timeouts(ctx)
	require.NoError(t, err)
	assert.Equal(t, DefaultTimeouts, got)
	require.NoError(t, f.SetTimeouts(ctx, Timeouts{UDP: time.Minute}))
	got, err = f.Timeouts(ctx)
	require.NoError(t, err)
	assert.Equal(t, Timeouts{TCP: 15 * time.Minute, TCPFin: 2 * time.Minute, UDP: time.Minute}, got)
	assert.ErrorContains(t, f.SetTimeouts(ctx, Timeouts{TCP: 1500 * time.Millisecond}), "want whole seconds")
}
