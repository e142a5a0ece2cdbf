package kaimport

import "strconv"

// global_defs' lvs_timeouts [tcp N] [tcpfin N] [udp N] becomes the
// timeouts block. keepalived (global_parser.c) reads each value as whole
// seconds from 0 to 31 days, ignores a bad one with an error, and sets the
// ones given with ipvsadm --set's call when the checker starts and reloads;
// 0 leaves the kernel's timeout as it is, as a timeout left out of the
// block does. Later statements override earlier ones option by option.

// lvsMaxTimeout is the largest timeout keepalived reads (LVS_MAX_TIMEOUT).
const lvsMaxTimeout = 86400 * 31

// lvsctlMaxTimeout is the largest the timeouts block takes (INT_MAX / HZ
// for HZ 1000, hcl.MaxTimeout).
const lvsctlMaxTimeout = 2147483

// lvsTimeouts translates s into the file's timeouts block, emitted with
// the first lvs_timeouts; b is where notes go.
func (t *translator) lvsTimeouts(b *hblock, s *Stmt) {
	args := s.Args()
	if len(args) < 2 {
		t.drop(b, s, Note, "needs an option and a value: keepalived ignores it, and so does the translation")
		return
	}
	first := t.timeouts == nil
	if first {
		t.timeouts = newBlock("timeouts")
		t.timeouts.lead = hcomment{s.Pos.String()}
	}
	tb := t.timeouts
	for i := 0; i < len(args); i++ {
		opt := args[i]
		attr, ok := map[string]string{"tcp": "tcp", "tcpfin": "tcp_fin", "udp": "udp"}[opt]
		if !ok {
			t.partly(b, s, Note, "unknown option %q: keepalived ignores it, and so does the translation", opt)
			continue
		}
		if i+1 == len(args) {
			t.partly(b, s, Note, "no value for %s: keepalived ignores it, and so does the translation", opt)
			continue
		}
		i++
		n, err := strconv.ParseUint(args[i], 10, 32)
		switch {
		case err != nil || n > lvsMaxTimeout:
			t.partly(b, s, Note, "%s %q is not a whole number of seconds from 0 to %d: keepalived ignores it, and so does the translation", opt, args[i], lvsMaxTimeout)
		case n == 0:
			// keepalived sends 0, which the kernel takes as unchanged:
			// a timeout left out. An earlier value stays.
		case n > lvsctlMaxTimeout:
			t.partly(b, s, Warning, "%s %d: lvsctl takes at most %d seconds (the kernel's limit at HZ 1000); the translation leaves the kernel's %s timeout as it is", opt, n, lvsctlMaxTimeout, opt)
			tb.unset(attr)
		default:
			tb.set(attr, num(float64(n)))
		}
	}
	if first {
		t.emitBlock(tb)
	}
}
