package director

import "context"

// LinkSource follows the state of the network interfaces of the namespace
// lvsctl runs in.
type LinkSource interface {
	// Watch reports with fn whether each interface is up (administratively
	// up and running, i.e. with carrier): every existing one before it
	// returns, then every change until ctx is done. An interface that is
	// deleted or renamed away is reported down. fn is never called
	// concurrently with itself.
	Watch(ctx context.Context, fn func(name string, up bool)) error
}
