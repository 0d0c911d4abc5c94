package consensus_test

// Unit tests of the pure consensus rules: one table row per ErrorKind of
// errors.go, each built from a valid block by breaking exactly one rule.
// Every row runs every stage of validation on its own (header sanity,
// header context, future drift, block sanity, signatures, state
// transition) and checks the outcome of each stage, so a row proves that
// the block breaks that rule and no other.

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"math/big"
	"strconv"
	"sync"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// rtAllKinds is every consensus ErrorKind. TestRulesCoverEveryErrorKind
// checks it against errors.go, so a new kind without a row fails.
var rtAllKinds = []consensus.ErrorKind{
	consensus.ErrBadVersion, consensus.ErrBadTarget, consensus.ErrHighHash, consensus.ErrUnexpectedBits,
	consensus.ErrBadHeight, consensus.ErrTimeTooOld, consensus.ErrTimeTooNew, consensus.ErrBadPrevBlock,
	consensus.ErrNoTxs, consensus.ErrFirstTxNotCoinbase, consensus.ErrMultipleCoinbases, consensus.ErrBadCoinbase,
	consensus.ErrCoinbaseTooHigh, consensus.ErrBadMerkleRoot, consensus.ErrDuplicateTx, consensus.ErrBlockTooBig,
	consensus.ErrTooManyTxs, consensus.ErrBadStateRoot,
	consensus.ErrWrongChainID, consensus.ErrZeroAmount, consensus.ErrBadRecipient, consensus.ErrMemoTooLong,
	consensus.ErrBadPubKey, consensus.ErrBadSignature, consensus.ErrHighS, consensus.ErrBadNonce,
	consensus.ErrInsufficientBalance, consensus.ErrAmountOverflow,
}

// rtExactKind fails unless err is a *consensus.RuleError of kind want and
// errors.Is matches no other kind.
func rtExactKind(t testing.TB, err error, want consensus.ErrorKind) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", want)
	}
	var re *consensus.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *consensus.RuleError", err, err)
	}
	if re.Kind != want || !errors.Is(err, want) {
		t.Fatalf("error kind %s (%v), want %s", re.Kind, err, want)
	}
	for _, k := range rtAllKinds {
		if k != want && errors.Is(err, k) {
			t.Fatalf("error %v also matches %s", err, k)
		}
	}
	if re.Description == "" {
		t.Fatalf("%s error without a description", want)
	}
}

// Test network parameters: built by hand, not from a genesis file.
const (
	rtChainID      = 7
	rtGenesisTime  = 1_700_000_000
	rtGenesisBits  = 0x203fff00 // canonical; 0x21003fff is the same target
	rtLimitBits    = 0x207fffff
	rtSpacing      = 10
	rtMaxBlockSize = 3000
	rtMaxBlockTxs  = 12
	rtDrift        = 7200
	rtParentHeight = 100
)

var (
	rtGenesisHash = types.Hash(sha256.Sum256([]byte("rules-test-genesis")))
	rtOtherHash   = types.Hash(sha256.Sum256([]byte("another-network-genesis")))
	rtParentHash  = types.Hash(sha256.Sum256([]byte("rules-test-parent")))
	// rtCurveOrder is N, the order of the secp256k1 group.
	rtCurveOrder = mustHex32("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
)

// rtNotOnCurve returns a compressed key whose x has no point on the curve.
func rtNotOnCurve() [types.PubKeySize]byte {
	var pub [types.PubKeySize]byte
	pub[0] = 0x02
	for x := byte(1); ; x++ {
		pub[32] = x
		if _, err := secp256k1.ParsePubKey(pub[:]); err != nil {
			return pub
		}
	}
}

func mustHex32(s string) [32]byte {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(s)
	}
	var b [32]byte
	n.FillBytes(b[:])
	return b
}

func rtParams() *consensus.Params {
	return &consensus.Params{
		Name: "rules-test", ChainID: rtChainID, AddressPrefix: "ltest", GenesisHash: rtGenesisHash,
		GenesisTime: rtGenesisTime, GenesisBits: rtGenesisBits,
		PowLimit: consensus.CompactToBig(rtLimitBits), PowLimitBits: rtLimitBits,
		TargetSpacing: rtSpacing, ASERTHalfLife: 3600,
		InitialSubsidy: 50 * types.Coin, HalvingInterval: 1000,
		MaxBlockSize: rtMaxBlockSize, MaxBlockTxs: rtMaxBlockTxs, MaxFutureDrift: rtDrift,
	}
}

// rtParent is a fake HeaderContext.
type rtParent struct {
	hash   types.Hash
	height uint32
	time   uint64
	mtp    uint64
	anchor uint64
}

func (p rtParent) Hash() types.Hash       { return p.hash }
func (p rtParent) Height() uint32         { return p.height }
func (p rtParent) Timestamp() uint64      { return p.time }
func (p rtParent) MedianTimePast() uint64 { return p.mtp }
func (p rtParent) AnchorTime() uint64     { return p.anchor }

// rtState is an AccountReader over a map.
type rtState map[types.Address]consensus.Account

func (s rtState) Account(a types.Address) (consensus.Account, error) { return s[a], nil }

func (s rtState) commitment() lthash.Hash {
	var leaves [][]byte
	for a, acct := range s {
		if !acct.IsEmpty() {
			leaves = append(leaves, consensus.AccountLeaf(a, acct))
		}
	}
	return lthash.AddAll(leaves, 1)
}

// rtEnv is one row's world: parameters, keys, the parent and its state.
type rtEnv struct {
	p      *consensus.Params
	keys   []*secp256k1.PrivateKey
	addrs  []types.Address
	miner  types.Address
	parent rtParent
	state  rtState
	now    uint64
}

var rtKeys = func() []*secp256k1.PrivateKey {
	var ks []*secp256k1.PrivateKey
	for i := 0; i < 16; i++ {
		ks = append(ks, chaingen.Key("rules", i))
	}
	return ks
}()

