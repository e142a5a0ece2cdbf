# lvsctl configuration imported from samples/keepalived.conf.vrrp.routes by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp.routes:3: global_defs
# samples/keepalived.conf.vrrp.routes:4: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id LVS_DEVEL

# samples/keepalived.conf.vrrp.routes:8
static_routes {
  src = "192.168.100.1"
  to  = "192.168.209.0/24"
  via = "192.168.200.254"
  dev = "eth0"
}

# samples/keepalived.conf.vrrp.routes:9
static_routes {
  to  = "192.168.210.0/24"
  via = "192.168.200.254"
  dev = "eth0"
}

# samples/keepalived.conf.vrrp.routes:10
static_routes {
  to  = "192.168.211.0/24"
  via = "192.168.200.254"
  dev = "eth0"
}

# samples/keepalived.conf.vrrp.routes:11
static_routes {
  to    = "192.168.212.0/24"
  dev   = "eth3"
  scope = "site"
}

# samples/keepalived.conf.vrrp.routes:12
static_routes {
  to    = "192.168.213.0/24"
  dev   = "eth1"
  scope = "link"
}

# samples/keepalived.conf.vrrp.routes:15
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.168.200.16"]
  state             = "MASTER"
  # samples/keepalived.conf.vrrp.routes:30: warning: not translated: lvsctl has no multipath routes (or)
  # 192.168.113.0/24 via 192.168.100.252 or 192.168.100.253
  vip {
    address = "192.168.200.17"
    dev     = "eth1"
  }
  vip {
    address = "192.168.200.18"
    dev     = "eth2"
  }
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
  virtual_routes {
    blackhole = true
    to        = "192.168.113.1/32"
  }
  virtual_routes {
    to    = "0.0.0.0/0"
    via   = "192.168.0.1"
    table = 100
  }
}
