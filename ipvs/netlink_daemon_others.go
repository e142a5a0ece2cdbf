//go:build !linux

package ipvs

import "context"

// StartSyncDaemon fails: IPVS needs Linux.
func (n *Netlink) StartSyncDaemon(ctx context.Context, d SyncDaemon) error { return errNotLinux() }

// StopSyncDaemon fails: IPVS needs Linux.
func (n *Netlink) StopSyncDaemon(ctx context.Context, s SyncState) error { return errNotLinux() }
