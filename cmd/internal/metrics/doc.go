// Package metrics is the Prometheus exposition of `lvsctl run`
// (--metrics-listen): a custom prometheus.Collector that, at each scrape,
// reads the daemon's latest snapshot (health, weights, reconcile counts:
// memory, no kernel access), dumps the kernel's IPVS table once for the
// traffic counters, and reads the VRRP instances' status. Probe and
// reconcile durations are accumulated as they happen (Collector.Observer)
// and exposed as histograms.
//
// Nothing is registered globally: NewRegistry returns a registry with the
// Collector, the Go runtime and process collectors, for promhttp.HandlerFor.
//
// Metric names and labels are a stable interface, documented in
// docs/metrics.md; a scrape whose kernel dump fails still exposes
// everything else, with lvsctl_ipvs_scrape_success 0.
package metrics
