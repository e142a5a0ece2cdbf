# Adds a service with the "twos" scheduler (Linux 6.2+) to a config that is
# otherwise already applied: on the 6.1 test kernel the add is rejected and
# everything already done in the same apply is rolled back.
virtual_server "first" {
  address   = "10.30.0.1"
  port      = 80
  scheduler = "rr"
  real_server { address = "10.20.0.1" }
}

virtual_server "twos" {
  address   = "10.30.0.2"
  port      = 80
  scheduler = "twos"
  real_server { address = "10.20.0.1" }
}
