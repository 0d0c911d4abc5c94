package rpc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/handler"
	"github.com/creachadair/jrpc2/jhttp"
)

// Server is the JSON-RPC server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	token   [sha256.Size]byte
	methods handler.Map
	bridge  jhttp.Bridge
	handler http.Handler

	mu   sync.Mutex
	http *http.Server // guarded by mu
	ln   net.Listener // guarded by mu

	// hub: the WebSocket connections and the fan-out of notifications
	// (subscriptions.go, ws.go); hub.mu guards it.
	hub hub
}

type parsedKey struct{}

// New builds a server; Start listens, or use Handler with your own.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Chain == nil || cfg.Pool == nil {
		return nil, errors.New("rpc: Chain and Pool are required")
	}
	// Tokens read from files often end in a newline; the header value is
	// trimmed too, so trim here or the token could never match.
	cfg.Token = strings.TrimSpace(cfg.Token)
	if cfg.Token == "" {
		return nil, errors.New("rpc: no token (configure one or use WriteCookie)")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, token: sha256.Sum256([]byte(cfg.Token))}
	s.methods = handler.Map{}
	s.registerNode()
	s.registerChain()
	s.registerState()
	s.registerTx()
	s.registerMempool()
	s.registerMiner()
	s.registerSubscriptions()
	for name, h := range s.methods {
		s.methods[name] = s.withDeadline(h)
	}
	s.bridge = jhttp.NewBridge(assigner{s.methods}, &jhttp.BridgeOptions{
		Server: &jrpc2.ServerOptions{DisableBuiltin: true},
		ParseRequest: func(r *http.Request) ([]*jrpc2.ParsedRequest, error) {
			reqs, _ := r.Context().Value(parsedKey{}).([]*jrpc2.ParsedRequest)
			return reqs, nil
		},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.serveHealth)
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("/", s.serveRPC)
	s.handler = s.cors(mux)
	// Once, for the server's life: the fan-out to WebSocket subscribers.
	cfg.Chain.Subscribe(s.onChain)
	cfg.Pool.Subscribe(s.onPool)
	return s, nil
}

// withDeadline gives a handler the per-request timeout. jrpc2 runs
// handlers under its server's own context, not the HTTP request's, so
// without this a handler that waits (node_addPeer dialling, say) would not
// see the request's deadline.
func (s *Server) withDeadline(h jrpc2.Handler) jrpc2.Handler {
	timeout := s.cfg.Timeout
	return func(ctx context.Context, r *jrpc2.Request) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return h(ctx, r)
	}
}

// assigner answers unknown methods with -32601 and data.reason, like
// every other error (jrpc2 would put the method name in data).
type assigner struct{ m handler.Map }

// ReasonUnknownMethod is data.reason of -32601.
const ReasonUnknownMethod = "ErrUnknownMethod"

func (a assigner) Assign(_ context.Context, name string) jrpc2.Handler {
	if h := a.m[name]; h != nil {
		return h
	}
	return func(context.Context, *jrpc2.Request) (any, error) {
		data, _ := json.Marshal(ErrorData{Reason: ReasonUnknownMethod})
		return nil, &jrpc2.Error{Code: jrpc2.MethodNotFound, Message: "method not found: " + name, Data: data}
	}
}

// Methods lists the method names served.
func (s *Server) Methods() []string { return s.methods.Names() }

// Handler is the server's HTTP handler (RPC at "/", WebSocket at "/ws",
// health at "/health").
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on cfg.Addr and serves in the background until Close.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.Timeout,
		WriteTimeout:      s.cfg.Timeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	s.http, s.ln = hs, ln
	s.mu.Unlock()
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("rpc server stopped", "err", err)
		}
	}()
	s.log.Info("rpc listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/", "ws", "ws://"+ln.Addr().String()+"/ws")
	return nil
}

