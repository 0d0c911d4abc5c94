package rpc

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/mempool"
)

// historyStack is a stack whose address 0 sent and received transfers in
// two of three blocks: 6 transactions, among others it has no part in.
func historyStack(t *testing.T) *stack {
	t.Helper()
	s := newStack(t, stackOpts{noMiner: true})
	g, a := s.g, s.g.Addrs
	s.connect(g.Transfer(0, a[1], types.Coin, 1000, 0), g.Transfer(2, a[0], 2*types.Coin, 1000, 0))
	s.connect(g.Transfer(3, a[4], types.Coin, 1000, 0))
	s.connect(g.Transfer(0, a[0], 5, 1000, 1), g.Transfer(0, a[5], 7, 1000, 2),
		g.Transfer(4, a[0], 9, 1000, 0), g.Transfer(6, a[0], 11, 1000, 0), g.Transfer(1, a[2], 1, 1000, 0))
	return s
}

// historyWant lists the main-chain transactions naming addr, newest first.
func (s *stack) historyWant(addr types.Address) []string {
	var out []string
	for h := len(s.blocks) - 1; h >= 0; h-- {
		txs := s.blocks[h].Txs
		for i := len(txs) - 1; i >= 0; i-- {
			if tx := txs[i]; tx.To == addr || (!tx.IsCoinbase() && tx.Sender() == addr) {
				out = append(out, tx.Hash().String())
			}
		}
	}
	return out
}

func TestStateGetTransactions(t *testing.T) {
	s := historyStack(t)
	a0 := s.g.Addrs[0]
	addr := a0.Bech32(s.g.Params.AddressPrefix)
	want := s.historyWant(a0)
	if len(want) != 6 {
		t.Fatalf("fixture: address 0 has %d transactions, expected 6", len(want))
	}

	var h AddressHistory
	s.ok("state_getTransactions", []any{addr}, &h)
	if h.Address != addr || h.NextCursor != "" || len(h.Transactions) != len(want) {
		t.Fatalf("history %+v, want %d transactions and no cursor", h, len(want))
	}
	tip := uint32(len(s.blocks))
	for i, tr := range h.Transactions {
		blk := s.blocks[tr.Height-1]
		var tx *types.Tx
		for _, c := range blk.Txs {
			if c.Hash().String() == tr.Hash {
				tx = c
			}
		}
		if tr.Hash != want[i] || tx == nil || tr.Status != "confirmed" || tr.BlockHash != blk.Hash().String() ||
			tr.Confirmations != tip-tr.Height+1 {
			t.Fatalf("transaction %d: %+v (%+v), want %s in block %s with %d confirmations",
				i, tr, tr.Tx, want[i], blk.Hash(), tip-tr.Height+1)
		}
		if tr.To != tx.To.Bech32(s.g.Params.AddressPrefix) || tr.From != tx.Sender().Bech32(s.g.Params.AddressPrefix) ||
			tr.Amount != uint64(tx.Amount) || tr.Fee != uint64(tx.Fee) || tr.Nonce != tx.Nonce {
			t.Fatalf("transaction %d: %+v, want the fields of %+v", i, tr.Tx, tx)
		}
	}

	// Pages, by position and by name: together the whole history, in
	// order, each page within its limit.
	for _, limit := range []int{1, 2, 4, 5, 6, 7} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			var got []string
			cursor := ""
			for page := 0; ; page++ {
				if page > len(want) {
					t.Fatal("paging does not end")
				}
				var p AddressHistory
				if page%2 == 0 {
					s.ok("state_getTransactions", []any{addr, limit, cursor}, &p)
				} else {
					s.ok("state_getTransactions", map[string]any{"address": addr, "limit": limit, "cursor": cursor}, &p)
				}
				if len(p.Transactions) > limit || (p.NextCursor != "" && len(p.Transactions) != limit) {
					t.Fatalf("page %d: %d transactions, limit %d, next %q", page, len(p.Transactions), limit, p.NextCursor)
				}
				for _, tr := range p.Transactions {
					got = append(got, tr.Hash)
				}
				if p.NextCursor == "" {
					break
				}
				cursor = p.NextCursor
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("pages give %v, want %v", got, want)
			}
		})
	}

	// The default limit is 50, and an address without history has an
	// empty list, not null.
	var many AddressHistory
	s.ok("state_getTransactions", map[string]any{"address": s.g.Addrs[9].Bech32(s.g.Params.AddressPrefix)}, &many)
	r := s.call("state_getTransactions", []any{s.g.Addrs[9].Bech32(s.g.Params.AddressPrefix)})
	if len(many.Transactions) != 0 || !strings.Contains(string(r.Result), `"transactions":[]`) {
		t.Fatalf("unused address: %s", r.Result)
	}
}

