// Package realserver prepares a Linux host (or one network namespace of
// it) to be an IPVS real server in direct routing (DR) or IP-in-IP
// tunnelling (TUN) mode, and undoes exactly that again.
//
// In both modes the director delivers packets still addressed to the VIP,
// so the real server must own the VIP without ever claiming it on the
// network: DR puts each VIP as a /32 or /128 on lo, TUN on tunl0 (the ipip
// module's catch-all device, loaded and brought up as needed); IPv4 VIPs
// also need arp_ignore=1 and arp_announce=2, and TUN strict rp_filter turned
// off. rules.go explains which interfaces get which value and why: the
// kernel uses max(all, interface) for each of these.
//
// Start converges a System (one namespace: netlink plus /proc/sys/net read
// and written from a thread inside it) to a Config and returns a Record of
// every change it made: each sysctl with the value it found, each address
// it added, each link it created or brought up. What was already right is
// left out of the record, so Stop, which undoes the record in reverse
// order, never removes an address or a value it did not set, and leaves a
// sysctl that someone changed since start as it is. A second Start changes
// nothing. Inspect reports a namespace's state against a Config with the
// problems that will keep it from working. A Record names its boot and
// namespace instance (Identity), so that one left by an earlier boot is
// recognised as describing nothing in place.
//
// Errors: ErrNoIPIP when the kernel cannot make tunl0, ErrPermission
// without root, ErrUnsupported for setups not handled yet (GUE or GRE
// receive sides, IPv6 VIPs in TUN mode). Open works on Linux only.
package realserver
