# lvsctl configuration imported from mycat-dr.conf by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# mycat-dr.conf:5: global_defs
# mycat-dr.conf:6: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id LVS_MYCAT

# mycat-dr.conf:9
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.1.200"]
  state             = "MASTER"
  authentication {
    password = "1111"
  }
}

# mycat-dr.conf:24: virtual_server 192.168.1.200 8066
virtual_server "192.168.1.200:8066" {
  address    = "192.168.1.200"
  port       = 8066
  scheduler  = "rr"
  forwarding = "dr"
  delay_loop = 6

  check "tcp" {
    connect_timeout    = 10
    retry              = 3
    delay_before_retry = 3
  }

  real_server {
    address = "192.168.1.201"
    weight  = 3
  }

  real_server {
    address = "192.168.1.202"
    weight  = 3
  }
}
