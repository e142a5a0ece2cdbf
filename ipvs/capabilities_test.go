package ipvs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUses(t *testing.T) {
	tun := func(ty TunnelType) RealServer { return RealServer{Forwarding: Tunnel, Tunnel: TunnelConfig{Type: ty}} }
	tests := []struct {
		name     string
		services []VirtualService
		scheds   []Scheduler
		tunnels  []TunnelType
	}{
		{"none", nil, nil, nil},
		{"default scheduler", []VirtualService{{}}, []Scheduler{DefaultScheduler}, nil},
		{"distinct and sorted", []VirtualService{
			{Scheduler: "twos", RealServers: []RealServer{tun(GRE), tun(IPIP)}},
			{Scheduler: "rr", RealServers: []RealServer{tun(GUE), tun(GRE), {Forwarding: DR}}},
			{Scheduler: "rr"},
		}, []Scheduler{"rr", "twos"}, []TunnelType{GUE, GRE}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, tu := Uses(tt.services)
			assert.Equal(t, tt.scheds, s)
			assert.Equal(t, tt.tunnels, tu)
		})
	}
	c := Capabilities{MissingSchedulers: []Scheduler{"twos"}, MissingTunnels: []TunnelType{GRE}}
	assert.False(t, c.HasScheduler("twos"))
	assert.True(t, c.HasScheduler("rr"))
	assert.False(t, c.HasTunnel(GRE))
	assert.True(t, c.HasTunnel(GUE))
}
