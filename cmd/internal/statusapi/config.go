package statusapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The configuration resources: `lvsctl plan` and `lvsctl apply` hand a file
// to the daemon that owns the namespace's table instead of writing to the
// kernel behind its back.
//
//	POST /v1/plan   ConfigRequest -> Plan: what a reload with the file would change
//	POST /v1/apply  ConfigRequest -> Plan: reload with the file, synchronously
//
// Both answer 200 with a Plan whenever the daemon could judge the file, even
// when it refused it (Plan.Errors, Plan.Refused, Plan.Error say why); other
// statuses carry a plain-text error.
const (
	PlanPath  = "/v1/plan"
	ApplyPath = "/v1/apply"
)

// ConfigRequest hands a configuration file to the daemon.
type ConfigRequest struct {
	// File is the file's name, for diagnostics and the log.
	File string `json:"file"`
	// Source is the file's bytes, read by the command (within its
	// --max-config-size): the daemon judges exactly what the command read.
	Source []byte `json:"source"`
	// AllowDestroy is --allow-destroy: apply a change that deletes more
	// than half of the owned services, or of a service's real servers.
	AllowDestroy bool `json:"allow_destroy,omitempty"`
}

// Source values of Plan.
const (
	SourceKernel = "kernel" // planned against the kernel's table
	SourceDaemon = "daemon" // planned by the running daemon
)

// Plan is the stable JSON of `lvsctl plan -o json` and the daemon's answer
// to a plan or an apply (docs/plan.md). Fields are only ever added.
type Plan struct {
	// Source says what the plan was made against: "kernel" (the table
	// read by the command) or "daemon" (the running daemon's desired
	// table: configuration plus health).
	Source string `json:"source"`
	// Changes counts Ops by kind and object.
	Changes Changes `json:"changes"`
	Ops     []Op    `json:"ops"`
	// Conflicts are services of the file that exist in the kernel but
	// were not created by lvsctl ("TCP 10.0.0.1:80").
	Conflicts []string `json:"conflicts"`
	// Foreign services are in the kernel, not lvsctl's, and left alone.
	Foreign []string `json:"foreign"`
	// Recovered services were left by an interrupted apply and are taken
	// over (kernel source only).
	Recovered []string `json:"recovered,omitempty"`
	// Refused says why apply and reload refuse the plan without
	// --allow-destroy or allow_destroy = true ("would delete 3 of 4 owned
	// services (web, db, api)"); empty when they would not.
	Refused string `json:"refused,omitempty"`
	// Errors counts the file's errors; Diagnostics renders them (and any
	// warnings) as the command line does, secrets masked.
	Errors      int    `json:"errors,omitempty"`
	Diagnostics string `json:"diagnostics,omitempty"`
	// Applied is set by an apply that made the changes (Ops) or found
	// nothing to do; Error is set when the daemon refused the file or
	// the kernel the changes, with the running configuration kept.
	Applied bool   `json:"applied,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Changes counts operations by what they do to which object.
type Changes struct {
	Add    Counts `json:"add"`
	Edit   Counts `json:"edit"`
	Delete Counts `json:"delete"`
}

// Counts counts services and real servers.
type Counts struct {
	Service    int `json:"service"`
	RealServer int `json:"real_server"`
}

// Op kinds.
const (
	OpAddService       = "add_service"
	OpEditService      = "edit_service"
	OpDeleteService    = "delete_service"
	OpAddRealServer    = "add_real_server"
	OpEditRealServer   = "edit_real_server"
	OpDeleteRealServer = "delete_real_server"
)

// Op is one change to the kernel's table.
type Op struct {
	Kind string `json:"kind"`
	// Service is the virtual_server's name in the file ("" if none) and
	// Key its identity as ipvsadm shows it ("TCP 10.0.0.1:80").
	Service string `json:"service"`
	Key     string `json:"key"`
	// RealServer is the real server's address and port, for real-server
	// ops ("10.0.1.1:80").
	RealServer string `json:"real_server,omitempty"`
	// Text is the line plan prints ("+ real TCP 10.0.0.1:80 (web) -> ...").
	Text string `json:"text"`
}

// Count adds op to c.
func (c *Changes) Count(kind string) {
	switch kind {
	case OpAddService:
		c.Add.Service++
	case OpAddRealServer:
		c.Add.RealServer++
	case OpEditService:
		c.Edit.Service++
	case OpEditRealServer:
		c.Edit.RealServer++
	case OpDeleteService:
		c.Delete.Service++
	case OpDeleteRealServer:
		c.Delete.RealServer++
	}
}

// PlanConfig asks the daemon serving the socket at path what a reload with
// req would change. When no daemon serves it, the error matches
// ErrNoDaemon.
func PlanConfig(ctx context.Context, path string, req ConfigRequest) (Plan, error) {
	return postConfig(ctx, path, PlanPath, req)
}

// ApplyConfig asks the daemon to reload with req and waits for the outcome.
func ApplyConfig(ctx context.Context, path string, req ConfigRequest) (Plan, error) {
	return postConfig(ctx, path, ApplyPath, req)
}

func postConfig(ctx context.Context, path, resource string, req ConfigRequest) (Plan, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Plan{}, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://lvsctl"+resource, bytes.NewReader(body))
	if err != nil {
		return Plan{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	tr := transport(path)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(hr)
	if err != nil {
		return Plan{}, dialError(path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return Plan{}, fmt.Errorf("%s from %s: %w", resource, path, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return Plan{}, fmt.Errorf("the lvsctl run on %s does not take configurations over its socket (an older version): edit its file and reload it (SIGHUP), or restart it with this lvsctl", path)
	}
	if resp.StatusCode != http.StatusOK {
		return Plan{}, fmt.Errorf("lvsctl run on %s: %s: %s", path, resp.Status, bytes.TrimSpace(out))
	}
	var p Plan
	if err := json.Unmarshal(out, &p); err != nil {
		return Plan{}, fmt.Errorf("%s from %s: %w", resource, path, err)
	}
	return p, nil
}

// ConfigHandler judges or applies a configuration for the socket.
type ConfigHandler func(ctx context.Context, req ConfigRequest) (Plan, error)

// maxRequest bounds a request's body: a configuration of up to 64 MiB,
// base64-encoded in JSON.
const maxRequest = 96 << 20

// applyTimeout bounds how long an apply may take to answer.
const applyTimeout = 5 * time.Minute

func serveConfig(h ConfigHandler, write time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(write))
		var req ConfigRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest))
		if err := dec.Decode(&req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		p, err := h(r.Context(), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(p)
	}
}
