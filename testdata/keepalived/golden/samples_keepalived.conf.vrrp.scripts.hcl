# lvsctl configuration imported from samples/keepalived.conf.vrrp.scripts by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp.scripts:6
vrrp_sync_group "G1" {
  group         = ["VI_2", "VI_3"]
  notify_master = ["/usr/local/bin/vrrp.mast", "arg1", "arg2"]
  notify_backup = ["/usr/local/bin/vrrp.back", "arg1", "arg2"]
  notify_fault  = ["/usr/local/bin/vrrp.fault", "arg1", "arg2"]
  # samples/keepalived.conf.vrrp.scripts:11: note: /usr/local/bin/vrrp.back does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_backup "/usr/local/bin/vrrp.back arg1 arg2"
  # samples/keepalived.conf.vrrp.scripts:12: note: /usr/local/bin/vrrp.mast does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_master "/usr/local/bin/vrrp.mast arg1 arg2"
  # samples/keepalived.conf.vrrp.scripts:13: note: /usr/local/bin/vrrp.fault does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_fault "/usr/local/bin/vrrp.fault arg1 arg2"
}

# samples/keepalived.conf.vrrp.scripts:16
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  advert_interval   = 1
  virtual_ipaddress = ["192.168.200.16", "192.168.200.17", "192.168.200.18"]
  notify_master     = ["/usr/local/bin/vrrp.sh", "MASTER", "VI_1"]
  notify_backup     = ["/usr/local/bin/vrrp.sh", "BACKUP", "VI_1"]
  notify_fault      = ["/usr/local/bin/vrrp.sh", "FAULT", "VI_1"]
  state             = "MASTER"
  smtp_alert        = true
  # samples/keepalived.conf.vrrp.scripts:32: note: /usr/local/bin/vrrp.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there
  # notify_backup "/usr/local/bin/vrrp.sh  BACKUP   VI_1"
  # samples/keepalived.conf.vrrp.scripts:33: note: /usr/local/bin/vrrp.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_master "/usr/local/bin/vrrp.sh  MASTER  VI_1"
  # samples/keepalived.conf.vrrp.scripts:34: note: /usr/local/bin/vrrp.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_fault  "/usr/local/bin/vrrp.sh  FAULT  VI_1"
  authentication {
    password = "1111"
  }
}

# samples/keepalived.conf.vrrp.scripts:38
vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = 150
  virtual_ipaddress = ["192.168.200.100/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.scripts:48
vrrp_instance "VI_3" {
  interface         = "eth0"
  virtual_router_id = 53
  priority          = 150
  virtual_ipaddress = ["192.168.200.101/27"]
  state             = "MASTER"
}
