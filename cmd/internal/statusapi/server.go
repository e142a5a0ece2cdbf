package statusapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Server serves Status on a unix socket. Create it with Listen.
type Server struct {
	path string
	info os.FileInfo // the socket file we made, to remove only ours
	srv  *http.Server
	done chan struct{}
}

// Listen creates the socket at path with mode 0600 (its directory is
// created 0755 if missing) and serves status() on it until Close. A stale
// socket left by a killed daemon is replaced; a live one is an error.
//
// The socket is bound under a temporary name, restricted, then renamed into
// place, so it is never reachable with looser permissions.
func Listen(path string, status func() Status, log *slog.Logger) (*Server, error) {
	return ListenWith(path, Handlers{Status: status}, log)
}

// Handlers are what the socket serves: Status always, and the
// configuration resources (config.go) when set.
type Handlers struct {
	Status func() Status
	Plan   ConfigHandler // POST /v1/plan
	Apply  ConfigHandler // POST /v1/apply
}

// ListenWith is Listen serving h.
func ListenWith(path string, h Handlers, log *slog.Logger) (*Server, error) {
	status := h.Status
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*Server, error) {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("status socket %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	info, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(status()); err != nil {
			log.Debug("status request", "err", err)
		}
	})
	if h.Plan != nil {
		mux.HandleFunc("POST "+PlanPath, serveConfig(h.Plan, 30*time.Second))
	}
	if h.Apply != nil {
		mux.HandleFunc("POST "+ApplyPath, serveConfig(h.Apply, applyTimeout))
	}
	s := &Server{
		path: path, info: info, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)},
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("status socket stopped", "socket", path, "err", err)
		}
	}()
	return s, nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops serving and removes the socket, if it is still ours.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	if now, serr := os.Lstat(s.path); serr == nil && os.SameFile(now, s.info) {
		os.Remove(s.path)
	}
	return err
}

// removeStale removes a socket at path that nobody serves.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("status socket: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("status socket %s: exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("status socket %s: another lvsctl run is serving it (use --socket for another one)", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("status socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("status socket: remove stale %s: %w", path, err)
	}
	return nil
}
