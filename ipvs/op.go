package ipvs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// OpKind is the kind of one change to the kernel table.
type OpKind uint8

// Operation kinds, in the order Diff emits them.
const (
	DeleteRealServer OpKind = iota + 1
	DeleteService
	AddService
	EditService
	EditRealServer
	AddRealServer
)

func (k OpKind) String() string {
	switch k {
	case AddService:
		return "add service"
	case EditService:
		return "edit service"
	case DeleteService:
		return "delete service"
	case AddRealServer:
		return "add real server"
	case EditRealServer:
		return "edit real server"
	case DeleteRealServer:
		return "delete real server"
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// Op is one change to the kernel table: one netlink request.
type Op struct {
	Kind OpKind
	// Service is the service added, edited (new state) or deleted, or the
	// service a real server belongs to. Its RealServers are not used.
	Service VirtualService
	// Real is the real server added, edited (new state) or deleted.
	Real RealServer
	// Prev is the state an edit replaces (PrevReal for real server edits),
	// for display.
	Prev     VirtualService
	PrevReal RealServer
}

// String renders op the way plan prints it: a sign (+ add, ~ edit,
// - delete), the object, and its attributes or changes, such as
// "~ real TCP 10.0.0.1:80 -> 10.0.1.2:80 weight 1 -> 3".
func (op Op) String() string {
	svc := op.Service.Key.String()
	if op.Service.Name != "" {
		svc += " (" + op.Service.Name + ")"
	}
	switch op.Kind {
	case AddService:
		return "+ service " + svc + " " + strings.Join(withoutDefaults(serviceAttrs(op.Service)), " ")
	case EditService:
		return "~ service " + svc + " " + strings.Join(changes(serviceAttrs(op.Prev), serviceAttrs(op.Service)), ", ")
	case DeleteService:
		return "- service " + svc
	case AddRealServer:
		return "+ real " + svc + " -> " + op.Real.Key().String() + " " + strings.Join(withoutDefaults(realAttrs(op.Real)), " ")
	case EditRealServer:
		return "~ real " + svc + " -> " + op.Real.Key().String() + " " + strings.Join(changes(realAttrs(op.PrevReal), realAttrs(op.Real)), ", ")
	case DeleteRealServer:
		return "- real " + svc + " -> " + op.Real.Key().String()
	}
	return op.Kind.String() + " " + svc
}

func serviceAttrs(s VirtualService) []string {
	a := []string{"scheduler=" + string(s.Scheduler)}
	if f := s.SchedFlags.Names(s.Scheduler); len(f) > 0 {
		a = append(a, "flags="+strings.Join(f, ","))
	}
	if s.Persistence > 0 {
		a = append(a, "persistence="+strconv.FormatInt(int64(s.Persistence.Seconds()), 10)+"s")
	} else {
		a = append(a, "persistence=off")
	}
	a = append(a, "granularity=/"+strconv.Itoa(int(s.PersistenceMask)))
	if s.PersistenceEngine != "" {
		a = append(a, "pe="+s.PersistenceEngine)
	}
	if s.OnePacket {
		a = append(a, "ops=on")
	} else {
		a = append(a, "ops=off")
	}
	return a
}

// withoutDefaults drops attributes at their default, to keep add lines short.
func withoutDefaults(attrs []string) []string {
	out := attrs[:0:0]
	persistent := !slices.Contains(attrs, "persistence=off")
	for _, a := range attrs {
		switch {
		case a == "persistence=off", a == "ops=off", a == "upper_threshold=0", a == "lower_threshold=0":
		case strings.HasPrefix(a, "granularity=") && !persistent:
		default:
			out = append(out, a)
		}
	}
	return out
}

func realAttrs(r RealServer) []string {
	a := []string{"fwd=" + r.Forwarding.String()}
	if r.Forwarding == Tunnel {
		a = append(a, "tunnel="+strings.ReplaceAll(r.Tunnel.String(), " ", "/"))
	}
	a = append(a, "weight="+strconv.FormatUint(uint64(r.Weight), 10),
		"upper_threshold="+strconv.FormatUint(uint64(r.UpperThreshold), 10),
		"lower_threshold="+strconv.FormatUint(uint64(r.LowerThreshold), 10))
	return a
}

// changes lists "name old -> new" for each attribute that differs between
// two lists of name=value pairs of the same shape.
func changes(before, after []string) []string {
	old := map[string]string{}
	for _, kv := range before {
		k, v, _ := strings.Cut(kv, "=")
		old[k] = v
	}
	var out []string
	for _, kv := range after {
		k, v, _ := strings.Cut(kv, "=")
		if o, ok := old[k]; !ok || o != v {
			if !ok {
				o = "none"
			}
			out = append(out, k+" "+o+" -> "+v)
		}
		delete(old, k)
	}
	for _, kv := range before {
		k, v, _ := strings.Cut(kv, "=")
		if _, gone := old[k]; gone {
			out = append(out, k+" "+v+" -> none")
		}
	}
	return out
}

// Kernel is the kernel's IPVS table in one network namespace. The netlink
// implementation talks to the kernel; Fake keeps the table in memory.
// A Kernel is not safe for concurrent use: one goroutine owns it.
type Kernel interface {
	// Services dumps every virtual service with its real servers.
	Services(ctx context.Context) ([]VirtualService, error)
	// Apply performs ops in order and stops at the first failure. It
	// returns how many ops, from the first, the kernel accepted; a
	// failure is an *OpError. A kernel that pipelines requests may also
	// have applied ops after the failed one: OpError.Later counts them.
	Apply(ctx context.Context, ops []Op) (int, error)
	// Close releases the kernel handle.
	Close() error
}

// OpError is a kernel rejection of one operation.
type OpError struct {
	Op  Op
	Err error
	// Later is how many ops after Op the kernel accepted anyway: requests
	// sent in the same pipelined batch are processed even after one fails.
	Later int
}

// appliedAfter is how many ops after a failed one the kernel accepted.
func appliedAfter(err error) int {
	var oe *OpError
	if errors.As(err, &oe) {
		return oe.Later
	}
	return 0
}

func (e *OpError) Error() string {
	target := e.Op.Service.Key.String()
	switch e.Op.Kind {
	case AddRealServer, EditRealServer, DeleteRealServer:
		target = "real server " + e.Op.Real.Key().String() + " of " + target
	default:
		target = "service " + target
	}
	return fmt.Sprintf("%s %s: %v", strings.TrimSuffix(strings.TrimSuffix(e.Op.Kind.String(), " real server"), " service"), target, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// Errors a Kernel reports, to be matched with errors.Is.
var (
	// ErrNoIPVS means the kernel has no IPVS (module ip_vs not loaded and
	// not loadable, or CONFIG_IP_VS not set).
	ErrNoIPVS = errors.New("the kernel has no IPVS support (try: modprobe ip_vs)")
	// ErrPermission means the caller lacks CAP_NET_ADMIN.
	ErrPermission = errors.New("permission denied: programming IPVS needs root or CAP_NET_ADMIN")
)
