package main

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// notifier speaks systemd's notify protocol for `lvsctl run` under
// Type=notify: READY=1 once the first configuration is applied,
// RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 on SIGTERM, and
// WATCHDOG=1 pings while the daemon is alive. Without NOTIFY_SOCKET (not
// run by systemd) every call does nothing.
type notifier struct {
	log *slog.Logger
}

// send sends one or more newline-separated assignments.
func (n notifier) send(state string) {
	if _, err := sddaemon.SdNotify(false, state); err != nil {
		n.log.Warn("systemd notify failed", "state", state, "err", err)
	}
}

func (n notifier) ready(status string) { n.send("READY=1\nSTATUS=" + status) }

// reloading is RELOADING=1 with the monotonic timestamp that
// Type=notify-reload (systemd 253+) requires and older versions ignore.
func (n notifier) reloading() {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	usec := ts.Sec*1e6 + ts.Nsec/1e3
	n.send("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10) + "\nSTATUS=reloading")
}

func (n notifier) stopping() { n.send("STOPPING=1\nSTATUS=stopping") }

// watchdog pings systemd every half WatchdogSec while alive() holds, until
// ctx is done. Without a watchdog (WATCHDOG_USEC unset, or meant for
// another process) it returns at once.
func (n notifier) watchdog(ctx context.Context, alive func() (bool, string)) {
	every, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil || every <= 0 {
		return
	}
	t := time.NewTicker(every / 2)
	defer t.Stop()
	withheld := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, why := alive()
		switch {
		case ok:
			if withheld {
				n.log.Info("watchdog: the daemon is alive again; pinging systemd")
				withheld = false
			}
			n.send("WATCHDOG=1")
		case !withheld:
			n.log.Error("watchdog: withholding pings, systemd will restart lvsctl", "why", why)
			withheld = true
		}
	}
}
