package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/ipvs"
)

// TestCheckKernel: what the kernel lacks (as its probe says) is an error
// at the line that asks for it, once per place; what it has, or a probe
// that cannot run, lets plan and apply go on.
func TestCheckKernel(t *testing.T) {
	const twos = `virtual_server "a" {
  address   = "10.0.0.1"
  port      = 80
  scheduler = "twos"
  real_server { address = "10.1.0.1" }
}
virtual_server "b" {
  address = "10.0.0.2"
  port    = 80
  real_server { address = "10.1.0.1" }
}
`
	const gue = `virtual_server "t" {
  address    = "10.0.0.1"
  port       = 80
  scheduler  = "rr"
  forwarding = "tun"
  tunnel {
    type = "gue"
    port = 6080
  }
  real_server { address = "10.1.0.1" }
  real_server { address = "10.1.0.2" }
  real_server {
    address = "10.1.0.3"
    tunnel { type = "gre" }
  }
}
`
	tests := []struct {
		name      string
		src       string
		caps      ipvs.Capabilities
		probeErr  error
		wantAsked []ipvs.Scheduler
		wantTun   []ipvs.TunnelType
		want      []string // "line:col: Error: summary", in order; nil: no error
	}{
		{name: "scheduler missing", src: twos,
			caps:      ipvs.Capabilities{MissingSchedulers: []ipvs.Scheduler{"twos"}},
			wantAsked: []ipvs.Scheduler{"twos", "wlc"},
			want:      []string{"4:15: Error: Scheduler not in this kernel"}},
		{name: "default scheduler missing", src: twos,
			caps:      ipvs.Capabilities{MissingSchedulers: []ipvs.Scheduler{"wlc"}},
			wantAsked: []ipvs.Scheduler{"twos", "wlc"},
			want:      []string{"7:1: Error: Scheduler not in this kernel"}},
		{name: "tunnel types missing, inherited once", src: gue,
			caps:      ipvs.Capabilities{MissingTunnels: []ipvs.TunnelType{ipvs.GUE, ipvs.GRE}},
			wantAsked: []ipvs.Scheduler{"rr"}, wantTun: []ipvs.TunnelType{ipvs.GUE, ipvs.GRE},
			want: []string{"7:12: Error: Tunnel type not in this kernel", "14:21: Error: Tunnel type not in this kernel"}},
		{name: "all there", src: gue,
			wantAsked: []ipvs.Scheduler{"rr"}, wantTun: []ipvs.TunnelType{ipvs.GUE, ipvs.GRE}},
		{name: "probe cannot run", src: twos, probeErr: ipvs.ErrPermission,
			wantAsked: []ipvs.Scheduler{"twos", "wlc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "lvsctl.hcl")
			require.NoError(t, os.WriteFile(file, []byte(tt.src), 0o644))
			cfg, _, diags := lvshcl.Parse([]byte(tt.src), file)
			require.False(t, diags.HasErrors(), "%v", diags)
			var asked []ipvs.Scheduler
			var askedTun []ipvs.TunnelType
			var stderr bytes.Buffer
			e := &env{stderr: &stderr, probe: func(_ context.Context, s []ipvs.Scheduler, tun []ipvs.TunnelType) (ipvs.Capabilities, error) {
				asked, askedTun = s, tun
				return tt.caps, tt.probeErr
			}}
			for _, src := range [][]byte{[]byte(tt.src), nil} { // decoded, or cached (read again)
				stderr.Reset()
				err := checkKernel(context.Background(), e, file, src, cfg.Services, configOptions{})
				assert.Equal(t, tt.wantAsked, asked)
				assert.Equal(t, tt.wantTun, askedTun)
				if tt.want == nil {
					assert.NoError(t, err)
					assert.Empty(t, stderr.String())
					continue
				}
				var ee *exitError
				require.True(t, errors.As(err, &ee), "%v", err)
				assert.Equal(t, 1, ee.code)
				out := stderr.String()
				last := -1
				for _, w := range tt.want {
					i := bytes.Index([]byte(out), []byte(file+":"+w))
					require.GreaterOrEqual(t, i, 0, "%q not in:\n%s", w, out)
					assert.Greater(t, i, last, "in file order")
					last = i
				}
				assert.Equal(t, len(tt.want), bytes.Count([]byte(out), []byte(": Error: ")), out)
			}
		})
	}
}

// TestCheckKernelNotAsked: without a probe (the tests' fake kernels) the
// kernel is not asked and nothing is reported.
func TestCheckKernelNotAsked(t *testing.T) {
	var stderr bytes.Buffer
	svc := []ipvs.VirtualService{{Name: "a", Scheduler: "twos"}}
	assert.NoError(t, checkKernel(context.Background(), &env{stderr: &stderr}, "x.hcl", nil, svc, configOptions{}))
	assert.Empty(t, stderr.String())
}
