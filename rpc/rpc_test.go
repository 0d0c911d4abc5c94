package rpc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/mempool"
	"github.com/ledger-node/ledger/miner"
)

func TestAuth(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"chain_head"}`)
	for _, tc := range []struct {
		tok  string
		want int
	}{{"", 401}, {"wrong", 401}, {testToken + "x", 401}, {testToken, 200}} {
		if code, out := s.post(body, tc.tok); code != tc.want {
			t.Errorf("token %q: HTTP %d (%s), want %d", tc.tok, code, out, tc.want)
		}
	}
	// Scheme in another case, no token at all.
	req, _ := http.NewRequest("POST", s.http.URL+"/", bytes.NewReader(body))
	req.Header.Set("Authorization", "bearer "+testToken)
	resp, err := s.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("lower-case scheme: HTTP %d", resp.StatusCode)
	}
	// Health needs no token.
	resp, err = s.http.Client().Get(s.http.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h Health
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h.Status != "ok" || h.Syncing {
		t.Errorf("health: HTTP %d %+v", resp.StatusCode, h)
	}
	if !strings.HasPrefix(s.http.Listener.Addr().String(), "127.0.0.1:") {
		t.Errorf("test server on %s", s.http.Listener.Addr())
	}
}

func TestProtocolErrors(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.MaxBody = 4096; c.MaxBatch = 5 }})
	decode := func(out []byte) rpcResponse {
		t.Helper()
		var r rpcResponse
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return r
	}
	code, out := s.post([]byte(`{"jsonrpc":"2.0","id":1,"method":`), testToken)
	if r := decode(out); code != 200 || r.Error == nil || r.Error.Code != -32700 {
		t.Errorf("malformed JSON: HTTP %d %s", code, out)
	}
	code, out = s.post([]byte(`[]`), testToken)
	if r := decode(out); r.Error == nil || r.Error.Code != -32600 {
		t.Errorf("empty batch: HTTP %d %s", code, out)
	}
	code, out = s.post([]byte(`{"id":1,"method":"chain_head"}`), testToken)
	if r := decode(out); r.Error == nil || r.Error.Code != -32600 {
		t.Errorf("no jsonrpc member: HTTP %d %s", code, out)
	}
	s.fails("no_such_method", nil, -32601, "")
	s.fails("chain_getBlockByHeight", []any{"abc"}, -32602, ReasonBadParams)
	s.fails("chain_getBlockByHeight", nil, -32602, ReasonBadParams)
	s.fails("chain_getBlockByHeight", []any{1, true, 3}, -32602, ReasonBadParams)
	s.fails("chain_getBlockByHeight", map[string]any{"heigth": 1}, -32602, ReasonBadParams)
	s.fails("chain_getBlockByHash", []any{"zz"}, -32602, ReasonBadParams)
	s.fails("chain_head", []any{1}, -32602, ReasonBadParams)
	s.fails("state_getAccount", []any{"notanaddress"}, -32602, ReasonBadParams)

	// Oversized body: 413.
	big := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"chain_head","params":[%q]}`, strings.Repeat("a", 5000))
	if code, out := s.post([]byte(big), testToken); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: HTTP %d %s", code, out)
	}
	// Batches: within the limit, answered in order; beyond, refused.
	batch := func(n int) []byte {
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"chain_head"}`, i))
		}
		return []byte("[" + strings.Join(parts, ",") + "]")
	}
	code, out = s.post(batch(5), testToken)
	var rs []rpcResponse
	if err := json.Unmarshal(out, &rs); code != 200 || err != nil || len(rs) != 5 || rs[4].Error != nil {
		t.Errorf("batch of 5: HTTP %d %s", code, out)
	}
	code, out = s.post(batch(6), testToken)
	if r := decode(out); r.Error == nil || r.Error.Code != -32600 || !strings.Contains(r.Error.Message, "batch") {
		t.Errorf("batch of 6: HTTP %d %s", code, out)
	}
	// A batch mixing good and bad calls answers each.
	code, out = s.post([]byte(`[{"jsonrpc":"2.0","id":1,"method":"chain_head"},{"jsonrpc":"2.0","id":2,"method":"nope"}]`), testToken)
	rs = nil
	if err := json.Unmarshal(out, &rs); err != nil || len(rs) != 2 || rs[0].Error != nil || rs[1].Error == nil || rs[1].Error.Code != -32601 {
		t.Errorf("mixed batch: HTTP %d %s", code, out)
	}
	// Wrong HTTP method.
	resp, err := s.http.Client().Get(s.http.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /: HTTP %d", resp.StatusCode)
	}
	// Still serving.
	var h Head
	s.ok("chain_head", nil, &h)
	if h.Height != 0 || h.Hash != s.g.Genesis.Hash.String() {
		t.Errorf("head after abuse: %+v", h)
	}
}

func TestCORS(t *testing.T) {
	for _, origins := range [][]string{nil, {"http://good.example"}} {
		s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.CORSOrigins = origins }})
		for _, origin := range []string{"http://good.example", "http://evil.example"} {
			req, _ := http.NewRequest("POST", s.http.URL+"/", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"chain_head"}`))
			req.Header.Set("Origin", origin)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := s.http.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get("Access-Control-Allow-Origin")
			want := ""
			if origins != nil && origin == "http://good.example" {
				want = origin
			}
			if got != want {
				t.Errorf("origins %v, origin %s: Allow-Origin %q, want %q", origins, origin, got, want)
			}
		}
	}
}

