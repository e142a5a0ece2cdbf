package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Set at link time by `make build` and `make package` (-ldflags -X
// main.version=... -X main.commit=... -X main.commitTime=...), from
// `git describe --tags`: a tagged build says v0.1.0, a build after it
// v0.1.0-3-gabc1234, never a Go pseudo-version. Empty in a plain `go build`;
// then the binary's build info is used (a `go install ...@v0.1.0` records
// the tag there). These are the only package-level variables of the
// command, and nothing writes them at run time.
var (
	version    string
	commit     string
	commitTime string
)

// buildInfo is what the binary knows of its own build: its version (a
// release tag, the `git describe` of a build after one, or "(devel)"), the
// commit and its time, whether the tree had local changes, and the Go
// version.
type buildInfo struct {
	Version   string
	Revision  string
	Time      string
	Modified  bool
	GoVersion string
}

func readBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveBuildInfo(linkInfo{version: version, commit: commit, commitTime: commitTime}, bi, runtime.Version())
}

// linkInfo is what the linker was told (-X).
type linkInfo struct{ version, commit, commitTime string }

// resolveBuildInfo prefers what the Makefile passed to the linker over the
// Go build info: the latter holds a pseudo-version
// (v0.0.0-20261121103941-b5212417e79e) for a build in a checkout whenever
// VCS stamping is on, which is no release name. A "-dirty" suffix from
// git describe --dirty marks local changes.
func resolveBuildInfo(l linkInfo, bi *debug.BuildInfo, goVersion string) buildInfo {
	b := buildInfo{Version: "(devel)", GoVersion: goVersion}
	if bi != nil {
		if bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
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
	}
	if l.version != "" {
		b.Version = l.version
		b.Modified = strings.HasSuffix(l.version, "-dirty")
	}
	if l.commit != "" {
		b.Revision, b.Time = l.commit, l.commitTime
	}
	return b
}

// String is the one-line form used in logs and status: "v0.1.0 429d04f1c2e3",
// "(devel) 429d04f1c2e3+".
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
		Long: `version prints the version (a release tag such as v0.1.0, the git describe of
a build after one such as v0.1.0-3-gabc1234, or "(devel)" for a plain go
build from a checkout), the commit it was built from and whether the tree
had local changes, and the Go version and platform. Release builds (make
build, make package) set them at link time from git describe --tags.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			writeVersion(e.stdout, readBuildInfo(), runtime.GOOS+"/"+runtime.GOARCH)
			return nil
		},
	}
}

func writeVersion(w io.Writer, b buildInfo, platform string) {
	fmt.Fprintf(w, "lvsctl %s\n", b.Version)
	rev := b.Revision
	switch {
	case rev == "":
		rev = "unknown (built without VCS information)"
	case b.Modified:
		rev += " (with local changes)"
	}
	fmt.Fprintf(w, "commit: %s\n", rev)
	if b.Time != "" {
		fmt.Fprintf(w, "commit time: %s\n", b.Time)
	}
	fmt.Fprintf(w, "go: %s %s\n", b.GoVersion, platform)
}
