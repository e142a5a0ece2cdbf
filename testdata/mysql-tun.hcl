# Four MySQL instances behind one VIP, IP-in-IP tunnelling, one virtual
# service per instance port.
#
# The port numbers encode the host: 1xxxx instances run on host A
# (192.168.2.101), 2xxxx instances on host B (192.168.3.102); xx01 is the
# first instance of a host, xx02... the next. Hosts A and B sit in other
# subnets than the director, which is why this is TUN and not DR.
#
# keepalived equivalent (one block per port; the other three differ only in
# port and real server):
#
#   virtual_server 192.168.1.100 10101 {
#       delay_loop 6
#       lb_algo wrr
#       lb_kind TUN
#       protocol TCP
#
#       real_server 192.168.2.101 10101 {
#           weight 9999
#           TCP_CHECK { connect_timeout 3  connect_port 10101 }
#       }
#   }
#   virtual_server 192.168.1.100 10201 { ... real_server 192.168.2.101 10201 ... }
#   virtual_server 192.168.1.100 20101 { ... real_server 192.168.3.102 20101 ... }
#   virtual_server 192.168.1.100 20201 { ... real_server 192.168.3.102 20201 ... }
#
# Each TCP_CHECK becomes a check "tcp" block; connect_port is the real
# server's port, the default, so it is left out.
#
# With a single real server per port, wrr and weight 9999 change nothing
# today; they are kept from the original so that a standby instance can be
# added later with a small weight (say 1) and take over only when the
# primary is set to weight 0.
#
# Each MySQL host decapsulates IP-in-IP and owns the VIP on its tunnel
# device, without answering ARP for it:
#   modprobe ipip
#   ip addr add 192.168.1.100/32 dev tunl0 && ip link set tunl0 up
#   sysctl net.ipv4.conf.tunl0.rp_filter=0 net.ipv4.conf.all.rp_filter=0
#   sysctl net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
# TUN does not change ports either: each instance listens on its VIP port.

virtual_server "mysql-a1" {
  address    = "192.168.1.100"
  port       = 10101
  scheduler  = "wrr"
  forwarding = "tun" # tunnel type defaults to ipip; no tunnel block needed
  delay_loop = 6

  real_server {
    address = "192.168.2.101"
    weight  = 9999
    check "tcp" { connect_timeout = 3 }
  }
}

virtual_server "mysql-a2" {
  address    = "192.168.1.100"
  port       = 10201
  scheduler  = "wrr"
  forwarding = "tun"
  delay_loop = 6

  real_server {
    address = "192.168.2.101"
    weight  = 9999
    check "tcp" { connect_timeout = 3 }
  }
}

virtual_server "mysql-b1" {
  address    = "192.168.1.100"
  port       = 20101
  scheduler  = "wrr"
  forwarding = "tun"
  delay_loop = 6

  real_server {
    address = "192.168.3.102"
    weight  = 9999
    check "tcp" { connect_timeout = 3 }
  }
}

virtual_server "mysql-b2" {
  address    = "192.168.1.100"
  port       = 20201
  scheduler  = "wrr"
  forwarding = "tun"
  delay_loop = 6

  real_server {
    address = "192.168.3.102"
    weight  = 9999
    check "tcp" { connect_timeout = 3 }
  }
}
