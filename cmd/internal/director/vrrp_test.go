package director

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lvshcl "github.com/lvsctl/lvsctl/hcl"
	"github.com/lvsctl/lvsctl/vrrp"
)

func scriptSpec(name string, rise, fall int) lvshcl.VRRPScript {
	return lvshcl.VRRPScript{Name: name, Argv: []string{"/bin/" + name}, Interval: 5 * time.Millisecond, Timeout: time.Second, Rise: rise, Fall: fall}
}

// A tracked script: the instance starts once it has a first result, then
// follows it with rise and fall.
func TestTrackScript(t *testing.T) {
	g := newRig(t)
	g.probes.gate = make(chan struct{})
	g.probes.set("chk", false)
	g.start(lvshcl.VRRP{
		Instances: []lvshcl.VRRPInstance{inst("VI_1", "eth0", vrrp.Track{Name: "script:chk", Weight: -20})},
		Scripts:   []lvshcl.VRRPScript{scriptSpec("chk", 3, 2), scriptSpec("unused", 1, 1)},
	})
	eventually(t, "instance made", func() bool { return g.fakes.last("VI_1") != nil })
	time.Sleep(20 * time.Millisecond)
	_, _, runs, _ := g.fakes.last("VI_1").get()
	assert.Zero(t, runs, "the instance waits for its script's first result")

	close(g.probes.gate)
	eventually(t, "running", func() bool { _, _, runs, running := g.fakes.last("VI_1").get(); return runs == 1 && running })
	assert.False(t, g.tracked("VI_1", "script:chk"), "the first result decides: down")
	assert.Equal(t, uint8(80), g.fakes.last("VI_1").Status().Priority)
	assert.Zero(t, g.probes.count("unused"), "a script nobody tracks does not run")

	// Rise 3: three successes in a row bring it up.
	g.probes.set("chk", true)
	before := g.probes.count("chk")
	eventually(t, "up", func() bool { return g.tracked("VI_1", "script:chk") })
	assert.GreaterOrEqual(t, g.probes.count("chk")-before, 3, "rise 3")
	// Fall 2.
	g.probes.set("chk", false)
	before = g.probes.count("chk")
	eventually(t, "down", func() bool { return !g.tracked("VI_1", "script:chk") })
	assert.GreaterOrEqual(t, g.probes.count("chk")-before, 2, "fall 2")
	assert.Contains(t, g.log.String(), `msg="vrrp_script down" vrrp_script=chk`)

	st := g.r.Status()
	require.Len(t, st.Scripts, 1)
	assert.Equal(t, "chk", st.Scripts[0].Name)
	assert.True(t, st.Scripts[0].Known)
	assert.Equal(t, "exit status 1", st.Scripts[0].Detail)
}

func TestTrackScriptInitFail(t *testing.T) {
	g := newRig(t)
	g.probes.gate = make(chan struct{}) // the first run never ends until released
	s := scriptSpec("chk", 2, 1)
	s.InitFail = true
	g.start(lvshcl.VRRP{
		Instances: []lvshcl.VRRPInstance{inst("VI_1", "eth0", vrrp.Track{Name: "script:chk"})},
		Scripts:   []lvshcl.VRRPScript{s},
	})
	eventually(t, "FAULT at once", func() bool { return g.state("VI_1") == vrrp.StateFault })
	close(g.probes.gate)
	eventually(t, "BACKUP after rise successes", func() bool { return g.state("VI_1") == vrrp.StateBackup })
}

func TestTrackInterfaceAndQuorum(t *testing.T) {
	g := newRig(t)
	g.links.initial["eth1"] = false
	g.start(lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{
		inst("VI_1", "eth0", vrrp.Track{Name: "interface:eth1"}, vrrp.Track{Name: "virtual_server:web", Weight: -50}),
	}})
	eventually(t, "FAULT: eth1 is down at start", func() bool { return g.state("VI_1") == vrrp.StateFault })
	g.links.set("eth1", true)
	eventually(t, "BACKUP when eth1 comes up", func() bool { return g.state("VI_1") == vrrp.StateBackup })
	g.links.set("eth2", false) // not tracked: nothing happens
	g.links.set("eth1", false)
	eventually(t, "FAULT again", func() bool { return g.state("VI_1") == vrrp.StateFault })
	g.links.set("eth1", true)

	// The quorum bridge: the director passes the daemon's signal.
	g.r.SetQuorum("web", false)
	eventually(t, "priority drops with the quorum", func() bool { return g.fakes.last("VI_1").Status().Priority == 50 })
	g.r.SetQuorum("other", false) // not tracked
	g.r.SetQuorum("web", true)
	eventually(t, "priority back", func() bool { return g.fakes.last("VI_1").Status().Priority == 100 })
	assert.Contains(t, g.log.String(), "link state")
}

