# One of two DR directors sharing the VIP 10.0.3.100 with VRRP. Both run
# this file (the other with priority 100); the master holds the VIP, checks
# the backends over HTTP every second and keeps IPVS equal to their health.
virtual_server "web" {
  address    = "10.0.3.100"
  port       = 80
  scheduler  = "rr"
  forwarding = "dr"

  delay_loop      = 1
  connect_timeout = 1
  retry           = 0
  warmup          = 0
  check "http" {
    url {
      path = "/"
    }
  }

  real_server { address = "10.0.3.11" }
  real_server { address = "10.0.3.12" }
}

vrrp_instance "VI_WEB" {
  interface            = "eth0"
  virtual_router_id    = 51
  priority             = PRIORITY
  advert_interval      = 1
  virtual_ipaddress    = ["10.0.3.100/24"]
  track_virtual_server = ["web"]
}
