package main

import (
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/ipvs/ipvsadm"
)

// The documents of `lvsctl list -o json|yaml`, described in docs/list.md.
// Field names are part of lvsctl's interface: add fields, never rename or
// drop them.

// tableDoc is the table (list, list -t ...).
type tableDoc struct {
	Version       string       `json:"version" yaml:"version"`
	ConnTableSize uint32       `json:"conn_table_size" yaml:"conn_table_size"`
	Services      []serviceDoc `json:"services" yaml:"services"`
}

type serviceDoc struct {
	Key string `json:"key" yaml:"key"`
	// ServiceKey is Key under the name the logs, the metrics, the hooks and
	// status give it (docs/names.md); Key stays for the scripts that read it.
	ServiceKey             string    `json:"service_key" yaml:"service_key"`
	Family                 string    `json:"family" yaml:"family"`
	Protocol               string    `json:"protocol,omitempty" yaml:"protocol,omitempty"`
	Address                string    `json:"address,omitempty" yaml:"address,omitempty"`
	Port                   *uint16   `json:"port,omitempty" yaml:"port,omitempty"`
	FWMark                 uint32    `json:"fwmark,omitempty" yaml:"fwmark,omitempty"`
	Scheduler              string    `json:"scheduler" yaml:"scheduler"`
	SchedulerFlags         []string  `json:"scheduler_flags" yaml:"scheduler_flags"`
	PersistenceTimeout     uint32    `json:"persistence_timeout" yaml:"persistence_timeout"`
	PersistenceGranularity int       `json:"persistence_granularity" yaml:"persistence_granularity"`
	PersistenceNetmask     string    `json:"persistence_netmask,omitempty" yaml:"persistence_netmask,omitempty"`
	PersistenceEngine      string    `json:"persistence_engine,omitempty" yaml:"persistence_engine,omitempty"`
	OnePacket              bool      `json:"one_packet" yaml:"one_packet"`
	Stats                  statsDoc  `json:"stats" yaml:"stats"`
	RealServers            []realDoc `json:"real_servers" yaml:"real_servers"`
}

type realDoc struct {
	// Real is the destination as the logs, the metrics and the hooks name
	// it: "10.0.1.2:8080", "[2001:db8::2]:80".
	Real            string     `json:"real" yaml:"real"`
	Address         string     `json:"address" yaml:"address"`
	Port            uint16     `json:"port" yaml:"port"`
	Family          string     `json:"family" yaml:"family"`
	Forwarding      string     `json:"forwarding" yaml:"forwarding"`
	Tunnel          *tunnelDoc `json:"tunnel,omitempty" yaml:"tunnel,omitempty"`
	Weight          uint32     `json:"weight" yaml:"weight"`
	UpperThreshold  uint32     `json:"upper_threshold" yaml:"upper_threshold"`
	LowerThreshold  uint32     `json:"lower_threshold" yaml:"lower_threshold"`
	ActiveConns     uint32     `json:"active_conns" yaml:"active_conns"`
	InactiveConns   uint32     `json:"inactive_conns" yaml:"inactive_conns"`
	PersistentConns uint32     `json:"persistent_conns" yaml:"persistent_conns"`
	Stats           statsDoc   `json:"stats" yaml:"stats"`
}

type tunnelDoc struct {
	Type     string `json:"type" yaml:"type"`
	Port     uint16 `json:"port,omitempty" yaml:"port,omitempty"`
	Checksum string `json:"checksum" yaml:"checksum"`
}

type statsDoc struct {
	Conns      uint64 `json:"conns" yaml:"conns"`
	InPackets  uint64 `json:"in_packets" yaml:"in_packets"`
	OutPackets uint64 `json:"out_packets" yaml:"out_packets"`
	InBytes    uint64 `json:"in_bytes" yaml:"in_bytes"`
	OutBytes   uint64 `json:"out_bytes" yaml:"out_bytes"`
	CPS        uint64 `json:"cps" yaml:"cps"`
	InPPS      uint64 `json:"in_pps" yaml:"in_pps"`
	OutPPS     uint64 `json:"out_pps" yaml:"out_pps"`
	InBPS      uint64 `json:"in_bps" yaml:"in_bps"`
	OutBPS     uint64 `json:"out_bps" yaml:"out_bps"`
}

