// Package statusapi is how `lvsctl status` asks a running `lvsctl run` for
// its state: HTTP/1.1 over a unix socket that only root can open (mode
// 0600), one resource, GET /v1/status, answered with the JSON of Status.
// Plain HTTP keeps it debuggable:
//
//	curl --unix-socket /run/lvsctl/lvsctl.sock http://lvsctl/v1/status
//
// Listen serves it (the daemon's side), Get asks (the command's side) and
// Write prints a Status for people.
package statusapi

import (
	"time"
)

// Path is the resource that serves Status.
const Path = "/v1/status"

// Status is the state of one `lvsctl run`.
type Status struct {
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	// Now is the daemon's clock when it answered: ages are relative to it.
	Now    time.Time `json:"now"`
	Netns  string    `json:"netns,omitempty"`
	Config Config    `json:"config"`
	// IPVS is false on a node without virtual services (VRRP only).
	IPVS bool `json:"ipvs"`
	// LastReconcile is when the daemon last reconciled or resynced.
	LastReconcile time.Time `json:"last_reconcile,omitzero"`
	Counters      Counters  `json:"counters"`
	Pools         []Pool    `json:"pools"`
	VRRP          []VRRP    `json:"vrrp_instances"`
	// Sync is the connection sync daemons' state; nil without a sync
	// block.
	Sync *Sync `json:"sync,omitempty"`
	// BGP is the bgp block's speaker and announcements; absent without
	// a bgp block.
	BGP *BGP `json:"bgp,omitempty"`
}

// BGP is the announcer of the bgp block (docs/bgp.md).
type BGP struct {
	// Running: the speaker is started; Error is its last failure to
	// start or to announce (retried every second).
	Running   bool          `json:"running"`
	Error     string        `json:"error,omitempty"`
	Neighbors []BGPNeighbor `json:"neighbors"`
	// Announced are the prefixes announced ("192.0.2.10/32").
	Announced []string `json:"announced"`
	// Withheld are the announce blocks not announced, with why.
	Withheld []BGPWithheld `json:"withheld"`
	// Announces and Withdraws count the prefix announcements and
	// withdrawals since start, by reason (load, recovered; settling,
	// quorum, interface, script, vip_interface, config, restart, stop).
	Announces map[string]uint64 `json:"announces"`
	Withdraws map[string]uint64 `json:"withdraws"`
	// VIPInterface holds the VIPs (VIPs: those the daemon put there);
	// VIPError says why it could not.
	VIPInterface string   `json:"vip_interface,omitempty"`
	VIPs         []string `json:"vips"`
	VIPError     string   `json:"vip_error,omitempty"`
	SloppyTCP    bool     `json:"sloppy_tcp"`
	SloppySCTP   bool     `json:"sloppy_sctp"`
}

// BGPNeighbor is one BGP session.
type BGPNeighbor struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	ASN     uint32 `json:"asn"`
	// State is the BGP FSM state: idle, connect, active, opensent,
	// openconfirm, established.
	State string    `json:"state"`
	Since time.Time `json:"since,omitzero"`
	// Reason is why the session last changed state (GoBGP's words).
	Reason      string `json:"reason,omitempty"`
	Established uint64 `json:"established"`
	// BFD is the neighbor's BFD session state: up, down, init, admindown;
	// empty without a bfd block. BFDSince is when it entered it.
	BFD      string    `json:"bfd,omitempty"`
	BFDSince time.Time `json:"bfd_since,omitzero"`
}

// BGPWithheld is an announce block that is not announced.
type BGPWithheld struct {
	Announce string `json:"announce"`
	Reason   string `json:"reason"`
}

// Sync is the state of the kernel's connection sync daemons.
type Sync struct {
	VRRPInstance string `json:"vrrp_instance"`
	// Want are the daemons that should run now: "master", "backup".
	Want []string `json:"want"`
	// Running are the daemons the kernel ran at CheckedAt, with the
	// parameters it applies.
	Running   []SyncDaemon `json:"running"`
	CheckedAt time.Time    `json:"checked_at,omitzero"`
	// Error is set while a failure is not repaired: a daemon in Want may
	// not run.
	Error    string `json:"error,omitempty"`
	Failures uint64 `json:"failures"`
}

