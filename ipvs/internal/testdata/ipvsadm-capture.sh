#!/bin/sh
# Regenerates the ipvsadm golden requests used by ipvs/netlink_linux_test.go:
# runs each ipvsadm command under the ipvsadm-capture.c shim and prints the
# generic netlink payload (genl header + attributes) of the IPVS request it
# sends. Needs gcc and ipvsadm built with libnl (Debian's 1:1.31 is).
set -eu
dir=$(dirname "$0")
so=$(mktemp -d)/capture.so
cc -shared -fPIC -o "$so" "$dir/ipvsadm-capture.c" -ldl
run() {
	out=$(mktemp)
	CAPTURE_OUT=$out LD_PRELOAD=$so ipvsadm "$@" >/dev/null
	# Keep IPVS family requests (type 0x0023) other than GET_INFO (cmd 0x0f)
	# and strip the 16-byte nlmsghdr.
	grep -E '^.{8}2300' "$out" | grep -Ev '^.{32}0f' | cut -c33- | sed "s|^|ipvsadm $* => |"
	rm -f "$out"
}
run -A -t 10.0.0.1:80 -s rr
run -A -t 10.0.0.1:443 -s wlc -p 600 -M 255.255.255.0
run -A -u [2001:db8::1]:53 -s sh -b sh-port,sh-fallback -p 300 -M 64
run -A -u 10.0.0.1:53 -s rr -o
run -A -f 7 -s rr
run -A -f 8 -6 -s mh
run -E -t 10.0.0.1:80 -s wrr
run -D -t 10.0.0.1:80
run -a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 3 -x 100 -y 10
run -a -t 10.0.0.1:80 -r 10.0.1.3 -i --tun-type gue --tun-port 6080 --tun-csum
run -a -t 10.0.0.1:80 -r [2001:db8::10]:80 -i
run -e -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 0
run -a -t [2001:db8::1]:80 -r 10.0.1.5:80 -i --tun-type gre --tun-csum
run -d -t 10.0.0.1:80 -r [2001:db8::10]:80
