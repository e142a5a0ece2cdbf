package ipvs

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"time"
)

// Fake is an in-memory Kernel with the kernel's rules for what it rejects:
// adding what exists (EEXIST), touching what does not (ESRCH / ENOENT), an
// unknown scheduler (ENOENT), a real server of another family unless it is
// tunnelled (EINVAL). It is for tests; the zero value is an empty table.
type Fake struct {
	table []VirtualService // services in insertion order, normalized

	// Writes counts the ops the fake accepted.
	Writes int
	// Fail, if set, is consulted before each op; a non-nil error rejects it.
	Fail func(Op) error
	// Missing lists schedulers this fake kernel lacks.
	Missing []Scheduler

	// timeouts are the connection timeouts; zero fields read as
	// DefaultTimeouts.
	timeouts Timeouts
}

var _ Kernel = (*Fake)(nil)

// NewFake returns a fake kernel holding services.
func NewFake(services ...VirtualService) *Fake {
	f := &Fake{}
	for _, s := range services {
		f.table = append(f.table, s.Normalize())
	}
	return f
}

// Services returns a copy of the table.
func (f *Fake) Services(ctx context.Context) ([]VirtualService, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]VirtualService, len(f.table))
	for i, s := range f.table {
		s.RealServers = slices.Clone(s.RealServers)
		out[i] = s
	}
	return out, nil
}

// Apply applies ops in order, stopping at the first rejection.
func (f *Fake) Apply(ctx context.Context, ops []Op) (int, error) {
	for i, op := range ops {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if f.Fail != nil {
			if err := f.Fail(op); err != nil {
				return i, &OpError{Op: op, Err: err}
			}
		}
		if err := f.apply(op); err != nil {
			return i, &OpError{Op: op, Err: err}
		}
		f.Writes++
	}
	return len(ops), nil
}

// Close does nothing.
func (f *Fake) Close() error { return nil }

// Timeouts returns the connection timeouts: the kernel's defaults until
// SetTimeouts.
func (f *Fake) Timeouts(ctx context.Context) (Timeouts, error) {
	if err := ctx.Err(); err != nil {
		return Timeouts{}, err
	}
	t := f.timeouts
	for _, p := range []struct {
		dst *time.Duration
		def time.Duration
	}{{&t.TCP, DefaultTimeouts.TCP}, {&t.TCPFin, DefaultTimeouts.TCPFin}, {&t.UDP, DefaultTimeouts.UDP}} {
		if *p.dst == 0 {
			*p.dst = p.def
		}
	}
	return t, nil
}

// SetTimeouts sets the non-zero fields of t, as the kernel does; it counts
// as one write.
func (f *Fake) SetTimeouts(ctx context.Context, t Timeouts) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkTimeouts(t); err != nil {
		return fmt.Errorf("ipvs: set timeouts: %w", err)
	}
	for _, p := range []struct {
		dst *time.Duration
		v   time.Duration
	}{{&f.timeouts.TCP, t.TCP}, {&f.timeouts.TCPFin, t.TCPFin}, {&f.timeouts.UDP, t.UDP}} {
		if p.v != 0 {
			*p.dst = p.v
		}
	}
	f.Writes++
	return nil
}

func (f *Fake) find(k ServiceKey) int {
	return slices.IndexFunc(f.table, func(s VirtualService) bool { return s.Key == k })
}

func (f *Fake) apply(op Op) error {
	svc := op.Service.Normalize()
	i := f.find(svc.Key)
	switch op.Kind {
	case AddService, EditService:
		if !svc.Scheduler.Valid() || slices.Contains(f.Missing, svc.Scheduler) {
			return fmt.Errorf("scheduler %q is not available in this kernel: %w", svc.Scheduler, syscall.ENOENT)
		}
		if op.Kind == AddService {
			if i >= 0 {
				return fmt.Errorf("already exists: %w", syscall.EEXIST)
			}
			svc.RealServers = nil
			f.table = append(f.table, svc)
			return nil
		}
		if i < 0 {
			return fmt.Errorf("does not exist: %w", syscall.ESRCH)
		}
		svc.RealServers = f.table[i].RealServers
		f.table[i] = svc
		return nil
	case DeleteService:
		if i < 0 {
			return fmt.Errorf("does not exist: %w", syscall.ESRCH)
		}
		f.table = slices.Delete(f.table, i, i+1)
		return nil
	}

	if i < 0 {
		return fmt.Errorf("service does not exist: %w", syscall.ESRCH)
	}
	s := &f.table[i]
	r := VirtualService{Key: s.Key, RealServers: []RealServer{op.Real}}.Normalize().RealServers[0]
	j := slices.IndexFunc(s.RealServers, func(x RealServer) bool { return x.Key() == r.Key() })
	if op.Kind != DeleteRealServer && FamilyOf(r.Addr) != s.Key.Family && r.Forwarding != Tunnel {
		return fmt.Errorf("real server of another family needs tunnel forwarding: %w", syscall.EINVAL)
	}
	switch op.Kind {
	case AddRealServer:
		if j >= 0 {
			return fmt.Errorf("already exists: %w", syscall.EEXIST)
		}
		s.RealServers = append(s.RealServers, r)
		slices.SortFunc(s.RealServers, func(a, b RealServer) int { return a.Key().Compare(b.Key()) })
	case EditRealServer:
		if j < 0 {
			return fmt.Errorf("does not exist: %w", syscall.ENOENT)
		}
		s.RealServers[j] = r
	case DeleteRealServer:
		if j < 0 {
			return fmt.Errorf("does not exist: %w", syscall.ENOENT)
		}
		s.RealServers = slices.Delete(s.RealServers, j, j+1)
	default:
		return fmt.Errorf("unknown op kind %d", op.Kind)
	}
	return nil
}
