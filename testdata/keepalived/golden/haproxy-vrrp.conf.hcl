# lvsctl configuration imported from haproxy-vrrp.conf by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# haproxy-vrrp.conf:5: global_defs
# haproxy-vrrp.conf:6: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id lb1

# haproxy-vrrp.conf:9
vrrp_script "chk_haproxy" {
  command  = ["/usr/bin/killall", "-0", "haproxy"]
  interval = 2
  weight   = -20
  rise     = 2
  fall     = 3
  # haproxy-vrrp.conf:10: note: /usr/bin/killall does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there
  # script "/usr/bin/killall -0 haproxy"
}

# haproxy-vrrp.conf:17
vrrp_instance "VI_HAPROXY" {
  interface         = "eth0"
  virtual_router_id = 60
  priority          = 100
  advert_interval   = 1
  nopreempt         = true
  unicast_src_ip    = "10.0.0.11"
  unicast_peer      = ["10.0.0.12"]
  track_script      = ["chk_haproxy"]
  notify_master     = ["/etc/keepalived/notify.sh", "MASTER"]
  notify_backup     = ["/etc/keepalived/notify.sh", "BACKUP"]
  notify_fault      = ["/etc/keepalived/notify.sh", "FAULT"]
  notify_stop       = ["/etc/keepalived/notify.sh", "STOP"]
  state             = "BACKUP"
  # haproxy-vrrp.conf:38: note: /etc/keepalived/notify.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_master "/etc/keepalived/notify.sh MASTER"
  # haproxy-vrrp.conf:39: note: /etc/keepalived/notify.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_backup "/etc/keepalived/notify.sh BACKUP"
  # haproxy-vrrp.conf:40: note: /etc/keepalived/notify.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_fault  "/etc/keepalived/notify.sh FAULT"
  # haproxy-vrrp.conf:41: note: /etc/keepalived/notify.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # notify_stop   "/etc/keepalived/notify.sh STOP"
  authentication {
    password = "h4pr0xy"
  }
  vip {
    address = "10.0.0.100/24"
    label   = "eth0:vip"
  }
}
