package vrrp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A master whose VIP (route, rule) someone deleted gives MASTER up as
// keepalived's set_vrrp_backup does: priority-0 advert, BACKUP, master
// again after its own skew time unless a higher priority answers first.
func TestRelinquish(t *testing.T) {
	for _, tc := range []struct {
		name      string
		peerPrio  uint8 // 0: alone
		wantBack  string
		peerTakes bool
	}{
		{"alone", 0, "r2", false},
		{"lower backup", 100, "r2", false},
		{"higher backup, no preemption yet", 250, "r3", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t)
			m := s.add(2, 200, v3(100*time.Millisecond))
			m.start()
			s.run(time.Second)
			require.Equal(t, []string{"r2"}, s.masters())
			var peer *simNode
			if tc.peerPrio != 0 {
				// Joins as backup; nopreempt keeps a higher one backup.
				peer = s.add(3, tc.peerPrio, v3(100*time.Millisecond), nopreempt)
				peer.start()
				s.run(time.Second)
				require.Equal(t, []string{"r2"}, s.masters())
			}
			at := s.now
			m.sent = nil
			m.m.relinquish(at, "VIP 10.99.0.100/24 on eth0 deleted")
			assert.Equal(t, StateBackup, m.state())
			assert.Equal(t, []uint8{0}, m.sent, "a priority-0 advert first")
			assert.Equal(t, "VIP 10.99.0.100/24 on eth0 deleted", m.log[len(m.log)-1].Reason)
			s.run(2 * time.Second)
			assert.Equal(t, []string{tc.wantBack}, s.masters())
			if !tc.peerTakes {
				assert.Equal(t, at.Add(m.m.skew()), m.became(StateMaster), "master again after its skew time")
			} else {
				assert.Equal(t, at.Add(latency+peer.m.skew()), peer.became(StateMaster), "the peer after its skew time")
			}
			m.m.relinquish(s.now, "again") // only a master relinquishes
			if tc.peerTakes {
				assert.Equal(t, StateBackup, m.state())
			}
		})
	}
}

// The instance asks the system what is missing on each deletion: only a
// master with something gone gives up; a deletion of something else (or
// of its own VIPs, seen after it took them back) changes nothing.
func TestRunDeletion(t *testing.T) {
	cfg := testConfig
	cfg.Version, cfg.Password, cfg.AdvertInterval = 3, "", 100*time.Millisecond
	h := startHarness(t, cfg)
	h.expect(StateInit, StateBackup)
	h.sys.dels <- struct{}{} // backup: nothing to check
	h.clock.Advance(time.Second)
	h.expect(StateBackup, StateMaster)
	h.advert()

	h.sys.dels <- struct{}{} // nothing missing
	h.noAdvert()
	assert.Equal(t, StateMaster, h.in.Status().State)

	h.sys.mu.Lock()
	h.sys.gone = "VIP 10.99.0.100/24 on eth0 deleted"
	h.sys.mu.Unlock()
	h.sys.dels <- struct{}{}
	tr := h.expect(StateMaster, StateBackup)
	assert.Equal(t, "VIP 10.99.0.100/24 on eth0 deleted", tr.Reason)
	var adv Advertisement
	require.NoError(t, adv.UnmarshalBinary(h.advert().b))
	assert.Equal(t, uint8(0), adv.Priority)
	eventually(t, "VIPs removed", func() bool { v, _ := h.sys.state(); return !v })

	// Skew time for priority 150 at 100 ms: 106/256 * 100 ms.
	h.clock.Advance(41 * time.Millisecond)
	h.noAdvert()
	h.clock.Advance(time.Millisecond)
	tr = h.expect(StateBackup, StateMaster)
	assert.Equal(t, t0.Add(time.Second+42*time.Millisecond), tr.Time, "due at 41.40625 ms, fired when the clock got there")
	eventually(t, "VIPs added again", func() bool { v, _ := h.sys.state(); return v })
}
