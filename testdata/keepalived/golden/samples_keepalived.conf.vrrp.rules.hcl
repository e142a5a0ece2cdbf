# lvsctl configuration imported from samples/keepalived.conf.vrrp.rules by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp.rules:5: global_defs
# samples/keepalived.conf.vrrp.rules:6: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id LVS_DEVEL

# samples/keepalived.conf.vrrp.rules:10
static_rules {
  from  = "192.168.100.0/24"
  table = 1
}

# samples/keepalived.conf.vrrp.rules:11: warning: not translated: "192.168.100./24" is not an address or prefix (keepalived cannot parse it either)
# to 192.168.100./24 table 1

# samples/keepalived.conf.vrrp.rules:14
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.168.200.16"]
  state             = "MASTER"
  # samples/keepalived.conf.vrrp.rules:26: warning: not translated: "192.168.200./24" is not an address or prefix (keepalived cannot parse it either)
  # to 192.168.200./24 table 2
  vip {
    address = "192.168.200.17"
    dev     = "eth1"
  }
  vip {
    address = "192.168.200.18"
    dev     = "eth2"
  }
  virtual_rules {
    from  = "192.168.200.0/24"
    table = 2
  }
}