// Addr is the listening address once started.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops serving, waiting up to 5 s for requests in flight; it
// closes the WebSocket connections (waiting a few seconds for their close
// handshakes), after which chain and pool events are ignored.
func (s *Server) Close() error {
	s.closeWS()
	s.mu.Lock()
	hs := s.http
	s.http = nil
	s.mu.Unlock()
	var err error
	if hs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = hs.Shutdown(ctx)
		cancel()
	}
	return errors.Join(err, s.bridge.Close())
}

// authorized compares the bearer token in constant time (of hashes, so
// the length does not leak either).
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

func (s *Server) cors(next http.Handler) http.Handler {
	if len(s.cfg.CORSOrigins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && s.originAllowed(origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// originAllowed: origin is one of the configured CORS origins (or "*" is).
func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// serveRPC authenticates, reads the body within the limit, parses it,
// enforces the batch limit, and hands the calls to jrpc2.
func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ledger"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return
	}
	reqs, code, text := s.parseCalls(body)
	if code != 0 {
		writeError(w, code, text)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	s.bridge.ServeHTTP(w, r.WithContext(context.WithValue(ctx, parsedKey{}, reqs)))
}

// parseCalls applies the batch limit to a request body (HTTP) or message
// (WebSocket) and parses it; when the whole of it is refused, code and
// text are those of the single error answer.
func (s *Server) parseCalls(body []byte) (_ []*jrpc2.ParsedRequest, code jrpc2.Code, text string) {
	tooLarge := "batch too large: at most " + strconv.Itoa(s.cfg.MaxBatch) + " calls"
	// The batch limit is applied before parsing: parsing a 5 MiB batch of
	// tiny elements costs over a gigabyte of allocations.
	if n := topLevelElements(body, s.cfg.MaxBatch+1); n > s.cfg.MaxBatch {
		return nil, jrpc2.InvalidRequest, tooLarge
	}
	reqs, err := jrpc2.ParseRequests(body)
	if err != nil || len(reqs) == 0 {
		if !json.Valid(body) {
			return nil, jrpc2.ParseError, "parse error: " + errText(err)
		}
		return nil, jrpc2.InvalidRequest, "invalid request: " + errText(err)
	}
	if len(reqs) > s.cfg.MaxBatch {
		return nil, jrpc2.InvalidRequest, tooLarge
	}
	return reqs, 0, ""
}

func errText(err error) string {
	if err == nil {
		return "empty batch"
	}
	return err.Error()
}

// writeError answers a request that could not be parsed or was refused
// as a whole: a single error response with a null id.
func writeError(w http.ResponseWriter, code jrpc2.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(errorResponse(code, msg))
}

// errorResponse is the JSON of a single error response with a null id.
func errorResponse(code jrpc2.Code, msg string) []byte {
	b, _ := json.Marshal(struct {
		V     string       `json:"jsonrpc"`
		ID    *int         `json:"id"`
		Error *jrpc2.Error `json:"error"`
	}{"2.0", nil, &jrpc2.Error{Code: code, Message: msg}})
	return b
}

// Health is the body of GET /health.
type Health struct {
	Status  string `json:"status"`
	Height  uint32 `json:"height"`
	Syncing bool   `json:"syncing"`
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	st := s.syncStatus()
	b, _ := json.Marshal(Health{Status: "ok", Height: st.Height, Syncing: st.Syncing})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// topLevelElements counts the elements of a top-level JSON array in body,
// stopping at stop; a body that is not an array counts as one. It scans
// bytes (strings and nesting accounted for) without allocating, so the
// batch limit is enforced before anything is parsed.
func topLevelElements(body []byte, stop int) int {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
		i++
	}
	if i == len(body) || body[i] != '[' {
		return 1
	}
	depth, count, inString, escaped, sawValue := 0, 0, false, false, false
	for ; i < len(body); i++ {
		c := body[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 1 {
				count++
				if count >= stop {
					return count
				}
			}
		}
		if depth >= 1 && c != ' ' && c != '\t' && c != '\n' && c != '\r' && !(depth == 1 && (c == '[' || c == ',')) {
			sawValue = true
		}
		if depth == 0 {
			break
		}
	}
	if sawValue {
		count++
	}
	return count
}
