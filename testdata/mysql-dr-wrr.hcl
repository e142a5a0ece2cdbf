# MySQL read pool on 3306 in direct routing, weighted round robin, with
# 60 seconds of client persistence.
#
# keepalived equivalent:
#
#   virtual_server 192.168.1.100 3306 {
#       delay_loop 2
#       lb_algo wrr
#       lb_kind DR
#       persistence_timeout 60
#       protocol TCP
#
#       real_server 192.168.1.101 3306 {
#           weight 3
#           TCP_CHECK { connect_timeout 3  connect_port 3306 }
#       }
#       real_server 192.168.1.102 3306 {
#           weight 2
#           TCP_CHECK { connect_timeout 3  connect_port 3306 }
#       }
#       real_server 192.168.1.103 3306 {
#           weight 1
#           TCP_CHECK { connect_timeout 3  connect_port 3306 }
#       }
#   }
#
# The three TCP_CHECK blocks are the same, so they become one check block in
# the virtual_server: the check of every real server without its own.
# connect_port 3306 is the real servers' own port, the default.
#
# Weights follow the hardware: .101 is the big box, .103 the old one. With
# persistence a client sticks to the replica it first reached for 60 s after
# its last connection, so weights are only approximated with few clients.
# As with any DR setup, each replica holds the VIP on lo with arp_ignore=1
# and arp_announce=2.

virtual_server "mysql-read" {
  address    = "192.168.1.100"
  port       = 3306
  scheduler  = "wrr"
  forwarding = "dr"

  persistence_timeout = 60 # seconds; "1m" means the same

  delay_loop = 2
  check "tcp" {
    connect_timeout = 3
  }

  real_server {
    address = "192.168.1.101"
    weight  = 3
  }

  real_server {
    address = "192.168.1.102"
    weight  = 2
  }

  real_server {
    address = "192.168.1.103"
    weight  = 1
  }
}
