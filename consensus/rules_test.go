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
