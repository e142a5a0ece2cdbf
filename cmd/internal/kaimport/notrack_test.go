package kaimport

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// no_track: keepalived then does not watch the object; lvsctl watches every
// VIP, excluded VIP, virtual rule and virtual route with dev, and puts back
// every static address, static rule and static route with dev (as
// keepalived without no_track), so there it is a warning that says what
// differs. Where neither watches (a route without dev) it stays a note.
func TestNoTrackImport(t *testing.T) {
	inst := func(body string) string {
		return "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.100/24\n    }\n" + body + "}\n"
	}
	for _, tc := range []struct {
		name, conf, want string
	}{
		{"VIP", "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.100/24 no_track\n    }\n}\n",
			"k.conf:5: warning: 10.0.0.100/24: no_track is not translated: lvsctl watches this VIP, and if someone deletes it while the instance is MASTER, the instance sends a priority-0 advert, goes BACKUP and takes MASTER back after its skew time with the VIP re-added (keepalived does so only without no_track; with it, it stays MASTER without the VIP)"},
		{"excluded VIP", inst("    virtual_ipaddress_excluded {\n        10.0.1.100/24 no_track\n    }\n"),
			"k.conf:8: warning: 10.0.1.100/24: no_track is not translated: lvsctl watches this VIP"},
		{"virtual route with dev", inst("    virtual_routes {\n        10.8.0.0/16 via 10.0.0.1 dev eth0 no_track\n    }\n"),
			"k.conf:8: warning: 10.8.0.0/16: no_track is not translated: lvsctl watches this route"},
		{"virtual route without dev", inst("    virtual_routes {\n        10.8.0.0/16 via 10.0.0.1 no_track\n    }\n"),
			"k.conf:8: note: 10.8.0.0/16: translated without no_track (neither keepalived nor lvsctl watches a virtual route without dev)"},
		{"virtual rule", inst("    virtual_rules {\n        from 10.0.0.100 table 100 no_track\n    }\n"),
			"k.conf:8: warning: from: no_track is not translated: lvsctl watches this rule"},
		{"static address", inst("") + "static_ipaddress {\n    10.0.2.1/24 dev eth0 no_track\n}\n",
			"k.conf:9: warning: 10.0.2.1/24: no_track is not translated: lvsctl puts this static address back if someone deletes it (keepalived does so only without no_track; with it, the address stays deleted)"},
		{"static route with dev", inst("") + "static_routes {\n    10.8.0.0/16 via 10.0.0.1 dev eth0 no_track\n}\n",
			"k.conf:9: warning: 10.8.0.0/16: no_track is not translated: lvsctl puts this static route back if someone deletes it"},
		{"static route without dev", inst("") + "static_routes {\n    10.8.0.0/16 via 10.0.0.1 no_track\n}\n",
			"k.conf:9: note: 10.8.0.0/16: translated without no_track (neither keepalived nor lvsctl puts back a static route without dev)"},
		{"static rule", inst("") + "static_rules {\n    from 10.0.0.100 table 100 no_track\n}\n",
			"k.conf:9: warning: from: no_track is not translated: lvsctl puts this static rule back if someone deletes it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := importSrc(t, tc.conf)
			assert.Contains(t, diagLines(res), tc.want)
		})
	}
}
