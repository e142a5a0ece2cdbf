package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestResolveBuildInfo: what the Makefile links in wins over Go's build
// info, so a tagged build never shows the pseudo-version that VCS stamping
// records for a checkout.
func TestResolveBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/lvsctl/lvsctl", Version: "v0.0.0-20261121103941-b5212417e79e"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "b5212417e79e0000000000000000000000000000"},
			{Key: "vcs.time", Value: "2026-11-21T10:39:41Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name string
		link linkInfo
		bi   *debug.BuildInfo
		want buildInfo
	}{
		{
			name: "tagged release build",
			link: linkInfo{version: "v0.1.0", commit: "0123456789abcdef0123456789abcdef01234567", commitTime: "2026-12-04T22:00:00Z"},
			bi:   stamped,
			want: buildInfo{Version: "v0.1.0", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-12-04T22:00:00Z", GoVersion: "go1.26.8"},
		},
		{
			name: "build after a tag, with local changes",
			link: linkInfo{version: "v0.1.0-3-g0123456-dirty", commit: "0123456789abcdef0123456789abcdef01234567"},
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			want: buildInfo{Version: "v0.1.0-3-g0123456-dirty", Revision: "0123456789abcdef0123456789abcdef01234567", Modified: true, GoVersion: "go1.26.8"},
		},
		{
			name: "plain go build with VCS stamping",
			bi:   stamped,
			want: buildInfo{Version: "v0.0.0-20261121103941-b5212417e79e", Revision: "b5212417e79e0000000000000000000000000000", Time: "2026-11-21T10:39:41Z", Modified: true, GoVersion: "go1.26.8"},
		},
		{
			name: "go install module@v0.1.0",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.1.0"}},
			want: buildInfo{Version: "v0.1.0", GoVersion: "go1.26.8"},
		},
		{
			name: "no build info",
			want: buildInfo{Version: "(devel)", GoVersion: "go-runtime"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, resolveBuildInfo(tc.link, tc.bi, "go-runtime"))
		})
	}
}

func TestWriteVersion(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    buildInfo
		want string
	}{
		{
			name: "release",
			b:    buildInfo{Version: "v0.1.0", Revision: "0123456789abcdef", Time: "2026-12-04T22:00:00Z", GoVersion: "go1.26.8"},
			want: "lvsctl v0.1.0\ncommit: 0123456789abcdef\ncommit time: 2026-12-04T22:00:00Z\ngo: go1.26.8 linux/arm64\n",
		},
		{
			name: "dirty",
			b:    buildInfo{Version: "v0.1.0-dirty", Revision: "0123456789abcdef", Modified: true, GoVersion: "go1.26.8"},
			want: "lvsctl v0.1.0-dirty\ncommit: 0123456789abcdef (with local changes)\ngo: go1.26.8 linux/arm64\n",
		},
		{
			name: "no VCS",
			b:    buildInfo{Version: "(devel)", GoVersion: "go1.26.8"},
			want: "lvsctl (devel)\ncommit: unknown (built without VCS information)\ngo: go1.26.8 linux/arm64\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sb strings.Builder
			writeVersion(&sb, tc.b, "linux/arm64")
			assert.Equal(t, tc.want, sb.String())
		})
	}
}
