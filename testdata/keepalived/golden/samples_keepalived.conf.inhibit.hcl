# lvsctl configuration imported from samples/keepalived.conf.inhibit by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.inhibit:3: global_defs
# samples/keepalived.conf.inhibit:4: warning: not translated: lvsctl sends no email alerts; use notify hooks
# notification_email {
#   acassen
# }
# samples/keepalived.conf.inhibit:7: warning: not translated: lvsctl sends no email alerts; use notify hooks
# notification_email_from Alexandre.Cassen@firewall.loc
# samples/keepalived.conf.inhibit:8: warning: not translated: lvsctl sends no email alerts; use notify hooks
# smtp_server 192.168.200.1
# samples/keepalived.conf.inhibit:9: warning: not translated: lvsctl sends no email alerts; use notify hooks
# smtp_connect_timeout 30
# samples/keepalived.conf.inhibit:10: note: router_id names this host in keepalived's email alerts and SNMP; lvsctl has neither
# router_id LVS_DEVEL

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
