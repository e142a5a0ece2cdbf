# error: Real server address family mismatch
#
# An IPv4 VIP cannot reach an IPv6 real server in DR: the kernel only
# forwards across address families through a tunnel.

virtual_server "web" {
  address    = "192.0.2.10"
  port       = 443
  forwarding = "dr"

  real_server {
    address = "2001:db8::11"
  }
}
