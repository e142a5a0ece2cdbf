package daemon

import (
	"errors"
	"strings"

	"github.com/lvsctl/lvsctl/ipvs"
)

// Log attributes name things as the metrics, the hooks' environment,
// `lvsctl status` and docs/names.md do: "service" is the virtual_server
// block's name ("web"), "service_key" its key as lvsctl prints it ("TCP
// 10.0.1.100:80", "FWM 7 ipv4"), "real" the real server ("10.0.2.11:80",
// "[2001:db8::2]:80"). Every line about a real server carries all three,
// so that one real server's history is one filter away; lines about a
// whole service carry the first two.

// svcAttrs are the log attributes of a virtual service: its name (left
// out when it has none, as a service in the kernel but not in the file)
// and its key.
func svcAttrs(name string, k ipvs.ServiceKey) []any {
	if name == "" {
		return []any{"service_key", k.String()}
	}
	return []any{"service", name, "service_key", k.String()}
}

// opAttrs are the log attributes of one kernel operation: the op as plan
// prints it, its service and, for a real server's op, the real server.
func opAttrs(op ipvs.Op) []any {
	attrs := append([]any{"op", op.String()}, svcAttrs(op.Service.Name, op.Service.Key)...)
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
// the event, service and real server it was run for (from the variables
// of hookEnv).
func hookAttrs(argv []string, env []string) []any {
	attrs := []any{"argv", strings.Join(argv, " ")}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "LVSCTL_EVENT":
			attrs = append(attrs, "event", v)
		case "LVSCTL_SERVICE":
			attrs = append(attrs, "service", v)
		case "LVSCTL_SERVICE_KEY":
			attrs = append(attrs, "service_key", v)
		case "LVSCTL_REAL":
			attrs = append(attrs, "real", v)
		}
	}
	return attrs
}
