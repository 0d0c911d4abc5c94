package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/wallet"
)

// fakeNode answers every call with answer(method, params, id); it records
// the last request's headers.
type fakeNode struct {
	srv        *httptest.Server
	lastAuth   string
	lastCT     string
	lastMethod string
	lastParams json.RawMessage
}

func newFakeNode(t *testing.T, answer func(w http.ResponseWriter, method string, params json.RawMessage, id json.RawMessage)) *fakeNode {
	t.Helper()
	f := &fakeNode{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.lastAuth, f.lastCT = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		var req struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Method  string          `json:"method"`
			Params  json.RawMessage `json:"params"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil || req.JSONRPC != "2.0" || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f.lastMethod, f.lastParams = req.Method, req.Params
		answer(w, req.Method, req.Params, req.ID)
	}))
	t.Cleanup(f.srv.Close)
	if !strings.HasPrefix(f.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, not loopback", f.srv.URL)
	}
	return f
}

func result(w http.ResponseWriter, id json.RawMessage, v string) {
	w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":` + v + `}`))
}

func newTestClient(t *testing.T, url string) *Client {
	t.Helper()
	c, err := New(Config{URL: url, Token: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCallSendsTokenAndDecodes: a call is a JSON-RPC 2.0 POST with the
// bearer token and positional parameters; the result decodes into the
// server's type.
func TestCallSendsTokenAndDecodes(t *testing.T) {
	f := newFakeNode(t, func(w http.ResponseWriter, method string, _ json.RawMessage, id json.RawMessage) {
		result(w, id, `{"address":"ltest1x","balance":42,"nonce":3,"pendingNonce":5}`)
	})
	c := newTestClient(t, f.srv.URL)
	a, err := c.Account(context.Background(), "ltest1x")
	if err != nil {
		t.Fatal(err)
	}
	if a.Balance != 42 || a.Nonce != 3 || a.PendingNonce != 5 || a.Address != "ltest1x" {
		t.Fatalf("account %+v", a)
	}
	if f.lastAuth != "Bearer secret" || f.lastCT != "application/json" {
		t.Fatalf("headers: Authorization %q, Content-Type %q", f.lastAuth, f.lastCT)
	}
	if f.lastMethod != "state_getAccount" || string(f.lastParams) != `["ltest1x"]` {
		t.Fatalf("sent %s %s", f.lastMethod, f.lastParams)
	}
}

// TestCallErrors: every failure has its kind; a node's error keeps its
// code, message and data.reason.
func TestCallErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		kind    ErrorKind
		check   func(t *testing.T, e *Error)
	}{
		{"rpc error with reason", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"transaction refused: fee too low","data":{"reason":"ErrFeeTooLow"}}}`))
		}, ErrRPC, func(t *testing.T, e *Error) {
			if e.Code != -32000 || e.Reason != "ErrFeeTooLow" || !strings.Contains(e.Error(), "fee too low (ErrFeeTooLow)") {
				t.Errorf("error %+v: %v", e, e)
			}
			if !HasReason(e, "ErrFeeTooLow") || HasReason(e, "ErrBadNonce") {
				t.Errorf("HasReason is wrong")
			}
		}},
		{"rpc error with null id", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}`))
		}, ErrRPC, func(t *testing.T, e *Error) {
			if e.Code != -32600 || e.Reason != "" {
				t.Errorf("error %+v", e)
			}
		}},
		{"unauthorized", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		}, ErrUnauthorized, nil},
		{"http error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		}, ErrHTTP, func(t *testing.T, e *Error) {
			if e.Code != 413 || !strings.Contains(e.Error(), "too large") {
				t.Errorf("error %v", e)
			}
		}},
		{"not json", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }, ErrBadResponse, nil},
		{"not 2.0", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"jsonrpc":"1.0","id":1,"result":{}}`))
		}, ErrBadResponse, nil},
		{"other id", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"jsonrpc":"2.0","id":2,"result":{}}`))
		}, ErrBadResponse, nil},
		{"error for other id", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"x"}}`))
		}, ErrBadResponse, nil},
		{"no result", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"jsonrpc":"2.0","id":1}`)) }, ErrBadResponse, nil},
		{"result of wrong type", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{"height":"three"}}`))
		}, ErrBadResponse, nil},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":"` + strings.Repeat("a", 2000) + `"}`))
		}, ErrBadResponse, func(t *testing.T, e *Error) {
			if !strings.Contains(e.Message, "larger than") {
				t.Errorf("error %v", e)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c, err := New(Config{URL: srv.URL, Token: "t", MaxResponse: 1024})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Head(context.Background())
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tc.kind) {
				t.Fatalf("error %v, want kind %s", err, tc.kind)
			}
			if e.Method != "chain_head" {
				t.Errorf("error names method %q", e.Method)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

// TestUnreachable: a node that is not listening is ErrUnreachable, with
// the cause wrapped.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newTestClient(t, url)
	_, err := c.NodeInfo(context.Background())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), url) {
		t.Fatalf("error %v, want ErrUnreachable naming %s", err, url)
	}
}

// TestNewRefusesBadConfig: URLs that are not http(s) and tokens with line
// breaks are refused before any call.
func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "127.0.0.1:7401"},
		{URL: "ftp://127.0.0.1:7401"},
		{URL: "http://127.0.0.1:7401/ x"},
		{URL: "http://127.0.0.1:7401", Token: "a\nb"},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("New(%+v) = %v, want ErrBadConfig", cfg, err)
		}
	}
}

