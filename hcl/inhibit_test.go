package hcl_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

// TestInhibitPerRealServer: inhibit_on_failure in a real_server overrides
// the virtual_server's (keepalived sets it per real server); the sorry
// server's sorry_server_inhibit.
func TestInhibitPerRealServer(t *testing.T) {
	src := `
virtual_server "web" {
  address            = "10.0.0.1"
  port               = 80
  inhibit_on_failure = true
  sorry_server_inhibit = true
  real_server {
    address = "10.0.1.1"
  }
  real_server {
    address            = "10.0.1.2"
    inhibit_on_failure = false
  }
  sorry_server {
    address = "10.0.9.9"
  }
}
virtual_server "db" {
  address = "10.0.0.2"
  port    = 3306
  real_server {
    address            = "10.0.2.1"
    inhibit_on_failure = true
  }
  real_server {
    address = "10.0.2.2"
  }
}
`
	cfg, _, diags := lvshcl.Parse([]byte(src), "lvs.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	require.Len(t, cfg.Pools, 2)
	tests := []struct {
		pool, member int
		want         bool
	}{
		{0, 0, true}, {0, 1, false}, {1, 0, true}, {1, 1, false},
	}
	for _, tt := range tests {
		p := cfg.Pools[tt.pool]
		assert.Equal(t, tt.want, p.Members[tt.member].Inhibits(p.InhibitOnFailure), "pool %d member %d", tt.pool, tt.member)
	}
	assert.True(t, cfg.Pools[0].SorryInhibit)
	assert.False(t, cfg.Pools[1].SorryInhibit)
}

func TestSorryInhibitNeedsSorryServer(t *testing.T) {
	src := `virtual_server "web" {
  address = "10.0.0.1"
  port    = 80
  sorry_server_inhibit = true
  real_server {
    address = "10.0.1.1"
  }
}
`
	_, _, diags := lvshcl.Parse([]byte(src), "lvs.hcl")
	require.True(t, diags.HasErrors())
	assert.Equal(t, "lvs.hcl:4,26-30: sorry_server_inhibit without sorry_server; sorry_server_inhibit keeps the sorry server in the table with weight 0 while it is not used; this virtual_server has no sorry_server block.", diags.Errs()[0].Error())
}
