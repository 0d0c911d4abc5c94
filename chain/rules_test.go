package chain

// The consensus rules through the real store (security-tests items 1, 2, 4,
// 5, 7, 8, 10, 11, 12): for each rule a block that breaks exactly that rule
// is refused by ProcessBlock with exactly that kind, the tip and the state
// are unchanged, and the refusal is remembered or not as the rule requires.
//
// This file also holds the helpers the other test files of this change
// (reorg_test.go, orphan_test.go, admin_test.go) share.

import (
	"errors"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// rlClock is a settable clock for Config.Clock.
type rlClock struct {
	mu  sync.Mutex
	now time.Time
}

func newRLClock(unix int64) *rlClock { return &rlClock{now: time.Unix(unix, 0)} }

func (c *rlClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *rlClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rlOpen opens a store with cfg (Dir defaults to a new temporary
// directory) and closes it when the test ends.
func rlOpen(t testing.TB, cfg Config) *Chain {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Clock == nil {
		cfg.Clock = testClock
	}
	if cfg.Logger == nil {
		cfg.Logger = rlQuiet
	}
	c, err := Open(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Dir, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rlQuiet drops the store's log: refusals are expected here.
var rlQuiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// rlConsensusKinds and rlChainKinds are every error kind, so that a test
// can check that an error matches exactly one.
var rlConsensusKinds = []consensus.ErrorKind{
	consensus.ErrBadVersion, consensus.ErrBadTarget, consensus.ErrHighHash, consensus.ErrUnexpectedBits,
	consensus.ErrBadHeight, consensus.ErrTimeTooOld, consensus.ErrTimeTooNew, consensus.ErrBadPrevBlock,
	consensus.ErrNoTxs, consensus.ErrFirstTxNotCoinbase, consensus.ErrMultipleCoinbases, consensus.ErrBadCoinbase,
	consensus.ErrCoinbaseTooHigh, consensus.ErrBadMerkleRoot, consensus.ErrDuplicateTx, consensus.ErrBlockTooBig,
	consensus.ErrTooManyTxs, consensus.ErrBadStateRoot,
	consensus.ErrWrongChainID, consensus.ErrZeroAmount, consensus.ErrBadRecipient, consensus.ErrMemoTooLong,
	consensus.ErrBadPubKey, consensus.ErrBadSignature, consensus.ErrHighS, consensus.ErrBadNonce,
	consensus.ErrInsufficientBalance, consensus.ErrAmountOverflow,
}

var rlChainKinds = []ErrorKind{
	ErrDuplicateBlock, ErrKnownInvalid, ErrUnknownBlock, ErrGenesisMismatch, ErrCorruptDB, ErrStorage,
	ErrInsufficientWork, ErrClosed, ErrInvalidateGenesis, ErrIndexUnavailable, ErrBadCursor, ErrBadLimit,
}

// rlExactKind fails unless err matches want with errors.Is and no other
// consensus or chain kind. A consensus kind must come as a
// *consensus.RuleError, a chain kind as an *Error.
func rlExactKind(t testing.TB, err error, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want kind %v", err, want)
	}
	for _, k := range rlConsensusKinds {
		if k != want && errors.Is(err, k) {
			t.Fatalf("error %v matches %v as well as %v", err, k, want)
		}
	}
	for _, k := range rlChainKinds {
		if k != want && errors.Is(err, k) {
			t.Fatalf("error %v matches %v as well as %v", err, k, want)
		}
	}
	switch want.(type) {
	case consensus.ErrorKind:
		var re *consensus.RuleError
		if !errors.As(err, &re) {
			t.Fatalf("error %v (%T) is not a *consensus.RuleError", err, err)
		}
	case ErrorKind:
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %v (%T) is not a *chain.Error", err, err)
		}
	}
}

// rlCopy returns an independent copy of b.
func rlCopy(b *types.Block) *types.Block {
	c, err := types.DecodeBlock(b.Encode())
	if err != nil {
		panic(err)
	}
	return c
}

// rlUnsolve changes the nonce until the header misses its target.
func rlUnsolve(b *types.Block, p *consensus.Params) {
	for n := b.Header.Nonce + 1; ; n++ {
		b.Header.Nonce = n
		if errors.Is(consensus.CheckProofOfWork(b.Header.Hash(), b.Header.Bits, p.PowLimit), consensus.ErrHighHash) {
			return
		}
	}
}

// rlHighS replaces the signature's S by N-S: the same signature in its
// non-canonical high-S form.
func rlHighS(tx *types.Tx) {
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(tx.Sig[32:]); overflow || s.IsOverHalfOrder() {
		panic("SignTx made a high-S signature")
	}
	s.Negate()
	var b [32]byte
	s.PutBytes(&b)
	copy(tx.Sig[32:], b[:])
}

// rlTipSnapshot is what must not change when a block is refused.
type rlTipSnapshot struct {
	tip      Tip
	accounts map[types.Address]consensus.Account
}

func rlSnap(t testing.TB, c *Chain) rlTipSnapshot {
	return rlTipSnapshot{tip: c.Tip(), accounts: storedAccounts(t, c)}
}

func (s rlTipSnapshot) check(t testing.TB, c *Chain) {
	t.Helper()
	now := c.Tip()
	if now.Hash != s.tip.Hash || now.Height != s.tip.Height || now.StateRoot != s.tip.StateRoot ||
		now.TotalWork.Cmp(s.tip.TotalWork) != 0 || now.MedianTimePast != s.tip.MedianTimePast {
		t.Fatalf("tip moved: %s@%d -> %s@%d", s.tip.Hash, s.tip.Height, now.Hash, now.Height)
	}
	acc := storedAccounts(t, c)
	if len(acc) != len(s.accounts) {
		t.Fatalf("%d accounts, was %d", len(acc), len(s.accounts))
	}
	for a, v := range s.accounts {
		if acc[a] != v {
			t.Fatalf("account %s: %+v, was %+v", a, acc[a], v)
		}
	}
}

// rlNotes records notifications.
type rlNotes struct {
	mu    sync.Mutex
	notes []Notification
}

func rlRecord(c *Chain) *rlNotes {
	r := &rlNotes{}
	c.Subscribe(func(n Notification) {
		r.mu.Lock()
		r.notes = append(r.notes, n)
		r.mu.Unlock()
	})
	return r
}

// take returns and forgets the notifications so far.
func (r *rlNotes) take() []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.notes
	r.notes = nil
	return out
}

// rlFix is the chain the rule tests extend: three blocks with transfers on
// a network with small block limits, so that every account has sent.
type rlFix struct {
	g      *chaingen.Generator
	prefix []*types.Block
	tip    types.Hash // last block of prefix
	// honest is a valid child of tip with three transfers; honestKid a
	// valid child of honest.
	honest, honestKid *types.Block
	honestTxs         []*types.Tx
}

const (
	rlMaxBlockSize = 3000
	rlMaxBlockTxs  = 12
	rlGenesisTime  = 1_700_000_000
)

var (
	rlFixOnce sync.Once
	rlFixture *rlFix
)

func rlGetFix() *rlFix {
	rlFixOnce.Do(func() {
		g := chaingen.New(chaingen.Options{Accounts: 14, MaxBlockSize: rlMaxBlockSize, MaxBlockTxs: rlMaxBlockTxs})
		f := &rlFix{g: g}
		parent := g.Genesis.Hash
		for h := 0; h < 3; h++ {
			var txs []*types.Tx
			for i := 0; i < len(g.Keys); i++ {
				if (i+h)%2 == 0 {
					txs = append(txs, g.Transfer(i, g.Addrs[(i+1)%len(g.Keys)], types.Amount(1000+i), 7, g.Nonce(parent, g.Addrs[i])))
				}
				if len(txs) == rlMaxBlockTxs-1 {
					break
				}
			}
			b := g.MustBlock(parent, txs)
			f.prefix = append(f.prefix, b)
			parent = b.Hash()
		}
		f.tip = parent
		f.honestTxs = []*types.Tx{
			g.Transfer(0, g.Addrs[1], 500, 5, g.Nonce(parent, g.Addrs[0])),
			g.Transfer(1, g.Addrs[2], 600, 6, g.Nonce(parent, g.Addrs[1])),
			g.Transfer(2, g.Addrs[3], 700, 7, g.Nonce(parent, g.Addrs[2])),
		}
		f.honest = g.MustBlock(parent, f.honestTxs)
		f.honestKid = g.MustBlock(f.honest.Hash(), nil)
		rlFixture = f
	})
	return rlFixture
}

// prefixDir makes a closed store holding the prefix, for openCopy.
func (f *rlFix) prefixDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	c := rlOpen(t, Config{Genesis: f.g.Genesis, Dir: dir})
	mustProcess(t, c, f.prefix...)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openCopy opens a copy of the store prefixDir made, at the prefix's tip.
func (f *rlFix) openCopy(t testing.TB, base string) *Chain {
	t.Helper()
	dir := t.TempDir()
	adCopyDir(t, base, dir)
	c := rlOpen(t, Config{Genesis: f.g.Genesis, Dir: dir})
	checkState(t, c, f.g, f.tip)
	return c
}

// nonce is key i's next nonce after the prefix.
func (f *rlFix) nonce(i int) uint64 { return f.g.Nonce(f.tip, f.g.Addrs[i]) }

// withTxs is a copy of honest with its transfers replaced (coinbase kept),
// the transaction root fixed and solved again. The state root is left as
// the honest block's: rows that use it fail before it is compared.
func (f *rlFix) withTxs(txs ...*types.Tx) *types.Block {
	return f.g.Mutate(f.honest, true, func(b *types.Block) { b.Txs = append(b.Txs[:1], txs...) })
}

// signed makes a transfer from key i, lets edit change it, and signs it for
// this network.
func (f *rlFix) signed(i int, edit func(tx *types.Tx)) *types.Tx {
	tx := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID, Nonce: f.nonce(i), To: f.g.Addrs[i+1], Amount: 900, Fee: 9}
	edit(tx)
	types.SignTx(tx, f.g.Keys[i], f.g.Genesis.Hash)
	return tx
}

// Validation stage of a rule, which decides whether the store remembers a
// refusal.
const (
	rlStageHeader  = iota // header sanity (version, target, proof of work): checked before anything is stored
	rlStageContext        // header against its parent
	rlStageTime           // future drift: never remembered
	rlStageBody           // block sanity; a Merkle mismatch is never remembered
	rlStageConnect        // signatures and state transition
)

type rlRow struct {
	name  string
	build func(f *rlFix) *types.Block
	kind  consensus.ErrorKind
	stage int
}

// remembered reports whether the documentation (chain/doc.go, process.go's
// ProcessBlock, consensus/block.go's CheckBlockSanity) requires the store
// to remember the refusal: every rule but proof of work (nothing is stored
// before it is checked), future drift and a body that does not match its
// header.
func (r rlRow) remembered() bool {
	switch {
	case r.stage == rlStageHeader, r.stage == rlStageTime:
		return false
	case r.kind == consensus.ErrBadMerkleRoot:
		return false
	}
	return true
}

var (
	rlBadMu    sync.Mutex
	rlBadCache = map[string]*types.Block{}
)

// bad builds the row's block once; tests must not change it.
func (r rlRow) bad(f *rlFix) *types.Block {
	rlBadMu.Lock()
	defer rlBadMu.Unlock()
	if b, ok := rlBadCache[r.name]; ok {
		return b
	}
	b := r.build(f)
	rlBadCache[r.name] = b
	return b
}

func rlRows() []rlRow {
	mutate := func(fixRoot bool, edit func(f *rlFix, b *types.Block)) func(f *rlFix) *types.Block {
		return func(f *rlFix) *types.Block {
			return f.g.Mutate(f.honest, fixRoot, func(b *types.Block) { edit(f, b) })
		}
	}
	unsolved := func(edit func(f *rlFix, b *types.Block)) func(f *rlFix) *types.Block {
		return func(f *rlFix) *types.Block {
			b := rlCopy(f.honest)
			edit(f, b)
			return b
		}
	}
	txs := func(mk func(f *rlFix) []*types.Tx) func(f *rlFix) *types.Block {
		return func(f *rlFix) *types.Block { return f.withTxs(mk(f)...) }
	}
	// resigned is honest with its second transfer changed by edit after
	// signing.
	resigned := func(edit func(f *rlFix, tx *types.Tx)) func(f *rlFix) *types.Block {
		return mutate(true, func(f *rlFix, b *types.Block) { edit(f, b.Txs[2]) })
	}
	var zero types.Address
	return []rlRow{
		// Header sanity: proof of work is checked before anything else.
		{"ErrBadVersion", mutate(false, func(f *rlFix, b *types.Block) { b.Header.Version = 2 }),
			consensus.ErrBadVersion, rlStageHeader},
		{"ErrBadTarget/above-limit", unsolved(func(f *rlFix, b *types.Block) { b.Header.Bits = 0x2100ffff }),
			consensus.ErrBadTarget, rlStageHeader},
		{"ErrBadTarget/zero", unsolved(func(f *rlFix, b *types.Block) { b.Header.Bits = 0 }),
			consensus.ErrBadTarget, rlStageHeader},
		{"ErrBadTarget/negative", unsolved(func(f *rlFix, b *types.Block) { b.Header.Bits = 0x20ffffff }),
			consensus.ErrBadTarget, rlStageHeader},
		{"ErrHighHash", unsolved(func(f *rlFix, b *types.Block) { rlUnsolve(b, f.g.Params) }),
			consensus.ErrHighHash, rlStageHeader},

		// Header context.
		{"ErrBadHeight", mutate(true, func(f *rlFix, b *types.Block) {
			b.Header.Height++
			b.Txs[0].Nonce++
		}), consensus.ErrBadHeight, rlStageContext},
		{"ErrUnexpectedBits", mutate(false, func(f *rlFix, b *types.Block) { b.Header.Bits = 0x2000ffff }),
			consensus.ErrUnexpectedBits, rlStageContext},
		{"ErrTimeTooOld", mutate(false, func(f *rlFix, b *types.Block) {
			b.Header.Time = f.g.State(f.tip).Block.Header.Time - 10 // the median of 0, 10, 20, 30 s
		}), consensus.ErrTimeTooOld, rlStageContext},
		{"ErrTimeTooNew", mutate(false, func(f *rlFix, b *types.Block) {
			b.Header.Time = uint64(testClock().Unix()) + f.g.Params.MaxFutureDrift + 1
		}), consensus.ErrTimeTooNew, rlStageTime},

		// Block sanity.
		{"ErrBadMerkleRoot/duplicated-tx", unsolved(func(f *rlFix, b *types.Block) { b.Txs = append(b.Txs, b.Txs[len(b.Txs)-1]) }),
			consensus.ErrBadMerkleRoot, rlStageBody},
		{"ErrBadMerkleRoot/reordered", unsolved(func(f *rlFix, b *types.Block) { b.Txs[1], b.Txs[2] = b.Txs[2], b.Txs[1] }),
			consensus.ErrBadMerkleRoot, rlStageBody},
		{"ErrNoTxs", mutate(true, func(f *rlFix, b *types.Block) { b.Txs = nil }),
			consensus.ErrNoTxs, rlStageBody},
		{"ErrFirstTxNotCoinbase", mutate(true, func(f *rlFix, b *types.Block) { b.Txs = b.Txs[1:] }),
			consensus.ErrFirstTxNotCoinbase, rlStageBody},
		{"ErrMultipleCoinbases", mutate(true, func(f *rlFix, b *types.Block) {
			cb := *b.Txs[0]
			cb.Memo = []byte("second")
			b.Txs = append(b.Txs, &cb)
		}), consensus.ErrMultipleCoinbases, rlStageBody},
		{"ErrBadCoinbase/height", mutate(true, func(f *rlFix, b *types.Block) { b.Txs[0].Nonce++ }),
			consensus.ErrBadCoinbase, rlStageBody},
		{"ErrBadCoinbase/chain-id", mutate(true, func(f *rlFix, b *types.Block) { b.Txs[0].ChainID++ }),
			consensus.ErrBadCoinbase, rlStageBody},
		{"ErrBadCoinbase/fee", mutate(true, func(f *rlFix, b *types.Block) { b.Txs[0].Fee = 1 }),
			consensus.ErrBadCoinbase, rlStageBody},
		{"ErrDuplicateTx", mutate(true, func(f *rlFix, b *types.Block) { b.Txs = append(b.Txs, b.Txs[1]) }),
			consensus.ErrDuplicateTx, rlStageBody},
		{"ErrBlockTooBig", func(f *rlFix) *types.Block {
			// Eight transactions with full memos: under the count limit,
			// over the size limit.
			var list []*types.Tx
			for i := 0; i < 7; i++ {
				list = append(list, f.signed(i, func(tx *types.Tx) { tx.Memo = make([]byte, types.MaxMemoSize) }))
			}
			return f.g.Mutate(f.honest, true, func(b *types.Block) {
				b.Txs = append(b.Txs[:1], list...)
				b.Txs[0].Memo = make([]byte, types.MaxMemoSize)
			})
		}, consensus.ErrBlockTooBig, rlStageBody},
		{"ErrTooManyTxs", txs(func(f *rlFix) []*types.Tx {
			var list []*types.Tx
			for i := 0; i < rlMaxBlockTxs; i++ {
				list = append(list, f.signed(i, func(tx *types.Tx) {}))
			}
			return list
		}), consensus.ErrTooManyTxs, rlStageBody},
		{"ErrBadRecipient", txs(func(f *rlFix) []*types.Tx {
			return []*types.Tx{f.signed(0, func(tx *types.Tx) { tx.To = zero })}
		}), consensus.ErrBadRecipient, rlStageBody},
		{"ErrBadRecipient/coinbase", mutate(true, func(f *rlFix, b *types.Block) { b.Txs[0].To = zero }),
			consensus.ErrBadRecipient, rlStageBody},
		{"ErrMemoTooLong", txs(func(f *rlFix) []*types.Tx {
			return []*types.Tx{f.signed(0, func(tx *types.Tx) { tx.Memo = make([]byte, types.MaxMemoSize+1) })}
		}), consensus.ErrMemoTooLong, rlStageBody},
		{"ErrWrongChainID", txs(func(f *rlFix) []*types.Tx {
			return []*types.Tx{f.signed(0, func(tx *types.Tx) { tx.ChainID++ })}
		}), consensus.ErrWrongChainID, rlStageBody},
		{"ErrZeroAmount", txs(func(f *rlFix) []*types.Tx {
			return []*types.Tx{f.signed(0, func(tx *types.Tx) { tx.Amount = 0 })}
		}), consensus.ErrZeroAmount, rlStageBody},
		{"ErrAmountOverflow/amount-plus-fee", txs(func(f *rlFix) []*types.Tx {
			return []*types.Tx{f.signed(0, func(tx *types.Tx) { tx.Amount, tx.Fee = types.MaxAmount, 1 })}
		}), consensus.ErrAmountOverflow, rlStageBody},

		// Signatures.
		{"ErrBadSignature/flipped-bit", resigned(func(f *rlFix, tx *types.Tx) { tx.Sig[45] ^= 0x10 }),
			consensus.ErrBadSignature, rlStageConnect},
		{"ErrBadSignature/signed-for-another-genesis", resigned(func(f *rlFix, tx *types.Tx) {
			other := chaingen.New(chaingen.Options{Accounts: 14, MaxBlockSize: rlMaxBlockSize, MaxBlockTxs: rlMaxBlockTxs, ChainID: 8})
			if other.Genesis.Hash == f.g.Genesis.Hash {
				panic("two networks, one genesis hash")
			}
			types.SignTx(tx, f.g.Keys[1], other.Genesis.Hash)
		}), consensus.ErrBadSignature, rlStageConnect},
		{"ErrBadSignature/signed-for-another-chain-id", resigned(func(f *rlFix, tx *types.Tx) {
			tx.ChainID++
			types.SignTx(tx, f.g.Keys[1], f.g.Genesis.Hash)
			tx.ChainID--
		}), consensus.ErrBadSignature, rlStageConnect},
		{"ErrHighS", resigned(func(f *rlFix, tx *types.Tx) { rlHighS(tx) }),
			consensus.ErrHighS, rlStageConnect},
		{"ErrBadPubKey", resigned(func(f *rlFix, tx *types.Tx) { tx.PubKey[0] = 0x04 }),
			consensus.ErrBadPubKey, rlStageConnect},

		// State transition.
		{"ErrBadNonce/replay", txs(func(f *rlFix) []*types.Tx {
			return []*types.Tx{f.signed(0, func(tx *types.Tx) { tx.Nonce-- })}
		}), consensus.ErrBadNonce, rlStageConnect},
		{"ErrBadNonce/gap", txs(func(f *rlFix) []*types.Tx {
			return []*types.Tx{f.signed(0, func(tx *types.Tx) { tx.Nonce++ })}
		}), consensus.ErrBadNonce, rlStageConnect},
		{"ErrBadNonce/double-spend-in-block", txs(func(f *rlFix) []*types.Tx {
			// Same sender and nonce, different recipients.
			return []*types.Tx{
				f.signed(0, func(tx *types.Tx) { tx.To = f.g.Addrs[5] }),
				f.signed(0, func(tx *types.Tx) { tx.To = f.g.Addrs[6] }),
			}
		}), consensus.ErrBadNonce, rlStageConnect},
		{"ErrBadNonce/replayed-from-earlier-block", txs(func(f *rlFix) []*types.Tx {
			// A transfer already in block 1, included again.
			return []*types.Tx{f.prefix[0].Txs[1]}
		}), consensus.ErrBadNonce, rlStageConnect},
		{"ErrInsufficientBalance", txs(func(f *rlFix) []*types.Tx {
			bal := f.g.State(f.tip).Accounts[f.g.Addrs[4]].Balance
			return []*types.Tx{f.signed(4, func(tx *types.Tx) { tx.Amount, tx.Fee = bal, 1 })}
		}), consensus.ErrInsufficientBalance, rlStageConnect},
		{"ErrCoinbaseTooHigh", mutate(true, func(f *rlFix, b *types.Block) {
			b.Txs[0].Amount = f.g.Params.Subsidy(b.Header.Height) + (5 + 6 + 7) + 1
		}), consensus.ErrCoinbaseTooHigh, rlStageConnect},
		{"ErrBadStateRoot", mutate(false, func(f *rlFix, b *types.Block) { b.Header.StateRoot[3] ^= 1 }),
			consensus.ErrBadStateRoot, rlStageConnect},
	}
}

// TestProcessBlockRejectsEachRule feeds each row's block to a store at the
// fixture's tip: it is refused with exactly the row's kind, the tip, the
// accounts and the commitment are unchanged, no notification is sent, and
// the honest block at the same height is accepted afterwards.
func TestProcessBlockRejectsEachRule(t *testing.T) {
	f := rlGetFix()
	base := f.prefixDir(t)
	for _, row := range rlRows() {
		t.Run(row.name, func(t *testing.T) {
			bad := row.bad(f)
			c := f.openCopy(t, base)
			notes := rlRecord(c)
			before := rlSnap(t, c)

			res, err := c.ProcessBlock(bad)
			rlExactKind(t, err, row.kind)
			if res.MainChain || res.Orphan || res.Reorg || res.Hash != bad.Hash() {
				t.Fatalf("refused block: result %+v", res)
			}
			before.check(t, c)
			checkState(t, c, f.g, f.tip)
			if n := notes.take(); len(n) != 0 {
				t.Fatalf("%d notifications for a refused block", len(n))
			}
			if c.IsMainChain(bad.Hash()) && bad.Hash() != f.honest.Hash() {
				t.Fatal("refused block is on the main chain")
			}

			// The store is not wedged: the honest block is accepted.
			res, err = c.ProcessBlock(f.honest)
			if err != nil || !res.MainChain {
				t.Fatalf("honest block after the refusal: %+v, %v", res, err)
			}
			checkState(t, c, f.g, f.honest.Hash())
		})
	}
}

// TestPermanentRuleFailureRememberedAsInvalid checks what the store
// remembers of a refused block. Rules that depend on local time (future drift) or that only show
// the body is not the one the header commits to (Merkle root) must not be
// remembered: the same hash is tried again in full. Proof of work is
// checked before anything is stored. Every other rule is permanent for the
// block's hash, and the documentation (chain/doc.go: "A block that fails
// full validation is marked invalid"; "A block refused only because its
// timestamp is too far ahead, or because its transactions do not match its
// header's Merkle root, is not marked invalid"; ProcessBlock's comment;
// consensus.CheckBlockSanity: "Every later failure does condemn the
// header") says such blocks are remembered: IsKnownInvalid is true, the
// same block again gives ErrKnownInvalid, and so does a child of it.
func TestPermanentRuleFailureRememberedAsInvalid(t *testing.T) {
	f := rlGetFix()
	base := f.prefixDir(t)
	for _, row := range rlRows() {
		t.Run(row.name, func(t *testing.T) {
			bad := row.bad(f)
			c := f.openCopy(t, base)
			before := rlSnap(t, c)
			_, err := c.ProcessBlock(bad)
			rlExactKind(t, err, row.kind)

			// A child of the refused block, valid in every other way.
			kid := f.g.Mutate(f.honestKid, false, func(b *types.Block) { b.Header.PrevBlock = bad.Hash() })

			if !row.remembered() {
				if c.IsKnownInvalid(bad.Hash()) {
					t.Fatal("refusal remembered as invalid")
				}
				_, err = c.ProcessBlock(bad)
				rlExactKind(t, err, row.kind) // validated again, not short-cut
				before.check(t, c)
				return
			}
			if !c.IsKnownInvalid(bad.Hash()) {
				t.Errorf("block refused for %s (permanent) is not remembered: IsKnownInvalid is false", row.kind)
			}
			_, err = c.ProcessBlock(bad)
			if !errors.Is(err, ErrKnownInvalid) {
				t.Errorf("same block again: %v, want ErrKnownInvalid", err)
			}
			res, err := c.ProcessBlock(kid)
			if !errors.Is(err, ErrKnownInvalid) || res.Orphan {
				t.Errorf("child of the refused block: %+v, %v; want ErrKnownInvalid", res, err)
			}
			before.check(t, c)
		})
	}
}

// TestTimeTooNewNotRemembered: a block too far in the future is refused
// now and accepted, unchanged, once local time catches up (item 4).
func TestTimeTooNewNotRemembered(t *testing.T) {
	f := rlGetFix()
	clock := newRLClock(rlGenesisTime + 100_000)
	c := rlOpen(t, Config{Genesis: f.g.Genesis, Clock: clock.Now})
	mustProcess(t, c, f.prefix...)
	drift := f.g.Params.MaxFutureDrift
	now := uint64(clock.Now().Unix())

	// At the limit: accepted. One second past it: refused.
	atLimit := f.g.MustBlock(f.tip, f.honestTxs, chaingen.BlockOpts{Time: now + drift, CoinbaseMemo: []byte("at limit")})
	early := f.g.MustBlock(f.tip, f.honestTxs, chaingen.BlockOpts{Time: now + drift + 1, CoinbaseMemo: []byte("early")})
	before := rlSnap(t, c)
	for i := 0; i < 2; i++ {
		_, err := c.ProcessBlock(early)
		rlExactKind(t, err, consensus.ErrTimeTooNew)
		before.check(t, c)
		if c.IsKnownInvalid(early.Hash()) || c.HaveBlock(early.Hash()) {
			t.Fatal("a block from the future was remembered")
		}
	}
	// A child of it arriving meanwhile waits as an orphan.
	kid := f.g.MustBlock(early.Hash(), nil, chaingen.BlockOpts{Time: early.Header.Time})
	if res, err := c.ProcessBlock(kid); err != nil || !res.Orphan || res.MissingParent != early.Hash() {
		t.Fatalf("child of the early block: %+v, %v", res, err)
	}

	clock.Advance(time.Second)
	res, err := c.ProcessBlock(early)
	if err != nil || !res.MainChain {
		t.Fatalf("same block once time caught up: %+v, %v", res, err)
	}
	checkState(t, c, f.g, kid.Hash()) // the orphan followed it

	// The sibling at the limit was valid all along: a side block now.
	c2 := rlOpen(t, Config{Genesis: f.g.Genesis, Clock: newRLClock(int64(now)).Now})
	mustProcess(t, c2, f.prefix...)
	if res, err := c2.ProcessBlock(atLimit); err != nil || !res.MainChain {
		t.Fatalf("block at the drift limit: %+v, %v", res, err)
	}
	checkState(t, c2, f.g, atLimit.Hash())
}

// TestMerkleMalleationDoesNotPoisonHeader: bodies that do not match the
// header's transaction root are refused, and the honest block with the same
// header (the same hash) is accepted afterwards (item 7).
func TestMerkleMalleationDoesNotPoisonHeader(t *testing.T) {
	f := rlGetFix()
	c := rlOpen(t, Config{Genesis: f.g.Genesis})
	mustProcess(t, c, f.prefix...)
	notes := rlRecord(c)
	before := rlSnap(t, c)
	other := f.g.Transfer(9, f.g.Addrs[0], 1, 1, f.nonce(9))
	malleations := []struct {
		name string
		edit func(b *types.Block)
	}{
		{"last tx duplicated", func(b *types.Block) { b.Txs = append(b.Txs, b.Txs[len(b.Txs)-1]) }},
		{"tx duplicated in the middle", func(b *types.Block) {
			b.Txs = append(b.Txs[:2], append([]*types.Tx{b.Txs[1]}, b.Txs[2:]...)...)
		}},
		{"last two duplicated", func(b *types.Block) { b.Txs = append(b.Txs, b.Txs[len(b.Txs)-2:]...) }},
		{"reordered", func(b *types.Block) { b.Txs[2], b.Txs[3] = b.Txs[3], b.Txs[2] }},
		{"tx dropped", func(b *types.Block) { b.Txs = b.Txs[:len(b.Txs)-1] }},
		{"tx replaced", func(b *types.Block) { b.Txs[3] = other }},
		{"tx added", func(b *types.Block) { b.Txs = append(b.Txs, other) }},
		{"coinbase memo changed", func(b *types.Block) { b.Txs[0].Memo = []byte("x") }},
		{"signature changed", func(b *types.Block) { b.Txs[1].Sig[50] ^= 1 }},
		{"transactions removed", func(b *types.Block) { b.Txs = b.Txs[:1] }},
	}
	for _, m := range malleations {
		bad := rlCopy(f.honest)
		m.edit(bad)
		if bad.Hash() != f.honest.Hash() {
			t.Fatalf("%s: header changed", m.name)
		}
		for i := 0; i < 2; i++ {
			_, err := c.ProcessBlock(bad)
			t.Run(m.name, func(t *testing.T) { rlExactKind(t, err, consensus.ErrBadMerkleRoot) })
		}
		before.check(t, c)
		if c.HaveBlock(f.honest.Hash()) || c.IsKnownInvalid(f.honest.Hash()) {
			t.Fatalf("%s: the header is remembered after a body mismatch", m.name)
		}
	}
	if n := notes.take(); len(n) != 0 {
		t.Fatalf("%d notifications for refused bodies", len(n))
	}
	res, err := c.ProcessBlock(f.honest)
	if err != nil || !res.MainChain {
		t.Fatalf("honest block: %+v, %v", res, err)
	}
	checkState(t, c, f.g, f.honest.Hash())
	// Once the block is stored, a malleated copy is a duplicate.
	bad := rlCopy(f.honest)
	bad.Txs = append(bad.Txs, bad.Txs[1])
	_, err = c.ProcessBlock(bad)
	rlExactKind(t, err, ErrDuplicateBlock)
	checkState(t, c, f.g, f.honest.Hash())
}

// TestDoubleSpendAcrossBlocks: a transfer replayed in a later block is
// refused and the transaction index still names the first inclusion; the
// same sender's next nonce is still accepted (item 8).
func TestDoubleSpendAcrossBlocks(t *testing.T) {
	f := rlGetFix()
	c := rlOpen(t, Config{Genesis: f.g.Genesis})
	mustProcess(t, c, f.prefix...)
	mustProcess(t, c, f.honest)
	spent := f.honestTxs[0]
	loc, ok, err := c.TxLocation(spent.Hash())
	if err != nil || !ok || loc.Height != f.honest.Header.Height || loc.Index != 1 {
		t.Fatalf("first inclusion: %+v %v %v", loc, ok, err)
	}
	// The same transfer again, and the same nonce to another recipient.
	again := f.g.Mutate(f.honestKid, true, func(b *types.Block) { b.Txs = append(b.Txs, spent) })
	respend := f.g.Mutate(f.honestKid, true, func(b *types.Block) {
		tx := f.g.Transfer(0, f.g.Addrs[7], 1, 1, spent.Nonce)
		b.Txs = append(b.Txs, tx)
	})
	before := rlSnap(t, c)
	for _, b := range []*types.Block{again, respend} {
		_, err := c.ProcessBlock(b)
		rlExactKind(t, err, consensus.ErrBadNonce)
		before.check(t, c)
		if !c.IsKnownInvalid(b.Hash()) {
			t.Error("double spend not remembered as invalid")
		}
	}
	loc2, ok, err := c.TxLocation(spent.Hash())
	if err != nil || !ok || loc2 != loc {
		t.Fatalf("tx index after the replay: %+v %v %v, want %+v", loc2, ok, err, loc)
	}
	// The next nonce goes through.
	next := f.g.Transfer(0, f.g.Addrs[7], 1, 1, spent.Nonce+1)
	b := f.g.MustBlock(f.honest.Hash(), []*types.Tx{next})
	mustProcess(t, c, b)
	checkState(t, c, f.g, b.Hash())
}

// TestCoinbaseLimitExact: a coinbase may pay up to subsidy plus fees, not
// a unit more (item 8).
func TestCoinbaseLimitExact(t *testing.T) {
	f := rlGetFix()
	limit := f.g.Params.Subsidy(f.honest.Header.Height) + 5 + 6 + 7
	if f.honest.Txs[0].Amount != limit {
		t.Fatalf("chaingen pays %d, expected the limit %d", f.honest.Txs[0].Amount, limit)
	}
	c := rlOpen(t, Config{Genesis: f.g.Genesis})
	mustProcess(t, c, f.prefix...)
	before := rlSnap(t, c)
	for _, extra := range []types.Amount{1, types.Coin, types.MaxAmount - limit} {
		over := f.g.Mutate(f.honest, true, func(b *types.Block) { b.Txs[0].Amount = limit + extra })
		_, err := c.ProcessBlock(over)
		rlExactKind(t, err, consensus.ErrCoinbaseTooHigh)
		before.check(t, c)
	}
	mustProcess(t, c, f.honest)
	checkState(t, c, f.g, f.honest.Hash())
}

// TestWorkIsNotBits: a harder target than required is refused (it would
// count more work) even though its proof of work is real.
func TestWorkIsNotBits(t *testing.T) {
	f := rlGetFix()
	hard := f.g.Mutate(f.honest, false, func(b *types.Block) { b.Header.Bits = 0x2000ffff })
	if consensus.CalcWork(hard.Header.Bits).Cmp(consensus.CalcWork(f.honest.Header.Bits)) <= 0 {
		t.Fatal("test block does not claim more work")
	}
	c := rlOpen(t, Config{Genesis: f.g.Genesis})
	mustProcess(t, c, f.prefix...)
	work := new(big.Int).Set(c.Tip().TotalWork)
	_, err := c.ProcessBlock(hard)
	rlExactKind(t, err, consensus.ErrUnexpectedBits)
	if c.Tip().TotalWork.Cmp(work) != 0 {
		t.Fatal("total work changed")
	}
}
