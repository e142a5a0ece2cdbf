# lvsctl configuration imported from samples/keepalived.conf.inhibit by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.inhibit:3: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.inhibit:13: virtual_server 10.10.10.2 1358
virtual_server "10.10.10.2:1358" {
  address             = "10.10.10.2"
  port                = 1358
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6
  inhibit_on_failure  = true

  check "http" {
    connect_timeout    = 3
    retry              = 3
    delay_before_retry = 3
    url {
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.2"
    weight  = 1
  }
}
