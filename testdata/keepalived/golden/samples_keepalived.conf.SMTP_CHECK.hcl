# lvsctl configuration imported from samples/keepalived.conf.SMTP_CHECK by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.SMTP_CHECK:15: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.SMTP_CHECK:25: virtual_server 192.168.200.100 25
virtual_server "192.168.200.100:25" {
  address    = "192.168.200.100"
  port       = 25
  scheduler  = "rr"
  forwarding = "nat"
  delay_loop = 60

  real_server {
    address = "172.16.1.10"
    weight  = 1
    check "smtp" {
      connect_timeout    = 30
      retry              = 2
      delay_before_retry = 5
      helo_name          = "foo.bar.com"
    }
  }

  real_server {
    address = "172.16.1.11"
    weight  = 1
    # samples/keepalived.conf.SMTP_CHECK:64: host 1 of 3 of the SMTP_CHECK at samples/keepalived.conf.SMTP_CHECK:58
    check "smtp" {
      connect_ip         = "172.16.1.11"
      connect_timeout    = 10
      retry              = 2
      delay_before_retry = 5
      helo_name          = "foo.bar.com"
    }
    # samples/keepalived.conf.SMTP_CHECK:68: host 2 of 3 of the SMTP_CHECK at samples/keepalived.conf.SMTP_CHECK:58
    check "smtp" {
      connect_ip         = "192.168.155.10"
      connect_timeout    = 10
      retry              = 2
      delay_before_retry = 5
      helo_name          = "foo.bar.com"
    }
    # samples/keepalived.conf.SMTP_CHECK:72: host 3 of 3 of the SMTP_CHECK at samples/keepalived.conf.SMTP_CHECK:58
    check "smtp" {
      connect_ip         = "64.233.167.99"
      connect_timeout    = 10
      retry              = 2
      delay_before_retry = 5
      helo_name          = "foo.bar.com"
    }
  }

  real_server {
    address = "172.16.1.12"
    weight  = 1
    # samples/keepalived.conf.SMTP_CHECK:95: host 1 of 3 of the SMTP_CHECK at samples/keepalived.conf.SMTP_CHECK:89
    check "smtp" {
      connect_ip         = "172.16.1.12"
      bind_to            = "172.16.1.2"
      connect_timeout    = 10
      retry              = 2
      delay_before_retry = 5
      helo_name          = "foo.bar.com"
    }
    # samples/keepalived.conf.SMTP_CHECK:101: host 2 of 3 of the SMTP_CHECK at samples/keepalived.conf.SMTP_CHECK:89
    check "smtp" {
      connect_ip         = "192.168.155.11"
      bind_to            = "192.168.155.2"
      connect_timeout    = 10
      retry              = 2
      delay_before_retry = 5
      helo_name          = "foo.bar.com"
    }
    # samples/keepalived.conf.SMTP_CHECK:107: host 3 of 3 of the SMTP_CHECK at samples/keepalived.conf.SMTP_CHECK:89
    check "smtp" {
      connect_ip         = "64.233.167.100"
      connect_port       = 587
      connect_timeout    = 10
      retry              = 2
      delay_before_retry = 5
      helo_name          = "foo.bar.com"
    }
  }
}
