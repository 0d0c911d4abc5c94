package mempool

import (
	"bytes"
	"errors"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// TestRefusals triggers every refusal reason exactly once: consensus kinds
// pass through unchanged as *consensus.RuleError, policy kinds come as
// *PolicyError, and Status remembers the reason.
func TestRefusals(t *testing.T) {
	const fee = 1000
	tests := []struct {
		name string
		kind error
		cfg  func(*Config)
		// build prepares the fixture and returns the offending transaction.
		build func(f *fixture) *types.Tx
	}{
		{"coinbase", ErrCoinbase, nil, func(f *fixture) *types.Tx {
			return &types.Tx{Kind: types.TxCoinbase, ChainID: f.g.Params.ChainID, Nonce: 1, To: f.g.Addrs[0], Amount: 1}
		}},
		{"too large", ErrTxTooLarge, func(c *Config) { c.MaxTxSize = 200 }, func(f *fixture) *types.Tx {
			tx := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID, To: f.g.Addrs[1], Amount: 1, Fee: fee, Memo: make([]byte, 100)}
			types.SignTx(tx, f.g.Keys[0], f.g.Genesis.Hash)
			return tx
		}},
		{"fee too low", ErrFeeTooLow, nil, func(f *fixture) *types.Tx { return f.tx(0, 0, 100) }},
		{"already known", ErrAlreadyKnown, nil, func(f *fixture) *types.Tx {
			tx := f.tx(0, 0, fee)
			f.mustAdd(tx)
			return tx
		}},
		{"replacement underpriced", ErrReplacementUnderpriced, nil, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee))
			return f.tx(0, 0, fee+fee/20)
		}},
		{"nonce gap", ErrNonceGap, func(c *Config) { c.MaxNonceGap = 4 }, func(f *fixture) *types.Tx { return f.tx(0, 5, fee) }},
		{"sender limit", ErrSenderLimit, func(c *Config) { c.MaxPerSender = 2 }, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee), f.tx(0, 1, fee))
			return f.tx(0, 2, fee)
		}},
		{"pool full", ErrPoolFull, func(c *Config) { c.MaxCount = 2 }, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee), f.tx(1, 0, fee))
			return f.tx(2, 0, fee-1)
		}},
		{"bad signature", consensus.ErrBadSignature, nil, func(f *fixture) *types.Tx {
			tx := f.tx(0, 0, fee)
			tx.Sig[40] ^= 1
			return tx
		}},
		{"high S", consensus.ErrHighS, nil, func(f *fixture) *types.Tx {
			tx := f.tx(0, 0, fee)
			var s secp256k1.ModNScalar
			s.SetByteSlice(tx.Sig[32:])
			s.Negate()
			var b [32]byte
			s.PutBytes(&b)
			copy(tx.Sig[32:], b[:])
			return tx
		}},
		{"bad public key", consensus.ErrBadPubKey, nil, func(f *fixture) *types.Tx {
			// The key is not a curve point, yet its address holds coins:
			// only the signature check can refuse it.
			var pub [types.PubKeySize]byte
			pub[0] = 0x05
			f.connect(f.g.Transfer(3, types.AddressFromPubKey(&pub), 10*types.Coin, fee, 0))
			tx := f.tx(0, 0, fee)
			tx.PubKey = pub
			return tx
		}},
		{"wrong chain id", consensus.ErrWrongChainID, nil, func(f *fixture) *types.Tx {
			tx := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID + 1, To: f.g.Addrs[1], Amount: 1, Fee: fee}
			types.SignTx(tx, f.g.Keys[0], f.g.Genesis.Hash)
			return tx
		}},
		{"zero amount", consensus.ErrZeroAmount, nil, func(f *fixture) *types.Tx { return f.txAmount(0, 0, 0, fee) }},
		{"bad recipient", consensus.ErrBadRecipient, nil, func(f *fixture) *types.Tx {
			return f.g.Transfer(0, types.Address{}, 1, fee, 0)
		}},
		{"memo too long", consensus.ErrMemoTooLong, nil, func(f *fixture) *types.Tx {
			tx := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID, To: f.g.Addrs[1], Amount: 1, Fee: 10 * fee, Memo: make([]byte, types.MaxMemoSize+1)}
			types.SignTx(tx, f.g.Keys[0], f.g.Genesis.Hash)
			return tx
		}},
		{"amount overflow", consensus.ErrAmountOverflow, nil, func(f *fixture) *types.Tx {
			return f.txAmount(0, 0, types.MaxAmount, fee)
		}},
		{"stale nonce", consensus.ErrBadNonce, nil, func(f *fixture) *types.Tx {
			f.connect(f.tx(0, 0, fee))
			return f.txAmount(0, 0, 2*types.Coin, fee)
		}},
		{"insufficient balance", consensus.ErrInsufficientBalance, nil, func(f *fixture) *types.Tx {
			return f.txAmount(0, 0, 1000*types.Coin, fee)
		}},
		{"insufficient balance after pending", consensus.ErrInsufficientBalance, nil, func(f *fixture) *types.Tx {
			f.mustAdd(f.txAmount(0, 0, 600*types.Coin, fee))
			return f.txAmount(0, 1, 600*types.Coin, fee)
		}},
		{"replacement starves a later nonce", consensus.ErrInsufficientBalance, nil, func(f *fixture) *types.Tx {
			f.mustAdd(f.txAmount(0, 0, 100*types.Coin, fee), f.txAmount(0, 1, 800*types.Coin, fee))
			return f.txAmount(0, 0, 300*types.Coin, 2*fee)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, chaingen.Options{Accounts: 4}, tc.cfg)
			tx := tc.build(f)
			before := f.p.Count()
			err := f.p.Add(tx)
			wantKind(t, err, tc.kind)
			var re *consensus.RuleError
			var pe *PolicyError
			if _, isConsensus := tc.kind.(consensus.ErrorKind); isConsensus != errors.As(err, &re) || !isConsensus != errors.As(err, &pe) {
				t.Fatalf("error %T does not carry its kind's type", err)
			}
			if f.p.Count() != before {
				t.Fatalf("pool count changed from %d to %d", before, f.p.Count())
			}
			if tc.kind != ErrAlreadyKnown {
				st := wantStatus(t, f.p, tx, StateRefused)
				wantKind(t, st.Err, tc.kind)
				// A permanent failure is refused again without verifying;
				// a stateful one is checked again.
				wantKind(t, f.p.Add(tx), tc.kind)
			}
			checkInvariants(t, f.p)
		})
	}
}

