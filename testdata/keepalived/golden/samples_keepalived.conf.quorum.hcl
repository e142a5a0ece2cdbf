# lvsctl configuration imported from samples/keepalived.conf.quorum by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# samples/keepalived.conf.quorum:23: virtual_server 10.0.1.1 80
virtual_server "10.0.1.1:80" {
  address             = "10.0.1.1"
  port                = 80
  scheduler           = "wrr"
  forwarding          = "nat"
  persistence_timeout = 900
  delay_loop          = 6
  alpha               = true
  quorum              = 7
  hysteresis          = 2
  quorum_up           = ["/usr/local/sbin/quorum-up.sh"]
  quorum_down         = ["/usr/local/sbin/quorum-down.sh"]
  # samples/keepalived.conf.quorum:30: warning: not translated: lvsctl does not run quorum_down when it stops
  # omega
  # samples/keepalived.conf.quorum:33: note: /usr/local/sbin/quorum-up.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there
  # quorum_up /usr/local/sbin/quorum-up.sh
  # samples/keepalived.conf.quorum:34: note: /usr/local/sbin/quorum-down.sh does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # quorum_down /usr/local/sbin/quorum-down.sh

  check "tcp" {
    connect_port    = 80
    connect_timeout = 3
  }

  real_server {
    address = "10.0.0.1"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.2"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.3"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.4"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.5"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.6"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.7"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.8"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.9"
    port    = 8080
    weight  = 1
  }

  real_server {
    address = "10.0.0.10"
    port    = 8080
    weight  = 1
  }
}