func newRTEnv() *rtEnv {
	e := &rtEnv{p: rtParams(), keys: rtKeys, state: rtState{}, miner: chaingen.AddrOf(chaingen.Key("rules-miner", 0))}
	for _, k := range e.keys {
		a := chaingen.AddrOf(k)
		e.addrs = append(e.addrs, a)
		e.state[a] = consensus.Account{Balance: 1000 * types.Coin, Nonce: 3}
	}
	// Block 1 anchors the schedule; the parent is on schedule, so the
	// required bits are GenesisBits.
	anchor := uint64(rtGenesisTime + rtSpacing)
	pt := anchor + (rtParentHeight-1)*rtSpacing
	e.parent = rtParent{hash: rtParentHash, height: rtParentHeight, time: pt, mtp: pt - 50, anchor: anchor}
	e.now = pt + 1000
	return e
}

// transfer signs a transfer from key i for this network.
func (e *rtEnv) transfer(from int, to types.Address, amount, fee types.Amount, nonce uint64) *types.Tx {
	tx := &types.Tx{Kind: types.TxTransfer, ChainID: rtChainID, Nonce: nonce, To: to, Amount: amount, Fee: fee}
	types.SignTx(tx, e.keys[from], rtGenesisHash)
	return tx
}

// next is key i's next nonce in the parent state.
func (e *rtEnv) next(i int) uint64 { return e.state[e.addrs[i]].Nonce }

// rtSpec is a block before its roots are computed and its header solved.
type rtSpec struct {
	hdr types.Header
	txs []*types.Tx // txs[0] is normally the coinbase
	// autoAmount sets the coinbase amount to subsidy plus fees.
	autoAmount bool
	// after edits the block once the roots are set, before solving.
	after func(b *types.Block)
	// solve: find a nonce meeting the target; unsolve: find one that does
	// not; neither: leave the nonce as is.
	solve, unsolve bool
}

func (e *rtEnv) coinbase(height uint32) *types.Tx {
	return &types.Tx{Kind: types.TxCoinbase, ChainID: rtChainID, Nonce: uint64(height), To: e.miner}
}

// baseSpec is a valid block: a coinbase and three transfers, two of them
// from the same sender with consecutive nonces.
func (e *rtEnv) baseSpec() *rtSpec {
	h := e.parent.height + 1
	return &rtSpec{
		hdr: types.Header{
			Version: consensus.HeaderVersion, Height: h, PrevBlock: e.parent.hash,
			Time: e.parent.time + rtSpacing, Bits: consensus.NextRequiredBits(e.p, e.parent.anchor, e.parent.height, e.parent.time),
		},
		txs: []*types.Tx{
			e.coinbase(h),
			e.transfer(0, e.addrs[1], 100, 10, e.next(0)),
			e.transfer(1, e.addrs[2], 200, 20, e.next(1)),
			e.transfer(0, e.addrs[3], 300, 30, e.next(0)+1),
		},
		autoAmount: true,
		solve:      true,
	}
}

func (e *rtEnv) build(s *rtSpec) *types.Block {
	b := &types.Block{Header: s.hdr, Txs: s.txs}
	if s.autoAmount && len(b.Txs) > 0 && b.Txs[0].IsCoinbase() {
		var fees types.Amount
		for _, tx := range b.Txs[1:] {
			fees += tx.Fee
		}
		b.Txs[0].Amount = e.p.Subsidy(b.Header.Height) + fees
	}
	b.Header.TxRoot = types.MerkleRoot(b.TxHashes())
	if len(b.Txs) > 0 {
		parent := e.state.commitment()
		if d, err := consensus.ApplyTransactions(e.state, &parent, b, e.p); err == nil {
			b.Header.StateRoot = d.Commitment.Sum()
		}
	}
	if s.after != nil {
		s.after(b)
	}
	switch {
	case s.solve:
		rtSolve(b, e.p)
	case s.unsolve:
		rtUnsolve(b, e.p)
	}
	return b
}

func rtSolve(b *types.Block, p *consensus.Params) {
	for n := uint32(0); ; n++ {
		b.Header.Nonce = n
		if consensus.CheckProofOfWork(b.Header.Hash(), b.Header.Bits, p.PowLimit) == nil {
			return
		}
	}
}

func rtUnsolve(b *types.Block, p *consensus.Params) {
	for n := uint32(0); ; n++ {
		b.Header.Nonce = n
		if errors.Is(consensus.CheckProofOfWork(b.Header.Hash(), b.Header.Bits, p.PowLimit), consensus.ErrHighHash) {
			return
		}
	}
}

// Validation stages, in the order package chain applies them.
const (
	stHeaderSanity = iota
	stHeaderContext
	stHeaderTime
	stBlockSanity
	stSignatures
	stApply
	stCount
)

var rtStageNames = [stCount]string{"CheckHeaderSanity", "CheckHeaderContext", "CheckHeaderTime",
	"CheckBlockSanity", "VerifySignatures", "ApplyBlock"}

// rtSkipped marks ApplyBlock not run: it requires a sane block.
var rtSkipped = errors.New("not run: block sanity failed")

// stages runs every stage on its own and returns each one's error.
func (e *rtEnv) stages(b *types.Block) [stCount]error {
	var out [stCount]error
	hash := b.Header.Hash()
	txids := b.TxHashes()
	out[stHeaderSanity] = consensus.CheckHeaderSanity(&b.Header, hash, e.p)
	out[stHeaderContext] = consensus.CheckHeaderContext(&b.Header, e.parent, e.p)
	out[stHeaderTime] = consensus.CheckHeaderTime(&b.Header, e.now, e.p)
	out[stBlockSanity] = consensus.CheckBlockSanity(b, txids, e.p)
	out[stSignatures] = consensus.VerifySignatures(b.Txs, txids, e.p, nil, 4)
	out[stApply] = rtSkipped
	if out[stBlockSanity] == nil {
		parent := e.state.commitment()
		_, out[stApply] = consensus.ApplyBlock(e.state, &parent, b, e.p)
	}
	return out
}