func TestCookie(t *testing.T) {
	dir := t.TempDir()
	tok, err := WriteCookie(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(CookiePath(dir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cookie: %v %v", fi.Mode(), err)
	}
	got, err := ReadCookie(dir)
	if err != nil || got != tok || len(tok) != 64 {
		t.Fatalf("read cookie %q %v, wrote %q", got, err, tok)
	}
	tok2, _ := WriteCookie(dir)
	if tok2 == tok {
		t.Fatal("a new start must write a new token")
	}
	if err := RemoveCookie(dir); err != nil {
		t.Fatal(err)
	}
	// A cookie file is read within a bound: an oversized one is refused.
	if err := os.WriteFile(CookiePath(dir), bytes.Repeat([]byte{'a'}, maxCookieSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadCookie(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized cookie read as %q, %v", truncate([]byte(got)), err)
	}
}

func TestStartListensOnLoopback(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	srv, err := New(Config{Addr: "127.0.0.1:0", Token: "x", Chain: s.c, Pool: s.p, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
		t.Fatalf("listening on %s", srv.Addr())
	}
	if (Config{}).withDefaults().Addr != "127.0.0.1:7401" {
		t.Fatal("default address is not loopback")
	}
	resp, err := http.Get("http://" + srv.Addr() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
}

func TestNodeMethods(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	var info NodeInfo
	s.ok("node_info", nil, &info)
	if info.GenesisHash != s.g.Genesis.Hash.String() || info.ChainID != s.g.Params.ChainID || info.AddressPrefix != s.g.Params.AddressPrefix || info.Version != "test" || info.PeerID != "" {
		t.Errorf("node_info %+v", info)
	}
	var peers []Peer
	r := s.call("node_peers", nil)
	if string(r.Result) != "[]" {
		t.Errorf("node_peers without network: %s", r.Result)
	}
	var st SyncStatus
	s.ok("node_syncStatus", nil, &st)
	if st.Syncing || st.Progress != 1 {
		t.Errorf("sync %+v", st)
	}
	s.fails("node_addPeer", []any{"/ip4/127.0.0.1/tcp/1"}, int(CodeUnavailable), ReasonNoNetwork)
	r = s.call("node_listBans", nil)
	if string(r.Result) != "[]" {
		t.Errorf("node_listBans: %s", r.Result)
	}

	// With a network.
	n := newStack(t, stackOpts{noMiner: true, net: true})
	n.ok("node_info", nil, &info)
	if info.PeerID != testPeer.String() || len(info.ListenAddrs) != 1 {
		t.Errorf("node_info %+v", info)
	}
	n.ok("node_peers", nil, &peers)
	if len(peers) != 1 || peers[0].Height != 100 || peers[0].Direction != "outbound" {
		t.Errorf("node_peers %+v", peers)
	}
	n.ok("node_syncStatus", nil, &st)
	if !st.Syncing || st.BestKnownHeight != 100 || st.Progress != 0 {
		t.Errorf("sync %+v", st)
	}
	n.ok("node_addPeer", []any{"/ip4/127.0.0.1/tcp/7400"}, nil)
	_, pub, _ := crypto.GenerateEd25519Key(nil)
	pid, _ := peer.IDFromPublicKey(pub)
	n.ok("node_banPeer", []any{pid.String(), 60}, nil)
	var bans []BanInfo
	n.ok("node_listBans", nil, &bans)
	if len(bans) != 1 || bans[0].PeerID != pid.String() {
		t.Errorf("bans %+v", bans)
	}
	var unbanned bool
	n.ok("node_unbanPeer", map[string]any{"peerId": pid.String()}, &unbanned)
	if !unbanned {
		t.Error("unban: false")
	}
	n.fails("node_banPeer", []any{"notapeer", 60}, -32602, ReasonBadParams)
	n.fails("node_banPeer", []any{pid.String(), 0}, -32602, ReasonBadParams)
}

func TestChainMethods(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	tx := s.g.Transfer(0, s.g.Addrs[1], 5*types.Coin, 1000, 0)
	s.connect()
	b2 := s.connect(tx)
	b3 := s.connect()

	var h Head
	s.ok("chain_head", nil, &h)
	if h.Height != 3 || h.Hash != b3.Hash().String() || h.Timestamp != b3.Header.Time || h.TotalWork == "" || len(h.Bits) != 8 {
		t.Errorf("head %+v", h)
	}
	var b Block
	s.ok("chain_getBlockByHeight", []any{2}, &b)
	if b.Hash != b2.Hash().String() || b.Height != 2 || b.Parent != b2.Header.PrevBlock.String() || len(b.Txs) != 2 ||
		b.Txs[1] != tx.Hash().String() || b.Size != b2.EncodedSize() || b.StateRoot != b2.Header.StateRoot.String() {
		t.Errorf("block %+v", b)
	}
	var full struct {
		Txs []Tx `json:"txs"`
	}
	s.ok("chain_getBlockByHash", map[string]any{"hash": b2.Hash().String(), "fullTx": true}, &full)
	if len(full.Txs) != 2 || full.Txs[1].Amount != uint64(5*types.Coin) || full.Txs[1].From != s.g.Addrs[0].Bech32(s.g.Params.AddressPrefix) || !full.Txs[0].Coinbase {
		t.Errorf("full block %+v", full)
	}
	s.fails("chain_getBlockByHeight", []any{99}, int(CodeNotFound), "ErrUnknownBlock")
	s.fails("chain_getBlockByHash", []any{strings.Repeat("00", 32)}, int(CodeNotFound), "ErrUnknownBlock")

	// Transactions: confirmed, pending, unknown.
	var tr TxResult
	s.ok("chain_getTransaction", []any{tx.Hash().String()}, &tr)
	if tr.Status != "confirmed" || tr.Height != 2 || tr.Confirmations != 2 || tr.BlockHash != b2.Hash().String() || tr.Tx.Fee != 1000 {
		t.Errorf("confirmed tx %+v %+v", tr, tr.Tx)
	}
	ptx := s.g.Transfer(0, s.g.Addrs[2], types.Coin, 1000, 1)
	if err := s.p.Add(ptx); err != nil {
		t.Fatal(err)
	}
	tr = TxResult{}
	s.ok("chain_getTransaction", []any{ptx.Hash().String()}, &tr)
	if tr.Status != "pending" || tr.PoolState != "pending" || tr.Tx.Nonce != 1 {
		t.Errorf("pending tx %+v", tr)
	}
	tr = TxResult{}
	s.ok("chain_getTransaction", []any{strings.Repeat("ab", 32)}, &tr)
	if tr.Status != "unknown" {
		t.Errorf("unknown tx %+v", tr)
	}

	// Operator: invalidate the tip, then reconsider it.
	s.ok("chain_invalidateBlock", []any{b3.Hash().String()}, &h)
	if h.Height != 2 {
		t.Errorf("after invalidate: %+v", h)
	}
	s.ok("chain_reconsiderBlock", []any{b3.Hash().String()}, &h)
	if h.Height != 3 {
		t.Errorf("after reconsider: %+v", h)
	}
	s.fails("chain_invalidateBlock", []any{s.g.Genesis.Hash.String()}, int(CodeRefused), "ErrInvalidateGenesis")
	s.fails("chain_invalidateBlock", []any{strings.Repeat("00", 32)}, int(CodeNotFound), "ErrUnknownBlock")
}

func TestStateAndMempool(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true, net: true})
	s.connect()
	addr := s.g.Addrs[0].Bech32(s.g.Params.AddressPrefix)
	var a Account
	s.ok("state_getAccount", []any{addr}, &a)
	if a.Address != addr || a.Balance == 0 || a.Nonce != 0 || a.PendingNonce != 0 {
		t.Errorf("account %+v", a)
	}

	// tx_send: accepted and published.
	tx := s.g.Transfer(0, s.g.Addrs[1], types.Coin, 1000, 0)
	var sr SendResult
	s.ok("tx_send", []any{hex.EncodeToString(tx.Encode())}, &sr)
	if sr.Hash != tx.Hash().String() || !sr.Published || len(s.net.published) != 1 {
		t.Errorf("send %+v, published %d", sr, len(s.net.published))
	}
	s.ok("state_getAccount", map[string]any{"address": addr}, &a)
	if a.PendingNonce != 1 || a.Nonce != 0 {
		t.Errorf("account after send %+v", a)
	}
	// Refusals say which rule refused.
	s.fails("tx_send", []any{hex.EncodeToString(tx.Encode())}, int(CodeTxRefused), string(mempool.ErrAlreadyKnown))
	low := s.g.Transfer(1, s.g.Addrs[2], types.Coin, 0, 0)
	s.fails("tx_send", []any{hex.EncodeToString(low.Encode())}, int(CodeTxRefused), string(mempool.ErrFeeTooLow))
	rich := s.g.Transfer(2, s.g.Addrs[3], 1_000_000*types.Coin, 1000, 0)
	s.fails("tx_send", []any{hex.EncodeToString(rich.Encode())}, int(CodeTxRefused), "ErrInsufficientBalance")
	s.fails("tx_send", []any{"00ff"}, int(CodeTxRefused), "")
	s.fails("tx_send", []any{"xyz"}, -32602, ReasonBadParams)

	// tx_status: pending, refused, unknown.
	var st TxStatus
	s.ok("tx_status", []any{tx.Hash().String()}, &st)
	if st.State != "pending" || st.Position != 1 {
		t.Errorf("status %+v", st)
	}
	s.ok("tx_status", []any{low.Hash().String()}, &st)
	if st.State != "refused" || st.Reason != string(mempool.ErrFeeTooLow) {
		t.Errorf("refused status %+v", st)
	}
	gap := s.g.Transfer(3, s.g.Addrs[4], types.Coin, 1000, 1)
	s.ok("tx_send", []any{hex.EncodeToString(gap.Encode())}, nil)
	st = TxStatus{}
	s.ok("tx_status", []any{gap.Hash().String()}, &st)
	if st.State != "queued" || st.MissingNonce == nil || *st.MissingNonce != 0 {
		t.Errorf("queued status %+v", st)
	}
	// Mined: the pool reports it removed as mined; later confirmed.
	s.connect(tx)
	st = TxStatus{}
	s.ok("tx_status", []any{tx.Hash().String()}, &st)
	if (st.State != "removed" || st.RemovedReason != "mined") && st.State != "confirmed" || st.Height != 2 {
		t.Errorf("mined status %+v", st)
	}

	var info MempoolInfo
	s.ok("mempool_info", nil, &info)
	if info.Count != 1 || info.Bytes != gap.EncodedSize() || info.MinFeeRate != 1 {
		t.Errorf("mempool_info %+v", info)
	}
	var content []PoolTx
	s.ok("mempool_content", []any{10}, &content)
	if len(content) != 1 || content[0].Hash != gap.Hash().String() || !content[0].Queued {
		t.Errorf("content %+v", content)
	}
	s.ok("mempool_content", nil, &content)
	s.fails("mempool_content", []any{0}, -32602, ReasonBadParams)

	var fe FeeEstimate
	s.ok("tx_estimateFee", nil, &fe)
	if fe.FeeRate < 1 || fe.Blocks != 3 || fe.TransferFee != fe.FeeRate*uint64(transferSize()) {
		t.Errorf("estimate %+v", fe)
	}
	s.ok("tx_estimateFee", []any{1}, &fe)
	s.fails("tx_estimateFee", []any{0}, -32602, ReasonBadParams)
}

func TestMinerMethods(t *testing.T) {
	s := newStack(t, stackOpts{})
	s.connect()
	var ms MinerStatus
	s.ok("miner_status", nil, &ms)
	if !ms.Available || ms.Running {
		t.Errorf("status %+v", ms)
	}
	addr := s.g.Addrs[5].Bech32(s.g.Params.AddressPrefix)
	var tpl Template
	s.ok("miner_getTemplate", []any{addr}, &tpl)
	if tpl.Height != 2 || tpl.Parent != s.tip.String() || len(tpl.TxIDs) != 1 || len(tpl.Target) != 64 {
		t.Errorf("template %+v", tpl)
	}
	raw, _ := hex.DecodeString(tpl.Block)
	blk, err := types.DecodeBlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	// A bad block is refused with the rule.
	bad, _ := types.DecodeBlock(raw)
	bad.Header.Height = 7
	s.g.Solve(bad)
	s.fails("miner_submitBlock", []any{hex.EncodeToString(bad.Encode())}, int(CodeBlockRefused), "ErrBadHeight")
	s.g.Solve(blk)
	var sub SubmitResult
	s.ok("miner_submitBlock", []any{hex.EncodeToString(blk.Encode())}, &sub)
	if sub.Hash != blk.Hash().String() || !sub.MainChain {
		t.Errorf("submit %+v", sub)
	}
	s.fails("miner_submitBlock", []any{hex.EncodeToString(blk.Encode())}, int(CodeBlockRefused), "ErrDuplicateBlock")
	s.fails("miner_submitBlock", []any{"00"}, int(CodeBlockRefused), "")
	s.fails("miner_getTemplate", []any{"bad"}, -32602, ReasonBadParams)

	s.ok("miner_start", nil, &ms)
	if !ms.Running {
		t.Errorf("after start %+v", ms)
	}
	s.ok("miner_start", nil, &ms) // already running: fine
	s.ok("miner_start", []any{2}, &ms)
	if !ms.Running || ms.Threads != 2 {
		t.Errorf("miner_start(2) while running: %+v", ms)
	}
	s.fails("miner_start", []any{-1}, -32602, ReasonBadParams)
	s.fails("miner_start", []any{miner.MaxThreads + 1}, -32602, ReasonBadParams)
	s.ok("miner_stop", nil, &ms)
	if ms.Running || ms.Threads != 0 {
		t.Errorf("after stop %+v", ms)
	}
	s.ok("miner_start", map[string]any{"threads": 3}, &ms)
	if !ms.Running || ms.Threads != 3 {
		t.Errorf("miner_start(threads=3): %+v", ms)
	}
	s.ok("miner_stop", nil, &ms)

	// Without a miner.
	n := newStack(t, stackOpts{noMiner: true})
	n.ok("miner_status", nil, &ms)
	if ms.Available {
		t.Errorf("no miner: %+v", ms)
	}
	n.fails("miner_start", nil, int(CodeUnavailable), ReasonNoMiner)
	n.fails("miner_getTemplate", []any{addr}, int(CodeUnavailable), ReasonNoMiner)
}

// TestMethodList checks every method the issue names is served.
func TestMethodList(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	want := strings.Fields(`node_info node_peers node_syncStatus chain_head chain_getBlockByHeight
		chain_getBlockByHash chain_getTransaction state_getAccount state_getTransactions tx_send tx_status tx_estimateFee
		mempool_info mempool_content miner_status miner_start miner_stop miner_getTemplate
		miner_submitBlock node_addPeer node_banPeer node_unbanPeer node_listBans
		chain_invalidateBlock chain_reconsiderBlock
		chain_subscribeHeads chain_unsubscribeHeads mempool_subscribeTxs mempool_unsubscribeTxs`)
	have := map[string]bool{}
	for _, m := range s.srv.Methods() {
		have[m] = true
	}
	for _, m := range want {
		if !have[m] {
			t.Errorf("method %s missing", m)
		}
	}
	if len(have) != len(want) {
		t.Errorf("%d methods served, want %d: %v", len(have), len(want), s.srv.Methods())
	}
}