// TestRawResultAndNamedParams: a *json.RawMessage receives the result as
// sent; map params go by name.
func TestRawResultAndNamedParams(t *testing.T) {
	f := newFakeNode(t, func(w http.ResponseWriter, _ string, _ json.RawMessage, id json.RawMessage) {
		result(w, id, `{"big":123456789012345678901234567890}`)
	})
	c := newTestClient(t, f.srv.URL)
	var raw json.RawMessage
	if err := c.Call(context.Background(), "x_y", map[string]any{"a": 1}, &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"big":123456789012345678901234567890}` || string(f.lastParams) != `{"a":1}` {
		t.Fatalf("raw %s, params %s", raw, f.lastParams)
	}
	if _, err := c.Transactions(context.Background(), "ltest1x", 10, "c1"); err != nil {
		t.Fatal(err)
	}
	if string(f.lastParams) != `{"address":"ltest1x","cursor":"c1","limit":10}` {
		t.Fatalf("state_getTransactions params %s", f.lastParams)
	}
}

// TestWalletNode: the adapter renders the address with the network's
// prefix, returns the account and the fee rate, and refuses an answer for
// another account.
func TestWalletNode(t *testing.T) {
	var addr types.Address
	addr[0] = 7
	want := addr.Bech32("ltest")
	answerFor := want
	f := newFakeNode(t, func(w http.ResponseWriter, method string, _ json.RawMessage, id json.RawMessage) {
		switch method {
		case "state_getAccount":
			result(w, id, `{"address":"`+answerFor+`","balance":1000,"nonce":2,"pendingNonce":4}`)
		case "tx_estimateFee":
			result(w, id, `{"feeRate":3,"blocks":3,"transferFee":444,"minFeeRate":1,"poolFeeRate":3,"recentFeeRate":0}`)
		}
	})
	var n wallet.NodeClient = WalletNode{Client: newTestClient(t, f.srv.URL), Ctx: context.Background(), Prefix: "ltest"}
	bal, nonce, pending, err := n.Account(addr)
	if err != nil || bal != 1000 || nonce != 2 || pending != 4 {
		t.Fatalf("Account = %d %d %d %v", bal, nonce, pending, err)
	}
	if string(f.lastParams) != `["`+want+`"]` {
		t.Fatalf("asked for %s, want %s", f.lastParams, want)
	}
	rate, err := n.EstimateFee()
	if err != nil || rate != 3 {
		t.Fatalf("EstimateFee = %d %v", rate, err)
	}
	answerFor = "ltest1other"
	if _, _, _, err := n.Account(addr); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("answer for another account: %v, want ErrBadResponse", err)
	}
}

// FuzzDecodeResponse: no response body makes the decoder panic, and any
// success decodes a result or an error, never both.
func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"height":3,"hash":"ab"}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"m","data":{"reason":"ErrX"}}}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m","data":"not an object"}}`,
		`{"jsonrpc":"2.0","id":1,"result":null}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var head struct {
			Height uint32 `json:"height"`
		}
		err := decodeResponse("chain_head", 1, data, &head)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) || (e.Kind != ErrRPC && e.Kind != ErrBadResponse) {
			t.Fatalf("error %v is not an ErrRPC or ErrBadResponse *Error", err)
		}
	})
}

// TestRedirectRefused: a 3xx answer is an ErrHTTP naming where it points;
// the client follows none, so the target never sees the request or the
// token, whatever the status.
func TestRedirectRefused(t *testing.T) {
	target := newFakeNode(t, func(w http.ResponseWriter, _ string, _ json.RawMessage, id json.RawMessage) {
		result(w, id, `{"height":1,"hash":"ab"}`)
	})
	var targetHits atomic.Int32
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		target.srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer counting.Close()
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, counting.URL+"/rpc", code)
			}))
			defer redirector.Close()
			for _, c := range []*Client{
				newTestClient(t, redirector.URL),
				mustNew(t, Config{URL: redirector.URL, Token: "secret", HTTPClient: &http.Client{}}),
			} {
				_, err := c.Head(context.Background())
				var e *Error
				if !errors.As(err, &e) || e.Kind != ErrHTTP || e.Code != code ||
					!strings.Contains(err.Error(), "redirect to \""+counting.URL+"/rpc\"") {
					t.Fatalf("error %v, want ErrHTTP %d naming the redirect target", err, code)
				}
			}
			if n := targetHits.Load(); n != 0 {
				t.Fatalf("the redirect was followed: the target got %d requests", n)
			}
		})
	}
}

func mustNew(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNoProxy: with HTTP_PROXY set, a node at a non-loopback name is
// still dialled directly; the proxy never sees the request or the token.
// The dial is redirected to a local server so that nothing leaves
// 127.0.0.1.
func TestNoProxy(t *testing.T) {
	var proxyHits atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxyHits.Add(1)
		http.Error(w, "proxy", http.StatusBadGateway)
	}))
	defer proxy.Close()
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	node := newFakeNode(t, func(w http.ResponseWriter, _ string, _ json.RawMessage, id json.RawMessage) {
		result(w, id, `{"height":7,"hash":"ab"}`)
	})
	c := newTestClient(t, "http://ledger-node.example:7401")
	tr, ok := c.http.Transport.(*http.Transport)
	if !ok || tr.Proxy != nil {
		t.Fatalf("transport %T with a proxy function: the environment's proxy would be used", c.http.Transport)
	}
	var dialed []string
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		var d net.Dialer
		return d.DialContext(ctx, "tcp", node.srv.Listener.Addr().String())
	}
	h, err := c.Head(context.Background())
	if err != nil || h.Height != 7 {
		t.Fatalf("Head = %+v, %v", h, err)
	}
	if proxyHits.Load() != 0 || len(dialed) != 1 || dialed[0] != "ledger-node.example:7401" || node.lastAuth != "Bearer secret" {
		t.Fatalf("proxy hits %d, dialled %q, node saw %q: want the node dialled directly with the token",
			proxyHits.Load(), dialed, node.lastAuth)
	}
}