// connsDoc is list -c.
type connsDoc struct {
	Connections []connDoc `json:"connections" yaml:"connections"`
}

type connDoc struct {
	Protocol    string      `json:"protocol" yaml:"protocol"`
	Client      endpointDoc `json:"client" yaml:"client"`
	Virtual     endpointDoc `json:"virtual" yaml:"virtual"`
	Destination endpointDoc `json:"destination" yaml:"destination"`
	State       string      `json:"state" yaml:"state"`
	Expires     uint32      `json:"expires" yaml:"expires"`
	PEName      string      `json:"pe_name,omitempty" yaml:"pe_name,omitempty"`
	PEData      string      `json:"pe_data,omitempty" yaml:"pe_data,omitempty"`
}

type endpointDoc struct {
	Address string `json:"address" yaml:"address"`
	Port    uint16 `json:"port" yaml:"port"`
}

// timeoutsDoc is list --timeout.
type timeoutsDoc struct {
	TCP    uint32 `json:"tcp" yaml:"tcp"`
	TCPFin uint32 `json:"tcp_fin" yaml:"tcp_fin"`
	UDP    uint32 `json:"udp" yaml:"udp"`
}

// daemonsDoc is list --daemon.
type daemonsDoc struct {
	SyncDaemons []daemonDoc `json:"sync_daemons" yaml:"sync_daemons"`
}

type daemonDoc struct {
	State     string `json:"state" yaml:"state"`
	Interface string `json:"interface" yaml:"interface"`
	SyncID    uint32 `json:"sync_id" yaml:"sync_id"`
	MaxLen    uint16 `json:"max_len,omitempty" yaml:"max_len,omitempty"`
	Group     string `json:"group,omitempty" yaml:"group,omitempty"`
	Port      uint16 `json:"port,omitempty" yaml:"port,omitempty"`
	TTL       uint8  `json:"ttl,omitempty" yaml:"ttl,omitempty"`
}

// listDocument reads what req asks for and returns it as a document. The
// services are in the order the text listing shows them.
func listDocument(ctx context.Context, l lister, req listRequest) (any, error) {
	switch req.kind {
	case listConns:
		text, err := readConns(ctx, l)
		if err != nil {
			return nil, err
		}
		doc := connsDoc{Connections: []connDoc{}}
		for _, c := range ipvsadm.ParseConns(text) {
			doc.Connections = append(doc.Connections, connDoc{
				Protocol: c.Protocol, State: c.State, Expires: c.Expires, PEName: c.PEName, PEData: c.PEData,
				Client: endpoint(c.Client), Virtual: endpoint(c.Virtual), Destination: endpoint(c.Destination),
			})
		}
		return doc, nil
	case listTimeouts:
		t, err := l.Timeouts(ctx)
		if err != nil {
			return nil, err
		}
		secs := func(d time.Duration) uint32 { return uint32(d / time.Second) }
		return timeoutsDoc{TCP: secs(t.TCP), TCPFin: secs(t.TCPFin), UDP: secs(t.UDP)}, nil
	case listDaemons:
		ds, err := l.SyncDaemons(ctx)
		if err != nil {
			return nil, err
		}
		doc := daemonsDoc{SyncDaemons: []daemonDoc{}}
		for _, d := range ds {
			dd := daemonDoc{State: d.State.String(), Interface: d.Interface, SyncID: d.SyncID, MaxLen: d.MaxLen, Port: d.Port, TTL: d.TTL}
			if d.Group.IsValid() {
				dd.Group = d.Group.String()
			}
			doc.SyncDaemons = append(doc.SyncDaemons, dd)
		}
		return doc, nil
	}
	info, err := l.Info(ctx)
	if err != nil {
		return nil, err
	}
	var table []ipvs.ListedService
	if req.kind == listOneService {
		s, err := l.ListService(ctx, req.service)
		if err != nil {
			return nil, err
		}
		table = []ipvs.ListedService{s}
	} else if table, err = l.List(ctx); err != nil {
		return nil, err
	}
	if !req.opt.NoSort {
		table = ipvsadm.SortServices(table)
	}
	doc := tableDoc{Version: info.VersionString()[1:], ConnTableSize: info.ConnTableSize, Services: []serviceDoc{}}
	for _, s := range table {
		reals := s.Reals
		if !req.opt.NoSort {
			reals = ipvsadm.SortReals(reals)
		}
		doc.Services = append(doc.Services, serviceDocument(s, reals))
	}
	return doc, nil
}

