# lvsctl configuration imported from samples/keepalived.conf.vrrp.localcheck by `lvsctl import keepalived`.
# Comments that start with "FILE:LINE:" show keepalived statements that are
# not translated, or translated with a difference: review them.

# samples/keepalived.conf.vrrp.localcheck:11
vrrp_script "chk_sshd" {
  command  = ["killall", "-0", "sshd"]
  interval = 2
  weight   = -4
  rise     = 2
  fall     = 2
  # samples/keepalived.conf.vrrp.localcheck:12: note: killall is in none of /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line; keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there
  # script "killall -0 sshd"
}

# samples/keepalived.conf.vrrp.localcheck:19
vrrp_script "chk_haproxy" {
  command  = ["killall", "-0", "haproxy"]
  interval = 2
  # samples/keepalived.conf.vrrp.localcheck:20: note: killall is in none of /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin on this machine, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a "#!" line
  # script "killall -0 haproxy"
}

# samples/keepalived.conf.vrrp.localcheck:24
vrrp_script "chk_http_port" {
  command  = ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/80"]
  interval = 1
  weight   = -2
  # samples/keepalived.conf.vrrp.localcheck:25: warning: keepalived runs this command with a shell: "</dev/tcp/127.0.0.1/80" starts with '<' and a path (a test that the file opens), which keepalived runs with system(); so does the translation: ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/80"]. It uses /dev/tcp (bash's network redirection), which bash has and dash has not; /bin/sh is dash on Debian and Ubuntu, where this command fails every time, under keepalived as under lvsctl (a vrrp_script that always fails lowers the priority for good, or holds the instance in FAULT without a weight; a check keeps its server down); it works only where /bin/sh is bash. To run it with bash on any system, write ["/bin/bash", "-c", ...] in the output (and "bash -c '...'" in keepalived.conf)
  # script "</dev/tcp/127.0.0.1/80"
}

# samples/keepalived.conf.vrrp.localcheck:30
vrrp_script "chk_https_port" {
  command  = ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/443"]
  interval = 1
  weight   = -2
  # samples/keepalived.conf.vrrp.localcheck:31: warning: keepalived runs this command with a shell: "</dev/tcp/127.0.0.1/443" starts with '<' and a path (a test that the file opens), which keepalived runs with system(); so does the translation: ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/443"]. It uses /dev/tcp (bash's network redirection), which bash has and dash has not; /bin/sh is dash on Debian and Ubuntu, where this command fails every time, under keepalived as under lvsctl (a vrrp_script that always fails lowers the priority for good, or holds the instance in FAULT without a weight; a check keeps its server down); it works only where /bin/sh is bash. To run it with bash on any system, write ["/bin/bash", "-c", ...] in the output (and "bash -c '...'" in keepalived.conf)
  # script "</dev/tcp/127.0.0.1/443"
}

# samples/keepalived.conf.vrrp.localcheck:36
vrrp_script "chk_smtp_port" {
  command  = ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/25"]
  interval = 1
  weight   = -2
  # samples/keepalived.conf.vrrp.localcheck:37: warning: keepalived runs this command with a shell: "</dev/tcp/127.0.0.1/25" starts with '<' and a path (a test that the file opens), which keepalived runs with system(); so does the translation: ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/25"]. It uses /dev/tcp (bash's network redirection), which bash has and dash has not; /bin/sh is dash on Debian and Ubuntu, where this command fails every time, under keepalived as under lvsctl (a vrrp_script that always fails lowers the priority for good, or holds the instance in FAULT without a weight; a check keeps its server down); it works only where /bin/sh is bash. To run it with bash on any system, write ["/bin/bash", "-c", ...] in the output (and "bash -c '...'" in keepalived.conf)
  # script "</dev/tcp/127.0.0.1/25"
}

# samples/keepalived.conf.vrrp.localcheck:42
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.168.200.18/25"]
  track_script      = ["chk_sshd", "chk_http_port", "chk_https_port", "chk_smtp_port"]
  track_interface   = ["eth3"]
  state             = "MASTER"
  track {
    interface = "eth1"
    weight    = 2
  }
  track {
    interface = "eth2"
    weight    = -2
  }
  track {
    script = "chk_haproxy"
    weight = 2
  }
}

# samples/keepalived.conf.vrrp.localcheck:64
vrrp_instance "VI_2" {
  interface         = "eth1"
  virtual_router_id = 52
  priority          = 100
  virtual_ipaddress = ["192.168.201.18/26"]
  track_script      = ["chk_http_port", "chk_https_port", "chk_smtp_port"]
  track_interface   = ["eth3"]
  state             = "MASTER"
  track {
    interface = "eth0"
    weight    = 2
  }
  track {
    interface = "eth2"
    weight    = -2
  }
  track {
    script = "chk_haproxy"
    weight = 2
  }
}

# samples/keepalived.conf.vrrp.localcheck:85
vrrp_instance "VI_3" {
  interface         = "eth0"
  virtual_router_id = 53
  priority          = 100
  virtual_ipaddress = ["192.168.200.19/27"]
}

# samples/keepalived.conf.vrrp.localcheck:94
vrrp_instance "VI_4" {
  interface         = "eth1"
  virtual_router_id = 54
  priority          = 100
  virtual_ipaddress = ["192.168.201.19/28"]
}

# samples/keepalived.conf.vrrp.localcheck:103
vrrp_instance "VI_5" {
  interface         = "eth0"
  virtual_router_id = 55
  priority          = 100
  virtual_ipaddress = ["192.168.200.20/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.localcheck:114
vrrp_instance "VI_6" {
  interface         = "eth0"
  virtual_router_id = 56
  priority          = 100
  virtual_ipaddress = ["192.168.200.21/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.localcheck:124
vrrp_instance "VI_7" {
  interface         = "eth0"
  virtual_router_id = 57
  priority          = 100
  virtual_ipaddress = ["192.168.200.22/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.localcheck:134
vrrp_instance "VI_8" {
  interface         = "eth0"
  virtual_router_id = 58
  priority          = 100
  virtual_ipaddress = ["192.168.200.23/27"]
  state             = "MASTER"
}

# samples/keepalived.conf.vrrp.localcheck:144
vrrp_instance "VI_9" {
  interface         = "eth0"
  virtual_router_id = 59
  priority          = 100
  virtual_ipaddress = ["192.168.200.24/27"]
  state             = "MASTER"
}
