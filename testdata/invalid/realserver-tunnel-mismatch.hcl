# error: Tunnel type mismatch
# The director encapsulates in GUE, but the realserver block prepares the
# GRE receive side (gre0): the backends would drop every packet.
virtual_server "db" {
  address    = "192.168.1.100"
  port       = 3306
  forwarding = "tun"
  tunnel {
    type = "gue"
    port = 5555
  }
  real_server { address = "192.168.2.101" }
}

realserver {
  tunnel = "gre"
}