func endpoint(ap netip.AddrPort) endpointDoc {
	return endpointDoc{Address: ap.Addr().String(), Port: ap.Port()}
}

func serviceDocument(s ipvs.ListedService, reals []ipvs.RealStatus) serviceDoc {
	svc := s.Service
	k := svc.Key
	d := serviceDoc{
		Key: k.String(), ServiceKey: k.String(), Family: k.Family.String(), Scheduler: string(svc.Scheduler),
		SchedulerFlags:         svc.SchedFlags.Names(svc.Scheduler),
		PersistenceTimeout:     uint32(svc.Persistence / time.Second),
		PersistenceGranularity: svc.PersistenceMask,
		PersistenceEngine:      s.PEName,
		OnePacket:              svc.OnePacket,
		Stats:                  statsDocument(s.Stats),
		RealServers:            []realDoc{},
	}
	if d.SchedulerFlags == nil {
		d.SchedulerFlags = []string{}
	}
	if k.IsFWMark() {
		d.FWMark = k.FWMark
	} else {
		port := k.Port
		d.Protocol, d.Address, d.Port = protocolName(k.Protocol), familyAddr(k.Family, k.Addr), &port
	}
	if k.Family == ipvs.IPv4 {
		d.PersistenceNetmask = s.PersistenceNetmask().String()
	}
	for _, r := range reals {
		rr := r.Real
		rd := realDoc{
			Real:    netip.AddrPortFrom(rr.Addr, rr.Port).String(),
			Address: rr.Addr.String(), Port: rr.Port, Family: ipvs.FamilyOf(rr.Addr).String(),
			Forwarding: rr.Forwarding.String(), Weight: rr.Weight,
			UpperThreshold: rr.UpperThreshold, LowerThreshold: rr.LowerThreshold,
			ActiveConns: r.ActiveConns, InactiveConns: r.InactiveConns, PersistentConns: r.PersistentConns,
			Stats: statsDocument(r.Stats),
		}
		if rr.Forwarding == ipvs.Tunnel {
			rd.Tunnel = &tunnelDoc{Type: rr.Tunnel.Type.String(), Checksum: rr.Tunnel.Checksum.String()}
			if rr.Tunnel.Type == ipvs.GUE {
				rd.Tunnel.Port = rr.Tunnel.Port
			}
		}
		d.RealServers = append(d.RealServers, rd)
	}
	return d
}

// familyAddr writes an IPv4 address of an IPv6 service v4-mapped.
func familyAddr(f ipvs.Family, a netip.Addr) string {
	if f == ipvs.IPv6 && a.Is4() {
		return netip.AddrFrom16(a.As16()).String()
	}
	return a.String()
}

func protocolName(p ipvs.Protocol) string {
	if n := p.Name(); n != "" {
		return n
	}
	return p.String()
}

func statsDocument(s ipvs.Stats) statsDoc {
	return statsDoc{Conns: s.Conns, InPackets: s.InPkts, OutPackets: s.OutPkts, InBytes: s.InBytes, OutBytes: s.OutBytes,
		CPS: s.CPS, InPPS: s.InPPS, OutPPS: s.OutPPS, InBPS: s.InBPS, OutBPS: s.OutBPS}
}

func writeDocument(w io.Writer, doc any, format string) error {
	if format == "yaml" {
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			return err
		}
		return enc.Close()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
