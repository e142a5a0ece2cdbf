// Package checker will probe real servers (TCP, HTTP/HTTPS, MySQL, exec) and
// run the per-server state machine (retry, delay_before_retry, rise/fall,
// warmup) that turns probe results into health transitions. It will know
// nothing of IPVS: `lvsctl run` feeds its transitions to the ipvs
// reconciler.
//
// Nothing is implemented yet; the configuration rejects check blocks until
// it is (the `lvsctl run` issue).
package checker
