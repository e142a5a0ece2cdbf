package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLogDurations: the daemon's logs write durations as Go duration
// strings in both formats; slog's JSON handler alone writes nanoseconds.
func TestLogDurations(t *testing.T) {
	for _, c := range []struct {
		format, want string
	}{
		{"json", `"retry_in":"2.5s"`},
		{"text", `retry_in=2.5s`},
	} {
		var b bytes.Buffer
		logger, err := newLogger(&b, c.format, "info")
		require.NoError(t, err)
		logger.Error("vrrp instance cannot run; retrying", "retry_in", 2500*time.Millisecond,
			slog.Group("check", "timeout", 150*time.Millisecond))
		assert.Contains(t, b.String(), c.want, c.format)
		if c.format == "json" {
			var line struct {
				RetryIn string `json:"retry_in"`
				Check   struct {
					Timeout string `json:"timeout"`
				} `json:"check"`
			}
			require.NoError(t, json.Unmarshal(b.Bytes(), &line), b.String())
			assert.Equal(t, "2.5s", line.RetryIn)
			assert.Equal(t, "150ms", line.Check.Timeout, "inside a group too")
		}
	}
}