// Hooks run in the order of the transitions even when they are slow, with
// keepalived's four arguments for the generic notify.
func TestNotifyOrder(t *testing.T) {
	g := newRig(t)
	g.hooks.delay = 5 * time.Millisecond
	in := inst("VI_1", "eth0", vrrp.Track{Name: "interface:eth1"})
	in.Notify = lvshcl.VRRPNotify{
		Master: hook("/bin/master"), Backup: hook("/bin/backup"), Fault: hook("/bin/fault", "fail"),
		Stop: hook("/bin/stop"), Any: hook("/bin/any", "x"),
	}
	g.start(lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{in}})
	eventually(t, "BACKUP", func() bool { return g.state("VI_1") == vrrp.StateBackup })
	f := g.fakes.last("VI_1")
	f.setMaster(true)
	eventually(t, "MASTER", func() bool { return g.state("VI_1") == vrrp.StateMaster })
	g.links.set("eth1", false)
	eventually(t, "FAULT", func() bool { return g.state("VI_1") == vrrp.StateFault })
	g.stop()
	assert.Equal(t, []string{
		"notify_backup /bin/backup",
		"notify /bin/any x INSTANCE VI_1 BACKUP 100",
		"notify_master /bin/master",
		"notify /bin/any x INSTANCE VI_1 MASTER 100",
		"notify_fault /bin/fault fail",
		"notify /bin/any x INSTANCE VI_1 FAULT 100",
		"notify_stop /bin/stop",
		"notify /bin/any x INSTANCE VI_1 STOP 100",
	}, g.hooks.list(), "stop waits for notify_stop")
	assert.Contains(t, g.hooks.env[2], "LVSCTL_VRRP_STATE=MASTER")
	assert.Contains(t, g.hooks.env[2], "LVSCTL_VRRP_PREVIOUS=BACKUP")
	assert.Contains(t, g.hooks.env[2], "LVSCTL_VRRP_TYPE=INSTANCE")
	assert.Contains(t, g.log.String(), `msg="hook failed" vrrp_instance=VI_1 event=notify_fault`)
}

// The MMM writer/reader pattern: when one member faults for a reason of its
// own, the other follows it into FAULT, and both come back together.
func TestSyncGroup(t *testing.T) {
	g := newRig(t)
	writer := inst("VI_writer", "eth0", vrrp.Track{Name: "script:chk"})
	writer.SyncGroup = "mmm"
	reader := inst("VI_reader", "eth1")
	reader.SyncGroup = "mmm"
	g.start(lvshcl.VRRP{
		Instances: []lvshcl.VRRPInstance{writer, reader, inst("VI_other", "eth2")},
		Scripts:   []lvshcl.VRRPScript{scriptSpec("chk", 1, 1)},
		Groups: []lvshcl.VRRPSyncGroup{{Name: "mmm", Instances: []string{"VI_writer", "VI_reader"},
			Notify: lvshcl.VRRPNotify{Master: hook("/bin/gmaster"), Fault: hook("/bin/gfault"), Any: hook("/bin/gany")}}},
	})
	eventually(t, "both BACKUP", func() bool {
		return g.state("VI_writer") == vrrp.StateBackup && g.state("VI_reader") == vrrp.StateBackup
	})
	g.fakes.last("VI_writer").setMaster(true)
	g.fakes.last("VI_reader").setMaster(true)
	eventually(t, "group MASTER", func() bool { return len(g.hooks.matching("gmaster")) == 1 })

	// The writer's script fails: the reader follows it.
	g.probes.set("chk", false)
	eventually(t, "both FAULT", func() bool {
		return g.state("VI_writer") == vrrp.StateFault && g.state("VI_reader") == vrrp.StateFault
	})
	assert.False(t, g.tracked("VI_reader", "sync_group:mmm"))
	assert.True(t, g.tracked("VI_writer", "sync_group:mmm"), "the faulty member is not held by itself")
	assert.Equal(t, vrrp.StateBackup, g.state("VI_other"), "outside the group: unaffected")
	g.probes.set("chk", true)
	eventually(t, "both back", func() bool {
		return g.state("VI_writer") == vrrp.StateMaster && g.state("VI_reader") == vrrp.StateMaster
	})

	// The reader's own interface goes down: the writer follows.
	g.links.set("eth1", false)
	eventually(t, "writer FAULT", func() bool { return g.state("VI_writer") == vrrp.StateFault })
	g.links.set("eth1", true)
	eventually(t, "writer back", func() bool { return g.state("VI_writer") == vrrp.StateMaster })

	// Both fault for their own reasons; one clears: the other still holds both.
	g.links.set("eth1", false)
	g.probes.set("chk", false)
	eventually(t, "writer's own fault seen", func() bool { return !g.tracked("VI_writer", "script:chk") })
	g.links.set("eth1", true)
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, vrrp.StateFault, g.state("VI_reader"), "held by the writer's fault")
	g.probes.set("chk", true)
	eventually(t, "both back", func() bool {
		return g.state("VI_writer") == vrrp.StateMaster && g.state("VI_reader") == vrrp.StateMaster
	})

	st := g.r.Status()
	require.Len(t, st.Groups, 1)
	assert.Equal(t, GroupStatus{Name: "mmm", State: vrrp.StateMaster, Members: []string{"VI_writer", "VI_reader"}}, st.Groups[0])
	g.stop()
	assert.Equal(t, []string{
		"notify /bin/gany GROUP mmm BACKUP 0",
		"notify_master /bin/gmaster",
		"notify /bin/gany GROUP mmm MASTER 0",
		"notify_fault /bin/gfault",
		"notify /bin/gany GROUP mmm FAULT 0",
	}, g.hooks.list()[:5])
	assert.NotContains(t, g.hooks.list(), "notify /bin/gany GROUP mmm STOP 0", "keepalived sends STOP to instances only")
}

