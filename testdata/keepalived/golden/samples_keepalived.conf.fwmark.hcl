# lvsctl configuration imported from samples/keepalived.conf.fwmark by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.fwmark:3: global_defs
# samples/keepalived.conf.fwmark:4: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id io

# samples/keepalived.conf.fwmark:7: virtual_server fwmark 1
virtual_server "fwmark-1" {
  fwmark              = 1
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 900
  delay_loop          = 6
  # samples/keepalived.conf.fwmark:12: note: a fwmark service has no protocol
  # protocol TCP

  check "tcp" {
    connect_port    = 80
    connect_timeout = 3
  }

  real_server {
    address = "192.168.201.100"
    weight  = 1
  }

  real_server {
    address = "192.168.201.101"
    weight  = 1
  }
}
