package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
	"github.com/ledger-node/ledger/mempool"
	"github.com/ledger-node/ledger/miner"
	"github.com/ledger-node/ledger/p2p"
)

const testToken = "test-token-0123456789"

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// stack is a real chain store, pool and miner on a chaingen network, with
// the RPC server on an httptest server (127.0.0.1).
type stack struct {
	t     testing.TB
	g     *chaingen.Generator
	c     *chain.Chain
	p     *mempool.Pool
	m     *miner.Miner
	net   *fakeNet
	srv   *Server
	http  *httptest.Server
	tip   types.Hash
	clock time.Time
	// blocks are the generated main-chain blocks, by height-1.
	blocks []*types.Block
}

type stackOpts struct {
	noMiner bool
	net     bool
	mod     func(*Config)
}

func newStack(t testing.TB, o stackOpts) *stack {
	t.Helper()
	g := chaingen.New(chaingen.Options{})
	s := &stack{t: t, g: g, tip: g.Genesis.Hash, clock: time.Unix(int64(g.Params.GenesisTime)+86400, 0)}
	now := func() time.Time { return s.clock }
	c, err := chain.Open(chain.Config{Dir: t.TempDir(), Genesis: g.Genesis, Clock: now, Logger: quietLogger(), SkipStateCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p, err := mempool.New(mempool.Config{Chain: c, Clock: now, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s.c, s.p = c, p
	cfg := Config{Token: testToken, Version: "test", Chain: c, Pool: p, Logger: quietLogger()}
	if !o.noMiner {
		m, err := miner.New(miner.Config{Chain: c, Pool: p, Address: chaingen.AddrOf(chaingen.Key("rpc-miner", 0)),
			Threads: 1, Clock: now, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Stop)
		s.m, cfg.Miner = m, m
	}
	if o.net {
		s.net = &fakeNet{bans: map[peer.ID]p2p.Ban{}}
		cfg.Network = s.net
	}
	if o.mod != nil {
		o.mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = srv
	s.http = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { s.http.Close(); srv.Close() })
	return s
}

// connect builds a block on the tip with txs and feeds it to the chain.
func (s *stack) connect(txs ...*types.Tx) *types.Block {
	s.t.Helper()
	b := s.g.MustBlock(s.tip, txs)
	if _, err := s.c.ProcessBlock(b); err != nil {
		s.t.Fatalf("process block: %v", err)
	}
	if err := s.p.Sync(); err != nil {
		s.t.Fatal(err)
	}
	s.tip = b.Hash()
	s.blocks = append(s.blocks, b)
	return b
}

// rpcResponse is one JSON-RPC response.
type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Reason string `json:"reason"`
		} `json:"data"`
	} `json:"error"`
}

// post sends body with the token (if tok != "") and returns the status and
// the body.
func (s *stack) post(body []byte, tok string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.http.URL+"/", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.http.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// call makes one call and returns the response.
func (s *stack) call(method string, params any) rpcResponse {
	s.t.Helper()
	m := map[string]any{"jsonrpc": "2.0", "id": 1, "method": method}
	if params != nil {
		m["params"] = params
	}
	body, _ := json.Marshal(m)
	code, out := s.post(body, testToken)
	if code != 200 {
		s.t.Fatalf("%s: HTTP %d: %s", method, code, out)
	}
	var r rpcResponse
	if err := json.Unmarshal(out, &r); err != nil {
		s.t.Fatalf("%s: %v: %s", method, err, out)
	}
	return r
}

// ok calls and decodes the result into v, failing on an error.
func (s *stack) ok(method string, params any, v any) {
	s.t.Helper()
	r := s.call(method, params)
	if r.Error != nil {
		s.t.Fatalf("%s(%v): error %d %s (%s)", method, params, r.Error.Code, r.Error.Message, r.Error.Data.Reason)
	}
	if v != nil {
		if err := json.Unmarshal(r.Result, v); err != nil {
			s.t.Fatalf("%s: decode %s: %v", method, r.Result, err)
		}
	}
}

// fails calls and checks the error code and, if reason != "", the reason.
func (s *stack) fails(method string, params any, code int, reason string) {
	s.t.Helper()
	r := s.call(method, params)
	if r.Error == nil {
		s.t.Fatalf("%s(%v): result %s, want error %d", method, params, r.Result, code)
	}
	if r.Error.Code != code || (reason != "" && r.Error.Data.Reason != reason) {
		s.t.Fatalf("%s(%v): error %d %q reason %q, want %d %q", method, params, r.Error.Code, r.Error.Message, r.Error.Data.Reason, code, reason)
	}
}

// fakeNet stands in for the p2p layer.
type fakeNet struct {
	mu        sync.Mutex
	published []*types.Tx
	connected []string
	bans      map[peer.ID]p2p.Ban
}

var testPeer = peer.ID("12D3KooWtestpeer")

func (f *fakeNet) ID() peer.ID { return testPeer }
func (f *fakeNet) Addrs() []string {
	return []string{"/ip4/127.0.0.1/tcp/7400/p2p/" + testPeer.String()}
}
func (f *fakeNet) Peers() []p2p.PeerInfo {
	return []p2p.PeerInfo{{ID: testPeer, Addrs: []string{"/ip4/127.0.0.1/tcp/7500"}, Direction: "outbound", Height: 100, LatencyMs: 1.5, Score: 0}}
}
func (f *fakeNet) Connect(_ context.Context, addr string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected = append(f.connected, addr)
	return nil
}
func (f *fakeNet) BanPeer(p peer.ID, d time.Duration, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bans[p] = p2p.Ban{Peer: p, Until: time.Now().Add(d), Reason: reason}
	return nil
}
func (f *fakeNet) UnbanPeer(p peer.ID) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.bans[p]
	delete(f.bans, p)
	return ok, nil
}
func (f *fakeNet) Bans() []p2p.Ban {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []p2p.Ban
	for _, b := range f.bans {
		out = append(out, b)
	}
	return out
}
func (f *fakeNet) PublishTx(tx *types.Tx) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, tx)
	return nil
}
