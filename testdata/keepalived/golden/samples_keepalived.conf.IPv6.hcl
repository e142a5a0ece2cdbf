# lvsctl configuration imported from samples/keepalived.conf.IPv6 by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.IPv6:3: global_defs
# samples/keepalived.conf.IPv6:4: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id LVS_DEVEL

# samples/keepalived.conf.IPv6:7: note: no virtual_server uses virtual_server_group IPv6_group
# virtual_server_group IPv6_group {
#   ae00::2-9 80
#   ae00::1   80
# }

# samples/keepalived.conf.IPv6:13: virtual_server ae00::1 80
virtual_server "[ae00::1]:80" {
  address             = "ae00::1"
  port                = 80
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

  check "smtp" {
    connect_timeout = 3
    retry           = 3
    helo_name       = "foo.bar.com"
  }

  real_server {
    address = "ae00::10"
    port    = 25
    weight  = 1
  }
}
