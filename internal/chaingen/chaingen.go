// Package chaingen builds test networks and test chains: a genesis with a
// trivial target and funded keys, signed transfers, and valid (or
// deliberately broken) blocks on any branch, with the state after every
// block kept so tests can compare a store's state with the expected one.
//
// Blocks go through the same consensus code as production; only the target
// is easy, so a block is found in a couple of hashes.
//
// What it does not do: it is for tests and benchmarks only, and does not
// validate signatures or check rules beyond computing roots.
//
// Concurrency: a Generator is not safe for concurrent use.
//
// Errors: construction failures panic (test helpers); Block returns the
// consensus error of a block whose transactions do not apply.
package chaingen

import (
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
)

// Options shape the test network. Zero fields take the defaults.
type Options struct {
	Accounts     int          // funded keys; default 10
	Balance      types.Amount // per key; default 1,000 coins
	ChainID      uint32       // default 7
	Bits         string       // initial and limit target; default "207fffff"
	Time         uint64       // genesis time; default 1,700,000,000
	MaxBlockSize uint32       // default 4 MB
	MaxBlockTxs  uint32       // default 20,000
	Spacing      uint64       // target spacing; default 10 s
}

func (o Options) withDefaults() Options {
	if o.Accounts == 0 {
		o.Accounts = 10
	}
	if o.Balance == 0 {
		o.Balance = 1000 * types.Coin
	}
	if o.ChainID == 0 {
		o.ChainID = 7
	}
	if o.Bits == "" {
		o.Bits = "207fffff"
	}
	if o.Time == 0 {
		o.Time = 1_700_000_000
	}
	if o.MaxBlockSize == 0 {
		o.MaxBlockSize = 4_000_000
	}
	if o.MaxBlockTxs == 0 {
		o.MaxBlockTxs = 20_000
	}
	if o.Spacing == 0 {
		o.Spacing = 10
	}
	return o
}

// HRP is the address prefix of test networks.
const HRP = "ltest"

// State is the chain state after a generated block.
type State struct {
	Block      *types.Block
	Hash       types.Hash
	Height     uint32
	Accounts   map[types.Address]consensus.Account
	Commitment lthash.Hash
	// AnchorTime is the time of block 1 on this branch.
	AnchorTime uint64
}

// Account implements consensus.AccountReader over the state.
func (s *State) Account(a types.Address) (consensus.Account, error) { return s.Accounts[a], nil }

// Generator builds blocks for one test network.
type Generator struct {
	Genesis *genesis.Genesis
	Params  *consensus.Params
	Keys    []*secp256k1.PrivateKey
	Addrs   []types.Address
	// Miner receives coinbases.
	Miner  types.Address
	states map[types.Hash]*State
}

// Key derives a deterministic test key from a label.
func Key(label string, i int) *secp256k1.PrivateKey {
	var seed [32]byte
	copy(seed[:], fmt.Sprintf("%s/%d", label, i))
	seed[31] = 1 // never the zero scalar
	h := types.DoubleSHA256(seed[:])
	return secp256k1.PrivKeyFromBytes(h[:])
}

// AddrOf returns the address of a key.
func AddrOf(k *secp256k1.PrivateKey) types.Address {
	var pub [types.PubKeySize]byte
	copy(pub[:], k.PubKey().SerializeCompressed())
	return types.AddressFromPubKey(&pub)
}

// GenesisFile returns the genesis file of a test network funding keys.
func GenesisFile(o Options, keys []*secp256k1.PrivateKey) genesis.File {
	o = o.withDefaults()
	alloc := make(map[string]uint64, len(keys))
	for _, k := range keys {
		alloc[AddrOf(k).Bech32(HRP)] = uint64(o.Balance)
	}
	return genesis.File{
		Network: "test", ChainID: o.ChainID, AddressPrefix: HRP, Timestamp: o.Time,
		Bits: o.Bits, PowLimitBits: "207fffff", TargetSpacing: o.Spacing, ASERTHalfLife: 3600,
		Subsidy: uint64(50 * types.Coin), HalvingInterval: 1000,
		MaxBlockSize: o.MaxBlockSize, MaxBlockTxs: o.MaxBlockTxs, MaxFutureDrift: 7200,
		Alloc: alloc,
	}
}

// New makes a test network with o.Accounts funded keys.
func New(o Options) *Generator {
	o = o.withDefaults()
	g := &Generator{states: make(map[types.Hash]*State)}
	for i := 0; i < o.Accounts; i++ {
		k := Key("chaingen", i)
		g.Keys = append(g.Keys, k)
		g.Addrs = append(g.Addrs, AddrOf(k))
	}
	gen, err := genesis.Build(GenesisFile(o, g.Keys))
	if err != nil {
		panic(err)
	}
	g.Genesis, g.Params = gen, gen.Params
	g.Miner = AddrOf(Key("miner", 0))
	st := &State{Block: gen.Block, Hash: gen.Hash, Accounts: map[types.Address]consensus.Account{}, Commitment: gen.Commitment}
	for _, a := range gen.Alloc {
		st.Accounts[a.Addr] = consensus.Account{Balance: a.Balance}
	}
	g.states[gen.Hash] = st
	return g
}

// State returns the state after a generated valid block, or nil.
func (g *Generator) State(h types.Hash) *State { return g.states[h] }