type rtRow struct {
	name string
	// setup adjusts the parent state or parameters before the block is
	// built; edit adjusts the block spec.
	setup func(e *rtEnv)
	edit  func(e *rtEnv, s *rtSpec)
	// want is the kind the first failing stage must report (empty for a
	// valid block); stage is that stage.
	want  consensus.ErrorKind
	stage int
	// also lists other stages that must fail, with their kinds: rules that
	// cannot be broken alone (bits that are not a target are never the
	// bits the schedule requires).
	also map[int]consensus.ErrorKind
}

func rtRows() []rtRow {
	var (
		h     = uint32(rtParentHeight + 1)
		zero  types.Address
		other = types.Address{0xaa, 0xbb}
	)
	header := func(f func(e *rtEnv, hd *types.Header)) func(e *rtEnv, s *rtSpec) {
		return func(e *rtEnv, s *rtSpec) { f(e, &s.hdr) }
	}
	// replaceTx swaps transfer i (1-based block index) for the tx mk builds.
	replaceTx := func(i int, mk func(e *rtEnv) *types.Tx) func(e *rtEnv, s *rtSpec) {
		return func(e *rtEnv, s *rtSpec) { s.txs[i] = mk(e) }
	}
	// signedWith builds a transfer from key 1 with f applied, then signs it,
	// so that only the edited field is wrong.
	signedWith := func(f func(tx *types.Tx)) func(e *rtEnv) *types.Tx {
		return func(e *rtEnv) *types.Tx {
			tx := &types.Tx{Kind: types.TxTransfer, ChainID: rtChainID, Nonce: e.next(1), To: e.addrs[2], Amount: 200, Fee: 20}
			f(tx)
			types.SignTx(tx, e.keys[1], rtGenesisHash)
			return tx
		}
	}
	// resigned signs a correct transfer from key 1, then f changes the
	// signature or public key.
	resigned := func(f func(e *rtEnv, tx *types.Tx)) func(e *rtEnv) *types.Tx {
		return func(e *rtEnv) *types.Tx {
			tx := e.transfer(1, e.addrs[2], 200, 20, e.next(1))
			f(e, tx)
			return tx
		}
	}
	badPubKey := func(name string, pub [types.PubKeySize]byte) rtRow {
		return rtRow{
			name: "ErrBadPubKey/" + name,
			setup: func(e *rtEnv) {
				// Fund the address of the bad key so that the state
				// transition, which does not verify signatures, passes.
				e.state[types.AddressFromPubKey(&pub)] = consensus.Account{Balance: types.Coin, Nonce: 0}
			},
			edit: replaceTx(2, func(e *rtEnv) *types.Tx {
				tx := e.transfer(1, e.addrs[2], 200, 20, 0)
				tx.PubKey = pub
				return tx
			}),
			want: consensus.ErrBadPubKey, stage: stSignatures,
		}
	}
	var xTooBig, badPrefix [types.PubKeySize]byte
	notOnCurve := rtNotOnCurve()
	xTooBig[0] = 0x03
	for i := 1; i < len(xTooBig); i++ {
		xTooBig[i] = 0xff
	}
	copy(badPrefix[:], chaingen.Key("rules", 1).PubKey().SerializeCompressed())
	badPrefix[0] = 0x04

	rows := []rtRow{
		{name: "valid"},

		// Header sanity.
		{name: "ErrBadVersion/0", edit: header(func(e *rtEnv, hd *types.Header) { hd.Version = 0 }),
			want: consensus.ErrBadVersion, stage: stHeaderSanity},
		{name: "ErrBadVersion/2", edit: header(func(e *rtEnv, hd *types.Header) { hd.Version = 2 }),
			want: consensus.ErrBadVersion, stage: stHeaderSanity},
		{name: "ErrBadTarget/zero", edit: func(e *rtEnv, s *rtSpec) { s.hdr.Bits = 0x20000000; s.solve = false },
			want: consensus.ErrBadTarget, stage: stHeaderSanity, also: map[int]consensus.ErrorKind{stHeaderContext: consensus.ErrUnexpectedBits}},
		{name: "ErrBadTarget/negative", edit: func(e *rtEnv, s *rtSpec) { s.hdr.Bits = 0x20bfff00; s.solve = false },
			want: consensus.ErrBadTarget, stage: stHeaderSanity, also: map[int]consensus.ErrorKind{stHeaderContext: consensus.ErrUnexpectedBits}},
		{name: "ErrBadTarget/above-limit", edit: func(e *rtEnv, s *rtSpec) { s.hdr.Bits = 0x2100ffff; s.solve = false },
			want: consensus.ErrBadTarget, stage: stHeaderSanity, also: map[int]consensus.ErrorKind{stHeaderContext: consensus.ErrUnexpectedBits}},
		{name: "ErrBadTarget/over-256-bits", edit: func(e *rtEnv, s *rtSpec) { s.hdr.Bits = 0x22123456; s.solve = false },
			want: consensus.ErrBadTarget, stage: stHeaderSanity, also: map[int]consensus.ErrorKind{stHeaderContext: consensus.ErrUnexpectedBits}},
		{name: "ErrHighHash", edit: func(e *rtEnv, s *rtSpec) { s.solve, s.unsolve = false, true },
			want: consensus.ErrHighHash, stage: stHeaderSanity},

		// Header context.
		{name: "ErrBadPrevBlock", edit: header(func(e *rtEnv, hd *types.Header) { hd.PrevBlock[0] ^= 1 }),
			want: consensus.ErrBadPrevBlock, stage: stHeaderContext},
		{name: "ErrBadHeight/skip", edit: func(e *rtEnv, s *rtSpec) { s.hdr.Height = h + 1; s.txs[0].Nonce = uint64(h + 1) },
			want: consensus.ErrBadHeight, stage: stHeaderContext},
		{name: "ErrBadHeight/same-as-parent", edit: func(e *rtEnv, s *rtSpec) { s.hdr.Height = h - 1; s.txs[0].Nonce = uint64(h - 1) },
			want: consensus.ErrBadHeight, stage: stHeaderContext},
		{name: "ErrBadHeight/wraps-past-max",
			setup: func(e *rtEnv) {
				// The parent is at the last height, on schedule: no child can
				// follow, not even one claiming height 0.
				e.parent.height = math.MaxUint32
				e.parent.time = e.parent.anchor + (math.MaxUint32-1)*rtSpacing
				e.parent.mtp = e.parent.time - 50
				e.now = e.parent.time + 1000
			},
			edit: func(e *rtEnv, s *rtSpec) { s.hdr.Height = 0; s.txs[0].Nonce = 0 },
			want: consensus.ErrBadHeight, stage: stHeaderContext},
		{name: "ErrUnexpectedBits/easier", edit: header(func(e *rtEnv, hd *types.Header) { hd.Bits = rtLimitBits }),
			want: consensus.ErrUnexpectedBits, stage: stHeaderContext},
		{name: "ErrUnexpectedBits/harder", edit: header(func(e *rtEnv, hd *types.Header) { hd.Bits = 0x201fffff }),
			want: consensus.ErrUnexpectedBits, stage: stHeaderContext},
		{name: "ErrUnexpectedBits/non-canonical-same-target", edit: header(func(e *rtEnv, hd *types.Header) {
			if consensus.CompactToBig(0x21003fff).Cmp(consensus.CompactToBig(rtGenesisBits)) != 0 {
				panic("test vectors: 0x21003fff is not the genesis target")
			}
			hd.Bits = 0x21003fff
		}), want: consensus.ErrUnexpectedBits, stage: stHeaderContext},
		{name: "ErrTimeTooOld/equal-to-median", edit: header(func(e *rtEnv, hd *types.Header) { hd.Time = e.parent.mtp }),
			want: consensus.ErrTimeTooOld, stage: stHeaderContext},
		{name: "ErrTimeTooOld/before-median", edit: header(func(e *rtEnv, hd *types.Header) { hd.Time = e.parent.mtp - 1 }),
			want: consensus.ErrTimeTooOld, stage: stHeaderContext},
		{name: "ErrTimeTooOld/zero", edit: header(func(e *rtEnv, hd *types.Header) { hd.Time = 0 }),
			want: consensus.ErrTimeTooOld, stage: stHeaderContext},
		{name: "valid/time-just-after-median", edit: header(func(e *rtEnv, hd *types.Header) { hd.Time = e.parent.mtp + 1 })},
		{name: "ErrTimeTooNew", edit: header(func(e *rtEnv, hd *types.Header) { hd.Time = e.now + rtDrift + 1 }),
			want: consensus.ErrTimeTooNew, stage: stHeaderTime},
		{name: "ErrTimeTooNew/max-uint64", edit: header(func(e *rtEnv, hd *types.Header) { hd.Time = math.MaxUint64 }),
			want: consensus.ErrTimeTooNew, stage: stHeaderTime},
		{name: "valid/time-at-drift-limit", edit: header(func(e *rtEnv, hd *types.Header) { hd.Time = e.now + rtDrift })},

		// Block structure.
		{name: "ErrNoTxs", edit: func(e *rtEnv, s *rtSpec) { s.txs = nil },
			want: consensus.ErrNoTxs, stage: stBlockSanity},
		{name: "ErrFirstTxNotCoinbase/no-coinbase", edit: func(e *rtEnv, s *rtSpec) { s.txs = s.txs[1:] },
			want: consensus.ErrFirstTxNotCoinbase, stage: stBlockSanity},
		{name: "ErrFirstTxNotCoinbase/coinbase-second", edit: func(e *rtEnv, s *rtSpec) { s.txs[0], s.txs[1] = s.txs[1], s.txs[0] },
			want: consensus.ErrFirstTxNotCoinbase, stage: stBlockSanity},
		{name: "ErrMultipleCoinbases", edit: func(e *rtEnv, s *rtSpec) {
			cb2 := e.coinbase(h)
			cb2.Memo = []byte("second")
			s.txs = append(s.txs, cb2)
		}, want: consensus.ErrMultipleCoinbases, stage: stBlockSanity},
		{name: "ErrBadCoinbase/height", edit: func(e *rtEnv, s *rtSpec) { s.txs[0].Nonce = uint64(h + 1) },
			want: consensus.ErrBadCoinbase, stage: stBlockSanity},
		{name: "ErrBadCoinbase/chain-id", edit: func(e *rtEnv, s *rtSpec) { s.txs[0].ChainID = rtChainID + 1 },
			want: consensus.ErrBadCoinbase, stage: stBlockSanity},
		{name: "ErrBadCoinbase/fee", edit: func(e *rtEnv, s *rtSpec) { s.txs[0].Fee = 1 },
			want: consensus.ErrBadCoinbase, stage: stBlockSanity},
		{name: "ErrBadRecipient/coinbase", edit: func(e *rtEnv, s *rtSpec) { s.txs[0].To = zero },
			want: consensus.ErrBadRecipient, stage: stBlockSanity},
		{name: "ErrMemoTooLong/coinbase", edit: func(e *rtEnv, s *rtSpec) { s.txs[0].Memo = make([]byte, types.MaxMemoSize+1) },
			want: consensus.ErrMemoTooLong, stage: stBlockSanity},
		{name: "valid/coinbase-memo-at-limit", edit: func(e *rtEnv, s *rtSpec) { s.txs[0].Memo = make([]byte, types.MaxMemoSize) }},
		{name: "ErrCoinbaseTooHigh", edit: func(e *rtEnv, s *rtSpec) {
			s.autoAmount = false
			s.txs[0].Amount = e.p.Subsidy(h) + 60 + 1 // fees are 10+20+30
		}, want: consensus.ErrCoinbaseTooHigh, stage: stApply},
		{name: "valid/coinbase-below-limit", edit: func(e *rtEnv, s *rtSpec) { s.autoAmount = false; s.txs[0].Amount = 1 }},
		{name: "valid/coinbase-pays-nothing", edit: func(e *rtEnv, s *rtSpec) { s.autoAmount = false; s.txs[0].Amount = 0 }},
		{name: "ErrBadMerkleRoot/wrong-root", edit: func(e *rtEnv, s *rtSpec) { s.after = func(b *types.Block) { b.Header.TxRoot[5] ^= 1 } },
			want: consensus.ErrBadMerkleRoot, stage: stBlockSanity},
		{name: "ErrBadMerkleRoot/duplicated-last-tx", edit: func(e *rtEnv, s *rtSpec) {
			s.after = func(b *types.Block) { b.Txs = append(b.Txs, b.Txs[len(b.Txs)-1]) }
		}, want: consensus.ErrBadMerkleRoot, stage: stBlockSanity},
		{name: "ErrBadMerkleRoot/reordered", edit: func(e *rtEnv, s *rtSpec) {
			s.after = func(b *types.Block) { b.Txs[1], b.Txs[2] = b.Txs[2], b.Txs[1] }
		}, want: consensus.ErrBadMerkleRoot, stage: stBlockSanity},
		{name: "ErrBadMerkleRoot/tx-dropped", edit: func(e *rtEnv, s *rtSpec) {
			s.after = func(b *types.Block) { b.Txs = b.Txs[:len(b.Txs)-1] }
		}, want: consensus.ErrBadMerkleRoot, stage: stBlockSanity},
		{name: "ErrDuplicateTx", edit: func(e *rtEnv, s *rtSpec) { s.txs = append(s.txs, s.txs[2]) },
			want: consensus.ErrDuplicateTx, stage: stBlockSanity},
		{name: "ErrBlockTooBig", edit: func(e *rtEnv, s *rtSpec) {
			// Eight transactions (under the count limit) with full memos.
			s.txs = []*types.Tx{e.coinbase(h)}
			s.txs[0].Memo = make([]byte, types.MaxMemoSize)
			for i := 0; i < 7; i++ {
				tx := &types.Tx{Kind: types.TxTransfer, ChainID: rtChainID, Nonce: e.next(i), To: e.addrs[i+1], Amount: 1, Fee: 1,
					Memo: make([]byte, types.MaxMemoSize)}
				types.SignTx(tx, e.keys[i], rtGenesisHash)
				s.txs = append(s.txs, tx)
			}
		}, want: consensus.ErrBlockTooBig, stage: stBlockSanity},
		{name: "valid/size-at-limit", edit: func(e *rtEnv, s *rtSpec) {
			// Transfers with memos, then the coinbase memo, fill the block
			// to exactly the limit.
			size := func() int { return (&types.Block{Txs: s.txs}).EncodedSize() }
			for k := 4; ; k++ {
				rem := rtMaxBlockSize - size()
				if rem <= types.MaxMemoSize {
					s.txs[0].Memo = make([]byte, rem)
					break
				}
				tx := &types.Tx{Kind: types.TxTransfer, ChainID: rtChainID, Nonce: e.next(k), To: e.addrs[1], Amount: 1, Fee: 1}
				tx.Memo = make([]byte, min(types.MaxMemoSize, rem-tx.EncodedSize()))
				types.SignTx(tx, e.keys[k], rtGenesisHash)
				s.txs = append(s.txs, tx)
			}
			if size() != rtMaxBlockSize || len(s.txs) > rtMaxBlockTxs {
				panic(fmt.Sprintf("size-at-limit: %d bytes, %d txs", size(), len(s.txs)))
			}
		}},
		{name: "ErrTooManyTxs", edit: func(e *rtEnv, s *rtSpec) {
			s.txs = []*types.Tx{e.coinbase(h)}
			for i := 0; i < rtMaxBlockTxs; i++ {
				s.txs = append(s.txs, e.transfer(i, e.addrs[i+1], 1, 1, e.next(i)))
			}
		}, want: consensus.ErrTooManyTxs, stage: stBlockSanity},
		{name: "valid/txs-at-limit", edit: func(e *rtEnv, s *rtSpec) {
			s.txs = []*types.Tx{e.coinbase(h)}
			for i := 0; i < rtMaxBlockTxs-1; i++ {
				s.txs = append(s.txs, e.transfer(i, e.addrs[i+1], 1, 1, e.next(i)))
			}
		}},
		{name: "ErrBadStateRoot", edit: func(e *rtEnv, s *rtSpec) { s.after = func(b *types.Block) { b.Header.StateRoot[0] ^= 1 } },
			want: consensus.ErrBadStateRoot, stage: stApply},
		{name: "ErrBadStateRoot/zero", edit: func(e *rtEnv, s *rtSpec) { s.after = func(b *types.Block) { b.Header.StateRoot = types.Hash{} } },
			want: consensus.ErrBadStateRoot, stage: stApply},

		// Transaction sanity.
		{name: "ErrWrongChainID", edit: replaceTx(2, signedWith(func(tx *types.Tx) { tx.ChainID = rtChainID + 1 })),
			want: consensus.ErrWrongChainID, stage: stBlockSanity},
		{name: "ErrZeroAmount", edit: replaceTx(2, signedWith(func(tx *types.Tx) { tx.Amount = 0 })),
			want: consensus.ErrZeroAmount, stage: stBlockSanity},
		{name: "ErrBadRecipient", edit: replaceTx(2, signedWith(func(tx *types.Tx) { tx.To = zero })),
			want: consensus.ErrBadRecipient, stage: stBlockSanity},
		{name: "ErrMemoTooLong", edit: replaceTx(2, signedWith(func(tx *types.Tx) { tx.Memo = make([]byte, types.MaxMemoSize+1) })),
			want: consensus.ErrMemoTooLong, stage: stBlockSanity},
		{name: "valid/memo-at-limit", edit: replaceTx(2, signedWith(func(tx *types.Tx) { tx.Memo = make([]byte, types.MaxMemoSize) }))},
		{name: "ErrAmountOverflow/amount-plus-fee", edit: replaceTx(2, signedWith(func(tx *types.Tx) {
			tx.Amount, tx.Fee = types.MaxAmount, 1
		})), want: consensus.ErrAmountOverflow, stage: stBlockSanity},
		{name: "ErrAmountOverflow/amount-plus-fee-both-large", edit: replaceTx(2, signedWith(func(tx *types.Tx) {
			tx.Amount, tx.Fee = 1<<63, 1<<63
		})), want: consensus.ErrAmountOverflow, stage: stBlockSanity},

		// Signatures.
		{name: "ErrBadSignature/flipped-bit", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) { tx.Sig[40] ^= 1 })),
			want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrBadSignature/field-changed-after-signing", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) { tx.Fee++ })),
			want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrBadSignature/signed-for-another-genesis", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) {
			types.SignTx(tx, e.keys[1], rtOtherHash)
		})), want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrBadSignature/signed-for-another-chain-id", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) {
			tx.ChainID = rtChainID + 1
			types.SignTx(tx, e.keys[1], rtGenesisHash)
			tx.ChainID = rtChainID
		})), want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrBadSignature/signed-by-another-key", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) {
			pub := tx.PubKey
			types.SignTx(tx, e.keys[5], rtGenesisHash)
			tx.PubKey = pub
		})), want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrBadSignature/r-zero", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) { clear(tx.Sig[:32]) })),
			want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrBadSignature/s-zero", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) { clear(tx.Sig[32:]) })),
			want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrBadSignature/r-is-order", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) { copy(tx.Sig[:32], rtCurveOrder[:]) })),
			want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrBadSignature/s-is-order", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) { copy(tx.Sig[32:], rtCurveOrder[:]) })),
			want: consensus.ErrBadSignature, stage: stSignatures},
		{name: "ErrHighS", edit: replaceTx(2, resigned(func(e *rtEnv, tx *types.Tx) { rtHighS(tx) })),
			want: consensus.ErrHighS, stage: stSignatures},

		// State transition.
		{name: "ErrBadNonce/replay", edit: replaceTx(2, func(e *rtEnv) *types.Tx {
			return e.transfer(1, e.addrs[2], 200, 20, e.next(1)-1)
		}), want: consensus.ErrBadNonce, stage: stApply},
		{name: "ErrBadNonce/gap", edit: replaceTx(2, func(e *rtEnv) *types.Tx {
			return e.transfer(1, e.addrs[2], 200, 20, e.next(1)+1)
		}), want: consensus.ErrBadNonce, stage: stApply},
		{name: "ErrBadNonce/double-spend-in-block", edit: func(e *rtEnv, s *rtSpec) {
			// Same sender, same nonce, another recipient: a different
			// transaction, so not a duplicate.
			s.txs = append(s.txs, e.transfer(1, e.addrs[4], 200, 20, e.next(1)))
		}, want: consensus.ErrBadNonce, stage: stApply},
		{name: "ErrBadNonce/order-swapped", edit: func(e *rtEnv, s *rtSpec) { s.txs[1], s.txs[3] = s.txs[3], s.txs[1] },
			want: consensus.ErrBadNonce, stage: stApply},
		{name: "ErrInsufficientBalance/unfunded-sender", edit: replaceTx(2, func(e *rtEnv) *types.Tx {
			// Correctly signed by a key that never received anything.
			tx := &types.Tx{Kind: types.TxTransfer, ChainID: rtChainID, Nonce: 0, To: e.addrs[2], Amount: 1, Fee: 0}
			types.SignTx(tx, chaingen.Key("rules-unfunded", 0), rtGenesisHash)
			return tx
		}), want: consensus.ErrInsufficientBalance, stage: stApply},
		{name: "ErrInsufficientBalance/amount", edit: replaceTx(2, func(e *rtEnv) *types.Tx {
			return e.transfer(1, e.addrs[2], e.state[e.addrs[1]].Balance+100+1, 0, e.next(1)) // key 1 received 100 just before
		}), want: consensus.ErrInsufficientBalance, stage: stApply},
		{name: "ErrInsufficientBalance/amount-plus-fee", edit: replaceTx(2, func(e *rtEnv) *types.Tx {
			return e.transfer(1, e.addrs[2], e.state[e.addrs[1]].Balance+100-20+1, 20, e.next(1))
		}), want: consensus.ErrInsufficientBalance, stage: stApply},
		{name: "valid/spend-whole-balance", edit: replaceTx(2, func(e *rtEnv) *types.Tx {
			return e.transfer(1, e.addrs[2], e.state[e.addrs[1]].Balance+100-20, 20, e.next(1))
		})},
		{name: "ErrInsufficientBalance/spent-earlier-in-block", edit: func(e *rtEnv, s *rtSpec) {
			// Key 0 spends 100+10 and 300+30 earlier in the block; its
			// third transfer asks for all of the starting balance.
			s.txs = append(s.txs, e.transfer(0, e.addrs[5], e.state[e.addrs[0]].Balance-440+1, 0, e.next(0)+2))
		}, want: consensus.ErrInsufficientBalance, stage: stApply},
		{name: "ErrAmountOverflow/recipient-balance",
			setup: func(e *rtEnv) { e.state[e.addrs[2]] = consensus.Account{Balance: types.MaxAmount - 199} },
			want:  consensus.ErrAmountOverflow, stage: stApply},
		{name: "ErrAmountOverflow/fee-sum",
			setup: func(e *rtEnv) {
				e.state[e.addrs[0]] = consensus.Account{Balance: types.MaxAmount, Nonce: 3}
				e.state[e.addrs[1]] = consensus.Account{Balance: types.MaxAmount, Nonce: 3}
			},
			edit: func(e *rtEnv, s *rtSpec) {
				s.autoAmount = false
				s.txs = []*types.Tx{e.coinbase(h),
					e.transfer(0, other, 1, 1<<63, e.next(0)),
					e.transfer(1, other, 1, 1<<63, e.next(1)),
				}
			}, want: consensus.ErrAmountOverflow, stage: stApply},
		{name: "ErrAmountOverflow/subsidy-plus-fees",
			setup: func(e *rtEnv) { e.state[e.addrs[0]] = consensus.Account{Balance: types.MaxAmount, Nonce: 3} },
			edit: func(e *rtEnv, s *rtSpec) {
				s.autoAmount = false
				s.txs = []*types.Tx{e.coinbase(h), e.transfer(0, other, 1, types.MaxAmount-1, e.next(0))}
			}, want: consensus.ErrAmountOverflow, stage: stApply},
		{name: "ErrAmountOverflow/miner-balance",
			setup: func(e *rtEnv) { e.state[e.miner] = consensus.Account{Balance: types.MaxAmount - 10} },
			want:  consensus.ErrAmountOverflow, stage: stApply},
	}
	rows = append(rows, badPubKey("not-on-curve", notOnCurve), badPubKey("x-not-below-p", xTooBig),
		badPubKey("uncompressed-prefix", badPrefix))
	return rows
}

