// Package ipvsadm prints IPVS state exactly as ipvsadm 1.31 (Debian's
// 1:1.31-1) prints it: the table (-L, with -n, --stats, --rate, --exact,
// --thresholds, --persistent-conn, --tun-info, --nosort), one service
// (-L -t|-u|--sctp-service|-f), the rules -S writes for ipvsadm -R, the
// connection entries of /proc/net/ip_vs_conn (-c), the timeouts
// (--timeout) and the sync daemons (--daemon).
//
// The functions are pure: they take what the kernel reported (in the order
// it reported it) and write bytes. ipvsadm's quirks are kept on purpose,
// because scripts parse this output: its sort compares addresses and
// firewall marks by 32-bit wrapping subtraction and sorts with glibc's
// merge sort, so 10.0.0.1 lists after 192.168.0.1; fields are cut to
// ipvsadm's buffer sizes; firewall marks print as signed integers; and a
// real server's connection, packet and rate counters print as their low 32
// bits (libipvs 1.31 reads the 64-bit attributes of destinations with its
// 32-bit reader), while services' counters and all byte counters are 64-bit.
//
// Names are looked up only when Options.Numeric is false, through a
// Resolver; SystemResolver answers as glibc would for ipvsadm: host names
// from the Go resolver (/etc/hosts, then DNS as /etc/nsswitch.conf says),
// service names from /etc/services.
package ipvsadm
