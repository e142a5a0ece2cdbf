// Package checker decides whether real servers are healthy: keepalived's
// healthchecker, knowing nothing of IPVS or of the configuration language.
//
// A Prober checks one Target (a real server of a named service) once and
// returns a Result: up or down, an optional dynamic weight, and a short
// reason fit for a log line ("connect: connection refused", "status 503",
// "timeout after 2s"), or no opinion at all (Keep: the server keeps its
// state). TCP, HTTP (and HTTPS) and Exec are keepalived's TCP_CHECK,
// HTTP_GET/SSL_GET and MISC_CHECK; MySQL logs in and checks the server's
// role and replication; other checks plug in by implementing Prober. Every
// probe uses a fresh connection or process and bounds its own time.
//
// A Pool runs one Spec (Target, Prober, Timing) per real server, from one
// event loop with one heap of due checks (TCP and plain HTTP probes run on
// the loop itself, others on a few workers), and turns probe results into
// state with the rules documented on Timing: keepalived's delay_loop,
// retry, delay_before_retry, warmup and alpha, plus rise and fall. In short, an up
// server goes down after Fall consecutive failed rounds, where a round fails
// only when its probe and all Retry retries failed; a down server returns
// after Rise consecutive good probes, one per round; and the very first
// probe decides at once. Until then a server is presumed up, or down with
// Alpha or when its Prober tests a role (RoleProber: a server that answers
// may still be the wrong one), or as Spec.Presume says (the caller knows
// better, as `lvsctl run` does from the kernel's table at a restart).
// Transitions come out of Pool.Events, one Event with
// one reason each; Pool.Status reports every server's state for a status
// command. Pool.Set replaces the set of checks while running and keeps the
// state of the servers that stay, so that a configuration reload neither
// revives a failed server nor re-checks a healthy one from scratch.
//
// Time comes from a Clock. SystemClock is the real one; tests use
// checkertest.Clock and advance it instead of sleeping.
//
// Errors: Pool.Set returns the joined validation errors of the specs it
// refused (each naming its target) and changes nothing; ErrStopped means the
// pool's Run has returned. Probers never return errors: a failure is a down
// Result with its reason.
package checker
