# lvsctl configuration imported from samples/keepalived.conf.virtual_server_group by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.virtual_server_group:3: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:14: member 10.0.0.1 8080 of virtual_server_group VSG_1
virtual_server "VSG_1-10.0.0.1:8080" {
  address             = "10.0.0.1"
  port                = 8080
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

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
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:15: member 10.0.0.2 80 of virtual_server_group VSG_1
virtual_server "VSG_1-10.0.0.2:80" {
  address             = "10.0.0.2"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:16: member 192.168.200.1 1358 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.1:1358" {
  address             = "192.168.200.1"
  port                = 1358
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

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
    address = "192.168.200.1"
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:17: member 192.168.200.3-10 80 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.3:80" {
  address             = "192.168.200.3"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:17: member 192.168.200.3-10 80 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.4:80" {
  address             = "192.168.200.4"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:17: member 192.168.200.3-10 80 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.5:80" {
  address             = "192.168.200.5"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:17: member 192.168.200.3-10 80 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.6:80" {
  address             = "192.168.200.6"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:17: member 192.168.200.3-10 80 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.7:80" {
  address             = "192.168.200.7"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:17: member 192.168.200.3-10 80 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.8:80" {
  address             = "192.168.200.8"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:17: member 192.168.200.3-10 80 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.9:80" {
  address             = "192.168.200.9"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:17: member 192.168.200.3-10 80 of virtual_server_group VSG_1
virtual_server "VSG_1-192.168.200.10:80" {
  address             = "192.168.200.10"
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
      path   = "/testurl3/test.jsp"
      digest = "640205b7b0fc66c1ea91c463fac6334d"
    }
  }

  real_server {
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:18: member fwmark 1 of virtual_server_group VSG_1
virtual_server "VSG_1-fwmark-1" {
  fwmark              = 1
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6
  # samples/keepalived.conf.virtual_server_group:27: note: a fwmark service has no protocol
  # protocol TCP

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
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}

# samples/keepalived.conf.virtual_server_group:22: virtual_server group VSG_1
# samples/keepalived.conf.virtual_server_group:19: member fwmark 2 of virtual_server_group VSG_1
virtual_server "VSG_1-fwmark-2" {
  fwmark              = 2
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6
  # samples/keepalived.conf.virtual_server_group:27: note: a fwmark service has no protocol
  # protocol TCP

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
    address = "192.168.200.1"
    port    = 1358
    weight  = 1
  }

  real_server {
    address = "192.168.200.2"
    port    = 1358
    weight  = 1
  }
}
