package hcl

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The checker's own Validate methods back up the builder's checks: a value
// that got past them is reported on the check block. No configuration can
// do that today, so the defaults are forged.
func TestCheckValidateBackstop(t *testing.T) {
	def := hcl.Range{Filename: "test.hcl", Start: hcl.Pos{Line: 3, Column: 3}, End: hcl.Pos{Line: 3, Column: 14}}
	c := &checkSyntax{Type: "tcp", HasType: true, Kind: checkTCP, TypeRange: def, DefRange: def, Range: def}
	zero := 0
	b := &builder{}
	bc := b.check(c, timingValues{ok: true, rise: &zero, fall: &zero})
	require.NotNil(t, bc)
	assert.False(t, bc.ok)
	require.Len(t, b.diags, 1)
	d := b.diags[0]
	assert.Equal(t, "Invalid check timing", d.Summary)
	assert.Equal(t, "Rise 0: want 1 or more; fall 0: want 1 or more.", d.Detail)
	assert.Equal(t, def, *d.Subject)
}
