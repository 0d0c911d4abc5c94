package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServerConfig says where and what to serve.
type ServerConfig struct {
	// Addr is host:port to listen on ("127.0.0.1:0" picks a free port).
	Addr string
	// Pprof serves /debug/pprof/ beside /metrics.
	Pprof bool
	// Logger receives the listening address, warnings and errors;
	// slog.Default() if nil.
	Logger *slog.Logger
}

// Server serves a Metrics' handler over HTTP until Close.
type Server struct {
	log  *slog.Logger
	addr string // the bound address, fixed by Listen

	mu   sync.Mutex
	http *http.Server // guarded by mu; nil once closed
}

// Listen binds cfg.Addr and serves in the background. It warns when the
// address is reachable from other machines: nothing here is
// authenticated, and pprof reveals memory contents and costs CPU.
func (m *Metrics) Listen(cfg ServerConfig) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	writeTimeout := 30 * time.Second
	if cfg.Pprof {
		// /debug/pprof/profile samples for 30 s by default.
		writeTimeout = 2 * time.Minute
	}
	hs := &http.Server{
		Handler:           m.Handler(cfg.Pprof),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	s := &Server{log: log, addr: ln.Addr().String(), http: hs}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	if !loopbackOnly(ln.Addr()) {
		log.Warn("metrics address is reachable from other machines and has no authentication; prefer 127.0.0.1",
			"addr", s.addr, "pprof", cfg.Pprof)
	}
	log.Info("metrics listening", "addr", s.addr, "pprof", cfg.Pprof)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// Close stops serving, waiting up to 5 s for scrapes in flight. Closing
// twice is harmless.
func (s *Server) Close() error {
	s.mu.Lock()
	hs := s.http
	s.http = nil
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(ctx)
}

// loopbackOnly reports whether a bound address is reachable from this
// machine only (an unspecified address, 0.0.0.0 or ::, is every
// interface).
func loopbackOnly(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
