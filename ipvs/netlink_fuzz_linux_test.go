package ipvs

import (
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/require"
)

// FuzzDecodeService feeds arbitrary bytes to the service decoder. It must
// never panic, and whatever it accepts must survive encode -> decode.
func FuzzDecodeService(f *testing.F) {
	for _, s := range roundTripServices {
		b, err := encodeService(s, true)
		require.NoError(f, err)
		f.Add(b)
	}
	inner, err := netlink.UnmarshalAttributes(unhex(f, kernelService))
	require.NoError(f, err)
	f.Add(inner[0].Data)
	f.Add([]byte{})
	f.Add([]byte{4, 0, 1, 0})

	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = serviceFromMessage(b)
		st, err := decodeService(b)
		if err != nil {
			return
		}
		enc, err := encodeService(st.Service, true)
		if err != nil {
			return // e.g. a scheduler name the kernel would never report
		}
		again, err := decodeService(enc)
		require.NoError(t, err)
		want := st.Service.Normalize()
		want.RealServers = nil
		require.Equal(t, want, again.Service)
	})
}

// FuzzDecodeDest does the same for real servers.
func FuzzDecodeDest(f *testing.F) {
	for _, r := range roundTripReals {
		b, err := encodeDest(r, true)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, d := range []string{kernelDestTunnel, kernelDestOld} {
		inner, err := netlink.UnmarshalAttributes(unhex(f, d))
		require.NoError(f, err)
		f.Add(inner[0].Data)
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = destFromMessage(b, IPv6)
		rs, err := decodeDest(b, IPv4)
		if err != nil {
			return
		}
		enc, err := encodeDest(rs.Real, true)
		require.NoError(t, err)
		again, err := decodeDest(enc, IPv4)
		require.NoError(t, err)
		require.Equal(t, rs.Real, again.Real)
	})
}
