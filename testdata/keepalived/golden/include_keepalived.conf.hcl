# lvsctl configuration imported from include/keepalived.conf by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# keepalived removes its virtual servers when it stops; so does `lvsctl run` with this.
flush_on_exit = true

# Lines of the keepalived files that are not read:
# include/keepalived.conf:8: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is lb1; pass --config-id lb1 to import it
# @lb1    router_id lb1
# include/keepalived.conf:9: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is lb2; pass --config-id lb2 to import it
# @lb2    router_id lb2
# include/keepalived.conf:15: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is lb1; pass --config-id lb1 to import it
# @lb1    priority 150
# include/keepalived.conf:16: warning: not translated: keepalived keeps this line only when its config id (-i, by default the director's host name up to the first dot) is lb2; pass --config-id lb2 to import it
# @lb2    priority 100
# include/keepalived.conf:23: warning: not translated: no file matches include/missing/*.conf (keepalived skips it too)
# include missing/*.conf

# include/keepalived.conf:12
vrrp_instance "VI_WEB" {
  interface         = "eth0"
  virtual_router_id = 70
  virtual_ipaddress = ["10.1.0.100/24"]
}

# include/conf.d/10-web.conf:3: virtual_server 10.1.0.100 80
virtual_server "10.1.0.100:80" {
  address    = "10.1.0.100"
  port       = 80
  scheduler  = "wlc"
  forwarding = "nat"
  delay_loop = 5

  check "tcp" {
    connect_timeout = 2
  }

  real_server {
    address = "10.1.1.11"
    port    = 8080
  }

  real_server {
    address = "10.1.1.12"
    port    = 8080
  }
}

# include/conf.d/20-dns.conf:1: virtual_server 10.1.0.100 53
virtual_server "10.1.0.100:53/udp" {
  address    = "10.1.0.100"
  port       = 53
  protocol   = "udp"
  scheduler  = "rr"
  one_packet = true

  real_server {
    address = "10.1.1.21"
    check "exec" {
      command = ["/usr/bin/dig", "+short", "@10.1.1.21", "example.com"]
      timeout = 2
      # include/conf.d/20-dns.conf:7: note: /usr/bin/dig does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there
      # misc_path "/usr/bin/dig +short @10.1.1.21 example.com"
    }
  }

  real_server {
    address = "10.1.1.22"
    check "exec" {
      command = ["/usr/bin/dig", "+short", "@10.1.1.22", "example.com", "|", "grep", "-q", "."]
      timeout = 60
      # include/conf.d/20-dns.conf:13: note: /usr/bin/dig does not exist on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; the shell syntax in the line (; | & $ < > ( ) or a backquote) reaches it as plain arguments, as under keepalived
      # misc_path "/usr/bin/dig +short @10.1.1.22 example.com | grep -q ."
    }
  }
}
