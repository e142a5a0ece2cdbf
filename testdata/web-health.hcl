# A web site kept by `lvsctl run`: HTTP checks, failed backends drained at
# weight 0, a sorry server, a quorum with hooks, and one backend judged by
# a program of its own.
#
# keepalived equivalent:
#
#   virtual_server 203.0.113.20 80 {
#       delay_loop 3
#       lb_algo wlc
#       lb_kind NAT
#       protocol TCP
#       inhibit_on_failure
#       quorum 3
#       hysteresis 1
#       quorum_up   "/usr/local/bin/lvs-alert quorum-up www"
#       quorum_down "/usr/local/bin/lvs-alert quorum-down www"
#       sorry_server 10.0.1.99 8080
#
#       real_server 10.0.1.11 8080 {
#           weight 2
#           notify_down "/usr/local/bin/lvs-alert down 10.0.1.11"
#           HTTP_GET {
#               url { path /healthz  status_code 200 }
#               url { path /ready    status_code 200 }
#               connect_timeout 2
#               retry 2
#               delay_before_retry 1
#           }
#       }
#       real_server 10.0.1.12 8080 { ... the same ... }
#       real_server 10.0.1.13 8080 {
#           weight 1
#           MISC_CHECK {
#               misc_path "/usr/local/bin/check-app --host 10.0.1.13"
#               misc_timeout 5
#               misc_dynamic
#           }
#       }
#   }
#
# What changes: the timing goes to the virtual_server, where it is the
# default of every check of the service (a check block can override it);
# the HTTP_GET shared by .11 and .12 is written once, as the virtual_server's
# check, which every real server without its own uses; hooks and commands
# are argv lists run without a shell; fall (lvsctl's, not keepalived's)
# asks for two failed rounds in a row before a backend is taken out.
# `lvsctl apply` ignores all of this and programs the three backends.

virtual_server "www" {
  address = "203.0.113.20"
  port    = 80

  # Check timing, inherited by every check of this service.
  delay_loop         = 3   # seconds between rounds; "3s" means the same
  connect_timeout    = 2
  retry              = 2   # keepalived's nb_get_retry
  delay_before_retry = 1
  fall               = 2   # failed rounds in a row before a backend is down

  # A failed backend keeps weight 0, so its open connections drain.
  inhibit_on_failure = true

  # The quorum is lost when the weight of the up backends (5 in all) falls
  # below quorum - hysteresis (2), and regained at quorum + hysteresis (4).
  quorum      = 3
  hysteresis  = 1
  quorum_up   = ["/usr/local/bin/lvs-alert", "quorum-up", "www"]
  quorum_down = ["/usr/local/bin/lvs-alert", "quorum-down", "www"]

  # Takes the traffic when no backend is up.
  sorry_server {
    address = "10.0.1.99"
    port    = 8080
  }

  check "http" {
    url {
      path   = "/healthz"
      status = 200
    }
    url {
      path   = "/ready"
      status = 200
    }
  }

  real_server {
    address     = "10.0.1.11"
    port        = 8080
    weight      = 2
    notify_down = ["/usr/local/bin/lvs-alert", "down", "10.0.1.11"]
  }

  real_server {
    address     = "10.0.1.12"
    port        = 8080
    weight      = 2
    notify_down = ["/usr/local/bin/lvs-alert", "down", "10.0.1.12"]
  }

  real_server {
    address = "10.0.1.13"
    port    = 8080
    weight  = 1

    # Exit 0: up, 1: down, 2-255: up with weight (status - 2).
    check "exec" {
      command        = ["/usr/local/bin/check-app", "--host", "10.0.1.13"]
      timeout        = 5
      dynamic_weight = true
    }
  }
}
