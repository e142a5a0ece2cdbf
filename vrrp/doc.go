// Package vrrp moves a director's virtual IP addresses between nodes with
// VRRP: version 2 (RFC 3768, authentication none or PASS) and version 3 (RFC
// 5798 / 9568) over IPv4, version 3 over IPv6, on the wire exactly as
// keepalived speaks it, so lvsctl and keepalived nodes can back each other up
// while a site migrates one director at a time.
//
// # Model
//
// An Instance is one virtual router (keepalived's vrrp_instance): a VRID on
// one interface, a priority, an advertisement interval and a list of VIPs.
// New checks a Config (plain values: netip addresses, time.Duration; zero
// fields take keepalived's defaults) and reports every problem at once. Run
// blocks until its context is done. It opens a raw IP socket for protocol
// 112 bound to the interface (joined to 224.0.0.18 or ff02::12, or talking
// to the unicast peers), removes VIPs a crashed run left behind, and runs
// the state machine of RFC 5798 section 6.4:
//
//	INIT --start--> BACKUP --Master_Down_Timer--> MASTER
//	                  ^                              |
//	                  +---- higher priority advert --+
//	any --interface down / tracked object (weight 0) down--> FAULT --cleared--> BACKUP
//	any --ctx done--> STOP   (a master first sends a priority-0 advert)
//
// A backup takes over when it has heard no advert for Master_Down_Interval
// = 3 x Master_Adver_Interval + Skew_Time, Skew_Time = (256 - priority) x
// Master_Adver_Interval / 256 (keepalived scales the skew by the interval
// in v2 too; identical to RFC 3768 at 1 s). After a priority-0 advert it
// takes over after Skew_Time alone. A v3 backup adopts the master's
// interval; a v2 one drops adverts with another interval. With preemption
// (the default) a backup ignores adverts of a lower priority and so takes
// over; nopreempt keeps a live lower master, and preempt_delay accepts one
// for that long after the first such advert. Priority 255 is the address
// owner, master at once (unless InitialState is StateBackup, keepalived's
// explicit "state BACKUP", which makes it wait like the others). Equal priorities are broken on the higher source
// address. A master hearing a lower-priority master (a healed split)
// advertises and re-announces its VIPs at once, as keepalived does.
//
// Entering MASTER adds the VIPs with netlink (prefix, label; IPv6 without
// DAD) and announces them: garp_master_repeat (5) gratuitous ARPs per VIP,
// "who-has VIP tell VIP" to the broadcast address, or unsolicited neighbour
// advertisements with the override flag, and the same again after
// garp_master_delay (5 s). Leaving MASTER removes them.
//
// With UseVMAC (keepalived's use_vmac) the VIPs are on a private-mode
// macvlan of the interface whose MAC is the virtual router MAC
// 00-00-5E-00-01-VRID, 00-00-5E-00-02-VRID for IPv6 (VirtualMAC; without a
// link-local address of its own: the interface's is copied onto it as the
// adverts' source), created when Run starts on master and
// backup alike and deleted when it returns; the adverts and announcements
// leave from it (or from the interface with VMACXmitBase), so the segment
// sees one MAC for the VIPs whoever holds them. arp_ignore, arp_filter and
// arp_announce are set on the interface so that only the macvlan answers
// for the VIPs, and put back when Run returns.
//
// ExcludedVIPs (virtual_ipaddress_excluded), Routes (virtual_routes) and
// Rules (virtual_rules) follow the VIPs: added on entering MASTER, removed
// on leaving it. A VIP may name another interface (Dev), a scope and a
// broadcast address; each gets its announcements on its interface.
//
// While master, the instance watches what it installed, as keepalived 2.2.7
// does without no_track: when someone else deletes a VIP, an excluded VIP,
// a rule or a route with Dev, it sends a priority-0 advert, goes BACKUP
// (removing the rest) and is master again after its skew time, everything
// re-added, unless a higher-priority router advertises first.
//
// Statics holds a node's static_ipaddress, static_routes and static_rules
// (Static), whatever the VRRP state; with Watch it puts back, at once and
// logged, an address, a rule or a route with Dev someone else deletes
// (keepalived's reinstate_static_*), never what Apply or Clear removed.
//
// NoAccept (or Strict without Accept) makes a non-owner master drop every
// packet to or from its VIPs with nftables, as keepalived's no_accept.
// Strict resets what keepalived's strict mode resets (see Config.Strict).
//
// The effective priority is the base priority plus the weights of tracked
// objects (keepalived semantics: a positive weight counts while up, a
// negative one while down; weight 0 means down is FAULT), reported with
// SetTracked by whatever does the tracking (scripts, interfaces, checker
// quorums). Status returns a snapshot: state, effective priority, the
// master's address and priority, the interval in use, transitions and
// counters. Config.OnTransition is called on every change of state.
//
// Received packets are checked in the order of RFC 5798 section 7.1: TTL or
// hop limit 255 (multicast only, as keepalived: unicast peers may be
// routed), length, version, type, VRID, checksum (v3 with the IPv4/IPv6
// pseudo-header, v2 without), v2 authentication and interval, the address
// list (v2: dropped unless from the owner; v3: logged and accepted), and in
// unicast mode the source. Drops are counted by DropReason in Status and
// logged with log/slog at most once per reason every 10 s.
//
// The state machine does no I/O and reads no clock (every event carries its
// time), so its tests run routers on a virtual time line; Run takes its
// time from Config.Clock, which tests replace with a fake one.
//
// # Errors
//
// New returns the configuration problems, joined. Run returns an error when
// it cannot start (no such interface, no address to send from, no
// privilege: raw sockets and netlink need CAP_NET_RAW and CAP_NET_ADMIN),
// or when reading the socket keeps failing; it does not return for a lost
// link (that is FAULT) or a rejected packet (that is a counter). Run works
// in the network namespace of the calling thread. Only Linux is supported;
// elsewhere Run returns ErrNotSupported.
package vrrp