// rtHighS replaces a low-S signature (r, s) by (r, N-s): valid ECDSA, not
// canonical.
func rtHighS(tx *types.Tx) {
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(tx.Sig[32:]); overflow || s.IsOverHalfOrder() {
		panic("SignTx made a high-S or invalid signature")
	}
	s.Negate()
	var b [32]byte
	s.PutBytes(&b)
	copy(tx.Sig[32:], b[:])
}

// TestRulesEachKind builds one block per row and checks the outcome of
// every validation stage: the row's stage fails with exactly the row's
// kind, every other stage passes (or fails as the row's also says), and the
// first failure in chain order is the row's kind.
func TestRulesEachKind(t *testing.T) {
	for _, row := range rtRows() {
		t.Run(row.name, func(t *testing.T) {
			e := newRTEnv()
			if row.setup != nil {
				row.setup(e)
			}
			s := e.baseSpec()
			if row.edit != nil {
				row.edit(e, s)
			}
			b := e.build(s)
			got := e.stages(b)
			for st := 0; st < stCount; st++ {
				err := got[st]
				want := consensus.ErrorKind("")
				if row.want != "" && st == row.stage {
					want = row.want
				} else if k, ok := row.also[st]; ok {
					want = k
				}
				switch {
				case st == stApply && errors.Is(err, rtSkipped):
					if got[stBlockSanity] == nil {
						t.Fatalf("ApplyBlock skipped on a sane block")
					}
				case want == "":
					if err != nil {
						t.Fatalf("%s: unexpected error %v (row breaks only %s)", rtStageNames[st], err, row.want)
					}
				default:
					t.Run(rtStageNames[st], func(t *testing.T) { rtExactKind(t, err, want) })
				}
			}
			// The first failure in the order chain applies the stages.
			var first error
			for _, err := range got {
				if err != nil && !errors.Is(err, rtSkipped) {
					first = err
					break
				}
			}
			if row.want == "" {
				if first != nil {
					t.Fatalf("valid block refused: %v", first)
				}
				return
			}
			rtExactKind(t, first, row.want)
		})
	}
}

