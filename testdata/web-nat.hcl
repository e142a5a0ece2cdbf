# A web site on port 80, NAT (masquerading) to two backends on a private
# network.
#
# keepalived equivalent:
#
#   virtual_server 203.0.113.10 80 {
#       delay_loop 5
#       lb_algo wlc
#       lb_kind NAT
#       protocol TCP
#
#       real_server 10.0.0.11 8080 {
#           weight 1
#           HTTP_GET { url { path /healthz  status_code 200 } }
#       }
#       real_server 10.0.0.12 8080 {
#           weight 1
#           HTTP_GET { url { path /healthz  status_code 200 } }
#       }
#   }
#
# The two HTTP_GET blocks are the same, so they become one check "http"
# block in the virtual_server, the check of every real server without its
# own; status_code 200 becomes status = 200 (default: 200-299).
#
# In NAT the replies must come back through the director: the backends'
# default route points at the director's address on 10.0.0.0/24, and the
# director has net.ipv4.ip_forward=1. NAT can change ports, so the backends
# listen on 8080 unprivileged while the world sees port 80.

virtual_server "www" {
  address = "203.0.113.10"
  port    = 80
  # protocol = "tcp", scheduler = "wlc" and forwarding = "nat" are the
  # defaults, spelled out here for the reader.
  protocol   = "tcp"
  scheduler  = "wlc"
  forwarding = "nat"
  delay_loop = 5

  check "http" {
    url {
      path   = "/healthz"
      status = 200
    }
  }

  real_server {
    address = "10.0.0.11"
    port    = 8080
  }

  real_server {
    address = "10.0.0.12"
    port    = 8080
  }
}
