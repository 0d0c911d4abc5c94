package consensus_test

// The subsidy schedule and the state transition: debiting the sender,
// crediting the recipient, and the delta and commitment of a whole block.
// Helpers (rtEnv, rtExactKind) are in rules_test.go.

import (
	"math"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

func TestSubsidyHalving(t *testing.T) {
	p := &consensus.Params{InitialSubsidy: 50 * types.Coin, HalvingInterval: 10}
	tests := []struct {
		height uint32
		want   types.Amount
	}{
		{0, 0}, // genesis pays nothing
		{1, 50 * types.Coin},
		{10, 50 * types.Coin},
		{11, 25 * types.Coin},
		{20, 25 * types.Coin},
		{21, 1_250_000_000},
		{31, 625_000_000},
		{10*32 + 1, (50 * types.Coin) >> 32},
		{10*33 + 1, 0}, // 5e9 >> 33 = 0
		{10*63 + 1, 0},
		{10*64 + 1, 0},
		{math.MaxUint32, 0},
	}
	for _, tt := range tests {
		if got := p.Subsidy(tt.height); got != tt.want {
			t.Errorf("Subsidy(%d) = %d, want %d", tt.height, got, tt.want)
		}
	}
	// The largest subsidy halves 63 times to 1 and then stops.
	maxP := &consensus.Params{InitialSubsidy: types.MaxAmount, HalvingInterval: 1}
	for _, tt := range []struct {
		height uint32
		want   types.Amount
	}{{1, types.MaxAmount}, {2, types.MaxAmount >> 1}, {64, 1}, {65, 0}, {66, 0}, {math.MaxUint32, 0}} {
		if got := maxP.Subsidy(tt.height); got != tt.want {
			t.Errorf("max subsidy: Subsidy(%d) = %d, want %d", tt.height, got, tt.want)
		}
	}
	// No halving interval: no subsidy rather than a division by zero.
	if got := (&consensus.Params{InitialSubsidy: 5}).Subsidy(1); got != 0 {
		t.Errorf("HalvingInterval 0: Subsidy(1) = %d", got)
	}
	// The sum over all heights is finite and below twice the first era.
	var total uint64
	for h := uint32(0); h <= 10*70; h++ {
		total += uint64(p.Subsidy(h))
	}
	if first := uint64(50*types.Coin) * 10; total >= 2*first || total < first {
		t.Errorf("total subsidy %d outside [%d, %d)", total, first, 2*first)
	}
}

// rtCache is a SigCache that counts calls.

func TestDebitSender(t *testing.T) {
	tx := func(nonce uint64, amount, fee types.Amount) *types.Tx {
		return &types.Tx{Kind: types.TxTransfer, Nonce: nonce, Amount: amount, Fee: fee}
	}
	acct := func(bal types.Amount, nonce uint64) consensus.Account {
		return consensus.Account{Balance: bal, Nonce: nonce}
	}
	tests := []struct {
		name   string
		sender consensus.Account
		tx     *types.Tx
		want   consensus.Account
		kind   consensus.ErrorKind
	}{
		{"exact balance", acct(110, 0), tx(0, 100, 10), acct(0, 1), ""},
		{"remainder", acct(1000, 5), tx(5, 100, 10), acct(890, 6), ""},
		{"zero fee", acct(100, 2), tx(2, 100, 0), acct(0, 3), ""},
		{"max balance", acct(types.MaxAmount, 0), tx(0, types.MaxAmount-1, 1), acct(0, 1), ""},
		{"replayed nonce", acct(1000, 5), tx(4, 1, 1), acct(1000, 5), consensus.ErrBadNonce},
		{"nonce zero again", acct(1000, 1), tx(0, 1, 1), acct(1000, 1), consensus.ErrBadNonce},
		{"nonce gap", acct(1000, 5), tx(6, 1, 1), acct(1000, 5), consensus.ErrBadNonce},
		{"nonce far ahead", acct(1000, 0), tx(math.MaxUint64, 1, 1), acct(1000, 0), consensus.ErrBadNonce},
		{"one short", acct(109, 0), tx(0, 100, 10), acct(109, 0), consensus.ErrInsufficientBalance},
		{"empty account", acct(0, 0), tx(0, 1, 0), acct(0, 0), consensus.ErrInsufficientBalance},
		{"fee alone too much", acct(5, 0), tx(0, 1, 5), acct(5, 0), consensus.ErrInsufficientBalance},
		{"amount plus fee overflows", acct(types.MaxAmount, 0), tx(0, types.MaxAmount, 1), acct(types.MaxAmount, 0), consensus.ErrAmountOverflow},
		{"both halves overflow", acct(types.MaxAmount, 0), tx(0, 1<<63, 1<<63), acct(types.MaxAmount, 0), consensus.ErrAmountOverflow},
		// The nonce is checked first: a replay is a replay even when the
		// balance would not cover it either.
		{"nonce before balance", acct(0, 3), tx(2, 1, 1), acct(0, 3), consensus.ErrBadNonce},
	}
	for _, tt := range tests {
		got, err := consensus.DebitSender(tt.sender, tt.tx)
		if tt.kind == "" {
			if err != nil || got != tt.want {
				t.Errorf("%s: DebitSender = %+v, %v; want %+v", tt.name, got, err, tt.want)
			}
			continue
		}
		t.Run(tt.name, func(t *testing.T) { rtExactKind(t, err, tt.kind) })
		if got != tt.sender {
			t.Errorf("%s: account changed to %+v on failure", tt.name, got)
		}
	}
}

func TestCredit(t *testing.T) {
	tests := []struct {
		name   string
		acct   consensus.Account
		amount types.Amount
		want   consensus.Account
		ok     bool
	}{
		{"new account", consensus.Account{}, 5, consensus.Account{Balance: 5}, true},
		{"keeps nonce", consensus.Account{Balance: 1, Nonce: 9}, 5, consensus.Account{Balance: 6, Nonce: 9}, true},
		{"zero", consensus.Account{Balance: 1}, 0, consensus.Account{Balance: 1}, true},
		{"to the max", consensus.Account{Balance: types.MaxAmount - 5}, 5, consensus.Account{Balance: types.MaxAmount}, true},
		{"one over", consensus.Account{Balance: types.MaxAmount - 5, Nonce: 2}, 6, consensus.Account{Balance: types.MaxAmount - 5, Nonce: 2}, false},
		{"max plus max", consensus.Account{Balance: types.MaxAmount}, types.MaxAmount, consensus.Account{Balance: types.MaxAmount}, false},
	}
	for _, tt := range tests {
		got, err := consensus.Credit(tt.acct, tt.amount)
		if got != tt.want {
			t.Errorf("%s: Credit = %+v, want %+v", tt.name, got, tt.want)
		}
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		t.Run(tt.name, func(t *testing.T) { rtExactKind(t, err, consensus.ErrAmountOverflow) })
	}
}

// TestApplyBlockDelta checks the delta of a valid block: every touched
// account once, in first-touch order, with its state before and after; the
// fees; and a commitment equal to one computed from scratch.
func TestApplyBlockDelta(t *testing.T) {
	e := newRTEnv()
	b := e.build(e.baseSpec())
	parent := e.state.commitment()
	d, err := consensus.ApplyBlock(e.state, &parent, b, e.p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Fees != 60 {
		t.Errorf("fees %d, want 60", d.Fees)
	}
	wantOrder := []types.Address{e.addrs[0], e.addrs[1], e.addrs[2], e.addrs[3], e.miner}
	if len(d.Changes) != len(wantOrder) {
		t.Fatalf("%d changes, want %d", len(d.Changes), len(wantOrder))
	}
	after := rtState{}
	for a, acct := range e.state {
		after[a] = acct
	}
	for i, ch := range d.Changes {
		if ch.Addr != wantOrder[i] {
			t.Errorf("change %d is %s, want %s", i, ch.Addr, wantOrder[i])
		}
		if ch.Before != e.state[ch.Addr] {
			t.Errorf("change %d: before %+v, state has %+v", i, ch.Before, e.state[ch.Addr])
		}
		after[ch.Addr] = ch.After
	}
	start := 1000 * types.Coin
	checks := map[types.Address]consensus.Account{
		e.addrs[0]: {Balance: start - 110 - 330, Nonce: 5},
		e.addrs[1]: {Balance: start + 100 - 220, Nonce: 4},
		e.addrs[2]: {Balance: start + 200, Nonce: 3},
		e.addrs[3]: {Balance: start + 300, Nonce: 3},
		e.miner:    {Balance: e.p.Subsidy(b.Header.Height) + 60},
	}
	for a, want := range checks {
		if after[a] != want {
			t.Errorf("account %s after: %+v, want %+v", a, after[a], want)
		}
	}
	scratch := after.commitment()
	if !d.Commitment.Equal(&scratch) || types.Hash(scratch.Sum()) != b.Header.StateRoot {
		t.Error("delta commitment differs from the commitment computed from scratch")
	}
}
