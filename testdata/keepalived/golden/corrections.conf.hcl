# lvsctl configuration imported from corrections.conf by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# corrections.conf:4: virtual_server 10.2.0.1 53
virtual_server "10.2.0.1:53" {
  address    = "10.2.0.1"
  port       = 53
  protocol   = "udp"
  one_packet = true
  # corrections.conf:4: note: keepalived programs a UDP service when protocol is not set ("no protocol set - defaulting to UDP"), and so does the translation; for TCP, the keepalived configuration needed protocol TCP

  real_server {
    address = "10.2.1.1"
  }
}

# corrections.conf:10: virtual_server 10.2.0.1 80
virtual_server "10.2.0.1:80" {
  address         = "10.2.0.1"
  port            = 80
  scheduler       = "sh"
  scheduler_flags = ["sh-fallback"]
  forwarding      = "dr"
  # corrections.conf:20: note: real server 10.2.1.1 8080 is already in this virtual_server: keepalived removes the second one
  # real_server 10.2.1.1 8080 {
  #   weight 5
  # }
  # corrections.conf:14: note: keepalived ignores sh-port unless lb_algo sh comes before it
  # sh-port
  # corrections.conf:12: note: one-packet scheduling is for UDP: keepalived resets it for this TCP service
  # ops

  real_server {
    address = "10.2.1.1"
    weight  = 2
    # corrections.conf:17: note: DR cannot change ports: keepalived gives the server the service's port 80
  }

  real_server {
    address = "10.2.1.2"
  }
}

# corrections.conf:27: virtual_server fwmark 12
virtual_server "fwmark-12" {
  fwmark                  = 12
  forwarding              = "tun"
  persistence_timeout     = 360
  persistence_granularity = "255.255.255.0"

  real_server {
    address = "10.2.1.3"
    # corrections.conf:30: note: a TUN server of a fwmark service has no port: keepalived clears it
  }

  real_server {
    address    = "10.2.1.4"
    port       = 443
    forwarding = "nat"
  }
}

# corrections.conf:37: note: keepalived ignores a virtual_server without real servers ("has no real servers - ignoring"); so does the translation
# virtual_server 10.2.0.2 80 {
#   protocol TCP
# }
