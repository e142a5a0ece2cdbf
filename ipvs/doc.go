// Package ipvs models the Linux IPVS table and converges it by difference.
//
// A VirtualService is what the kernel load-balances: a protocol, address and
// port (or a firewall mark and a family) with a Scheduler, persistence and a
// set of RealServer destinations, each reached by a Forwarding method (NAT,
// DR or Tunnel). Diff compares the table that exists with the table that
// should exist and returns the smallest list of Op values that turns one
// into the other, editing in place wherever the kernel can. A Kernel applies
// ops: the netlink implementation speaks the kernel's generic netlink
// "IPVS" family in one network namespace, and Fake keeps a table in memory
// for tests. The Reconciler ties them together with an ownership record, so
// that lvsctl edits and deletes only the services it created and leaves
// every other service in the kernel alone.
//
// Errors from a Kernel are *OpError values naming the operation and the
// service or real server it touched; ErrNoIPVS and ErrPermission are
// reported when the kernel lacks IPVS or the caller lacks CAP_NET_ADMIN.
package ipvs
