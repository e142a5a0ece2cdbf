// Package metrics is the Prometheus exposition of `lvsctl run`
// (--metrics-listen): a custom prometheus.Collector that, at each scrape,
// reads the daemon's latest snapshot (health, weights, reconcile counts:
// memory, no kernel access), dumps the kernel's IPVS table once for the
// traffic counters of every service in the namespace (owned="true" for the
// configuration's, "false" for other tools'), and reads the VRRP instances'
// status. docs/monitoring/ holds a dashboard and alerting rules that read
// only names this package exports (TestMonitoringNames). Probe and
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
