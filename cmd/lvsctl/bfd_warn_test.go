package main

import (
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real server checked by BFD_CHECK (imported as check "bfd", which
// lvsctl does not run) must not pass silently after the import: validate,
// run's start and every SIGHUP reload print the warning at its block.
const bfdConfig = `virtual_server "web" {
  address = "10.0.0.1"
  port    = 80
  real_server {
    address = "127.0.0.2"
    check "bfd" { name = "bfd1" }
  }
}
`

func TestBFDWarnsAtEveryStart(t *testing.T) {
	h := newHarness(t)
	file := writeConfig(t, bfdConfig)
	want := file + ":6:5: Warning: BFD check not run"

	require.Equal(t, 0, h.run("validate", "-f", file))
	assert.Contains(t, h.errOut.String(), want, "validate")

	d := startInProcess(t, h, file)
	require.Eventually(t, func() bool { return strings.Contains(d.logs.String(), want) }, 10*time.Second, 10*time.Millisecond, "run's start")
	require.Eventually(t, func() bool { return len(table(t, d.k)) > 0 }, 10*time.Second, 10*time.Millisecond)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // the test process must survive SIGHUP
	defer signal.Stop(hup)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		return strings.Contains(d.logs.String(), "reload: the file has warnings")
	}, 10*time.Second, 10*time.Millisecond, "the SIGHUP reload")
	assert.Contains(t, d.logs.String(), "BFD check not run")
}
