package main

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/wallet"
)

// sendNode is a node on 127.0.0.1 for send and tx submit: the embedded
// devnet, an account with funds, a fee rate of feeRate base units per
// byte, and tx_send answering the transaction's own hash, or another one
// when wrongHash is set. It records what it was asked.
type sendNode struct {
	url       string
	feeRate   uint64
	wrongHash bool

	mu      sync.Mutex // guards sent and methods
	sent    []*types.Tx
	methods []string
}

const sendNodeBalance = 1000 * uint64(types.Coin)

func newSendNode(t *testing.T, feeRate uint64) *sendNode {
	t.Helper()
	net := wallet.NetworkFromParams(genesis.Default().Params)
	n := &sendNode{feeRate: feeRate}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage   `json:"id"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		param := func(i int) string {
			var s string
			if i < len(req.Params) {
				json.Unmarshal(req.Params[i], &s)
			}
			return s
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		n.methods = append(n.methods, req.Method)
		var res any
		switch req.Method {
		case "node_info":
			res = map[string]any{"network": "devnet", "chainId": net.ChainID, "addressPrefix": net.Prefix,
				"genesisHash": net.GenesisHash.String()}
		case "tx_estimateFee":
			res = map[string]any{"feeRate": n.feeRate, "blocks": 3, "minFeeRate": 1}
		case "state_getAccount":
			res = map[string]any{"address": param(0), "balance": sendNodeBalance, "nonce": 0, "pendingNonce": 0}
		case "tx_send":
			raw, err := hex.DecodeString(param(0))
			tx, derr := types.DecodeTx(raw)
			if err != nil || derr != nil {
				t.Errorf("tx_send of %q: %v %v", param(0), err, derr)
				return
			}
			n.sent = append(n.sent, tx)
			h := tx.Hash().String()
			if n.wrongHash {
				h = strings.Repeat("ab", types.HashSize)
			}
			res = map[string]any{"hash": h, "published": true}
		case "chain_getTransaction":
			res = map[string]any{"hash": param(0), "status": "confirmed", "height": 5,
				"blockHash": strings.Repeat("cd", types.HashSize), "confirmations": 1}
		default:
			t.Errorf("unexpected call %s", req.Method)
			return
		}
		out, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": res})
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test node at %s, not loopback", srv.URL)
	}
	n.url = srv.URL
	return n
}

// called reports how often the node was asked method.
func (n *sendNode) called(method string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.methods {
		if m == method {
			c++
		}
	}
	return c
}

func (n *sendNode) lastSent() *types.Tx {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.sent) == 0 {
		return nil
	}
	return n.sent[len(n.sent)-1]
}

// sendFixture is a devnet wallet "w" in a temporary directory and the
// global flags that open it without a prompt.
func sendFixture(t *testing.T) (global []string, address string) {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("send test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	global = []string{"--wallet.dir", filepath.Join(dir, "w"), "--wallet.kdf", "test", "--password-file", pw,
		"--datadir", filepath.Join(dir, "data"), "--rpc.token", "t"}
	code, out, errOut := runCLI(t, "", append(global, "--json", "wallet", "new", "--name", "w")...)
	if code != 0 {
		t.Fatalf("wallet new: %s", errOut)
	}
	var created createdJSON
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	return global, created.Address
}

// TestSendMaxFee: a fee suggested by the node above --max-fee (0.01 coin
// by default) is refused before anything is signed or sent; a raised
// --max-fee lets it through, and a --fee is used as given whatever
// --max-fee says. The human output names the fee and whether it is the
// node's estimate.
func TestSendMaxFee(t *testing.T) {
	global, addr := sendFixture(t)
	size := uint64(wallet.TransferSize(0))
	greedy := uint64(types.Coin) / size // about one coin for a transfer
	send := append(append([]string{}, global...), "send", "--from", "w", "--to", addr, "--amount", "1")
	tests := []struct {
		name    string
		rate    uint64
		args    []string
		code    int
		errSub  []string
		wantFee uint64 // 0: nothing may be sent
	}{
		{"greedy estimate refused", greedy, nil, 1,
			[]string{"the node suggests a fee of", "above the maximum 0.01000000 (--max-fee)", "pass --fee or raise --max-fee", "nothing was signed"}, 0},
		{"greedy estimate under a lower cap refused", 100, []string{"--max-fee", "0.0001"}, 1, []string{"above the maximum 0.00010000"}, 0},
		{"greedy estimate with raised cap", greedy, []string{"--max-fee", "2"}, 0,
			[]string{"fee " + types.Amount(greedy*size).String() + " (the node's estimate)"}, greedy * size},
		{"given fee above the cap used as given", greedy, []string{"--fee", "0.5"}, 0, []string{"fee 0.50000000,"}, uint64(types.Coin) / 2},
		{"modest estimate under the default cap", 10, nil, 0, []string{"fee " + types.Amount(10*size).String() + " (the node's estimate)"}, 10 * size},
		{"zero cap", 10, []string{"--max-fee", "0"}, 2, []string{"--max-fee 0: the amount must be more than zero"}, 0},
		{"negative cap", 10, []string{"--max-fee", "-1"}, 2, []string{"must be positive"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			node := newSendNode(t, tc.rate)
			code, out, errOut := runCLI(t, "", append(append(send, "--rpc", node.url), tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out, errOut)
			}
			for _, sub := range tc.errSub {
				if !strings.Contains(errOut, sub) {
					t.Errorf("stderr %q, want %q", errOut, sub)
				}
			}
			tx := node.lastSent()
			if tc.wantFee == 0 {
				if tx != nil || out != "" {
					t.Fatalf("sent %+v, stdout %q; want nothing sent", tx, out)
				}
				return
			}
			if tx == nil || uint64(tx.Fee) != tc.wantFee {
				t.Fatalf("sent %+v, want fee %d", tx, tc.wantFee)
			}
			if strings.TrimSpace(out) != tx.Hash().String() {
				t.Errorf("stdout %q, want the hash %s", out, tx.Hash())
			}
		})
	}
}

// TestSubmitChecksHash: tx submit, like send, refuses an answer naming
// another transaction than the one submitted, before waiting on it; with
// the right hash it shows the fee and follows the transaction.
func TestSubmitChecksHash(t *testing.T) {
	global, addr := sendFixture(t)
	code, out, errOut := runCLI(t, "", append(global, "--json", "send", "--offline", "--from", "w", "--to", addr,
		"--amount", "1", "--fee", "0.001", "--nonce", "0")...)
	if code != 0 {
		t.Fatalf("send --offline: %s", errOut)
	}
	var off sentJSON
	if err := json.Unmarshal([]byte(out), &off); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{"tx", "submit", off.RawTx, "--wait", "1"},
		{"send", "--from", "w", "--to", addr, "--amount", "1", "--wait", "1"},
	} {
		node := newSendNode(t, 10)
		node.wrongHash = true
		code, out, errOut = runCLI(t, "", append(append(global, "--rpc", node.url), cmd...)...)
		if code != 1 || out != "" || !strings.Contains(errOut, "the node reports hash \""+strings.Repeat("ab", types.HashSize)) {
			t.Fatalf("%q with a wrong hash: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
		if n := node.called("chain_getTransaction"); n != 0 {
			t.Fatalf("%q: waited on the node's hash (%d polls)", cmd, n)
		}
	}
	node := newSendNode(t, 10)
	code, out, errOut = runCLI(t, "", append(global, "--rpc", node.url, "tx", "submit", off.RawTx, "--wait", "1")...)
	if code != 0 || !strings.HasPrefix(out, off.Hash+"\n") || !strings.Contains(out, "confirmed in block 5") ||
		!strings.Contains(errOut, "submitted a transfer of 1.00000000 coins, fee 0.00100000, nonce 0") {
		t.Fatalf("tx submit: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestWaitTimeoutFlag: a --timeout of zero or less is a usage error,
// given before anything else is done.
func TestWaitTimeoutFlag(t *testing.T) {
	dir := t.TempDir()
	w := "--wallet.dir=" + filepath.Join(dir, "w")
	for _, args := range [][]string{
		{w, "send", "--from", "a", "--to", "x", "--amount", "1", "--wait", "1", "--timeout", "0"},
		{w, "send", "--from", "a", "--to", "x", "--amount", "1", "--timeout", "-5s"},
		{w, "tx", "submit", "zz", "--wait", "1", "--timeout", "0s"},
		{w, "tx", "submit", "zz", "--timeout", "-1m"},
	} {
		code, out, errOut := runCLI(t, "", args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "--timeout") || !strings.Contains(errOut, "must be more than zero") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want a usage error about --timeout", args, code, out, errOut)
		}
	}
}
