# error: Health checks are not supported yet
#
# A straight translation of keepalived's TCP_CHECK. lvsctl reserves the check
# block for `lvsctl run`, and rejects it until then.

virtual_server "mycat" {
  address    = "192.168.1.200"
  port       = 8066
  scheduler  = "rr"
  forwarding = "dr"

  real_server {
    address = "192.168.1.201"
    weight  = 3

    check "tcp" {
      connect_timeout = "10s"
    }
  }
}
