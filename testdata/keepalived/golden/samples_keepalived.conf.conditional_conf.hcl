# lvsctl configuration imported from samples/keepalived.conf.conditional_conf by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# Lines of the keepalived files that are not read:
# samples/keepalived.conf.conditional_conf:3: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is high; pass --config-id high to import it
# @high net_namespace high
# samples/keepalived.conf.conditional_conf:4: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is low; pass --config-id low to import it
# @low net_namespace low
# samples/keepalived.conf.conditional_conf:7: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is high; pass --config-id high to import it
# @high	script /etc/keepalived/scripts/check_high_VI_0.sh
# samples/keepalived.conf.conditional_conf:8: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is low; pass --config-id low to import it
# @low	script /etc/keepalived/scripts/check_low_VI_0.sh
# samples/keepalived.conf.conditional_conf:19: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is high; pass --config-id high to import it
# @high	priority 170
# samples/keepalived.conf.conditional_conf:20: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is low; pass --config-id low to import it
# @low	priority 85

# samples/keepalived.conf.conditional_conf:6: warning: not translated: vrrp_script check_VI_0 has no (usable) script, so keepalived does not run it
# vrrp_script check_VI_0 {
#   interval 1
#   timeout 10
#   rise 3
#   fall 3
# }

# samples/keepalived.conf.conditional_conf:15
vrrp_instance "VI_0" {
  interface         = "eth0"
  virtual_router_id = 1
  version           = 3
  advert_interval   = 12
  virtual_ipaddress = ["10.1.0.254/32"]
  track_interface   = ["eth3"]
  state             = "BACKUP"
  use_vmac          = true
  # samples/keepalived.conf.conditional_conf:25: warning: not translated: vrrp_script check_VI_0 is not in the output (missing, or not translated)
  # check_VI_0
  track {
    interface = "eth2"
    weight    = 20
  }
}
