package director

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

// forceInst is an Instance that records what a sync group forces on it.
type forceInst struct {
	name   string
	mu     sync.Mutex
	forced []string
}

func (f *forceInst) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *forceInst) SetTracked(string, bool) error { return nil }
func (f *forceInst) Status() vrrp.Status           { return vrrp.Status{Name: f.name} }
func (f *forceInst) Force(to vrrp.State, why string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forced = append(f.forced, to.String()+" ("+why+")")
	return nil
}
func (f *forceInst) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.forced...)
}

// A sync group moves its members along as keepalived's does: one member
// becoming MASTER by itself takes the backups with it; one leaving MASTER
// for BACKUP takes the masters to BACKUP; forced changes, FAULT and
// instances outside the group are not passed on.
func TestSyncGroupForcesMembers(t *testing.T) {
	insts := map[string]*forceInst{}
	var mu sync.Mutex
	cfg := lvshcl.VRRP{
		Instances: []lvshcl.VRRPInstance{
			{Config: vrrp.Config{Name: "VI_1", Interface: "eth0", VRID: 1}, SyncGroup: "G"},
			{Config: vrrp.Config{Name: "VI_2", Interface: "eth0", VRID: 2}, SyncGroup: "G"},
			{Config: vrrp.Config{Name: "VI_3", Interface: "eth0", VRID: 3}},
		},
		Groups: []lvshcl.VRRPSyncGroup{{Name: "G", Instances: []string{"VI_1", "VI_2"}}},
	}
	r := NewRunner(VRRPOptions{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NewInstance: func(c vrrp.Config) (Instance, error) {
			mu.Lock()
			defer mu.Unlock()
			f := &forceInst{name: c.Name}
			insts[c.Name] = f
			return f, nil
		},
		Links: &fakeLinks{initial: map[string]bool{"eth0": true}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, cfg, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	var in map[string]*instance
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		in = maps.Clone(r.insts)
		return len(in) == 3
	}, 5*time.Second, time.Millisecond)

	tr := func(name string, from, to vrrp.State, why string) {
		r.onTransition(in[name], vrrp.Transition{Instance: name, From: from, To: to, Reason: why})
	}
	for _, n := range []string{"VI_1", "VI_2", "VI_3"} {
		tr(n, vrrp.StateInit, vrrp.StateBackup, "start")
	}
	tr("VI_1", vrrp.StateBackup, vrrp.StateMaster, "no advert from the master")
	assert.Equal(t, []string{"MASTER (vrrp_sync_group G: VI_1 became MASTER)"}, insts["VI_2"].got())
	assert.Empty(t, insts["VI_3"].got(), "not in the group")
	assert.Empty(t, insts["VI_1"].got())

	tr("VI_2", vrrp.StateBackup, vrrp.StateMaster, "vrrp_sync_group G: VI_1 became MASTER")
	assert.Empty(t, insts["VI_1"].got(), "a forced change is not passed on")

	tr("VI_2", vrrp.StateMaster, vrrp.StateBackup, "higher priority 200 advert from 10.0.0.2")
	assert.Equal(t, []string{"BACKUP (vrrp_sync_group G: VI_2 became BACKUP)"}, insts["VI_1"].got())

	tr("VI_1", vrrp.StateMaster, vrrp.StateFault, "interface eth0 down")
	assert.Len(t, insts["VI_2"].got(), 1, "FAULT is not forced this way")
}
