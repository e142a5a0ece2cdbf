# error: Both password and password_file
#
# A mysql check takes its password from the configuration or, better, from
# a file that only the daemon reads: one or the other, not both.

virtual_server "mysql" {
  address    = "192.168.1.100"
  port       = 3306
  scheduler  = "wrr"
  forwarding = "dr"

  real_server {
    address = "192.168.1.101"
    weight  = 3

    check "mysql" {
      user            = "monitor"
      password        = "not-here"
      password_file   = "/etc/lvsctl/mysql-monitor.password"
      connect_timeout = "3s"
    }
  }
}