// TestRulesCoverEveryErrorKind parses errors.go and checks that every
// ErrorKind it declares is in rtAllKinds and is the kind of at least one
// row of TestRulesEachKind.
func TestRulesCoverEveryErrorKind(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[consensus.ErrorKind]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "ErrorKind" && len(call.Args) == 1 {
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				declared[consensus.ErrorKind(s)] = true
			}
		}
		return true
	})
	if len(declared) < 20 {
		t.Fatalf("found only %d kinds in errors.go: parser out of step", len(declared))
	}
	listed := map[consensus.ErrorKind]bool{}
	for _, k := range rtAllKinds {
		listed[k] = true
		if !declared[k] {
			t.Errorf("%s is listed but not declared in errors.go", k)
		}
	}
	rowKinds := map[consensus.ErrorKind]bool{}
	for _, r := range rtRows() {
		rowKinds[r.want] = true
	}
	for k := range declared {
		if !listed[k] {
			t.Errorf("%s is declared in errors.go but missing from rtAllKinds", k)
		}
		if !rowKinds[k] {
			t.Errorf("%s has no row in TestRulesEachKind", k)
		}
	}
}

func TestIsBodyMismatch(t *testing.T) {
	e := newRTEnv()
	s := e.baseSpec()
	s.after = func(b *types.Block) { b.Txs = append(b.Txs, b.Txs[1]) }
	b := e.build(s)
	merkleErr := consensus.CheckBlockSanity(b, b.TxHashes(), e.p)
	rtExactKind(t, merkleErr, consensus.ErrBadMerkleRoot)

	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"merkle rule error", merkleErr, true},
		{"bare kind", consensus.ErrBadMerkleRoot, true},
		{"wrapped", fmt.Errorf("block x: %w", merkleErr), true},
		{"duplicate tx", &consensus.RuleError{Kind: consensus.ErrDuplicateTx, Description: "d"}, false},
		{"state root", &consensus.RuleError{Kind: consensus.ErrBadStateRoot, Description: "d"}, false},
		{"time too new", &consensus.RuleError{Kind: consensus.ErrTimeTooNew, Description: "d"}, false},
		{"plain error with the same text", errors.New("ErrBadMerkleRoot"), false},
	}
	for _, k := range rtAllKinds {
		if k != consensus.ErrBadMerkleRoot {
			tests = append(tests, struct {
				name string
				err  error
				want bool
			}{string(k), &consensus.RuleError{Kind: k, Description: "x"}, false})
		}
	}
	for _, tt := range tests {
		if got := consensus.IsBodyMismatch(tt.err); got != tt.want {
			t.Errorf("IsBodyMismatch(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

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
type rtCache struct {
	mu        sync.Mutex
	ids       map[types.Hash]bool
	contains  int
	additions []types.Hash
}

func newRTCache(ids ...types.Hash) *rtCache {
	c := &rtCache{ids: map[types.Hash]bool{}}
	for _, id := range ids {
		c.ids[id] = true
	}
	return c
}

func (c *rtCache) Contains(id types.Hash) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.contains++
	return c.ids[id]
}

func (c *rtCache) Add(id types.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids[id] = true
	c.additions = append(c.additions, id)
}

func rtIDs(txs []*types.Tx) []types.Hash {
	out := make([]types.Hash, len(txs))
	for i, tx := range txs {
		out[i] = tx.Hash()
	}
	return out
}

func TestVerifySignaturesCache(t *testing.T) {
	e := newRTEnv()
	good := e.transfer(0, e.addrs[1], 5, 1, 0)
	bad := e.transfer(1, e.addrs[2], 5, 1, 0)
	bad.Sig[50] ^= 1
	cb := e.coinbase(1) // no signature: skipped
	txs := []*types.Tx{cb, good, bad}
	ids := rtIDs(txs)

	// Without a cache, the bad signature is found.
	rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, nil, 2), consensus.ErrBadSignature)

	// A cache hit skips verification: the bad transaction's id in the
	// cache makes it pass, which proves it was not verified.
	c := newRTCache(ids[2])
	if err := consensus.VerifySignatures(txs, ids, e.p, c, 2); err != nil {
		t.Fatalf("cached bad signature was verified: %v", err)
	}
	if len(c.additions) != 1 || c.additions[0] != ids[1] {
		t.Fatalf("cache additions %v, want only the good transfer %s", c.additions, ids[1])
	}
	// Now both are cached: nothing is verified or added.
	c.additions = nil
	if err := consensus.VerifySignatures(txs, ids, e.p, c, 1); err != nil || len(c.additions) != 0 {
		t.Fatalf("second pass: err %v, additions %v", err, c.additions)
	}
	// A failure is not remembered, nor is the coinbase.
	fresh := newRTCache()
	err := consensus.VerifySignatures(txs, ids, e.p, fresh, 3)
	rtExactKind(t, err, consensus.ErrBadSignature)
	if fresh.ids[ids[2]] {
		t.Fatal("a failing signature was added to the cache")
	}
	if fresh.ids[ids[0]] {
		t.Fatal("the coinbase was added to the cache")
	}
	// Nothing to verify.
	if err := consensus.VerifySignatures(nil, nil, e.p, fresh, 4); err != nil {
		t.Fatal(err)
	}
	if err := consensus.VerifySignatures([]*types.Tx{cb}, ids[:1], e.p, nil, 4); err != nil {
		t.Fatalf("coinbase only: %v", err)
	}
	// workers below 1 means one worker, not none.
	for _, w := range []int{0, -3} {
		rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, nil, w), consensus.ErrBadSignature)
		if err := consensus.VerifySignatures(txs[:2], ids[:2], e.p, nil, w); err != nil {
			t.Fatalf("workers %d: %v", w, err)
		}
	}
}