// Transfer signs a transfer from key i.
func (g *Generator) Transfer(from int, to types.Address, amount, fee types.Amount, nonce uint64) *types.Tx {
	return g.TransferFrom(g.Keys[from], to, amount, fee, nonce)
}

// TransferFrom signs a transfer from any key.
func (g *Generator) TransferFrom(k *secp256k1.PrivateKey, to types.Address, amount, fee types.Amount, nonce uint64) *types.Tx {
	tx := &types.Tx{Kind: types.TxTransfer, ChainID: g.Params.ChainID, Nonce: nonce, To: to, Amount: amount, Fee: fee}
	types.SignTx(tx, k, g.Genesis.Hash)
	return tx
}

// Nonce returns an address's next nonce in the state after block h.
func (g *Generator) Nonce(h types.Hash, a types.Address) uint64 { return g.states[h].Accounts[a].Nonce }

// BlockOpts adjust a block before it is solved.
type BlockOpts struct {
	Time         uint64 // header time; default parent time + spacing
	CoinbaseMemo []byte // distinguishes otherwise equal sibling blocks
	Miner        *types.Address
}

// Block builds and solves a valid child of parent holding txs, and records
// the state after it. It fails with the consensus error if the
// transactions do not apply to parent's state.
func (g *Generator) Block(parent types.Hash, txs []*types.Tx, o ...BlockOpts) (*types.Block, error) {
	var opts BlockOpts
	if len(o) > 0 {
		opts = o[0]
	}
	ps := g.states[parent]
	if ps == nil {
		return nil, fmt.Errorf("chaingen: unknown parent %s", parent)
	}
	ph := ps.Block.Header
	miner := g.Miner
	if opts.Miner != nil {
		miner = *opts.Miner
	}
	blk := &types.Block{Header: types.Header{
		Version:   consensus.HeaderVersion,
		Height:    ph.Height + 1,
		PrevBlock: parent,
		Time:      ph.Time + g.Params.TargetSpacing,
		Bits:      consensus.NextRequiredBits(g.Params, ps.AnchorTime, ph.Height, ph.Time),
	}}
	if opts.Time != 0 {
		blk.Header.Time = opts.Time
	}
	cb := &types.Tx{Kind: types.TxCoinbase, ChainID: g.Params.ChainID, Nonce: uint64(ph.Height + 1), To: miner, Memo: opts.CoinbaseMemo}
	blk.Txs = append([]*types.Tx{cb}, txs...)
	var fees types.Amount
	for _, tx := range txs {
		fees += tx.Fee
	}
	cb.Amount = g.Params.Subsidy(blk.Header.Height) + fees
	delta, err := consensus.ApplyTransactions(ps, &ps.Commitment, blk, g.Params)
	if err != nil {
		return nil, err
	}
	blk.Header.StateRoot = delta.Commitment.Sum()
	blk.Header.TxRoot = types.MerkleRoot(blk.TxHashes())
	g.Solve(blk)
	st := &State{Block: blk, Hash: blk.Hash(), Height: blk.Header.Height, Commitment: delta.Commitment,
		Accounts: make(map[types.Address]consensus.Account, len(ps.Accounts)+len(delta.Changes)), AnchorTime: ps.AnchorTime}
	if st.Height == 1 {
		st.AnchorTime = blk.Header.Time
	}
	for a, acct := range ps.Accounts {
		st.Accounts[a] = acct
	}
	for _, ch := range delta.Changes {
		if ch.After.IsEmpty() {
			delete(st.Accounts, ch.Addr)
		} else {
			st.Accounts[ch.Addr] = ch.After
		}
	}
	g.states[st.Hash] = st
	return blk, nil
}

// MustBlock is Block for transactions known to apply.
func (g *Generator) MustBlock(parent types.Hash, txs []*types.Tx, o ...BlockOpts) *types.Block {
	b, err := g.Block(parent, txs, o...)
	if err != nil {
		panic(err)
	}
	return b
}

// Chain builds n empty blocks on parent, tagging coinbases with tag so that
// chains built with different tags differ.
func (g *Generator) Chain(parent types.Hash, n int, tag string) []*types.Block {
	out := make([]*types.Block, 0, n)
	for i := 0; i < n; i++ {
		b := g.MustBlock(parent, nil, BlockOpts{CoinbaseMemo: []byte(tag)})
		out = append(out, b)
		parent = b.Hash()
	}
	return out
}

// Solve searches nonces until the header meets its target.
func (g *Generator) Solve(b *types.Block) {
	for n := uint32(0); ; n++ {
		b.Header.Nonce = n
		if consensus.CheckProofOfWork(b.Header.Hash(), b.Header.Bits, g.Params.PowLimit) == nil {
			return
		}
	}
}

// Mutate returns a copy of b changed by edit, with the transaction root
// recomputed if fixTxRoot, and solved again. The copy is not recorded as a
// valid state.
func (g *Generator) Mutate(b *types.Block, fixTxRoot bool, edit func(*types.Block)) *types.Block {
	c, err := types.DecodeBlock(b.Encode())
	if err != nil {
		panic(err)
	}
	edit(c)
	if fixTxRoot {
		c.Header.TxRoot = types.MerkleRoot(c.TxHashes())
	}
	g.Solve(c)
	return c
}
