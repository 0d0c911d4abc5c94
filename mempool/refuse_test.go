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
// *PolicyError, and Status remembers the reason. Only a signature failure
// costs a verification, and only the first time: every other rule is
// decided before the signature, and a bad signature is remembered.
func TestRefusals(t *testing.T) {
	const fee = 1000
	// sig marks the cases refused by the signature check itself.
	const sig, free = true, false
	tests := []struct {
		name string
		kind error
		cfg  func(*Config)
		// build prepares the fixture and returns the offending transaction.
		build func(f *fixture) *types.Tx
		// verifies: the refusal needs one signature verification.
		verifies bool
	}{
		{"coinbase", ErrCoinbase, nil, func(f *fixture) *types.Tx {
			return &types.Tx{Kind: types.TxCoinbase, ChainID: f.g.Params.ChainID, Nonce: 1, To: f.g.Addrs[0], Amount: 1}
		}, free},
		{"too large", ErrTxTooLarge, func(c *Config) { c.MaxTxSize = 200 }, func(f *fixture) *types.Tx {
			tx := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID, To: f.g.Addrs[1], Amount: 1, Fee: fee, Memo: make([]byte, 100)}
			types.SignTx(tx, f.g.Keys[0], f.g.Genesis.Hash)
			return tx
		}, free},
		{"fee too low", ErrFeeTooLow, nil, func(f *fixture) *types.Tx { return f.tx(0, 0, 100) }, free},
		{"already known", ErrAlreadyKnown, nil, func(f *fixture) *types.Tx {
			tx := f.tx(0, 0, fee)
			f.mustAdd(tx)
			return tx
		}, free},
		{"replacement underpriced", ErrReplacementUnderpriced, nil, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee))
			return f.tx(0, 0, fee+fee/20)
		}, free},
		{"nonce gap", ErrNonceGap, func(c *Config) { c.MaxNonceGap = 4 }, func(f *fixture) *types.Tx { return f.tx(0, 5, fee) }, free},
		{"sender limit", ErrSenderLimit, func(c *Config) { c.MaxPerSender = 2 }, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee), f.tx(0, 1, fee))
			return f.tx(0, 2, fee)
		}, free},
		{"sender limit, queued beyond the highest", ErrSenderLimit, func(c *Config) { c.MaxPerSender = 2 }, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 2, fee), f.tx(0, 4, fee))
			return f.tx(0, 5, fee)
		}, free},
		{"replacement not paying its own relay", ErrReplacementUnderpriced, nil, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee))
			return f.tx(0, 0, fee+fee/8) // 12.5% more, but short of 1,000 + 148 bytes at 1 per byte
		}, free},
		{"pool full", ErrPoolFull, func(c *Config) { c.MaxCount = 2 }, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee), f.tx(1, 0, fee))
			return f.tx(2, 0, fee-1)
		}, free},
		{"pool full of bytes", ErrPoolFull, func(c *Config) { c.MaxBytes = 2*148 + 100 }, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee), f.tx(1, 0, fee))
			return f.tx(2, 0, fee-1)
		}, free},
		{"pool full, sender known", ErrPoolFull, func(c *Config) { c.MaxCount = 2 }, func(f *fixture) *types.Tx {
			f.mustAdd(f.tx(0, 0, fee), f.tx(1, 0, 2*fee))
			return f.tx(0, 1, 9*fee) // would evict its own nonce 0 first
		}, free},
		{"bad signature", consensus.ErrBadSignature, nil, func(f *fixture) *types.Tx {
			tx := f.tx(0, 0, fee)
			tx.Sig[40] ^= 1
			return tx
		}, sig},
		{"high S", consensus.ErrHighS, nil, func(f *fixture) *types.Tx {
			tx := f.tx(0, 0, fee)
			var s secp256k1.ModNScalar
			s.SetByteSlice(tx.Sig[32:])
			s.Negate()
			var b [32]byte
			s.PutBytes(&b)
			copy(tx.Sig[32:], b[:])
			return tx
		}, sig},
		{"bad public key", consensus.ErrBadPubKey, nil, func(f *fixture) *types.Tx {
			// The key is not a curve point, yet its address holds coins:
			// only the signature check can refuse it.
			var pub [types.PubKeySize]byte
			pub[0] = 0x05
			f.connect(f.g.Transfer(3, types.AddressFromPubKey(&pub), 10*types.Coin, fee, 0))
			tx := f.tx(0, 0, fee)
			tx.PubKey = pub
			return tx
		}, sig},
		{"wrong chain id", consensus.ErrWrongChainID, nil, func(f *fixture) *types.Tx {
			tx := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID + 1, To: f.g.Addrs[1], Amount: 1, Fee: fee}
			types.SignTx(tx, f.g.Keys[0], f.g.Genesis.Hash)
			return tx
		}, free},
		{"zero amount", consensus.ErrZeroAmount, nil, func(f *fixture) *types.Tx { return f.txAmount(0, 0, 0, fee) }, free},
		{"bad recipient", consensus.ErrBadRecipient, nil, func(f *fixture) *types.Tx {
			return f.g.Transfer(0, types.Address{}, 1, fee, 0)
		}, free},
		{"memo too long", consensus.ErrMemoTooLong, nil, func(f *fixture) *types.Tx {
			tx := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID, To: f.g.Addrs[1], Amount: 1, Fee: 10 * fee, Memo: make([]byte, types.MaxMemoSize+1)}
			types.SignTx(tx, f.g.Keys[0], f.g.Genesis.Hash)
			return tx
		}, free},
		{"amount overflow", consensus.ErrAmountOverflow, nil, func(f *fixture) *types.Tx {
			return f.txAmount(0, 0, types.MaxAmount, fee)
		}, free},
		{"stale nonce", consensus.ErrBadNonce, nil, func(f *fixture) *types.Tx {
			f.connect(f.tx(0, 0, fee))
			return f.txAmount(0, 0, 2*types.Coin, fee)
		}, free},
		{"insufficient balance", consensus.ErrInsufficientBalance, nil, func(f *fixture) *types.Tx {
			return f.txAmount(0, 0, 1000*types.Coin, fee)
		}, free},
		{"insufficient balance after pending", consensus.ErrInsufficientBalance, nil, func(f *fixture) *types.Tx {
			f.mustAdd(f.txAmount(0, 0, 600*types.Coin, fee))
			return f.txAmount(0, 1, 600*types.Coin, fee)
		}, free},
		{"replacement starves a later nonce", consensus.ErrInsufficientBalance, nil, func(f *fixture) *types.Tx {
			f.mustAdd(f.txAmount(0, 0, 100*types.Coin, fee), f.txAmount(0, 1, 800*types.Coin, fee))
			return f.txAmount(0, 0, 300*types.Coin, 2*fee)
		}, free},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, chaingen.Options{Accounts: 4}, tc.cfg)
			tx := tc.build(f)
			before := f.p.Count()
			checks := f.p.sigChecks.Load()
			err := f.p.Add(tx)
			wantKind(t, err, tc.kind)
			if got, want := f.p.sigChecks.Load()-checks, map[bool]uint64{false: 0, true: 1}[tc.verifies]; got != want {
				t.Fatalf("refusal cost %d signature verifications, want %d", got, want)
			}
			if f.c.SigCache().Contains(tx.Hash()) && tc.kind != ErrAlreadyKnown {
				t.Fatal("a refused transaction was put in the chain's signature cache")
			}
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
				// Again: the same refusal, and no verification either way
				// (a bad signature is remembered, the rest decided first).
				checks := f.p.sigChecks.Load()
				wantKind(t, f.p.Add(tx), tc.kind)
				if got := f.p.sigChecks.Load() - checks; got != 0 {
					t.Fatalf("refused again at the cost of %d verifications", got)
				}
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

