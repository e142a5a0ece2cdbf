package ipvs

import (
	"slices"
)

// Diff returns the operations that turn the table current into desired.
// It is pure and deterministic: the same inputs give the same ops in the
// same order. Both sides are compared in normalized form (see
// VirtualService.Normalize); the Name of a service is ignored.
//
// The ops are minimal: a service or real server whose attributes changed is
// edited in place (the kernel can edit everything but the identity: the
// service key, or a real server's address, port and family). Deleting a
// service deletes its real servers with it, so no real-server deletes are
// emitted for it. The order is safe to apply one by one: real-server
// deletes, service deletes, service adds and edits, real-server edits, then
// real-server adds; within each group, services sort as ipvsadm lists them
// and real servers by address and port.
//
// Diff compares every service it is given; the caller restricts current to
// the services it owns.
func Diff(current, desired []VirtualService) []Op {
	cur := index(current)
	want := index(desired)

	var delReal, delSvc, svcOps, editReal, addReal []Op

	for _, key := range sortedKeys(cur) {
		if _, ok := want[key]; !ok {
			delSvc = append(delSvc, Op{Kind: DeleteService, Service: bare(cur[key])})
		}
	}
	for _, key := range sortedKeys(want) {
		w := want[key]
		c, exists := cur[key]
		if !exists {
			svcOps = append(svcOps, Op{Kind: AddService, Service: bare(w)})
			for _, r := range w.RealServers {
				addReal = append(addReal, Op{Kind: AddRealServer, Service: bare(w), Real: r})
			}
			continue
		}
		if !SameAttributes(c, w) {
			svcOps = append(svcOps, Op{Kind: EditService, Service: bare(w), Prev: bare(c)})
		}
		d, e, a := diffReals(w, c.RealServers, w.RealServers)
		delReal = append(delReal, d...)
		editReal = append(editReal, e...)
		addReal = append(addReal, a...)
	}

	ops := make([]Op, 0, len(delReal)+len(delSvc)+len(svcOps)+len(editReal)+len(addReal))
	ops = append(ops, delReal...)
	ops = append(ops, delSvc...)
	ops = append(ops, svcOps...)
	ops = append(ops, editReal...)
	return append(ops, addReal...)
}

// diffReals compares two sorted real-server lists of service svc in one
// merge pass.
func diffReals(svc VirtualService, cur, want []RealServer) (del, edit, add []Op) {
	s := bare(svc)
	i, j := 0, 0
	for i < len(cur) || j < len(want) {
		var c int
		switch {
		case i == len(cur):
			c = 1
		case j == len(want):
			c = -1
		default:
			c = cur[i].Key().Compare(want[j].Key())
		}
		switch {
		case c < 0:
			del = append(del, Op{Kind: DeleteRealServer, Service: s, Real: cur[i]})
			i++
		case c > 0:
			add = append(add, Op{Kind: AddRealServer, Service: s, Real: want[j]})
			j++
		default:
			if cur[i] != want[j] {
				edit = append(edit, Op{Kind: EditRealServer, Service: s, Real: want[j], PrevReal: cur[i]})
			}
			i++
			j++
		}
	}
	return del, edit, add
}

// index normalizes services and maps them by key. Later duplicates win;
// validated configs and kernel dumps have none.
func index(svcs []VirtualService) map[ServiceKey]VirtualService {
	m := make(map[ServiceKey]VirtualService, len(svcs))
	for _, s := range svcs {
		n := s.Normalize()
		m[n.Key] = n
	}
	return m
}

func sortedKeys(m map[ServiceKey]VirtualService) []ServiceKey {
	keys := make([]ServiceKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, ServiceKey.Compare)
	return keys
}

// bare is s without its real servers, for ops that carry a service.
func bare(s VirtualService) VirtualService {
	s.RealServers = nil
	return s
}

// SameAttributes says whether a and b have the same service attributes
// (scheduler and its flags, persistence, one-packet scheduling): what an
// edit of the service, not of its real servers, would change.
func SameAttributes(a, b VirtualService) bool {
	return a.Scheduler == b.Scheduler &&
		a.SchedFlags == b.SchedFlags &&
		a.Persistence == b.Persistence &&
		a.PersistenceMask == b.PersistenceMask &&
		a.PersistenceEngine == b.PersistenceEngine &&
		a.OnePacket == b.OnePacket
}
