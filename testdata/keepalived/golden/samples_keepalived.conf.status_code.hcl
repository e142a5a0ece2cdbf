# lvsctl configuration imported from samples/keepalived.conf.status_code by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.status_code:4: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.status_code:14: virtual_server 192.168.200.100 443
virtual_server "192.168.200.100:443" {
  address             = "192.168.200.100"
  port                = 443
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

  check "https" {
    connect_timeout    = 3
    retry              = 3
    delay_before_retry = 3
    url {
      path   = "/"
      status = "200-299,400-499,503,505"
    }
    url {
      path   = "/mrtg/"
      status = 200
      digest = "9b3a0c85a887a256d6939da88aabd8cd"
    }
  }

  real_server {
    address = "192.168.201.100"
    weight  = 1
  }
}
