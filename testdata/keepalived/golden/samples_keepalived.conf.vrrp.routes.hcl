# lvsctl configuration imported from samples/keepalived.conf.vrrp.routes by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp.routes:3: global_defs
# samples/keepalived.conf.vrrp.routes:4: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id LVS_DEVEL

# samples/keepalived.conf.vrrp.routes:7: warning: not translated: lvsctl manages no routes: add them with the system's network configuration
# static_routes {
#   src 192.168.100.1 192.168.209.0/24 via 192.168.200.254 dev eth0
#   192.168.210.0/24 via 192.168.200.254 dev eth0
#   192.168.211.0/24 via 192.168.200.254 dev eth0
#   192.168.212.0/24 dev eth3 scope site
#   192.168.213.0/24 dev eth1 scope link
# }

# samples/keepalived.conf.vrrp.routes:15
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.168.200.16"]
  state             = "MASTER"
  # samples/keepalived.conf.vrrp.routes:25: warning: not translated: lvsctl adds no routes with the VIPs
  # virtual_routes {
  #   src 192.168.100.1 192.168.109.0/24 via 192.168.200.254 dev eth1
  #   192.168.110.0/24 via 192.168.200.254 dev eth1
  #   192.168.111.0/24 dev eth2
  #   192.168.112.0/24 via 192.168.100.254
  #   192.168.113.0/24 via 192.168.100.252 or 192.168.100.253
  #   blackhole 192.168.113.1/32
  #   0.0.0.0/0 gw 192.168.0.1 table 100
  # }
  # samples/keepalived.conf.vrrp.routes:22: warning: not translated: lvsctl adds every VIP to the instance's interface eth0, not to eth1: use another vrrp_instance on eth1
  # 192.168.200.17 dev eth1
  # samples/keepalived.conf.vrrp.routes:23: warning: not translated: lvsctl adds every VIP to the instance's interface eth0, not to eth2: use another vrrp_instance on eth2
  # 192.168.200.18 dev eth2
}
