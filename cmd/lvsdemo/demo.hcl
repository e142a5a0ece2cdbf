# A NAT web service: clients reach the VIP 10.0.1.100:80 on the director,
# which spreads connections round-robin over two HTTP backends.
virtual_server "web" {
  address    = "10.0.1.100"
  port       = 80
  protocol   = "tcp"
  scheduler  = "rr"
  forwarding = "nat"

  real_server {
    address = "10.0.2.11"
    weight  = 1
  }
  real_server {
    address = "10.0.2.12"
    weight  = 1
  }
}
