package hcl_test

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// rejection is one invalid source and the diagnostic it must produce.
type rejection struct {
	name      string
	src       string
	summary   string // exact
	detail    string // substring
	line, col int    // start of Subject
	ctxLine   int    // start line of Context, if it matters
	errors    int    // total errors expected; 0 means 1
}

func TestParseRejects(t *testing.T) {
	tests := []rejection{
		// Scheduler.
		{
			name: "unknown scheduler",
			src: `virtual_server "a" {
  address   = "192.0.2.1"
  port      = 80
  scheduler = "fast"
}`,
			summary: "Unknown scheduler", detail: `"fast" is not an IPVS scheduler. Valid schedulers: rr, wrr, lc, wlc,`,
			line: 4, col: 15,
		},
		{
			name: "unknown scheduler flag",
			src: `virtual_server "a" {
  address         = "192.0.2.1"
  port            = 80
  scheduler       = "sh"
  scheduler_flags = ["sh-port", "sh-bogus"]
}`,
			summary: "Invalid scheduler flag", detail: `Unknown flag "sh-bogus" for scheduler sh (want sh-fallback, sh-port)`,
			line: 5, col: 33,
		},
		{
			name: "scheduler flag for another scheduler",
			src: `virtual_server "a" {
  address         = "192.0.2.1"
  port            = 80
  scheduler       = "rr"
  scheduler_flags = ["sh-port"]
}`,
			summary: "Invalid scheduler flag", detail: "needs the sh scheduler, not rr",
			line: 5, col: 22,
		},
		{
			name: "scheduler flag with the default scheduler",
			src: `virtual_server "a" {
  address         = "192.0.2.1"
  port            = 80
  scheduler_flags = ["mh-port"]
}`,
			summary: "Invalid scheduler flag", detail: "needs the mh scheduler, not wlc",
			line: 4, col: 22,
		},
		{
			name: "scheduler flags not a list",
			src: `virtual_server "a" {
  address         = "192.0.2.1"
  port            = 80
  scheduler       = "sh"
  scheduler_flags = "sh-port"
}`,
			summary: "Incorrect attribute value type", detail: "list of string required",
			line: 5, col: 21,
		},

		// Service key.
		{
			name: "port 0 on an address service",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 0
}`,
			summary: "Invalid port", detail: "Port 0 would match every port, which IPVS only does for fwmark services",
			line: 3, col: 13,
		},
		{
			name: "port above 65535",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 70000
}`,
			summary: "Invalid port", detail: "port must be a whole number from 1 to 65535; got 70000.",
			line: 3, col: 13,
		},
		{
			name: "negative port",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = -1
}`,
			summary: "Invalid port", detail: "from 1 to 65535; got -1.",
			line: 3, col: 13,
		},
		{
			name: "fractional port",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80.5
}`,
			summary: "Invalid port", detail: "got 80.5.",
			line: 3, col: 13,
		},
		{
			name: "port of the wrong type",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = "eighty"
}`,
			summary: "Incorrect attribute value type", detail: `Inappropriate value for attribute "port": a number is required`,
			line: 3, col: 13,
		},
		{
			name: "port from a variable",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = var.port
}`,
			summary: "Variables not allowed", detail: "Variables may not be used here",
			line: 3, col: 13,
		},
		{
			name: "port from a function call",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = max(80, 81)
}`,
			summary: "Function calls not allowed", detail: "Functions may not be called here",
			line: 3, col: 13,
		},
		{
			name: "fwmark with address",
			src: `virtual_server "a" {
  fwmark  = 7
  address = "192.0.2.1"
}`,
			summary: "Conflicting arguments", detail: "address cannot be used together with fwmark",
			line: 3, col: 3, ctxLine: 2,
		},
		{
			name: "fwmark with port",
			src: `virtual_server "a" {
  fwmark = 7
  port   = 80
}`,
			summary: "Conflicting arguments", detail: "port cannot be used together with fwmark",
			line: 3, col: 3, ctxLine: 2,
		},
		{
			name: "fwmark with protocol",
			src: `virtual_server "a" {
  fwmark   = 7
  protocol = "udp"
}`,
			summary: "Conflicting arguments", detail: "protocol cannot be used together with fwmark",
			line: 3, col: 3, ctxLine: 2,
		},
		{
			name: "fwmark 0",
			src: `virtual_server "a" {
  fwmark = 0
}`,
			summary: "Invalid fwmark", detail: "fwmark must be a whole number from 1 to 4294967295; got 0.",
			line: 2, col: 12,
		},
		{
			name: "fwmark above 32 bits",
			src: `virtual_server "a" {
  fwmark = 4294967296
}`,
			summary: "Invalid fwmark", detail: "got 4294967296.",
			line: 2, col: 12,
		},
		{
			name: "family without fwmark",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  family  = "ipv4"
}`,
			summary: "Unexpected family", detail: "family only applies to fwmark services",
			line: 4, col: 3,
		},
		{
			name: "invalid family",
			src: `virtual_server "a" {
  fwmark = 7
  family = "inet6"
}`,
			summary: "Invalid family", detail: `family must be "ipv4" or "ipv6"`,
			line: 3, col: 12,
		},
		{
			name: "address without port",
			src: `virtual_server "a" {
  address = "192.0.2.1"
}`,
			summary: "Missing port", detail: "address is set but port is not",
			line: 2, col: 3,
		},
		{
			name: "port without address",
			src: `virtual_server "a" {
  port = 80
}`,
			summary: "Missing address", detail: "port is set but address is not",
			line: 2, col: 3,
		},
		{
			name: "neither address nor fwmark",
			src: `virtual_server "a" {
  scheduler = "rr"
}`,
			summary: "Missing virtual service address", detail: "either address and port",
			line: 1, col: 1,
		},
		{
			name: "invalid protocol",
			src: `virtual_server "a" {
  address  = "192.0.2.1"
  port     = 80
  protocol = "icmp"
}`,
			summary: "Invalid protocol", detail: `protocol must be "tcp" (the default), "udp" or "sctp"`,
			line: 4, col: 14,
		},

		// Addresses.
		{
			name: "invalid IPv4 literal",
			src: `virtual_server "a" {
  address = "192.0.2.300"
  port    = 80
}`,
			summary: "Invalid IP address", detail: `The virtual service address must be an IPv4 or IPv6 address literal`,
			line: 2, col: 13,
		},
		{
			name: "host name",
			src: `virtual_server "a" {
  address = "lb.example.com"
  port    = 80
}`,
			summary: "Invalid IP address", detail: "host names are not resolved",
			line: 2, col: 13,
		},
		{
			name: "IPv6 zone",
			src: `virtual_server "a" {
  address = "fe80::1%eth0"
  port    = 80
}`,
			summary: "Invalid IP address", detail: `must not have an IPv6 zone ("%eth0")`,
			line: 2, col: 13,
		},
		{
			name: "unspecified address",
			src: `virtual_server "a" {
  address = "0.0.0.0"
  port    = 80
}`,
			summary: "Invalid IP address", detail: "cannot be the unspecified address 0.0.0.0",
			line: 2, col: 13,
		},
		{
			name: "invalid real server address",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server { address = "10.0.0" }
}`,
			summary: "Invalid IP address", detail: "A real server address must be an IPv4 or IPv6 address literal",
			line: 4, col: 27,
		},
		{
			name: "real server without address",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server { weight = 1 }
}`,
			summary: "Missing real server address", detail: `Every real_server needs address = "IP"`,
			line: 4, col: 3,
		},

		// Duplicates.
		{
			name: "duplicate virtual service",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
}
virtual_server "b" {
  address  = "192.0.2.1"
  port     = 80
  protocol = "TCP"
}`,
			summary: "Duplicate virtual service",
			detail:  `TCP 192.0.2.1:80 is already defined by virtual_server "a", first defined at test.hcl:2:13.`,
			line:    6, col: 14, ctxLine: 2,
		},
		{
			name: "duplicate fwmark service with inferred family",
			src: `virtual_server "a" {
  fwmark = 7
}
virtual_server "b" {
  fwmark = 7
  real_server { address = "10.0.0.1" }
}`,
			summary: "Duplicate virtual service",
			detail:  `FWM 7 ipv4 is already defined by virtual_server "a", first defined at test.hcl:2:12.`,
			line:    5, col: 12, ctxLine: 2,
		},
		{
			name: "duplicate virtual_server name",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
}
virtual_server "a" {
  address = "192.0.2.1"
  port    = 81
}`,
			summary: "Duplicate virtual_server name",
			detail:  `A virtual_server named "a" is already defined at test.hcl:1:16.`,
			line:    5, col: 16, ctxLine: 1,
		},
		{
			name: "empty virtual_server name",
			src: `virtual_server "" {
  address = "192.0.2.1"
  port    = 80
}`,
			summary: "Invalid virtual_server name", detail: "must not be empty",
			line: 1, col: 16,
		},
		{
			name: "duplicate real server, one port defaulted",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server { address = "10.0.0.1" }
  real_server {
    address = "10.0.0.1"
    port    = 80
  }
}`,
			summary: "Duplicate real server",
			detail:  "Real server 10.0.0.1:80 is already defined in this virtual_server at test.hcl:4:27.",
			line:    6, col: 15, ctxLine: 4,
		},

		// Address families.
		{
			name: "IPv6 real server of an IPv4 DR service",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "dr"
  real_server { address = "2001:db8::1" }
}`,
			summary: "Real server address family mismatch",
			detail:  `Real server 2001:db8::1 is IPv6 but the virtual service is IPv4 (its address is 192.0.2.1). The kernel only forwards to a real server of the other family with forwarding = "tun"`,
			line:    5, col: 27,
		},
		{
			name: "IPv4 real server of an IPv6 NAT service",
			src: `virtual_server "a" {
  address = "2001:db8::10"
  port    = 80
  real_server { address = "10.0.0.1" }
}`,
			summary: "Real server address family mismatch", detail: "Real server 10.0.0.1 is IPv4 but the virtual service is IPv6",
			line: 4, col: 27,
		},
		{
			name: "IPv4 real server of an IPv6 fwmark service",
			src: `virtual_server "a" {
  fwmark = 7
  family = "ipv6"
  real_server { address = "10.0.0.1" }
}`,
			summary: "Real server address family mismatch", detail: "is IPv4 but the virtual service is IPv6 (set by family)",
			line: 4, col: 27,
		},
		{
			name: "mixed real servers of a fwmark DR service",
			src: `virtual_server "a" {
  fwmark     = 7
  forwarding = "dr"
  real_server { address = "2001:db8::1" }
  real_server { address = "10.0.0.1" }
}`,
			summary: "Real server address family mismatch", detail: "the real servers' families differ; set family to choose",
			line: 4, col: 27,
		},
		{
			name: "real server leaves the tunnel",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  real_server {
    address    = "2001:db8::1"
    forwarding = "nat"
  }
}`,
			summary: "Real server address family mismatch", detail: "is IPv6 but the virtual service is IPv4",
			line: 6, col: 18,
		},

		// Persistence.
		{
			name: "dotted netmask on an IPv6 service",
			src: `virtual_server "a" {
  address                 = "2001:db8::1"
  port                    = 80
  persistence_timeout     = 60
  persistence_granularity = "255.255.255.0"
}`,
			summary: "Invalid persistence_granularity", detail: `"255.255.255.0" is not a netmask for an IPv6 service. Write persistence_granularity as a prefix length from 1 to 128`,
			line: 5, col: 29,
		},
		{
			name: "dotted netmask on an inferred IPv6 fwmark service",
			src: `virtual_server "a" {
  fwmark                  = 7
  persistence_timeout     = 60
  persistence_granularity = "255.255.255.0"
  real_server { address = "2001:db8::1" }
}`,
			summary: "Invalid persistence_granularity", detail: "not a netmask for an IPv6 service",
			line: 4, col: 29,
		},
		{
			name: "IPv4 prefix length too long",
			src: `virtual_server "a" {
  address                 = "192.0.2.1"
  port                    = 80
  persistence_timeout     = 60
  persistence_granularity = 33
}`,
			summary: "Invalid persistence_granularity", detail: "from 1 to 32 for an IPv4 service; got 33.",
			line: 5, col: 29,
		},
		{
			name: "IPv6 prefix length too long",
			src: `virtual_server "a" {
  address                 = "2001:db8::1"
  port                    = 80
  persistence_timeout     = 60
  persistence_granularity = 129
}`,
			summary: "Invalid persistence_granularity", detail: "from 1 to 128 for an IPv6 service; got 129.",
			line: 5, col: 29,
		},
		{
			name: "prefix length 0",
			src: `virtual_server "a" {
  address                 = "192.0.2.1"
  port                    = 80
  persistence_timeout     = 60
  persistence_granularity = 0
}`,
			summary: "Invalid persistence_granularity", detail: "from 1 to 32",
			line: 5, col: 29,
		},
		{
			name: "non-contiguous netmask",
			src: `virtual_server "a" {
  address                 = "192.0.2.1"
  port                    = 80
  persistence_timeout     = 60
  persistence_granularity = "255.0.255.0"
}`,
			summary: "Invalid persistence_granularity", detail: `"255.0.255.0" is not a contiguous netmask`,
			line: 5, col: 29,
		},
		{
			name: "empty netmask",
			src: `virtual_server "a" {
  address                 = "192.0.2.1"
  port                    = 80
  persistence_timeout     = 60
  persistence_granularity = "0.0.0.0"
}`,
			summary: "Invalid persistence_granularity", detail: "would put every client in one group",
			line: 5, col: 29,
		},
		{
			name: "granularity that is no mask",
			src: `virtual_server "a" {
  address                 = "192.0.2.1"
  port                    = 80
  persistence_timeout     = 60
  persistence_granularity = "/24"
}`,
			summary: "Invalid persistence_granularity", detail: "is neither a netmask nor a prefix length",
			line: 5, col: 29,
		},
		{
			name: "granularity without persistence",
			src: `virtual_server "a" {
  address                 = "192.0.2.1"
  port                    = 80
  persistence_granularity = 24
}`,
			summary: "Granularity without persistence", detail: "set persistence_timeout to a non-zero time",
			line: 4, col: 3,
		},
		{
			name: "granularity with persistence off",
			src: `virtual_server "a" {
  address                 = "192.0.2.1"
  port                    = 80
  persistence_timeout     = "0s"
  persistence_granularity = "255.255.255.0"
}`,
			summary: "Granularity without persistence", detail: "only applies to persistent services",
			line: 5, col: 3,
		},
		{
			name: "negative persistence",
			src: `virtual_server "a" {
  address             = "192.0.2.1"
  port                = 80
  persistence_timeout = -1
}`,
			summary: "Invalid persistence_timeout", detail: "a whole number of seconds from 0 (not persistent) to 2147483647. Got -1.",
			line: 4, col: 25,
		},
		{
			name: "persistence in fractions of a second",
			src: `virtual_server "a" {
  address             = "192.0.2.1"
  port                = 80
  persistence_timeout = "1500ms"
}`,
			summary: "Invalid persistence_timeout", detail: `Got "1500ms".`,
			line: 4, col: 25,
		},
		{
			name: "persistence too long",
			src: `virtual_server "a" {
  address             = "192.0.2.1"
  port                = 80
  persistence_timeout = 2147483648
}`,
			summary: "Invalid persistence_timeout", detail: "Got 2147483648.",
			line: 4, col: 25,
		},
		{
			name: "persistence that is no duration",
			src: `virtual_server "a" {
  address             = "192.0.2.1"
  port                = 80
  persistence_timeout = "a minute"
}`,
			summary: "Invalid persistence_timeout", detail: `"a minute" is not a duration. persistence_timeout takes a number of seconds (60) or a duration string`,
			line: 4, col: 25,
		},
		{
			name: "persistence of the wrong type",
			src: `virtual_server "a" {
  address             = "192.0.2.1"
  port                = 80
  persistence_timeout = true
}`,
			summary: "Incorrect attribute value type", detail: "number or string required",
			line: 4, col: 25,
		},
		{
			name: "one_packet on TCP",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  one_packet = true
}`,
			summary: "one_packet needs UDP", detail: "only applies to udp and fwmark services; this service is tcp.",
			line: 4, col: 16,
		},
		{
			name: "one_packet on SCTP",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  protocol   = "sctp"
  one_packet = true
}`,
			summary: "one_packet needs UDP", detail: "this service is sctp.",
			line: 5, col: 16,
		},
		{
			name: "one_packet of the wrong type",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 53
  protocol   = "udp"
  one_packet = "sometimes"
}`,
			summary: "Incorrect attribute value type", detail: "a bool is required",
			line: 5, col: 16,
		},

		// Forwarding and tunnels.
		{
			name: "invalid forwarding",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "fullnat"
}`,
			summary: "Invalid forwarding", detail: `forwarding must be "nat" (masquerading, the default), "dr" (direct routing) or "tun" (tunnelling).`,
			line: 4, col: 16,
		},
		{
			name: "service tunnel block with DR",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "dr"
  tunnel {
    type = "gre"
  }
}`,
			summary: "Tunnel block without tunnel forwarding", detail: `this virtual_server's forwarding is "dr"`,
			line: 5, col: 3,
		},
		{
			name: "service tunnel block with default NAT",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  tunnel {}
}`,
			summary: "Tunnel block without tunnel forwarding", detail: `forwarding is "nat"`,
			line: 4, col: 3,
		},
		{
			name: "real server tunnel block with DR",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  real_server {
    address    = "10.0.0.1"
    forwarding = "dr"
    tunnel {}
  }
}`,
			summary: "Tunnel block without tunnel forwarding", detail: `this real server's forwarding is "dr"`,
			line: 8, col: 5,
		},
		{
			name: "duplicate tunnel block",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  tunnel {}
  tunnel {}
}`,
			summary: "Duplicate tunnel block", detail: "the first one is at test.hcl:5:3.",
			line: 6, col: 3, ctxLine: 5,
		},
		{
			name: "invalid tunnel type",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  tunnel {
    type = "vxlan"
  }
}`,
			summary: "Invalid tunnel type", detail: `type must be "ipip" (the default, IP-in-IP), "gue"`,
			line: 6, col: 12,
		},
		{
			name: "gue without port",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  tunnel {
    type = "gue"
  }
}`,
			summary: "Missing tunnel port", detail: `A "gue" tunnel encapsulates packets in UDP: set port`,
			line: 5, col: 3,
		},
		{
			name: "gue port 0",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  tunnel {
    type = "gue"
    port = 0
  }
}`,
			summary: "Invalid tunnel port", detail: "port must be a whole number from 1 to 65535; got 0.",
			line: 7, col: 12,
		},
		{
			name: "port on an ipip tunnel",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  tunnel {
    port = 6080
  }
}`,
			summary: "Unexpected tunnel port", detail: `a "ipip" tunnel has no port`,
			line: 6, col: 5,
		},
		{
			name: "port on a gre tunnel",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  tunnel {
    type = "gre"
    port = 6080
  }
}`,
			summary: "Unexpected tunnel port", detail: `a "gre" tunnel has no port`,
			line: 7, col: 5,
		},
		{
			name: "checksum on an ipip tunnel",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  tunnel {
    type     = "ipip"
    checksum = "nocsum"
  }
}`,
			summary: "Unexpected tunnel checksum", detail: "IP-in-IP encapsulation has no checksum option",
			line: 7, col: 5,
		},
		{
			name: "remcsum on a gre tunnel",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  tunnel {
    type     = "gre"
    checksum = "remcsum"
  }
}`,
			summary: "Invalid tunnel checksum", detail: `exists only for "gue" tunnels; a "gre" tunnel takes "nocsum" or "csum".`,
			line: 7, col: 16,
		},
		{
			name: "invalid tunnel checksum",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "tun"
  real_server {
    address = "10.0.0.1"
    tunnel {
      type     = "gue"
      port     = 6080
      checksum = "crc32"
    }
  }
}`,
			summary: "Invalid tunnel checksum", detail: `checksum must be "nocsum" (the default), "csum" or "remcsum" (gue only).`,
			line: 10, col: 18,
		},

		// Real servers.
		{
			name: "negative weight",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address = "10.0.0.1"
    weight  = -1
  }
}`,
			summary: "Invalid weight", detail: "weight must be a whole number from 0 to 2147483647; got -1.",
			line: 6, col: 15,
		},
		{
			name: "weight above 2^31-1",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address = "10.0.0.1"
    weight  = 2147483648
  }
}`,
			summary: "Invalid weight", detail: "got 2147483648.",
			line: 6, col: 15,
		},
		{
			name: "weight of the wrong type",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address = "10.0.0.1"
    weight  = true
  }
}`,
			summary: "Incorrect attribute value type", detail: `Inappropriate value for attribute "weight": number required`,
			line: 6, col: 15,
		},
		{
			name: "real server port 0 on an address service",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address = "10.0.0.1"
    port    = 0
  }
}`,
			summary: "Invalid port", detail: "only fwmark services have. Leave port out to use the virtual service's port.",
			line: 6, col: 15,
		},
		{
			name: "real server port above 65535",
			src: `virtual_server "a" {
  fwmark = 3
  real_server {
    address = "10.0.0.1"
    port    = 65536
  }
}`,
			summary: "Invalid port", detail: "port must be a whole number from 0 to 65535; got 65536.",
			line: 5, col: 15,
		},
		{
			name: "lower threshold above upper",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address         = "10.0.0.1"
    upper_threshold = 10
    lower_threshold = 20
  }
}`,
			summary: "lower_threshold above upper_threshold", detail: "lower_threshold (20) must not be greater than upper_threshold (10).",
			line: 7, col: 23, ctxLine: 6,
		},
		{
			name: "lower threshold without upper",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address         = "10.0.0.1"
    lower_threshold = 5
  }
}`,
			summary: "lower_threshold without upper_threshold", detail: "Set upper_threshold above 5, or remove lower_threshold.",
			line: 6, col: 23,
		},
		{
			name: "negative upper threshold",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server {
    address         = "10.0.0.1"
    upper_threshold = -5
  }
}`,
			summary: "Invalid upper_threshold", detail: "from 0 to 4294967295; got -5.",
			line: 6, col: 23,
		},

		// Unknown names (check blocks: check_test.go).
		{
			name: "unknown top-level block",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
}
virtual_server_group "G" {}`,
			summary: "Unsupported block type", detail: `Blocks of type "virtual_server_group" are not expected here.`,
			line: 5, col: 1,
		},
		{
			name: "keepalived-style real_server label",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  real_server "10.0.0.1" {}
}`,
			summary: "Extraneous label for real_server", detail: "No labels are expected",
			line: 4, col: 15,
		},
		{
			name: "misspelt argument",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 80
  schedular = "rr"
}`,
			summary: "Unsupported argument", detail: `An argument named "schedular" is not expected here. Did you mean "scheduler"?`,
			line: 4, col: 3,
		},
	}
	runRejections(t, tests)
}

// TestParseRejectsDRPortMismatch: a DR or TUN real server (or sorry
// server) on another port than its address service is an error at its
// port; the kernel would keep the port and never use it.
func TestParseRejectsDRPortMismatch(t *testing.T) {
	runRejections(t, []rejection{
		{
			name: "dr real server on another port",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 80
  forwarding = "dr"
  real_server {
    address = "198.51.100.1"
    port    = 8080
  }
}`,
			summary: "Real server port differs from the service port", detail: `The real server's port is 8080 but the virtual service's is 80 (at test.hcl:3:16). With forwarding = "dr"`,
			line: 7, col: 15, ctxLine: 3,
		},
		{
			name: "tun set on the real server",
			src: `virtual_server "a" {
  address = "192.0.2.1"
  port    = 53
  protocol = "udp"
  real_server {
    address    = "198.51.100.1"
    port       = 5353
    forwarding = "tun"
  }
}`,
			summary: "Real server port differs from the service port", detail: `With forwarding = "tun" the kernel delivers the client's packet unchanged, to port 53`,
			line: 7, col: 18, ctxLine: 3,
		},
		{
			name: "dr sorry server on another port",
			src: `virtual_server "a" {
  address    = "192.0.2.1"
  port       = 443
  forwarding = "dr"
  real_server { address = "198.51.100.1" }
  sorry_server {
    address = "198.51.100.9"
    port    = 8443
  }
}`,
			summary: "Real server port differs from the service port", detail: "The sorry server's port is 8443",
			line: 8, col: 15,
		},
	})
}

