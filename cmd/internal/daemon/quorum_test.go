package daemon

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// quorumLog records OnQuorum calls.
type quorumLog struct {
	mu  sync.Mutex
	got []string
}

func (q *quorumLog) on(name string, up bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := name + " down"
	if up {
		s = name + " up"
	}
	q.got = append(q.got, s)
}

func (q *quorumLog) list() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.got)
}

// TestOnQuorum: the signal VRRP's track_virtual_server follows. The quorum
// is presumed at load, told on loss and on return, and told again at a
// reload.
func TestOnQuorum(t *testing.T) {
	f := newFixture(t)
	q := &quorumLog{}
	f.start(f.config(2, func(p *lvshcl.Pool) { p.Quorum = 3 }), Options{OnQuorum: q.on})
	f.until(time.Second, func() bool { return len(f.k.reals(t, web)) == 2 })
	assert.Equal(t, []string{"web up"}, q.list(), "presumed held at start")

	f.probes.set("10.0.1.1:80", false) // weight 2 < 3
	f.until(3*time.Second, func() bool { return len(q.list()) == 2 })
	assert.Equal(t, []string{"web up", "web down"}, q.list())

	f.reload <- f.config(2, func(p *lvshcl.Pool) { p.Quorum = 3 })
	f.until(time.Second, func() bool { return len(q.list()) == 3 })
	assert.Equal(t, "web down", q.list()[2], "a reload tells the current state again")

	f.probes.set("10.0.1.1:80", true)
	f.until(3*time.Second, func() bool { return len(q.list()) == 4 })
	assert.Equal(t, "web up", q.list()[3])
}
