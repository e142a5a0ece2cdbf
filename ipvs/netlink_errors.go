package ipvs

// explainedError gives an error a clearer message while keeping what it
// wraps (a sentinel such as ErrPermission, the kernel's errno) reachable
// with errors.Is and errors.As.
type explainedError struct {
	msg  string
	errs []error
}

func (e *explainedError) Error() string   { return e.msg }
func (e *explainedError) Unwrap() []error { return e.errs }

func explain(msg string, errs ...error) error { return &explainedError{msg: msg, errs: errs} }
