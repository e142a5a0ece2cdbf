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
// Ownership is confirmed, never presumed. Before its first write, Apply
// records the keys it may create as intended; only after the kernel has
// accepted every op does it rewrite the record with them owned (one small
// synced write each, skipped when the record would not change). A key that
// is intended but not confirmed, because the apply was killed, is not
// owned: if the next Plan finds a service there that is consistent with
// the desired table (its attributes, and only real servers of the table
// with their attributes: everything an interrupted apply of that table can
// have left), it takes it over and lists it in Plan.Recovered, so
// re-applying converges; anything else there is a conflict (also listed in
// Plan.Unconfirmed) that Apply refuses unless adopted, and a key the table
// no longer names is foreign. Such a service is never deleted or edited
// without that decision. StateFile stores the record (version 2; version
// 1 files, all keys owned, are still read).
//
// Errors from a Kernel are *OpError values naming the operation and the
// service or real server it touched; ErrNoIPVS and ErrPermission are
// reported when the kernel lacks IPVS or the caller lacks CAP_NET_ADMIN.
package ipvs
