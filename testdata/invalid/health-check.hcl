# error: MySQL checks are not supported yet
#
# keepalived has no MySQL check either; lvsctl plans one (issue 5). Until
# then, a MySQL real server is checked with check "tcp" (does it accept
# connections?) or check "exec" running a client such as mysqladmin ping.

virtual_server "mysql" {
  address    = "192.168.1.100"
  port       = 3306
  scheduler  = "wrr"
  forwarding = "dr"

  real_server {
    address = "192.168.1.101"
    weight  = 3

    check "mysql" {
      connect_timeout = "3s"
    }
  }
}
