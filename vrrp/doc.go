// Package vrrp will implement VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) for the
// director VIP: the advertisement codec, the state machine with an injected
// clock, raw-socket I/O, VIP add/remove and gratuitous ARP / unsolicited
// neighbour advertisements, interoperable with keepalived peers.
//
// Nothing is implemented yet (the VRRP issue).
package vrrp
