// Package alert sends keepalived's e-mail alerts: a real server down or
// up, a virtual service losing or regaining its quorum, a VRRP instance
// changing state. The subjects and bodies are keepalived's (smtp.c,
// check_api.c, ipwrapper.c, vrrp.c), with lvsctl's names.
//
// A Sender never blocks its callers, the health checks and VRRP: a message
// is queued (a bounded queue; a full queue drops the message), and one
// goroutine sends the queue in order, each attempt bounded by the
// connect timeout, a failed one retried with exponential backoff. Every
// dropped or failed message is logged and counted (Stats).
package alert
