package main

import "log/slog"

// logAttr is the ReplaceAttr of the daemon's log handlers (newLogger): a
// time.Duration is written as a Go duration string ("2.5s", "150ms"), in
// JSON as in text, where slog's JSON handler would write a bare number of
// nanoseconds that reads as seconds to anyone who has not looked it up.
func logAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}
