# lvsctl configuration imported from samples/keepalived.conf.vrrp.static_ipaddress by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp.static_ipaddress:3: global_defs
# samples/keepalived.conf.vrrp.static_ipaddress:4: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id LVS_DEVEL

# samples/keepalived.conf.vrrp.static_ipaddress:8
static_ipaddress {
  address = "192.168.200.16"
  dev     = "eth0"
  scope   = "link"
}

# samples/keepalived.conf.vrrp.static_ipaddress:9
static_ipaddress {
  address = "192.168.200.17"
  dev     = "eth1"
  scope   = "link"
}

# samples/keepalived.conf.vrrp.static_ipaddress:10
static_ipaddress {
  address = "192.168.200.18"
  dev     = "eth2"
}

# samples/keepalived.conf.vrrp.static_ipaddress:13
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.168.200.20"]
  state             = "MASTER"
  virtual_routes {
    src = "192.168.100.1"
    to  = "192.168.109.0/24"
    via = "192.168.200.254"
    dev = "eth1"
  }
  virtual_routes {
    to  = "192.168.110.0/24"
    via = "192.168.200.254"
    dev = "eth1"
  }
  virtual_routes {
    to  = "192.168.111.0/24"
    dev = "eth2"
  }
  virtual_routes {
    to  = "192.168.112.0/24"
    via = "192.168.100.254"
  }
}
