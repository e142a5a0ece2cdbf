# lvsctl configuration imported from mysql-tun.conf by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# mysql-tun.conf:5: virtual_server 192.168.1.100 10101
virtual_server "192.168.1.100:10101" {
  address    = "192.168.1.100"
  port       = 10101
  scheduler  = "wrr"
  forwarding = "tun"
  delay_loop = 6

  check "tcp" {
    connect_timeout = 3
  }

  real_server {
    address = "192.168.2.101"
    weight  = 9999
  }
}

# mysql-tun.conf:19: virtual_server 192.168.1.100 10201
virtual_server "192.168.1.100:10201" {
  address    = "192.168.1.100"
  port       = 10201
  scheduler  = "wrr"
  forwarding = "tun"
  delay_loop = 6

  check "tcp" {
    connect_timeout = 3
  }

  real_server {
    address = "192.168.2.101"
    weight  = 9999
  }
}

# mysql-tun.conf:33: virtual_server 192.168.1.100 20101
virtual_server "192.168.1.100:20101" {
  address    = "192.168.1.100"
  port       = 20101
  scheduler  = "wrr"
  forwarding = "tun"
  delay_loop = 6

  check "tcp" {
    connect_timeout = 3
  }

  real_server {
    address = "192.168.3.102"
    weight  = 9999
  }
}

# mysql-tun.conf:47: virtual_server 192.168.1.100 20201
virtual_server "192.168.1.100:20201" {
  address    = "192.168.1.100"
  port       = 20201
  scheduler  = "wrr"
  forwarding = "tun"
  delay_loop = 6

  check "tcp" {
    connect_timeout = 3
  }

  real_server {
    address = "192.168.3.102"
    weight  = 9999
  }
}
