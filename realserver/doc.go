// Package realserver will prepare a backend for DR and TUN traffic: the VIP
// on lo (DR) or tunl0 (TUN), arp_ignore / arp_announce and rp_filter, with
// the previous values remembered so that `lvsctl realserver stop` restores
// exactly what was there.
//
// Nothing is implemented yet (the `lvsctl realserver` issue).
package realserver