// TestAddBatchChecksBeforeVerifying: AddBatch (and so Load) refuses what
// the cheap checks condemn without verifying it, but does not hold a
// sender's later candidates to a state that lacks its earlier ones.
func TestAddBatchChecksBeforeVerifying(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4}, func(c *Config) { c.MaxNonceGap = 2 })
	f.connect(f.tx(0, 0, 1000))
	stale := f.txAmount(0, 0, 2*types.Coin, 1000)        // first of sender 0: all checks
	x1, staleAfter := f.tx(0, 1, 1000), f.tx(0, 0, 1500) // a follower: the stale check still applies
	var run []*types.Tx                                  // nonces 0..5 of sender 1: gaps beyond 2, closed in order
	for n := uint64(0); n < 6; n++ {
		run = append(run, f.tx(1, n, 1000))
	}
	txs := append([]*types.Tx{stale, x1, staleAfter}, run...)
	checks := f.p.sigChecks.Load()
	errs := f.p.AddBatch(txs)
	wantKind(t, errs[0], consensus.ErrBadNonce)
	wantKind(t, errs[2], consensus.ErrBadNonce)
	for i, err := range errs {
		if err != nil && i != 0 && i != 2 {
			t.Fatalf("tx %d: %v", i, err)
		}
	}
	if got, want := f.p.sigChecks.Load()-checks, uint64(1+len(run)); got != want {
		t.Fatalf("%d signature verifications, want %d (the accepted ones)", got, want)
	}
	for _, tx := range []*types.Tx{stale, staleAfter} {
		if f.c.SigCache().Contains(tx.Hash()) {
			t.Fatal("a refused transaction was put in the chain's signature cache")
		}
	}
	checkInvariants(t, f.p)
}

