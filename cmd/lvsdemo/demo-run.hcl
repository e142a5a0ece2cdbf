# The same service under `lvsctl run`: every real server is checked by TCP
# each second; a failed one is removed and comes back when it answers again.
virtual_server "web" {
  address    = "10.0.1.100"
  port       = 80
  scheduler  = "rr"
  forwarding = "nat"

  delay_loop      = 1   # seconds between checks (keepalived's delay_loop)
  connect_timeout = 1
  retry           = 0
  warmup          = 0
  check "tcp" {}

  real_server { address = "10.0.2.11" }
  real_server { address = "10.0.2.12" }
}
