# lvsctl configuration imported from samples/keepalived.conf.track_interface by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.track_interface:3: global_defs
# samples/keepalived.conf.track_interface:4: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id LVS_DEVEL

# samples/keepalived.conf.track_interface:8
static_routes {
  to  = "192.168.210.0/24"
  via = "192.168.200.254"
  dev = "eth0"
}

# samples/keepalived.conf.track_interface:9
static_routes {
  to  = "192.168.211.0/24"
  via = "192.168.200.254"
  dev = "eth0"
}

# samples/keepalived.conf.track_interface:10
static_routes {
  to  = "192.168.212.0/24"
  dev = "eth3"
}

# samples/keepalived.conf.track_interface:11
static_routes {
  to  = "192.168.213.0/24"
  dev = "eth1"
}

# samples/keepalived.conf.track_interface:14
vrrp_instance "VI_1" {
  interface         = "eth0.1"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.168.200.16"]
  track_interface   = ["eth0", "eth1"]
  state             = "MASTER"
  vip {
    address = "192.168.200.17"
    dev     = "eth1"
  }
  vip {
    address = "192.168.200.18"
    dev     = "eth2"
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