func TestStateGetTransactionsDefaultLimit(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	miner := chainMiner(s)
	for i := 0; i < DefaultHistoryLimit+2; i++ {
		s.connect()
	}
	var h AddressHistory
	s.ok("state_getTransactions", []any{miner}, &h)
	if len(h.Transactions) != DefaultHistoryLimit || h.NextCursor == "" {
		t.Fatalf("%d transactions, next %q; want %d and a cursor", len(h.Transactions), h.NextCursor, DefaultHistoryLimit)
	}
	var last AddressHistory
	s.ok("state_getTransactions", []any{miner, DefaultHistoryLimit, h.NextCursor}, &last)
	if len(last.Transactions) != 2 || last.NextCursor != "" || last.Transactions[1].Height != 1 {
		t.Fatalf("second page: %+v", last)
	}
}

// chainMiner is the address the stack's generated coinbases pay.
func chainMiner(s *stack) string { return s.g.Miner.Bech32(s.g.Params.AddressPrefix) }

func TestStateGetTransactionsBadParams(t *testing.T) {
	s := historyStack(t)
	addr := s.g.Addrs[0].Bech32(s.g.Params.AddressPrefix)
	var h AddressHistory
	s.ok("state_getTransactions", []any{addr, 2}, &h)
	good := h.NextCursor
	if good == "" {
		t.Fatal("no cursor after a page of 2")
	}
	rows := []struct {
		name   string
		params any
	}{
		{"no params", nil},
		{"no address", map[string]any{"limit": 5}},
		{"bad address", []any{"notanaddress"}},
		{"address of another network", []any{s.g.Addrs[0].Bech32("ldev")}},
		{"limit 0", []any{addr, 0}},
		{"limit -1", []any{addr, -1}},
		{"limit 501", []any{addr, MaxHistoryLimit + 1}},
		{"limit not a number", []any{addr, "5"}},
		{"limit fractional", []any{addr, 2.5}},
		{"cursor not hex", []any{addr, 5, "zzzzzzzzzzzzzzzz"}},
		{"cursor too short", []any{addr, 5, good[:len(good)-1]}},
		{"cursor too long", []any{addr, 5, good + "00"}},
		{"cursor in capitals", []any{addr, 5, strings.ToUpper("00000001000000ab")}},
		{"cursor not a string", []any{addr, 5, 12}},
		{"unknown name", map[string]any{"address": addr, "cursr": good}},
		{"too many params", []any{addr, 5, good, true}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			s.fails("state_getTransactions", row.params, -32602, ReasonBadParams)
		})
	}
	// Limits at the ends of the range are fine.
	s.ok("state_getTransactions", []any{addr, 1}, &h)
	s.ok("state_getTransactions", []any{addr, MaxHistoryLimit}, &h)
}

// TestStateGetTransactionsNoIndex: a node whose chain store runs without
// the address index answers CodeUnavailable with ErrIndexUnavailable.
func TestStateGetTransactionsNoIndex(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	c, err := chain.Open(chain.Config{Dir: t.TempDir(), Genesis: s.g.Genesis, NoAddressIndex: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p, err := mempool.New(mempool.Config{Chain: c, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	srv, err := New(Config{Token: testToken, Version: "test", Chain: c, Pool: p, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	s.srv, s.http = srv, hs
	addr := s.g.Addrs[0].Bech32(s.g.Params.AddressPrefix)
	s.fails("state_getTransactions", []any{addr}, int(CodeUnavailable), string(chain.ErrIndexUnavailable))
	// Parameters are still checked first.
	s.fails("state_getTransactions", []any{addr, 0}, -32602, ReasonBadParams)
	var a Account
	s.ok("state_getAccount", []any{addr}, &a)
}
