package alert

import (
	"fmt"
	"strings"
)

// The messages, keepalived's subjects and bodies with lvsctl's names. The
// Sender adds "[router_id] " in front of each subject.

// RealServer is a real server going down or up: keepalived's
// "Realserver [10.0.0.1]:80 of virtual server [192.0.2.1]:80 - DOWN" with
// "=> CHECK failed on service : reason <=". service is the
// virtual_server's name, key its "TCP 192.0.2.1:80"; check names the
// check that changed it when the server has several.
func RealServer(service, key, real string, up bool, check, reason string) Message {
	state, verb := "DOWN", "failed"
	if up {
		state, verb = "UP", "succeed"
	}
	kind := "CHECK"
	if check != "" {
		kind = strings.ToUpper(check) + " CHECK"
	}
	body := fmt.Sprintf("=> %s %s on service : %s <=\n\nvirtual_server: %s (%s)\nreal_server: %s\n", kind, verb, reason, service, key, real)
	if check != "" {
		body += "check: " + check + "\n"
	}
	return Message{
		Kind:    "real_server",
		Subject: fmt.Sprintf("Realserver %s of virtual server %s (%s) - %s", real, service, key, state),
		Body:    body,
	}
}

// Quorum is a virtual service losing or regaining its quorum: keepalived's
// "Virtualserver [192.0.2.1]:80 - DOWN" with "=> Lost quorum 3-1=2 > 1 <="
// (quorum - hysteresis, above the up real servers' weight).
func Quorum(service, key string, up bool, quorum, hysteresis, weight int) Message {
	state, what, op, threshold, cmp := "DOWN", "Lost quorum", "-", quorum-hysteresis, ">"
	if up {
		state, what, op, threshold, cmp = "UP", "Gained quorum", "+", quorum+hysteresis, "<="
	}
	return Message{
		Kind:    "quorum",
		Subject: fmt.Sprintf("Virtualserver %s (%s) - %s", service, key, state),
		Body: fmt.Sprintf("=> %s %d%s%d=%d %s %d <=\n\nvirtual_server: %s (%s)\nquorum: %d, hysteresis: %d, weight of the up real servers: %d\n",
			what, quorum, op, hysteresis, threshold, cmp, weight, service, key, quorum, hysteresis, weight),
	}
}

// VRRP is an instance entering a state: keepalived's "VRRP Instance VI_1 -
// Entering MASTER state" with "=> VRRP Instance is now owning VRRP VIPs <=".
func VRRP(instance, from, to, reason string) Message {
	body := "=> VRRP Instance is no longer owning VRRP VIPs <="
	if to == "MASTER" {
		body = "=> VRRP Instance is now owning VRRP VIPs <="
	}
	return Message{
		Kind:    "vrrp",
		Subject: fmt.Sprintf("VRRP Instance %s - Entering %s state", instance, to),
		Body:    fmt.Sprintf("%s\n\nvrrp_instance: %s\nfrom: %s\nto: %s\nreason: %s\n", body, instance, from, to, reason),
	}
}
