package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildInfo is what the binary knows of its own build: the module version
// ("(devel)" for a build from a checkout), the VCS commit and time (when
// built with -buildvcs, the default of `go build` in a git checkout), and
// the Go version.
type buildInfo struct {
	Version   string
	Revision  string
	Time      string
	Modified  bool
	GoVersion string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if bi.Main.Version != "" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one-line form used in logs and status: "(devel) 429d04f1c2e3+".
func (b buildInfo) String() string {
	s := b.Version
	if b.Revision != "" {
		s += " " + short(b.Revision)
		if b.Modified {
			s += "+"
		}
	}
	return s
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print lvsctl's version, commit and Go version",
		Long: `version prints the module version (a release tag, or "(devel)" for a build
from a checkout), the commit it was built from and whether the tree had
local changes (when the build recorded them: go build in a git checkout
does, unless -buildvcs=false), and the Go version and platform.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b := readBuildInfo()
			fmt.Fprintf(e.stdout, "lvsctl %s\n", b.Version)
			rev := b.Revision
			switch {
			case rev == "":
				rev = "unknown (built without VCS information)"
			case b.Modified:
				rev += " (with local changes)"
			}
			fmt.Fprintf(e.stdout, "commit: %s\n", rev)
			if b.Time != "" {
				fmt.Fprintf(e.stdout, "commit time: %s\n", b.Time)
			}
			fmt.Fprintf(e.stdout, "go: %s %s/%s\n", b.GoVersion, runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