// SyncDaemon is one running sync daemon.
type SyncDaemon struct {
	State     string `json:"state"`
	Interface string `json:"interface"`
	SyncID    uint32 `json:"syncid"`
	MaxLen    uint16 `json:"maxlen"`
	Group     string `json:"group,omitempty"`
	Port      uint16 `json:"port,omitempty"`
	TTL       uint8  `json:"ttl,omitempty"`
}

// Config is the configuration the daemon runs.
type Config struct {
	File string `json:"file"`
	// Generation counts the configurations applied: 1 at start, one more
	// per accepted reload.
	Generation int       `json:"generation"`
	LoadedAt   time.Time `json:"loaded_at,omitzero"`
	// LastReload is the latest reload's outcome (SIGHUP or apply); nil if
	// there was none.
	LastReload *Reload `json:"last_reload,omitempty"`
}

// Reload is one SIGHUP or apply through the socket.
type Reload struct {
	At    time.Time `json:"at"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
	// Via is "SIGHUP" or "apply" (lvsctl apply through the socket), and
	// File the file it read.
	Via  string `json:"via,omitempty"`
	File string `json:"file,omitempty"`
}

// Counters are what the daemon did since it started.
type Counters struct {
	Reconciles int `json:"reconciles"`
	Resyncs    int `json:"resyncs"`
	Writes     int `json:"writes"`
	Repairs    int `json:"repairs"`
}

// Pool is one virtual service and its real servers.
type Pool struct {
	Name    string `json:"service"`     // the virtual_server's name: "web"
	Service string `json:"service_key"` // "TCP 10.0.1.100:80", "FWM 7 ipv4"
	// Scheduler is the kernel scheduler ("wrr").
	Scheduler string `json:"scheduler"`
	QuorumUp  bool   `json:"quorum_up"`
	// InSync is false while what the kernel holds is uncertain (a write
	// failed; the next resync repairs it).
	InSync bool   `json:"in_sync"`
	Reals  []Real `json:"real_servers"`
}

// Real server states.
const (
	StateUp    = "up"
	StateDown  = "down"
	StateSorry = "sorry" // the sorry server
)

// Real is one real server.
type Real struct {
	Address    string `json:"real"`       // "10.0.2.11:80"
	Forwarding string `json:"forwarding"` // nat, dr, tun
	State      string `json:"state"`      // up, down, sorry
	// Checked is false for a real server without a check (always up) and
	// until the first probe decided (State is then the presumption).
	HasCheck bool `json:"has_check"`
	Checked  bool `json:"checked"`
	// InTable and Weight are what lvsctl last wrote to the kernel.
	InTable          bool      `json:"in_table"`
	Weight           uint32    `json:"weight"`
	ConfiguredWeight uint32    `json:"configured_weight"`
	Since            time.Time `json:"since,omitzero"`
	Reason           string    `json:"reason,omitempty"`
	Transitions      uint64    `json:"transitions"`
	LastCheck        *Check    `json:"last_check,omitempty"`
	// Checks is each check of a real server with several (keepalived's
	// several checkers): it is up only when every one is.
	Checks []RealCheck `json:"checks,omitempty"`
}

// RealCheck is one of several checks of a real server.
type RealCheck struct {
	Name        string    `json:"name"`  // its type and position: "http#1"
	State       string    `json:"state"` // up, down
	Checked     bool      `json:"checked"`
	Since       time.Time `json:"since,omitzero"`
	Reason      string    `json:"reason,omitempty"`
	Transitions uint64    `json:"transitions"`
	LastCheck   *Check    `json:"last_check,omitempty"`
}

// Check results.
const (
	ResultSuccess      = "success"
	ResultFailure      = "failure"
	ResultInconclusive = "inconclusive" // the check could not tell; the state is kept
)

// Check is the latest probe of a real server.
type Check struct {
	At          time.Time `json:"at"`
	Result      string    `json:"result"`
	Reason      string    `json:"reason"`
	TookSeconds float64   `json:"took_seconds"`
}

// VRRP is one VRRP instance.
type VRRP struct {
	Name         string    `json:"name"`
	Interface    string    `json:"interface"`
	VRID         uint8     `json:"vrid"`
	Version      uint8     `json:"version"`
	State        string    `json:"state"`
	Since        time.Time `json:"since,omitzero"`
	Fault        string    `json:"fault,omitempty"`
	Priority     uint8     `json:"priority"`
	BasePriority uint8     `json:"base_priority"`
	Master       string    `json:"master,omitempty"`
	SyncGroup    string    `json:"sync_group,omitempty"`
	Error        string    `json:"error,omitempty"`
}
