# Mycat (MySQL sharding proxy) on port 8066, load-balanced in direct routing.
#
# keepalived equivalent:
#
#   virtual_server 192.168.1.200 8066 {
#       delay_loop 6
#       lb_algo rr
#       lb_kind DR
#       protocol TCP
#
#       real_server 192.168.1.201 8066 {
#           weight 3
#           TCP_CHECK {
#               connect_timeout 10
#               retry 3
#               delay_before_retry 3
#               connect_port 8066
#           }
#       }
#       real_server 192.168.1.202 8066 {
#           weight 3
#           TCP_CHECK { ... same ... }
#       }
#   }
#
# delay_loop moves to the virtual_server, where it is the default of every
# check of the service; the two identical TCP_CHECK blocks become one check
# block in the virtual_server, the check of every real server without one of
# its own. connect_port 8066 is the real servers' port, the default. `lvsctl
# run` checks the nodes; `lvsctl apply` ignores checks and keeps both.
#
# DR only rewrites the destination MAC, so each Mycat node must carry the VIP
# itself (on lo, /32) without answering ARP for it:
#   ip addr add 192.168.1.200/32 dev lo
#   sysctl net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
# and must listen on the same port as the VIP (DR cannot change ports).

virtual_server "mycat" {
  address    = "192.168.1.200"
  port       = 8066
  protocol   = "tcp"
  scheduler  = "rr"   # both nodes are the same size: plain round robin
  forwarding = "dr"
  delay_loop = 6      # seconds between checks

  check "tcp" {
    connect_timeout    = 10
    retry              = 3
    delay_before_retry = 3
  }

  real_server {
    address = "192.168.1.201"
    weight  = 3
  }

  real_server {
    address = "192.168.1.202"
    weight  = 3
  }
}
