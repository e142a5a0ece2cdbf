# lvsctl configuration imported from samples/keepalived.conf.HTTP_GET.port by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.HTTP_GET.port:3: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.HTTP_GET.port:13: virtual_server 192.168.200.100 443
virtual_server "192.168.200.100:443" {
  address             = "192.168.200.100"
  port                = 443
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

  check "https" {
    connect_port       = 444
    connect_timeout    = 3
    retry              = 3
    delay_before_retry = 3
    url {
      path   = "/"
      digest = "ff20ad2481f97b1754ef3e12ecd3a9cc"
    }
  }

  real_server {
    address = "192.168.201.100"
    weight  = 1
  }
}
