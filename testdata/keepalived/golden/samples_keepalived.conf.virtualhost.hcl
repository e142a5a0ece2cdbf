# lvsctl configuration imported from samples/keepalived.conf.virtualhost by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.virtualhost:3: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.virtualhost:13: virtual_server 192.168.200.100 80
virtual_server "192.168.200.100:80" {
  address             = "192.168.200.100"
  port                = 80
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

  check "https" {
    virtualhost        = "www.firewall.loc"
    connect_timeout    = 3
    retry              = 3
    delay_before_retry = 3
    # samples/keepalived.conf.virtualhost:24: note: lvsctl sends the virtualhost as the TLS server name (SNI), which keepalived does only with enable_sni: the server sees the same name in SNI and Host
    url {
      path   = "/"
      digest = "ff20ad2481f97b1754ef3e12ecd3a9cc"
    }
    url {
      path   = "/mrtg/"
      digest = "9b3a0c85a887a256d6939da88aabd8cd"
    }
  }

  real_server {
    address = "192.168.201.100"
    weight  = 1
  }
}
