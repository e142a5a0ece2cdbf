package hcl

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestWholeIn: the bounds are inclusive, and a fraction or a whole number
// beyond int64 is out of range whatever the bounds.
func TestWholeIn(t *testing.T) {
	huge, _, _ := big.ParseFloat("1e30", 10, 512, big.ToNearestEven)
	for _, c := range []struct {
		name   string
		f      *big.Float
		lo, hi int64
		want   int64
		ok     bool
	}{
		{"inside", big.NewFloat(80), 1, 65535, 80, true},
		{"low bound", big.NewFloat(1), 1, 65535, 1, true},
		{"high bound", big.NewFloat(65535), 1, 65535, 65535, true},
		{"below", big.NewFloat(0), 1, 65535, 0, false},
		{"above", big.NewFloat(65536), 1, 65535, 0, false},
		{"fraction", big.NewFloat(1.5), 0, 10, 0, false},
		{"negative", big.NewFloat(-3), -5, 5, -3, true},
		{"beyond int64", huge, math.MinInt64, math.MaxInt64, 0, false},
		{"below int64", new(big.Float).Neg(huge), math.MinInt64, math.MaxInt64, 0, false},
		{"max int64", new(big.Float).SetInt64(math.MaxInt64), 0, math.MaxInt64, math.MaxInt64, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, ok := wholeIn(c.f, c.lo, c.hi)
			assert.Equal(t, c.ok, ok)
			if ok {
				assert.Equal(t, c.want, n)
			}
		})
	}
}
