package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/wallet"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		want    types.Amount
		wantErr string
	}{
		{"1", types.Coin, ""},
		{"0.5", types.Coin / 2, ""},
		{"12.00000001", 12*types.Coin + 1, ""},
		{" 3 ", 3 * types.Coin, ""},
		{"+2", 2 * types.Coin, ""},
		{"0", 0, "more than zero"},
		{"0.00000000", 0, "more than zero"},
		{"-1", 0, "must be positive"},
		{"-0.5", 0, "must be positive"},
		{"1.123456789", 0, "at most 8 decimals"},
		{"1e3", 0, "not an amount"},
		{"1,5", 0, "not an amount"},
		{"", 0, "no amount"},
		{"184467440738", 0, "not an amount"}, // overflows base units
	}
	for _, tc := range tests {
		got, err := parseAmount("--amount", tc.in)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Errorf("parseAmount(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
			continue
		}
		var u usageError
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &u) {
			t.Errorf("parseAmount(%q) = %d, %v; want a usage error containing %q", tc.in, got, err, tc.wantErr)
		}
	}
	if fee, err := parseFee("--fee", "0"); err != nil || fee != 0 {
		t.Errorf("a zero fee is refused: %v", err)
	}
}

func TestParseRecipient(t *testing.T) {
	net := wallet.Network{ChainID: 7, Prefix: "ltest", GenesisHash: types.Hash{1}}
	var addr types.Address
	addr[3] = 9
	good := addr.Bech32("ltest")
	other := addr.Bech32("ldev")
	// Change the last checksum character: still bech32 characters, wrong
	// checksum.
	last := good[len(good)-1]
	swap := byte('q')
	if last == 'q' {
		swap = 'p'
	}
	typo := good[:len(good)-1] + string(swap)
	tests := []struct {
		in, wantErr string
	}{
		{good, ""},
		{"  " + good + " ", ""},
		{typo, "wrong checksum"},
		{other, `another network (prefix "ldev")`},
		{"ltest1", "not a valid address"},
		{"hello", "not a valid address"},
		{strings.ToUpper(good), ""}, // BIP-173 allows all upper case
	}
	for _, tc := range tests {
		got, err := parseRecipient("--to", tc.in, net)
		if tc.wantErr == "" {
			if err != nil || got != addr {
				t.Errorf("parseRecipient(%q) = %v, %v", tc.in, got, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("parseRecipient(%q) = %v; want an error containing %q", tc.in, err, tc.wantErr)
		}
	}
	// Without a known network, syntax and checksum are still checked.
	if err := checkAddressSyntax("argument", other); err != nil {
		t.Errorf("checkAddressSyntax(%q) = %v", other, err)
	}
	for in, want := range map[string]string{typo: "wrong checksum", "wallet-7": "neither a wallet name nor an address", "1abc": "neither"} {
		if err := checkAddressSyntax("argument", in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkAddressSyntax(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestParseBlockRefAndHash(t *testing.T) {
	h := strings.Repeat("ab", 32)
	tests := []struct {
		in     string
		want   blockRef
		errSub string
	}{
		{"0", blockRef{height: 0}, ""},
		{"12345", blockRef{height: 12345}, ""},
		{h, blockRef{byHash: true, hash: h}, ""},
		{"0x" + strings.ToUpper(h), blockRef{byHash: true, hash: h}, ""},
		{strings.Repeat("1", 64), blockRef{byHash: true, hash: strings.Repeat("1", 64)}, ""},
		{"-1", blockRef{}, "neither a height"},
		{"4294967296", blockRef{}, "neither a height"},
		{strings.Repeat("g", 64), blockRef{}, "not a hash"},
		{"tip", blockRef{}, "neither a height"},
	}
	for _, tc := range tests {
		got, err := parseBlockRef(tc.in)
		if tc.errSub == "" {
			if err != nil || got != tc.want {
				t.Errorf("parseBlockRef(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.errSub) {
			t.Errorf("parseBlockRef(%q) = %v, want error %q", tc.in, err, tc.errSub)
		}
	}
	if _, err := parseHash("transaction", h[:63]); err == nil {
		t.Error("a 63-digit hash is accepted")
	}
}

func TestParseRPCParams(t *testing.T) {
	tests := []struct {
		args []string
		want string // JSON of the params; "" for none
		err  bool
	}{
		{nil, "", false},
		{[]string{"2", "true"}, `[2,true]`, false},
		{[]string{"abcd", `"q"`, "null"}, `["abcd","q",null]`, false},
		{[]string{`{"height":2}`}, `{"height":2}`, false},
		{[]string{`{"height":`}, "", true},
		{[]string{`{"a":1}`, "3"}, `[{"a":1},3]`, false},
		{[]string{`[1, 2]`}, `[[1,2]]`, false},
	}
	for _, tc := range tests {
		p, err := parseRPCParams(tc.args)
		if tc.err {
			if err == nil {
				t.Errorf("parseRPCParams(%q) accepted", tc.args)
			}
			continue
		}
		if err != nil {
			t.Fatalf("parseRPCParams(%q): %v", tc.args, err)
		}
		if p == nil {
			if tc.want != "" {
				t.Errorf("parseRPCParams(%q) = nil, want %s", tc.args, tc.want)
			}
			continue
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		json.Compact(&compact, b)
		if compact.String() != tc.want {
			t.Errorf("parseRPCParams(%q) = %s, want %s", tc.args, compact.String(), tc.want)
		}
	}
}

// TestPendingBalance: executable pool transactions move the pending
// balance, queued ones do not, and hostile sums saturate instead of
// wrapping.
func TestPendingBalance(t *testing.T) {
	const me, other = "ltest1me", "ltest1other"
	tx := func(from, to string, amount, fee uint64, queued bool) rpc.PoolTx {
		return rpc.PoolTx{Tx: &rpc.Tx{From: from, To: to, Amount: amount, Fee: fee}, Queued: queued}
	}
	tests := []struct {
		name      string
		confirmed uint64
		pool      []rpc.PoolTx
		want      uint64
	}{
		{"empty pool", 100, nil, 100},
		{"outgoing", 100, []rpc.PoolTx{tx(me, other, 30, 1, false)}, 69},
		{"incoming", 100, []rpc.PoolTx{tx(other, me, 5, 1, false)}, 105},
		{"queued ignored", 100, []rpc.PoolTx{tx(me, other, 30, 1, true)}, 100},
		{"to self", 100, []rpc.PoolTx{tx(me, me, 30, 2, false)}, 98},
		{"others' ignored", 100, []rpc.PoolTx{tx(other, other, 30, 2, false)}, 100},
		{"overspent floors at zero", 10, []rpc.PoolTx{tx(me, other, 30, 2, false)}, 0},
		{"hostile sums saturate", 10, []rpc.PoolTx{tx(other, me, ^uint64(0), 0, false), tx(other, me, 5, 0, false)}, ^uint64(0)},
		{"no tx object", 10, []rpc.PoolTx{{}}, 10},
	}
	for _, tc := range tests {
		if got := pendingBalance(tc.confirmed, me, tc.pool); got != tc.want {
			t.Errorf("%s: pending %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestExplainStatus(t *testing.T) {
	nonce := uint64(4)
	tests := []struct {
		st    rpc.TxStatus
		sub   string
		final bool
	}{
		{rpc.TxStatus{State: "pending", Position: 3}, "position 3", false},
		{rpc.TxStatus{State: "queued", MissingNonce: &nonce}, "nonce 4 is missing", false},
		{rpc.TxStatus{State: "refused", Reason: "ErrFeeTooLow", Error: "fee rate too low"}, "refused by the node's pool: fee rate too low", true},
		{rpc.TxStatus{State: "removed", RemovedReason: "replaced", ReplacedBy: "abcd"}, "replaced in the pool by abcd", true},
		{rpc.TxStatus{State: "removed", RemovedReason: "evicted"}, "evicted", true},
		{rpc.TxStatus{State: "removed", RemovedReason: "expired"}, "expired", true},
		{rpc.TxStatus{State: "removed", RemovedReason: "invalidated", Reason: "ErrBadNonce"}, "no longer valid: ErrBadNonce", true},
		{rpc.TxStatus{State: "removed", RemovedReason: "mined", Height: 9}, "mined in block 9", false},
		{rpc.TxStatus{State: "unknown"}, "unknown to the node", false},
	}
	for _, tc := range tests {
		text, final := explainStatus(tc.st)
		if !strings.Contains(text, tc.sub) || final != tc.final {
			t.Errorf("explainStatus(%+v) = %q, %v; want %q, %v", tc.st, text, final, tc.sub, tc.final)
		}
	}
}

// TestReadRawTx: a signed transfer is read from hex or a file; junk,
// oversized input and a coinbase are refused.
func TestReadRawTx(t *testing.T) {
	tx := &types.Tx{Kind: types.TxTransfer, ChainID: 7, Amount: 5, Fee: 1}
	raw := tx.Encode()
	hexTx := hex.EncodeToString(raw)
	if got, _, err := readRawTx(hexTx); err != nil || got.Amount != 5 {
		t.Fatalf("readRawTx(hex) = %v, %v", got, err)
	}
	path := filepath.Join(t.TempDir(), "tx")
	if err := os.WriteFile(path, []byte("0x"+hexTx+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, gotRaw, err := readRawTx(path); err != nil || !bytes.Equal(gotRaw, raw) || got.Fee != 1 {
		t.Fatalf("readRawTx(file) = %v, %v", got, err)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("0"), maxRawTxInput+10), 0o600); err != nil {
		t.Fatal(err)
	}
	cb := &types.Tx{Kind: types.TxCoinbase, ChainID: 7, Amount: 5}
	for in, want := range map[string]string{
		"zz":                            "neither a file nor",
		hexTx[:20]:                      "not a valid transaction",
		big:                             "larger than a transaction",
		hex.EncodeToString(cb.Encode()): "coinbase",
		strings.Repeat("a", 99999):      "longer than a transaction",
	} {
		if _, _, err := readRawTx(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("readRawTx(%.30q) = %v, want %q", in, err, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("a\nb\r\n\nc\n"); got != "a; b; c" {
		t.Errorf("oneLine = %q", got)
	}
}

// FuzzParseArgs: no command-line argument makes a parser panic, and what
// parses as an amount is positive and round-trips.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"1", "0.00000001", "-1", "1e5", strings.Repeat("9", 30), "ltest1qqqq", "0x" + strings.Repeat("f", 64), `{"a":1}`, "123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := parseAmount("--amount", s); err == nil {
			if a == 0 {
				t.Fatalf("amount %q parsed as zero", s)
			}
			if back, err := parseAmount("--amount", a.String()); err != nil || back != a {
				t.Fatalf("amount %q -> %s does not round-trip", s, a)
			}
		}
		parseBlockRef(s)
		parseHash("h", s)
		checkAddressSyntax("a", s)
		parseRPCParams([]string{s})
		readRawTxText(s)
	})
}

// readRawTxText runs readRawTx on text that must not be taken for a file
// name.
func readRawTxText(s string) {
	if _, err := os.Stat(s); err == nil {
		return
	}
	readRawTx(s)
}
