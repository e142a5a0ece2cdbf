package hcl_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

func TestPersistenceEngine(t *testing.T) {
	const svc = `virtual_server "sip" {
  address  = "10.0.0.1"
  port     = 5060
  protocol = "udp"
  %s
  real_server { address = "10.0.1.1" }
}
`
	tests := []struct {
		name, attrs string
		want        string // the engine, or the error's summary
		err         bool
	}{
		{"sip", "persistence_timeout = 60\n  persistence_engine = \"sip\"", "sip", false},
		{"unknown", "persistence_timeout = 60\n  persistence_engine = \"h323\"", "Invalid persistence engine", true},
		{"not persistent", "persistence_engine = \"sip\"", "Persistence engine without persistence", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, diags := lvshcl.Parse([]byte(fmt.Sprintf(svc, tt.attrs)), "test.hcl")
			if tt.err {
				require.True(t, diags.HasErrors())
				assert.Equal(t, tt.want, diags.Errs()[0].(*hcl.Diagnostic).Summary)
				return
			}
			require.False(t, diags.HasErrors(), diags.Error())
			assert.Equal(t, tt.want, cfg.Services[0].PersistenceEngine)
		})
	}
}
