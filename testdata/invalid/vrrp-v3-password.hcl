# error: Authentication with VRRPv3
# RFC 5798 removed authentication: VRRPv3 adverts carry none, so a password
# on a VRRPv3 instance is refused rather than silently ignored.
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  version           = 3
  advert_interval   = 0.1
  virtual_ipaddress = ["10.0.0.100/24"]
  authentication {
    type     = "pass"
    password = "s3cret"
  }
}
