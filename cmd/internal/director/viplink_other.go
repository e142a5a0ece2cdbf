//go:build !linux

package director

import (
	"errors"
	"net/netip"
)

// NetlinkVIPLink is the VIPLink of the host; Linux only.
type NetlinkVIPLink struct{}

var errVIPLinkNotLinux = errors.New("vip_interface: managing links needs Linux")

func (NetlinkVIPLink) Ensure(string) (bool, error)        { return false, errVIPLinkNotLinux }
func (NetlinkVIPLink) AddAddr(string, netip.Prefix) error { return errVIPLinkNotLinux }
func (NetlinkVIPLink) DelAddr(string, netip.Prefix) error { return errVIPLinkNotLinux }
func (NetlinkVIPLink) Delete(string) error                { return errVIPLinkNotLinux }
