# lvsctl configuration imported from samples/keepalived.conf.vrrp by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp:3: global_defs
# samples/keepalived.conf.vrrp:4: warning: not translated: lvsctl sends no email alerts; use notify hooks
# notification_email {
#   acassen
# }
# samples/keepalived.conf.vrrp:7: warning: not translated: lvsctl sends no email alerts; use notify hooks
# notification_email_from Alexandre.Cassen@firewall.loc
# samples/keepalived.conf.vrrp:8: warning: not translated: lvsctl sends no email alerts; use notify hooks
# smtp_server 192.168.200.1
# samples/keepalived.conf.vrrp:9: warning: not translated: lvsctl sends no email alerts; use notify hooks
# smtp_connect_timeout 30
# samples/keepalived.conf.vrrp:10: note: router_id names this host in keepalived's email alerts and SNMP; lvsctl has neither
# router_id LVS_DEVEL

# samples/keepalived.conf.vrrp:13
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.200.16", "192.168.200.17", "192.168.200.18"]
  garp_master_delay = 10
  # samples/keepalived.conf.vrrp:14: note: lvsctl has no initial state: an instance starts as backup and the priority decides (keepalived's state only changes the start-up)
  # state MASTER
  # samples/keepalived.conf.vrrp:17: warning: not translated: lvsctl sends no email alerts; use notify hooks
  # smtp_alert
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
  # samples/keepalived.conf.vrrp:38: warning: not translated: lvsctl sends no email alerts; use notify hooks
  # smtp_alert
}

# samples/keepalived.conf.vrrp:49
vrrp_instance "VI_3" {
  interface         = "eth1"
  virtual_router_id = 52
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.201.13", "192.168.201.14", "192.168.201.15"]
  # samples/keepalived.conf.vrrp:50: note: lvsctl has no initial state: an instance starts as backup and the priority decides (keepalived's state only changes the start-up)
  # state MASTER
  # samples/keepalived.conf.vrrp:52: warning: not translated: lvsctl sends no email alerts; use notify hooks
  # smtp_alert
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
  # samples/keepalived.conf.vrrp:69: warning: not translated: lvsctl sends no email alerts; use notify hooks
  # smtp_alert
}
