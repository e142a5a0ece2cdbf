# lvsctl configuration imported from mysql-dr-wrr.conf by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# mysql-dr-wrr.conf:5: global_defs
# mysql-dr-wrr.conf:6: note: router_id names this host in e-mail alerts; without smtp_server and notification_email there are none
# router_id mysql_lvs

# mysql-dr-wrr.conf:9: virtual_server 192.168.1.100 3306
virtual_server "192.168.1.100:3306" {
  address             = "192.168.1.100"
  port                = 3306
  scheduler           = "wrr"
  forwarding          = "dr"
  persistence_timeout = 60
  delay_loop          = 2

  check "tcp" {
    connect_timeout = 3
  }

  real_server {
    address     = "192.168.1.101"
    weight      = 3
    notify_down = ["/etc/keepalived/mysql_down.sh", "192.168.1.101"]
    # mysql-dr-wrr.conf:18: note: /etc/keepalived/mysql_down.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there
    # notify_down "/etc/keepalived/mysql_down.sh 192.168.1.101"
  }

  real_server {
    address     = "192.168.1.102"
    weight      = 2
    notify_down = ["/etc/keepalived/mysql_down.sh", "192.168.1.102"]
    # mysql-dr-wrr.conf:26: note: /etc/keepalived/mysql_down.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
    # notify_down "/etc/keepalived/mysql_down.sh 192.168.1.102"
  }

  real_server {
    address     = "192.168.1.103"
    weight      = 1
    notify_down = ["/etc/keepalived/mysql_down.sh", "192.168.1.103"]
    # mysql-dr-wrr.conf:34: note: /etc/keepalived/mysql_down.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
    # notify_down "/etc/keepalived/mysql_down.sh 192.168.1.103"
  }
}
