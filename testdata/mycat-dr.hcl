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
# The TCP_CHECK blocks have no equivalent yet: lvsctl will grow check blocks
# with `lvsctl run`. Until then both Mycat nodes stay in the table whatever
# their state.
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

  real_server {
    address = "192.168.1.201"
    weight  = 3
  }

  real_server {
    address = "192.168.1.202"
    weight  = 3
  }
}
