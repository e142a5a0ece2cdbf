package director

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetlinkLinks is the LinkSource of the host: an rtnetlink subscription to
// link changes, made again (and the links listed again) if it fails.
type NetlinkLinks struct {
	Logger *slog.Logger
}

func running(flags uint32) bool {
	return flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0
}

// Watch implements LinkSource.
func (n NetlinkLinks) Watch(ctx context.Context, fn func(name string, up bool)) error {
	log := n.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ns, err := netns.Get()
	if err != nil {
		return fmt.Errorf("network namespace: %w", err)
	}
	var mu sync.Mutex // fn is called by Watch, then by the goroutine
	names := map[int]string{}
	report := func(index int, name string, up, deleted bool) {
		mu.Lock()
		defer mu.Unlock()
		if old, ok := names[index]; ok && old != name {
			fn(old, false) // renamed: the old name is gone
		}
		if deleted {
			delete(names, index)
		} else {
			names[index] = name
		}
		fn(name, up && !deleted)
	}
	list := func() error {
		links, err := netlink.LinkList()
		if err != nil {
			return err
		}
		seen := map[int]bool{}
		for _, l := range links {
			a := l.Attrs()
			seen[a.Index] = true
			report(a.Index, a.Name, running(a.RawFlags), false)
		}
		mu.Lock()
		gone := map[int]string{}
		for index, name := range names {
			if !seen[index] {
				gone[index] = name
			}
		}
		mu.Unlock()
		for index, name := range gone {
			report(index, name, false, true)
		}
		return nil
	}
	subscribe := func() (chan netlink.LinkUpdate, chan struct{}, error) {
		updates := make(chan netlink.LinkUpdate, 64)
		stop := make(chan struct{})
		opts := netlink.LinkSubscribeOptions{
			ReceiveBufferSize: 1 << 20,
			ErrorCallback: func(err error) {
				if ctx.Err() == nil {
					log.Warn("link state subscription failed, subscribing again", "err", err)
				}
			},
		}
		// Entering ns (setns) needs CAP_SYS_ADMIN, which the packaged
		// unit does not grant: only from a thread that is elsewhere.
		cur, cerr := netns.Get()
		if cerr != nil || !cur.Equal(ns) {
			opts.Namespace = &ns
		}
		if cerr == nil {
			cur.Close()
		}
		err := netlink.LinkSubscribeWithOptions(updates, stop, opts)
		if err != nil {
			close(stop)
			return nil, nil, err
		}
		return updates, stop, nil
	}

	// Subscribe before listing, so that no change falls in between.
	updates, stop, err := subscribe()
	if err != nil {
		ns.Close()
		return fmt.Errorf("subscribe to link changes: %w", err)
	}
	if err := list(); err != nil {
		close(stop)
		ns.Close()
		return fmt.Errorf("list links: %w", err)
	}
	go func() {
		defer ns.Close()
		delay := 10 * time.Millisecond
		for {
			func() {
				for {
					select {
					case <-ctx.Done():
						return
					case u, ok := <-updates:
						if !ok {
							return
						}
						report(int(u.Index), u.Attrs().Name, running(u.Flags), u.Header.Type == unix.RTM_DELLINK)
					}
				}
			}()
			close(stop)
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(delay):
				}
				delay = min(2*delay, 5*time.Second)
				if updates, stop, err = subscribe(); err == nil {
					break
				}
				log.Warn("cannot follow link states", "err", err)
			}
			if err := list(); err != nil {
				log.Warn("cannot list links", "err", err)
			}
		}
	}()
	return nil
}
