package checker_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/checker"
)

// roleScript is a script whose check tests a role, or not.
type roleScript struct {
	*script
	role bool
}

func (r roleScript) TestsRole() bool { return r.role }

// TestPresumption: what a new server is before its first probe, and that the
// first probe decides whatever the presumption.
func TestPresumption(t *testing.T) {
	fromTable := func(up bool) *checker.Presumption {
		return &checker.Presumption{Up: up, Reason: "presumed from the table, not yet checked"}
	}
	tests := []struct {
		name       string
		alpha      bool
		role       *bool // nil: a plain Prober; else a RoleProber saying so
		presume    *checker.Presumption
		results    string
		wantUp     bool
		wantReason string
		events     []string
	}{
		{name: "plain check: up", results: "+", wantUp: true, wantReason: "not checked yet"},
		{name: "plain check, alpha: down", alpha: true, results: "+", wantReason: "not checked yet (alpha)", events: []string{"0s up"}},
		{name: "role check: down without alpha", role: ptr(true), results: "+",
			wantReason: "not checked yet (its role is unknown until a probe succeeds)", events: []string{"0s up"}},
		{name: "role check: after a failing first probe it needs rise", role: ptr(true), results: "- +",
			wantReason: "not checked yet (its role is unknown until a probe succeeds)"},
		{name: "role prober that tests no role: up", role: ptr(false), results: "+", wantUp: true, wantReason: "not checked yet"},
		{name: "from the table: up, and a failing first probe takes it down", presume: fromTable(true), results: "-",
			wantUp: true, wantReason: "presumed from the table, not yet checked", events: []string{"0s down"}},
		{name: "from the table: down despite no alpha, confirmed", presume: fromTable(false), results: "-",
			wantReason: "presumed from the table, not yet checked"},
		{name: "from the table: down, the first success brings it up", presume: fromTable(false), results: "+",
			wantReason: "presumed from the table, not yet checked", events: []string{"0s up"}},
		{name: "from the table: up wins over a role check and alpha", presume: fromTable(true), role: ptr(true), alpha: true, results: "+",
			wantUp: true, wantReason: "presumed from the table, not yet checked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tg := target("10.0.0.1:80")
			spec := h.spec(tg, timing(func(tm *checker.Timing) { tm.Alpha = tc.alpha; tm.Rise = 3; tm.Fall = 3 }), tc.results)
			if tc.role != nil {
				spec.Prober = roleScript{script: h.script, role: *tc.role}
			}
			spec.Presume = tc.presume
			require.NoError(t, h.pool.Set([]checker.Spec{spec}))
			st, ok := h.pool.Lookup(tg)
			require.True(t, ok)
			assert.Equal(t, tc.wantUp, st.Up, "presumed state")
			assert.False(t, st.Checked)
			assert.Equal(t, tc.wantReason, st.Reason)

			h.start()
			h.n = 1
			require.True(t, h.clock.BlockUntil(1))
			h.until(10 * time.Second)
			assert.Equal(t, tc.events, h.events())
		})
	}
}

// TestPresumeOnlyForNewServers: a server already in the pool keeps its
// state when a later Set presumes otherwise (a reload).
func TestPresumeOnlyForNewServers(t *testing.T) {
	h := newHarness(t, nil)
	tg := target("10.0.0.1:80")
	h.start()
	h.set(h.spec(tg, timing(nil), "-"))
	h.until(0)
	assert.Equal(t, []string{"0s down"}, h.events())
	spec := h.spec(tg, timing(nil), "-")
	spec.Presume = &checker.Presumption{Up: true, Reason: "presumed"}
	require.NoError(t, h.pool.Set([]checker.Spec{spec}))
	st, _ := h.pool.Lookup(tg)
	assert.False(t, st.Up)
	assert.Equal(t, "connect: connection refused", st.Reason)
}

func TestMySQLTestsRole(t *testing.T) {
	tests := []struct {
		name string
		m    *checker.MySQL
		want bool
	}{
		{"query only", &checker.MySQL{User: "u"}, false},
		{"writer", &checker.MySQL{User: "u", ReadOnly: checker.ReadOnlyOff}, true},
		{"reader", &checker.MySQL{User: "u", ReadOnly: checker.ReadOnlyOn}, true},
		{"replication", &checker.MySQL{User: "u", ReplicationRunning: true}, true},
		{"lag", &checker.MySQL{User: "u", MaxReplicationLag: time.Second}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p checker.Prober = tc.m
			rp, ok := p.(checker.RoleProber)
			require.True(t, ok)
			assert.Equal(t, tc.want, rp.TestsRole())
		})
	}
}

func ptr[T any](v T) *T { return &v }
