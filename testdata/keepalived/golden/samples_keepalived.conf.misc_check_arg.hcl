# lvsctl configuration imported from samples/keepalived.conf.misc_check_arg by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.misc_check_arg:3: global_defs
alert_email {
  smtp_server     = "192.168.200.1"
  from            = "Alexandre.Cassen@firewall.loc"
  to              = ["acassen"]
  connect_timeout = 30
  router_id       = "LVS_DEVEL"
}

# samples/keepalived.conf.misc_check_arg:13: virtual_server 10.10.10.2 1358
virtual_server "10.10.10.2:1358" {
  address             = "10.10.10.2"
  port                = 1358
  scheduler           = "rr"
  forwarding          = "nat"
  persistence_timeout = 50
  delay_loop          = 6

  check "exec" {
    command = ["/usr/local/bin/script.sh", "arg1", "arg2"]
    timeout = 6
    # samples/keepalived.conf.misc_check_arg:23: note: /usr/local/bin/script.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there
    # misc_path "/usr/local/bin/script.sh arg1 arg2"
  }

  real_server {
    address = "192.168.200.6"
    weight  = 1
  }
}
