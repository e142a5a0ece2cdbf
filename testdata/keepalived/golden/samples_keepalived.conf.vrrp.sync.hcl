# lvsctl configuration imported from samples/keepalived.conf.vrrp.sync by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp.sync:3
vrrp_sync_group "G1" {
  group         = ["VI_1", "VI_2", "VI_5", "VI_6", "VI_7", "VI_8", "VI_9"]
  notify_master = ["/usr/local/bin/vrrp.mast", "arg1", "arg2"]
  notify_backup = ["/usr/local/bin/vrrp.back", "arg1", "arg2"]
  notify_fault  = ["/usr/local/bin/vrrp.fault", "arg1", "arg2"]
  # samples/keepalived.conf.vrrp.sync:13: note: /usr/local/bin/vrrp.back does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there
  # notify_backup "/usr/local/bin/vrrp.back arg1 arg2"
  # samples/keepalived.conf.vrrp.sync:14: note: /usr/local/bin/vrrp.mast does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_master "/usr/local/bin/vrrp.mast arg1 arg2"
  # samples/keepalived.conf.vrrp.sync:15: note: /usr/local/bin/vrrp.fault does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_fault "/usr/local/bin/vrrp.fault arg1 arg2"
}

# samples/keepalived.conf.vrrp.sync:18
vrrp_sync_group "G2" {
  group = ["VI_3", "VI_4"]
}

# samples/keepalived.conf.vrrp.sync:25
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.168.200.18/25"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.sync:35
vrrp_instance "VI_2" {
  interface         = "eth1"
  virtual_router_id = 52
  priority          = 100
  virtual_ipaddress = ["192.168.201.18/26"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.sync:45
vrrp_instance "VI_3" {
  interface         = "eth0"
  virtual_router_id = 53
  priority          = 100
  virtual_ipaddress = ["192.168.200.19/27"]
}

# samples/keepalived.conf.vrrp.sync:54
vrrp_instance "VI_4" {
  interface         = "eth1"
  virtual_router_id = 54
  priority          = 100
  virtual_ipaddress = ["192.168.201.19/28"]
}

# samples/keepalived.conf.vrrp.sync:63
vrrp_instance "VI_5" {
  interface         = "eth0"
  virtual_router_id = 55
  priority          = 100
  virtual_ipaddress = ["192.168.200.20/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.sync:73
vrrp_instance "VI_6" {
  interface         = "eth0"
  virtual_router_id = 56
  priority          = 100
  virtual_ipaddress = ["192.168.200.21/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.sync:83
vrrp_instance "VI_7" {
  interface         = "eth0"
  virtual_router_id = 57
  priority          = 100
  virtual_ipaddress = ["192.168.200.22/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.sync:93
vrrp_instance "VI_8" {
  interface         = "eth0"
  virtual_router_id = 58
  priority          = 100
  virtual_ipaddress = ["192.168.200.23/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.sync:103
vrrp_instance "VI_9" {
  interface         = "eth0"
  virtual_router_id = 59
  priority          = 100
  virtual_ipaddress = ["192.168.200.24/27"]
  state             = "MASTER"
}
