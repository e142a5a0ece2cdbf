package checker

import "net/netip"

// PingSocket says which ICMP socket a Ping probe from this thread's
// namespace would use: "datagram" or "raw".
func PingSocket(v6 bool, bindTo netip.Addr) (string, error) {
	c, err := openPing(v6, bindTo)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if c.dgram {
		return "datagram", nil
	}
	return "raw", nil
}