func TestReload(t *testing.T) {
	g := newRig(t)
	a, b, c := inst("A", "eth0"), inst("B", "eth0"), inst("C", "eth0")
	a.Notify.Master = hook("/bin/a-old")
	b.Config.Track = []vrrp.Track{{Name: "script:chk"}}
	cfg := lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{a, b, c}, Scripts: []lvshcl.VRRPScript{scriptSpec("chk", 1, 1), scriptSpec("chk2", 1, 1)}}
	g.start(cfg)
	eventually(t, "all BACKUP", func() bool {
		return g.state("A") == vrrp.StateBackup && g.state("B") == vrrp.StateBackup && g.state("C") == vrrp.StateBackup
	})
	oldA, oldB := g.fakes.last("A"), g.fakes.last("B")
	g.probes.set("chk", false)
	eventually(t, "B FAULT", func() bool { return g.state("B") == vrrp.StateFault })

	// A: only a hook changes. B: unchanged, its script too. C: priority
	// changes. D: new. chk2: now tracked by D.
	a.Notify.Master = hook("/bin/a-new")
	c.Config.Priority = 150
	d := inst("D", "eth1", vrrp.Track{Name: "script:chk2"})
	g.reload <- lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{a, b, c, d}, Scripts: cfg.Scripts}
	eventually(t, "D running", func() bool { return g.state("D") == vrrp.StateBackup })
	eventually(t, "C restarted", func() bool { return g.fakes.count("C") == 2 && g.state("C") == vrrp.StateBackup })
	assert.Equal(t, 1, g.fakes.count("A"), "a new hook does not restart the instance")
	assert.Equal(t, 1, g.fakes.count("B"))
	assert.Same(t, oldA, g.fakes.last("A"))
	assert.Equal(t, vrrp.StateFault, g.state("B"), "B keeps its state and its script's")
	_, _, runs, _ := oldB.get()
	assert.Equal(t, 1, runs)
	oldA.setMaster(true)
	eventually(t, "A's new hook", func() bool { return len(g.hooks.matching("/bin/a-new")) == 1 })
	assert.Empty(t, g.hooks.matching("/bin/a-old"))

	// Remove B and its script: B leaves, chk stops running.
	g.reload <- lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{a, c, d}, Scripts: cfg.Scripts}
	eventually(t, "B stopped", func() bool { return g.state("B") == vrrp.StateStop })
	n := g.probes.count("chk")
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, n, g.probes.count("chk"), "an untracked script stops")
	var names []string
	for _, in := range g.r.Status().Instances {
		names = append(names, in.Name)
	}
	assert.Equal(t, []string{"A", "C", "D"}, names)
	assert.Contains(t, g.log.String(), `msg="vrrp configuration applied" instances=3 started=[] restarted=[] kept="[A C D]" removed=[B]`)
}

func TestRunFailureIsRetried(t *testing.T) {
	g := newRig(t)
	g.fakes.runErrs["VI_1"] = []error{errors.New("interface eth9: link not found"), errors.New("interface eth9: link not found")}
	g.start(lvshcl.VRRP{Instances: []lvshcl.VRRPInstance{inst("VI_1", "eth9"), inst("VI_2", "eth0")}})
	eventually(t, "VI_2 runs regardless", func() bool { return g.state("VI_2") == vrrp.StateBackup })
	eventually(t, "VI_1 runs after two failures", func() bool { return g.state("VI_1") == vrrp.StateBackup })
	_, _, runs, _ := g.fakes.last("VI_1").get()
	assert.Equal(t, 3, runs)
	assert.Contains(t, g.log.String(), "vrrp instance cannot run; retrying")
	assert.Empty(t, g.r.Status().Instances[0].Err, "cleared once it runs")
}

func TestGroupState(t *testing.T) {
	const (
		I = vrrp.StateInit
		B = vrrp.StateBackup
		M = vrrp.StateMaster
		F = vrrp.StateFault
		S = vrrp.StateStop
	)
	for _, tc := range []struct {
		in   []vrrp.State
		want vrrp.State
	}{
		{nil, I},
		{[]vrrp.State{I, B}, B},
		{[]vrrp.State{M, M}, M},
		{[]vrrp.State{M, B}, B},
		{[]vrrp.State{M, F}, F},
		{[]vrrp.State{S, S}, S},
		{[]vrrp.State{S, M}, B},
		{[]vrrp.State{I, I}, I},
	} {
		assert.Equal(t, tc.want, groupState(tc.in), "%v", tc.in)
	}
}
