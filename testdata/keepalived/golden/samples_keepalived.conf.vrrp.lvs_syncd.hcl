# lvsctl configuration imported from samples/keepalived.conf.vrrp.lvs_syncd by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.vrrp.lvs_syncd:3: warning: not translated: vrrp_sync_group VG1 has no member that is in the output
# vrrp_sync_group VG1 {
#   VI_2
#   VI_3
# }

# samples/keepalived.conf.vrrp.lvs_syncd:8
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = 1
  virtual_ipaddress = ["192.168.200.16", "192.168.200.17", "192.168.200.18"]
  state             = "MASTER"
  authentication {
    password = "grr02"
  }
}

# samples/keepalived.conf.vrrp.lvs_syncd:11
sync {
  interface     = "eth1"
  vrrp_instance = "VI_1"
  syncid        = 0
  # samples/keepalived.conf.vrrp.lvs_syncd:11: note: deprecated in keepalived (which says to use global_defs' lvs_sync_daemon): translated to the sync block, with syncid 0 as keepalived sets it
  # lvs_sync_daemon_interface eth1
}

# samples/keepalived.conf.vrrp.lvs_syncd:26
vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.200.19", "192.168.200.20", "192.168.200.21"]
}

# samples/keepalived.conf.vrrp.lvs_syncd:38
vrrp_instance "VI_3" {
  interface         = "eth1"
  virtual_router_id = 53
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.201.19", "192.168.201.20", "192.168.201.21"]
}

# samples/keepalived.conf.vrrp.lvs_syncd:50: virtual_server 192.168.200.19 80
virtual_server "192.168.200.19:80" {
  address             = "192.168.200.19"
  port                = 80
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 20

  check "tcp" {
    connect_timeout = 3
  }

  real_server {
    address = "192.168.201.100"
    weight  = 1
  }
}
