# MySQL-MMM style: a writer VIP and a reader VIP in front of one primary and
# two replicas, in direct routing. Each VIP sends traffic only to the servers
# in the right role, as MMM's monitor does by moving IPs:
#
#   - the writer VIP takes the server whose read_only is OFF: the primary,
#     or whichever server was promoted; a read-only server never takes
#     writes;
#   - the reader VIP takes the replicas whose replication runs and is at
#     most 30 seconds behind. A NULL lag (SQL thread stopped) is down, not
#     up as with MMM's rep_backlog check.
#
# MMM's own checks have no keepalived equivalent (keepalived would run a
# MISC_CHECK script per server). "Too many connections" keeps a server's
# state for 3 rounds (the default) instead of evicting a busy primary.
#
# The monitor account (GRANT SLAVE MONITOR on MariaDB 10.5+, REPLICATION
# CLIENT on MySQL) has its password in a file only the daemon reads; a
# relative path is relative to this file.

virtual_server "mysql-writer" {
  address    = "192.168.1.100"
  port       = 3306
  scheduler  = "rr"
  forwarding = "dr"
  delay_loop = 2

  check "mysql" {
    user            = "monitor"
    password_file   = "mysql-monitor.password"
    connect_timeout = "2s"
    read_only       = false
  }

  real_server { address = "192.168.1.101" }
  real_server { address = "192.168.1.102" }
  real_server { address = "192.168.1.103" }
}

virtual_server "mysql-reader" {
  address    = "192.168.1.110"
  port       = 3306
  scheduler  = "wrr"
  forwarding = "dr"
  delay_loop = 2

  check "mysql" {
    user                = "monitor"
    password_file       = "mysql-monitor.password"
    connect_timeout     = "2s"
    read_only           = true
    replication_running = true
    max_replication_lag = "30s"
    fall                = 2
  }

  real_server { address = "192.168.1.102" }
  real_server { address = "192.168.1.103" }
}
