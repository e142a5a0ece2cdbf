package vrrp_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/lvsctl/lvsctl/vrrp"
)

func ExampleAdvertisement_MarshalBinary() {
	a := vrrp.Advertisement{
		Version:   3,
		VRID:      51,
		Priority:  150,
		Interval:  100 * time.Millisecond,
		Addresses: []netip.Addr{netip.MustParseAddr("10.99.0.100")},
		// The VRRPv3 checksum covers the IP addresses.
		Src: netip.MustParseAddr("10.99.0.1"),
		Dst: vrrp.GroupIPv4,
	}
	b, err := a.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)
	// Output: 31 33 96 01 00 0a 43 07 0a 63 00 64
}

func ExampleAdvertisement_UnmarshalBinary() {
	// keepalived's VRRPv2 advert: priority 150, PASS "s3cret".
	b := []byte{0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x00, 0xe9, 0x0a, 0x63, 0x00, 0x64,
		's', '3', 'c', 'r', 'e', 't', 0, 0}
	var a vrrp.Advertisement
	if err := a.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	fmt.Println(a.Version, a.VRID, a.Priority, a.Interval, a.AuthType, a.Password(), a.Addresses)
	fmt.Println("checksum ok:", vrrp.VerifyChecksum(b, netip.Addr{}, netip.Addr{}))
	// Output:
	// 2 51 150 1s PASS s3cret [10.99.0.100]
	// checksum ok: true
}

func ExampleNew() {
	in, err := vrrp.New(vrrp.Config{
		Name:      "VI_1",
		Interface: "eth0",
		VRID:      51,
		Priority:  150,
		VIPs:      []vrrp.VIP{{Prefix: netip.MustParsePrefix("10.99.0.100/24"), Label: "eth0:vip"}},
		Track:     []vrrp.Track{{Name: "script:chk_haproxy", Weight: -60}},
	})
	if err != nil {
		panic(err)
	}
	// Run(ctx) would start it; a tracked object going down lowers the
	// effective priority.
	_ = in.SetTracked("script:chk_haproxy", false)
	st := in.Status()
	fmt.Println(st.State, st.Version, st.BasePriority, st.Priority, st.AdvertInterval)

	_, err = vrrp.New(vrrp.Config{Name: "VI_2", Interface: "eth0", VRID: 52, Version: 3, Password: "x"})
	fmt.Println(err)
	// Output:
	// INIT 2 150 90 1s
	// vrrp instance "VI_2": authentication is VRRPv2 only (RFC 5798 removed it)
}