// TestParseAcceptsRealServerPorts: the port check refuses only what the
// kernel would not deliver to: the same port under DR, any port under NAT,
// any port of a fwmark service (it has none to compare with).
func TestParseAcceptsRealServerPorts(t *testing.T) {
	tests := []struct {
		name string
		src  string
		port uint16
	}{
		{"dr on the service port", `virtual_server "a" {
  address = "192.0.2.1"
  port = 80
  forwarding = "dr"
  real_server {
    address = "198.51.100.1"
    port = 80
  }
}`, 80},
		{"dr inheriting the port", `virtual_server "a" {
  address = "192.0.2.1"
  port = 80
  forwarding = "tun"
  real_server { address = "198.51.100.1" }
}`, 80},
		{"nat remaps", `virtual_server "a" {
  address = "192.0.2.1"
  port = 80
  real_server {
    address = "198.51.100.1"
    port = 8080
  }
}`, 8080},
		{"dr on a fwmark service", `virtual_server "a" {
  fwmark = 7
  forwarding = "dr"
  real_server {
    address = "198.51.100.1"
    port = 8080
  }
}`, 8080},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(tt.src), "test.hcl")
			require.Empty(t, diags, "%s", render(t, files, diags))
			assert.Equal(t, tt.port, cfg.Services[0].RealServers[0].Port)
		})
	}
}