// TestAddBatch verifies in parallel and reports each outcome in place.
func TestAddBatch(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4}, nil)
	bad := f.tx(2, 0, 1000)
	bad.Sig[50] ^= 0xff
	txs := []*types.Tx{f.tx(0, 0, 1000), f.tx(0, 1, 1000), bad, f.tx(1, 0, 10), f.tx(3, 0, 1000)}
	errs := f.p.AddBatch(txs)
	want := []error{nil, nil, consensus.ErrBadSignature, ErrFeeTooLow, nil}
	for i := range txs {
		if (want[i] == nil) != (errs[i] == nil) || (want[i] != nil && !errors.Is(errs[i], want[i])) {
			t.Fatalf("tx %d: got %v, want %v", i, errs[i], want[i])
		}
	}
	if f.p.Count() != 3 {
		t.Fatalf("count %d", f.p.Count())
	}
	if !f.c.SigCache().Contains(txs[0].Hash()) {
		t.Fatal("verified signature not recorded in the chain's cache")
	}
	checkInvariants(t, f.p)
}

// TestKind renders reasons for every error shape the pool returns.
func TestKind(t *testing.T) {
	if k := Kind(policyError(ErrPoolFull, "x")); k != "ErrPoolFull" {
		t.Fatal(k)
	}
	if k := Kind(&consensus.RuleError{Kind: consensus.ErrBadNonce}); k != "ErrBadNonce" {
		t.Fatal(k)
	}
	if k := Kind(errors.New("disk on fire")); k != "" {
		t.Fatal(k)
	}
	if !bytes.Equal([]byte(ErrFeeTooLow.Error()), []byte("ErrFeeTooLow")) {
		t.Fatal("kind string")
	}
}
