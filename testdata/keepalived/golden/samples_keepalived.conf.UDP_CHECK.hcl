# lvsctl configuration imported from samples/keepalived.conf.UDP_CHECK by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.UDP_CHECK:4: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.UDP_CHECK:14: virtual_server 10.10.10.2 1358
virtual_server "10.10.10.2:1358/udp" {
  address             = "10.10.10.2"
  port                = 1358
  protocol            = "udp"
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

  check "udp" {
    connect_timeout    = 3
    retry              = 3
    delay_before_retry = 3
  }

  real_server {
    address = "192.168.200.6"
    weight  = 1
  }
}
