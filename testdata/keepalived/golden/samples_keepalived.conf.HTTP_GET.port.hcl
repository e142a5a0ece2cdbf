# lvsctl configuration imported from samples/keepalived.conf.HTTP_GET.port by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.HTTP_GET.port:3: global_defs
# samples/keepalived.conf.HTTP_GET.port:4: warning: not translated: lvsctl sends no email alerts; use notify hooks
# notification_email {
#   acassen
# }
# samples/keepalived.conf.HTTP_GET.port:7: warning: not translated: lvsctl sends no email alerts; use notify hooks
# notification_email_from Alexandre.Cassen@firewall.loc
# samples/keepalived.conf.HTTP_GET.port:8: warning: not translated: lvsctl sends no email alerts; use notify hooks
# smtp_server 192.168.200.1
# samples/keepalived.conf.HTTP_GET.port:9: warning: not translated: lvsctl sends no email alerts; use notify hooks
# smtp_connect_timeout 30
# samples/keepalived.conf.HTTP_GET.port:10: note: router_id names this host in keepalived's email alerts and SNMP; lvsctl has neither
# router_id LVS_DEVEL

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