// TestSigCacheOnlyOnAdmission: an id enters the chain's signature cache
// when its transaction is admitted, not when a transaction the pool then
// refuses has been verified.
func TestSigCacheOnlyOnAdmission(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4}, nil)
	// In one batch the second candidate is checked against a pool without
	// the first, so it is verified, then refused at admission.
	first, second := f.tx(0, 0, 1000), f.txAmount(0, 0, 2*types.Coin, 1000)
	errs := f.p.AddBatch([]*types.Tx{first, second})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	wantKind(t, errs[1], ErrReplacementUnderpriced)
	if !f.c.SigCache().Contains(first.Hash()) {
		t.Fatal("admitted transaction not in the chain's signature cache")
	}
	if f.c.SigCache().Contains(second.Hash()) {
		t.Fatal("refused transaction in the chain's signature cache")
	}
	if st := wantStatus(t, f.p, second, StateRefused); !errors.Is(st.Err, ErrReplacementUnderpriced) {
		t.Fatalf("status %+v", st)
	}
}

// TestRefusalHistory: refusals decided before the signature check, which
// anyone can produce for free, do not flush the main history, and no
// refusal replaces the record of how a transaction left the pool.
func TestRefusalHistory(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4}, func(c *Config) { c.RecentCount = 50 })
	mined := f.tx(0, 0, 1000)
	f.mustAdd(mined)
	f.connect(mined)
	replaced, repl := f.tx(1, 0, 1000), f.tx(1, 0, 5000)
	f.mustAdd(replaced, repl)

	var junk []*types.Tx
	for i := 0; i < 200; i++ { // unsigned, refused for the fee before any signature check
		tx := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID, Nonce: uint64(i), To: f.g.Addrs[1], Amount: 1, Fee: 1}
		wantKind(t, f.p.Add(tx), ErrFeeTooLow)
		junk = append(junk, tx)
	}
	wantRemoved(t, f.p, mined, ReasonMined, nil)
	wantRemoved(t, f.p, replaced, ReasonReplaced, nil)
	wantStatus(t, f.p, junk[len(junk)-1], StateRefused) // the latest are still answered
	wantStatus(t, f.p, junk[0], StateUnknown)           // in a history of their own, bounded

	// Resubmitting them is refused, and their records stay.
	wantKind(t, f.p.Add(mined), consensus.ErrBadNonce)
	wantKind(t, f.p.Add(replaced), ErrReplacementUnderpriced)
	wantRemoved(t, f.p, mined, ReasonMined, nil)
	wantRemoved(t, f.p, replaced, ReasonReplaced, nil)
}
