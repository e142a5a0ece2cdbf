# lvsctl configuration imported from samples/keepalived.conf.vrrp by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp:3: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.vrrp:13
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.200.16", "192.168.200.17", "192.168.200.18"]
  garp_master_delay = 10
  state             = "MASTER"
  smtp_alert        = true
  # samples/keepalived.conf.vrrp:32: note: 192.168.200.18 is already a VIP of this instance
  # 192.168.200.18 label eth0:1
  authentication {
    password = "1111"
  }
}

# samples/keepalived.conf.vrrp:36
vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = 50
  priority          = 50
  advert_interval   = 1
  virtual_ipaddress = ["192.168.200.13", "192.168.200.14", "192.168.200.15"]
  smtp_alert        = true
}

# samples/keepalived.conf.vrrp:49
vrrp_instance "VI_3" {
  interface         = "eth1"
  virtual_router_id = 52
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.201.13", "192.168.201.14", "192.168.201.15"]
  state             = "MASTER"
  smtp_alert        = true
  authentication {
    password = "1111"
  }
}

# samples/keepalived.conf.vrrp:67
vrrp_instance "VI_4" {
  interface         = "eth1"
  virtual_router_id = 53
  priority          = 50
  advert_interval   = 1
  virtual_ipaddress = ["192.168.201.16", "192.168.201.17", "192.168.201.18"]
  smtp_alert        = true
}
