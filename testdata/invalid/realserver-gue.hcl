# error: Tunnel type not supported yet
# The director encapsulates in GUE, but lvsctl realserver prepares only the
# IP-in-IP receive side (tunl0).
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

realserver {}
