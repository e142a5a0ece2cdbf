#!/usr/bin/env bash
# capture.sh: regenerate the keepalived-*.txt golden captures (tcpdump -xx text)
# from a real keepalived (Debian keepalived 2.2.7, tcpdump). Run as root from
# this directory. It builds its own namespaces (prefix kacap), runs keepalived
# VRRP-only in one of them until it is master, stops it with SIGTERM (so the
# priority-0 advert is captured too) and removes everything it made.
set -euo pipefail
P=kacap
cleanup() {
	for n in br r1; do ip netns del $P$n 2>/dev/null || true; done
	rm -rf "$tmp"
}
tmp=$(mktemp -d)
trap cleanup EXIT
for n in br r1; do
	ip netns del $P$n 2>/dev/null || true
	ip netns add $P$n
	ip -n $P$n link set lo up
	ip netns exec $P$n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip -n ${P}br link add br0 type bridge
ip -n ${P}br link set br0 up
ip -n ${P}br link add r1 type veth peer name eth0 netns ${P}r1
ip -n ${P}br link set r1 master br0
ip -n ${P}br link set r1 up
# A fixed MAC so that captures are reproducible.
ip -n ${P}r1 link set eth0 address 02:00:0a:63:00:01
ip -n ${P}r1 link set eth0 up
ip -n ${P}r1 addr add 10.99.0.1/24 dev eth0
sleep 1

# capture NAME SECONDS CONFIG: run keepalived with CONFIG for SECONDS, then
# SIGTERM it; write what crossed the bridge to keepalived-NAME.txt.
capture() {
	local name=$1 secs=$2 conf=$3
	printf '%s\n' "$conf" >"$tmp/$name.conf"
	ip netns exec ${P}br tcpdump -i br0 -n -e -xx -U 'vrrp or arp or ip6 proto 112 or icmp6[0] == 136' \
		>"keepalived-$name.txt" 2>/dev/null &
	local td=$!
	sleep 1
	ip netns exec ${P}r1 keepalived --vrrp -n -l -f "$tmp/$name.conf" -p "$tmp/ka.pid" -r "$tmp/vrrp.pid" \
		>"$tmp/$name.log" 2>&1 &
	local ka=$!
	sleep "$secs"
	kill -TERM $ka
	wait $ka || true
	sleep 1
	kill -INT $td
	wait $td || true
}

capture v2-pass 5 'vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}'

capture v2-none 10 'vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 7
  priority 100
  advert_int 2
  virtual_ipaddress {
    10.99.0.100/24
    10.99.0.101/24
  }
}'

capture v3-ipv4 5 'global_defs {
  vrrp_version 3
}
vrrp_instance VI_3 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.99.0.100/24
  }
}'

capture v3-ipv6 5 'vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority 200
  advert_int 1
  virtual_ipaddress {
    fd00:99::100/64
  }
}'
