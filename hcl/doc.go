// Package hcl reads lvsctl configuration files, written in HCL native syntax,
// into ipvs values.
//
// A file is a list of virtual_server "NAME" blocks, one per IPVS virtual
// service, in the order they are written. A service is keyed either by
// address, port and protocol (default "tcp") or by fwmark and family (the
// family defaults to that of its real servers when they agree, else ipv4).
// It has a scheduler (default "wlc") with optional scheduler_flags for sh
// and mh, optional persistence (persistence_timeout in seconds or as a
// duration string, persistence_granularity as a netmask or prefix length),
// one_packet for UDP and fwmark services, and a default forwarding method
// for its real servers ("nat", "dr" or "tun", default "nat"), with a tunnel
// block (ipip, gue or gre encapsulation) allowed only where forwarding is
// "tun". Each real_server block gives an address, a port (default: the
// service's port, or 0 for fwmark services), a weight (default 1) and
// connection thresholds, and may override forwarding and, as a whole, the
// tunnel block. A real server of the other address family than its service
// needs "tun", as in the kernel. A virtual service with no real servers is
// valid.
//
// The rest of a virtual_server is for `lvsctl run` (apply ignores it) and
// becomes Config.Pools, one Pool per service in the same order, with one
// Member per real server in the same order. A check "TYPE" block ("tcp",
// "http", "https", "exec" or "mysql") in a real_server is its health
// check; one in the virtual_server is the check of every real server
// without its own; a real server with neither is always up. The check timing attributes
// (delay_loop, connect_timeout, retry, delay_before_retry, warmup, rise,
// fall, alpha) are taken from the check, else from its virtual_server, else
// from keepalived's defaults (checker.DefaultTiming); durations are a number
// of seconds or a duration string. A virtual_server may also set
// inhibit_on_failure, a sorry_server (built like a real_server), quorum and
// hysteresis with quorum_up and quorum_down hooks; a real_server may set
// notify_up and notify_down. Hooks and exec commands are argv lists, run
// without a shell. An http check's regex, and the ca_file of https and
// mysql checks and the password_file of mysql checks, are compiled and read
// when the file is loaded. docs/config.md is the full
// reference.
//
// One optional realserver block describes the backends' side of DR and TUN
// for `lvsctl realserver start -f` (apply ignores it): mode ("dr" or "tun")
// and vips default from the virtual services, so that the director and its
// backends share one file; tunnel accepts only "ipip" for now.
//
// Decoding has three layers: HCL bodies become syntax structs that remember
// the source range of every value, a build step validates them, and the
// result is plain ipvs values. Problems are reported as hcl.Diagnostics,
// never as a flattened error: each has a Subject pointing at the offending
// value, label or block (and a Context where a second place matters, such
// as the first definition of a duplicate), a one-line Summary and a Detail
// that lists the valid choices. All problems in a file are reported at once.
// Render them with RenderDiagnostics (or WriteDiagnostics), which prints
// FILE:LINE:COL, the summary, the detail and a snippet, in time linear in
// the output, at most a given number of them, and stops when its context
// is cancelled. Snippets never show a secret: the value of any attribute
// whose name is or looks like a secret's (IsSecretName) is masked.
//
// Before a file is parsed, Limits (size, nesting depth, blocks, the cost
// of one string) are checked by a linear scan: hclsyntax parses by
// recursive descent, and deep enough nesting would overflow the stack,
// which no recover can catch. Load reads at most the size limit.
package hcl
