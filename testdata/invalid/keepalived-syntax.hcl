# error: Unsupported argument
#
# keepalived syntax is not HCL: the address and port are attributes, not
# labels, and lb_algo/lb_kind are called scheduler/forwarding.

virtual_server "mysql" {
  lb_algo  = "wrr"
  lb_kind  = "DR"
  protocol = "tcp"

  real_server "192.168.1.101" {
    weight = 3
  }
}
