# error: Unknown scheduler
#
# Several independent mistakes; all of them are reported at once.

virtual_server "dns" {
  address    = "192.0.2.53"
  port       = 53
  protocol   = "udp"
  scheduler  = "roundrobin"
  one_packet = true

  real_server {
    address = "10.0.0.53"
    weight  = -1
  }
}

virtual_server "dns" {
  address = "192.0.2.53"
  port    = 70000
}
