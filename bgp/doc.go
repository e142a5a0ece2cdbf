// Package bgp announces the director's VIPs to its routers by BGP, so that
// several active directors can sit behind the routers' ECMP.
//
// A Speaker wraps an embedded GoBGP server (github.com/osrg/gobgp/v4; this is
// the only package that imports it). Start opens sessions to the configured
// neighbors (outbound only: the speaker listens on no port); SetAnnounced
// converges the set of announced host prefixes (/32 and /128) by difference,
// adding what is new and withdrawing what is gone; Peers reports each
// neighbor's session state and OnPeer (Config) receives transitions; Stop
// withdraws everything, waits the drain time so that the routers move traffic
// away, then closes the sessions. SetConfig reloads the neighbors by
// difference, leaving unchanged sessions alone; a new asn or router_id is a
// RestartRequiredError (errors.Is ErrRestartRequired) for the caller to stop
// and start a new speaker.
//
// BFD (a neighbor's BFD field) is run by GoBGP itself: single-hop
// asynchronous BFD (RFC 5881) on UDP port 3784, no echo, no authentication,
// no multihop; Config.Warnings reports BFD asked on a multihop neighbor.
//
// The next hop of an announced prefix is the local address of the session that
// carries it (the router reaches the VIP through the director it learned it
// from). The speaker accepts no routes from its neighbors into its table: a
// global import policy accepts only the locally originated paths.
//
// Built with the nobgp tag, the package keeps its API but New returns
// ErrNotBuilt, and the binary carries none of GoBGP's dependencies.
//
// Errors name the operation and the neighbor or prefix that failed.
package bgp
