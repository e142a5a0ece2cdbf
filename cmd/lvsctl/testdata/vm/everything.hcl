# Every feature the foundation supports, applied to a real kernel in the VM
# test TestVMApplyEverything. Addresses are documentation/test ranges inside
# the test's own namespace; nothing here is ever sent a packet.

virtual_server "nat-web" {
  address    = "10.10.0.1"
  port       = 80
  scheduler  = "rr"
  forwarding = "nat"
  real_server {
    address         = "10.20.0.1"
    weight          = 3
    upper_threshold = 100
    lower_threshold = 50
  }
  real_server {
    address = "10.20.0.2"
    port    = 8080
    weight  = 0
  }
}

virtual_server "dr-https" {
  address                 = "10.10.0.1"
  port                    = 443
  scheduler               = "wrr"
  forwarding              = "dr"
  persistence_timeout     = 300
  persistence_granularity = "255.255.255.0"
  real_server { address = "10.20.0.1" }
  real_server {
    address = "10.20.0.2"
    weight  = 2
  }
}

virtual_server "tun-mysql" {
  address    = "10.10.0.1"
  port       = 3306
  scheduler  = "wlc"
  forwarding = "tun"
  real_server { address = "10.20.0.1" } # ipip
  real_server {
    address = "10.20.0.2"
    tunnel {
      type     = "gue"
      port     = 6080
      checksum = "csum"
    }
  }
  real_server {
    address = "10.20.0.3"
    tunnel {
      type     = "gre"
      checksum = "csum"
    }
  }
  real_server { address = "2001:db8:20::4" } # mixed family: only tunnels may
}

virtual_server "sctp" {
  address   = "10.10.0.2"
  port      = 2905
  protocol  = "sctp"
  scheduler = "lc"
  real_server { address = "10.20.0.1" }
}

virtual_server "udp-ops" {
  address    = "10.10.0.2"
  port       = 53
  protocol   = "udp"
  scheduler  = "lblc"
  one_packet = true
  real_server { address = "10.20.0.1" }
}

virtual_server "lblcr" {
  address   = "10.10.1.1"
  port      = 80
  scheduler = "lblcr"
  real_server { address = "10.20.0.1" }
}

virtual_server "dh" {
  address   = "10.10.1.2"
  port      = 80
  scheduler = "dh"
  real_server { address = "10.20.0.1" }
}

virtual_server "sh" {
  address         = "10.10.1.3"
  port            = 80
  scheduler       = "sh"
  scheduler_flags = ["sh-port", "sh-fallback"]
  real_server { address = "10.20.0.1" }
}

virtual_server "sed" {
  address   = "10.10.1.4"
  port      = 80
  scheduler = "sed"
  real_server { address = "10.20.0.1" }
}

virtual_server "nq" {
  address   = "10.10.1.5"
  port      = 80
  scheduler = "nq"
  real_server { address = "10.20.0.1" }
}

virtual_server "fo" {
  address   = "10.10.1.6"
  port      = 80
  scheduler = "fo"
  real_server { address = "10.20.0.1" }
}

virtual_server "ovf" {
  address   = "10.10.1.7"
  port      = 80
  scheduler = "ovf"
  real_server { address = "10.20.0.1" }
}

virtual_server "mh" {
  address         = "10.10.1.8"
  port            = 80
  scheduler       = "mh"
  scheduler_flags = ["mh-port"]
  real_server { address = "10.20.0.1" }
}

virtual_server "v6" {
  address                 = "2001:db8::1"
  port                    = 80
  scheduler               = "wrr"
  forwarding              = "dr"
  persistence_timeout     = 60
  persistence_granularity = 64
  real_server { address = "2001:db8:20::1" }
  real_server {
    address = "2001:db8:20::2"
    weight  = 5
  }
}

virtual_server "fwmark-v4" {
  fwmark     = 7
  scheduler  = "rr"
  forwarding = "dr"
  real_server { address = "10.20.0.1" }
  real_server { address = "10.20.0.2" }
}

virtual_server "fwmark-v6" {
  fwmark     = 8
  family     = "ipv6"
  scheduler  = "rr"
  forwarding = "dr"
  real_server { address = "2001:db8:20::1" }
}
