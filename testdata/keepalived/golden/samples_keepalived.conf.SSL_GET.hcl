# lvsctl configuration imported from samples/keepalived.conf.SSL_GET by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.SSL_GET:3: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.SSL_GET:13
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.200.16", "192.168.200.17", "192.168.200.18"]
  state             = "MASTER"
  # samples/keepalived.conf.SSL_GET:19: warning: not translated: lvsctl does not support IPsec AH authentication (RFC 3768 removed it): the other routers must send none, or PASS
  # authentication {
  #   auth_type AH
  #   auth_pass 1111
  # }
}

# samples/keepalived.conf.SSL_GET:30: virtual_server 192.168.200.100 443
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

# samples/keepalived.conf.SSL_GET:55: virtual_server 192.168.200.100 80
virtual_server "192.168.200.100:80" {
  address             = "192.168.200.100"
  port                = 80
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

  check "http" {
    connect_timeout    = 3
    retry              = 3
    delay_before_retry = 3
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
