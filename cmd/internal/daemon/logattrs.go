package daemon

import (
	"errors"
	"strings"

	"github.com/lvsctl/lvsctl/ipvs"
)

// Every log line about a real server carries its service ("service", as
// "TCP 10.0.1.100:80") and its address ("real", as "10.0.2.11:80"), so
// that one real server's history is one filter away; lines about a whole
// service carry "service".

// opAttrs are the log attributes of one kernel operation: the op as plan
// prints it, its service and, for a real server's op, the real server.
func opAttrs(op ipvs.Op) []any {
	attrs := []any{"op", op.String(), "service", op.Service.Key.String()}
	switch op.Kind {
	case ipvs.AddRealServer, ipvs.EditRealServer, ipvs.DeleteRealServer:
		attrs = append(attrs, "real", op.Real.Key().String())
	}
	return attrs
}

// errAttrs are the log attributes of an error: "err", and the service and
// real server of the operation the kernel rejected, if it is one.
func errAttrs(err error) []any {
	var oe *ipvs.OpError
	if !errors.As(err, &oe) {
		return []any{"err", err}
	}
	return append(opAttrs(oe.Op)[2:], "err", err)
}

// hookAttrs are the log attributes of a hook run with env: its argv, and
// the event, service and real server it was run for.
func hookAttrs(argv []string, env []string) []any {
	attrs := []any{"argv", strings.Join(argv, " ")}
	var addr, port string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "LVSCTL_EVENT":
			attrs = append(attrs, "event", v)
		case "LVSCTL_SERVICE":
			attrs = append(attrs, "service", v)
		case "LVSCTL_REAL_ADDR":
			addr = v
		case "LVSCTL_REAL_PORT":
			port = v
		}
	}
	if addr != "" {
		real := addr + ":" + port
		if strings.Contains(addr, ":") {
			real = "[" + addr + "]:" + port
		}
		attrs = append(attrs, "real", real)
	}
	return attrs
}
