# The Mycat service of mycat-dr.hcl on a pair of directors that share the
# VIP with VRRP: this file is the first director's; the second differs only
# in priority (100) and unicast_src_ip / unicast_peer swapped.
#
# keepalived equivalent (besides the virtual_server block):
#
#   vrrp_script chk_mycat_pool {        # (keepalived has no direct way to
#       script "/usr/local/bin/chk"     #  track a virtual_server's quorum)
#   }
#   vrrp_instance VI_MYCAT {
#       state BACKUP
#       interface eth0
#       virtual_router_id 51
#       priority 150
#       advert_int 1
#       authentication {
#           auth_type PASS
#           auth_pass s3cret
#       }
#       unicast_src_ip 192.168.1.11
#       unicast_peer {
#           192.168.1.12
#       }
#       virtual_ipaddress {
#           192.168.1.200/24 dev eth0 label eth0:vip
#       }
#       notify_master "/usr/local/bin/vip-notify master"
#   }
#
# track_virtual_server puts the instance in FAULT while the mycat service has
# lost its quorum (no Mycat node passes its check), so the other director,
# whose view of the pool may differ, takes the VIP.

virtual_server "mycat" {
  address    = "192.168.1.200"
  port       = 8066
  scheduler  = "rr"
  forwarding = "dr"
  delay_loop = 6

  check "tcp" {
    connect_timeout = 10
  }

  real_server { address = "192.168.1.201" }
  real_server { address = "192.168.1.202" }
}

vrrp_instance "VI_MYCAT" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = 1
  authentication {
    password = "s3cret"
  }
  unicast_src_ip = "192.168.1.11"
  unicast_peer   = ["192.168.1.12"]
  vip {
    address = "192.168.1.200/24"
    label   = "eth0:vip"
  }
  track_virtual_server = ["mycat"]
  notify_master        = ["/usr/local/bin/vip-notify", "master"]
}