// runRejections checks that each source is rejected with its diagnostic,
// and with no more errors than it expects.
func runRejections(t *testing.T, tests []rejection) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, files, diags := lvshcl.Parse([]byte(tt.src), "test.hcl")
			assert.Nil(t, cfg)
			want := tt.errors
			if want == 0 {
				want = 1
			}
			require.Len(t, errorsOf(diags), want, "%s", render(t, files, diags))
			d := find(diags, tt.summary, tt.line, tt.col)
			require.NotNil(t, d, "no %q at %d:%d in:\n%s", tt.summary, tt.line, tt.col, render(t, files, diags))
			assert.Contains(t, d.Detail, tt.detail)
			assert.Equal(t, "test.hcl", d.Subject.Filename)
			if tt.ctxLine != 0 {
				require.NotNil(t, d.Context)
				assert.Equal(t, tt.ctxLine, d.Context.Start.Line)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	src := `bogus = 1
virtual_server "dns" {
  address    = "192.0.2.53"
  port       = 53
  protocol   = "udp"
  scheduler  = "roundrobin"
  one_packet = true
  colour     = "blue"

  real_server {
    address = "10.0.0.53"
    weight  = -1
    backup  = true
  }
  real_server {
    address = "10.0.0.53"
    port    = 53
  }
}
virtual_server "dns" {
  address  = "192.0.2.53"
  port     = 70000
  protocol = "udp"
  forwarding = "tun"
  tunnel {
    type = "gue"
    ttl  = 64
  }
  check "radius" {}
}
virtual_server "web" {
  fwmark = 1
  family = "ipv5"
  persistence_granularity = "255.255.0.255"
  real_server {
    address = "2001:db8::80"
    lower_threshold = 3
  }
}
`
	want := []struct {
		line    int
		summary string
	}{
		{1, "Unsupported argument"},                     // bogus
		{6, "Unknown scheduler"},                        // roundrobin
		{8, "Unsupported argument"},                     // colour
		{12, "Invalid weight"},                          // -1
		{13, "Unsupported argument"},                    // backup
		{16, "Duplicate real server"},                   // 10.0.0.53:53 again
		{20, "Duplicate virtual_server name"},           // dns again
		{22, "Invalid port"},                            // 70000
		{25, "Missing tunnel port"},                     // gue
		{27, "Unsupported argument"},                    // ttl
		{29, "Unknown check type"},                      // check "radius"
		{33, "Invalid family"},                          // ipv5
		{34, "Granularity without persistence"},         // no timeout
		{37, "lower_threshold without upper_threshold"}, // 3
	}
	cfg, files, diags := lvshcl.Parse([]byte(src), "test.hcl")
	assert.Nil(t, cfg)
	t.Log("\n" + render(t, files, diags))
	require.Len(t, diags, len(want))
	for i, w := range want {
		assert.Equal(t, w.summary, diags[i].Summary, "diagnostic %d", i)
		assert.Equal(t, w.line, diags[i].Subject.Start.Line, "diagnostic %d (%s)", i, diags[i].Summary)
	}
}

func errorsOf(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

func find(diags hcl.Diagnostics, summary string, line, col int) *hcl.Diagnostic {
	for _, d := range diags {
		if d.Summary == summary && d.Subject != nil && d.Subject.Start.Line == line && d.Subject.Start.Column == col {
			return d
		}
	}
	return nil
}