// TestVerifySignaturesLowestIndex puts three different failures at
// consecutive indexes among many good transfers and checks that the lowest
// one is reported whatever the number of workers. The lowest is the slow
// kind (a full verification that fails); the two after it fail fast at
// parsing, so with several workers they are usually found first.
func TestVerifySignaturesLowestIndex(t *testing.T) {
	e := newRTEnv()
	var txs []*types.Tx
	for i := 0; i < 48; i++ {
		txs = append(txs, e.transfer(i%len(e.keys), e.addrs[(i+1)%len(e.keys)], types.Amount(i+1), 1, uint64(i)))
	}
	type fault struct {
		at   int
		kind consensus.ErrorKind
		do   func(tx *types.Tx)
	}
	faults := []fault{
		{9, consensus.ErrBadSignature, func(tx *types.Tx) { tx.Sig[40] ^= 1 }},
		{10, consensus.ErrHighS, rtHighS},
		{11, consensus.ErrBadPubKey, func(tx *types.Tx) { tx.PubKey[0] = 0x04 }},
	}
	for _, f := range faults {
		f.do(txs[f.at])
	}
	ids := rtIDs(txs)
	for _, workers := range []int{1, 2, 3, 8, 48, 100} {
		for rep := 0; rep < 30; rep++ {
			rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, nil, workers), consensus.ErrBadSignature)
		}
	}
	// With the first fault cached away, the second is the lowest.
	c := newRTCache(ids[9])
	rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, c, 8), consensus.ErrHighS)
	c = newRTCache(ids[9], ids[10])
	rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, c, 8), consensus.ErrBadPubKey)
	c = newRTCache(ids[9], ids[10], ids[11])
	if err := consensus.VerifySignatures(txs, ids, e.p, c, 8); err != nil {
		t.Fatalf("all faults cached: %v", err)
	}
	// Every good transaction was verified and added.
	if len(c.additions) != len(txs)-3 {
		t.Fatalf("%d additions, want %d", len(c.additions), len(txs)-3)
	}
}

func TestCheckTxSignatureMapsKinds(t *testing.T) {
	e := newRTEnv()
	tx := e.transfer(2, e.addrs[3], 7, 1, 0)
	if err := consensus.CheckTxSignature(tx, e.p); err != nil {
		t.Fatalf("valid: %v", err)
	}
	// The same transaction is invalid on another network.
	other := rtParams()
	other.GenesisHash = rtOtherHash
	rtExactKind(t, consensus.CheckTxSignature(tx, other), consensus.ErrBadSignature)
	// A coinbase has no signature to check.
	rtExactKind(t, consensus.CheckTxSignature(e.coinbase(1), e.p), consensus.ErrBadSignature)
}

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
