# A web cluster in one file: the director and its backends, direct routing.
#
#   on the director:  lvsctl apply -f web-dr-cluster.hcl
#   on each backend:  lvsctl realserver start -f web-dr-cluster.hcl
#
# apply ignores the realserver block; realserver start reads it (and
# validates the whole file). It replaces the realserver.sh of LVS guides:
#
#   ifconfig lo:0 192.168.10.100 netmask 255.255.255.255 up
#   echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore    # and lo
#   echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce  # and lo
#
# and `lvsctl realserver stop` undoes exactly that, restoring the values it
# found. Both backends listen on 80 and 443 on the VIP (or on all
# addresses): DR cannot change ports.

virtual_server "web" {
  address    = "192.168.10.100"
  port       = 80
  scheduler  = "rr"
  forwarding = "dr"

  real_server { address = "192.168.10.11" }
  real_server { address = "192.168.10.12" }
}

virtual_server "web-tls" {
  address             = "192.168.10.100"
  port                = 443
  scheduler           = "rr"
  forwarding          = "dr"
  persistence_timeout = "5m" # keep a client's TLS sessions on one backend

  real_server { address = "192.168.10.11" }
  real_server { address = "192.168.10.12" }
}

# mode "dr" and the VIP 192.168.10.100 are taken from the services above.
realserver {}
