# The NAT lab of TestVMNATTraffic and `make demo`: the client reaches the VIP
# 10.0.1.100:80 on the director, which masquerades to two HTTP backends.
virtual_server "web" {
  address    = "10.0.1.100"
  port       = 80
  scheduler  = "rr"
  forwarding = "nat"

  real_server { address = "10.0.2.11" }
  real_server { address = "10.0.2.12" }
}
