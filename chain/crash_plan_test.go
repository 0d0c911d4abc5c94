package chain

// The crash test's plan (see crash_test.go): a deterministic sequence of
// blocks with transfers and reorganisations of alternating depth, built
// from a seed, and the file that hands it to the child process.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// crashGenOptions is the test network of parent and child: both call
// chaingen.New with it and so build the same genesis.
var crashGenOptions = chaingen.Options{Accounts: 64}

// crashDepths are the reorganisation depths of successive plan rounds:
// shallow and deep alternate so both appear early in the plan.
var crashDepths = []int{1, 10, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6}

// crashPlan is the sequence of blocks the child feeds to the store, with
// what an uninterrupted run would make of it.
type crashPlan struct {
	seed   uint64
	g      *chaingen.Generator
	rng    *rand.Rand
	recips []types.Address

	blocks []*types.Block
	pos    map[types.Hash]int      // position in blocks
	work   map[types.Hash]*big.Int // cumulative work, genesis included
	// bestWork[i] is the most work of any block among genesis and
	// blocks[:i+1]: the tip's work once blocks[i] is processed.
	bestWork []*big.Int
	// bestTip[i] is the tip of an uninterrupted run once blocks[i] is
	// processed: on equal work the first seen stays.
	bestTip []types.Hash
	// tip is the tip of an uninterrupted run of the whole plan (unique:
	// every round ends with one branch ahead).
	tip types.Hash

	rounds        int
	reorgs        []string // planned reorganisations, for the log
	transfers     int
	maxBatchBytes int
}

func newCrashPlan(seed uint64) *crashPlan {
	g := chaingen.New(crashGenOptions)
	p := &crashPlan{
		seed: seed,
		g:    g,
		rng:  rand.New(rand.NewPCG(seed, 0x6c656467)),
		pos:  make(map[types.Hash]int),
		work: map[types.Hash]*big.Int{g.Genesis.Hash: crashWork(g.Genesis.Block)},
		tip:  g.Genesis.Hash,
	}
	p.recips = append(p.recips, g.Addrs...)
	for i := 0; i < 64; i++ {
		p.recips = append(p.recips, chaingen.AddrOf(chaingen.Key("crash-recipient", i)))
	}
	return p
}

func (p *crashPlan) height(h types.Hash) uint32 { return p.g.State(h).Height }

// fork returns the last common ancestor of a and b.
func (p *crashPlan) fork(a, b types.Hash) types.Hash {
	ha, hb := p.height(a), p.height(b)
	a, b = p.ancestor(a, min(ha, hb)), p.ancestor(b, min(ha, hb))
	for a != b {
		a, b = p.g.State(a).Block.Header.PrevBlock, p.g.State(b).Block.Header.PrevBlock
	}
	return a
}

// ancestor returns h's ancestor at height.
func (p *crashPlan) ancestor(h types.Hash, height uint32) types.Hash {
	for p.height(h) > height {
		h = p.g.State(h).Block.Header.PrevBlock
	}
	return h
}

// block builds a child of parent holding 50 to 200 random transfers
// between funded keys and fresh addresses, so that every batch is tens of
// kilobytes, and appends it to the plan.
func (p *crashPlan) block(parent types.Hash, tag string) types.Hash {
	return p.blockWith(parent, tag, nil)
}

// randomTransfers returns 50 to 200 transfers that apply to parent's state.
func (p *crashPlan) randomTransfers(parent types.Hash) []*types.Tx {
	n := 50 + p.rng.IntN(151)
	txs := make([]*types.Tx, 0, n)
	next := make(map[int]uint64)
	for range n {
		from := p.rng.IntN(len(p.g.Keys))
		nonce, ok := next[from]
		if !ok {
			nonce = p.g.Nonce(parent, p.g.Addrs[from])
		}
		next[from] = nonce + 1
		to := p.recips[p.rng.IntN(len(p.recips))]
		txs = append(txs, p.g.Transfer(from, to, types.Amount(1+p.rng.IntN(100_000)), types.Amount(1+p.rng.IntN(100)), nonce))
	}
	return txs
}

// blockWith is block with the given transfers instead of random ones.
func (p *crashPlan) blockWith(parent types.Hash, tag string, txs []*types.Tx) types.Hash {
	if txs == nil {
		txs = p.randomTransfers(parent)
	}
	b := p.g.MustBlock(parent, txs, chaingen.BlockOpts{CoinbaseMemo: []byte(tag)})
	h := b.Hash()
	p.pos[h] = len(p.blocks)
	p.blocks = append(p.blocks, b)
	p.transfers += len(txs)
	// Body, index, transaction index, accounts and undo data.
	p.maxBatchBytes = max(p.maxBatchBytes, b.EncodedSize()+len(b.Txs)*(1+types.HashSize+txLocSize)+len(txs)*2*(1+types.AddressSize+2*accountValueSize))
	w := new(big.Int).Add(p.work[parent], crashWork(b))
	p.work[h] = w
	best := new(big.Int).Set(p.work[p.tip])
	if w.Cmp(best) > 0 { // strictly more work; the first seen stays on a tie
		p.tip = h
		best.Set(w)
	}
	p.bestWork = append(p.bestWork, best)
	p.bestTip = append(p.bestTip, p.tip)
	return h
}

// chain appends n blocks on parent and returns the last.
func (p *crashPlan) chain(parent types.Hash, n int, tag string) types.Hash {
	for i := range n {
		parent = p.block(parent, fmt.Sprintf("%s-%d", tag, i))
	}
	return parent
}

// extend appends rounds to the plan. Each round extends the main chain by
// one to three blocks, then builds a competing branch from d blocks below
// the tip that overtakes it with d+1 blocks (a reorg of depth d), and in
// alternate rounds extends the old branch by two blocks so that it
// overtakes back (a reorg of depth d+1). Extending keeps the plan built so
// far unchanged.
func (p *crashPlan) extend(rounds int) {
	for range rounds {
		r := p.rounds
		p.rounds++
		d := crashDepths[r%len(crashDepths)]
		ext := 1 + p.rng.IntN(3)
		if h := int(p.height(p.tip)); h+ext < d {
			ext = d - h
		}
		oldTip := p.chain(p.tip, ext, fmt.Sprintf("r%d-main", r))
		fork := p.ancestor(oldTip, p.height(oldTip)-uint32(d))
		// The branch's first block re-mines the transfers of the block it
		// replaces, as a node does after a reorganisation, in another
		// order (each sender's transfers stay in nonce order): the transaction index
		// must move them, not lose them.
		replaced := p.g.State(p.ancestor(oldTip, p.height(fork)+1)).Block.Txs[1:]
		remined := slices.Clone(replaced)
		slices.SortStableFunc(remined, func(a, b *types.Tx) int {
			sa, sb := a.Sender(), b.Sender()
			return bytes.Compare(sa[:], sb[:])
		})
		first := p.blockWith(fork, fmt.Sprintf("r%d-branch-0", r), remined)
		newTip := p.chain(first, d, fmt.Sprintf("r%d-branch", r))
		if p.tip != newTip {
			panic("crash plan: the branch did not overtake")
		}
		p.reorgs = append(p.reorgs, fmt.Sprintf("depth %d at height %d", d, p.height(oldTip)))
		if r%4 == 1 || r%4 == 2 {
			back := p.chain(oldTip, 2, fmt.Sprintf("r%d-back", r))
			if p.tip != back {
				panic("crash plan: the old branch did not overtake back")
			}
			p.reorgs = append(p.reorgs, fmt.Sprintf("depth %d back at height %d", d+1, p.height(newTip)))
		}
	}
}

func crashWork(b *types.Block) *big.Int {
	return newBlockNode(&b.Header, b.Hash(), nil).work
}

// write stores the plan for the child: magic, seed, count, then each
// encoded block with its length.
func (p *crashPlan) write(path string) error {
	var buf bytes.Buffer
	buf.WriteString("crashplan")
	buf.Write(binary.BigEndian.AppendUint64(nil, p.seed))
	buf.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p.blocks))))
	for _, b := range p.blocks {
		enc := b.Encode()
		buf.Write(binary.BigEndian.AppendUint32(nil, uint32(len(enc))))
		buf.Write(enc)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readCrashPlan(path string) (seed uint64, blocks []*types.Block, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, err
	}
	const magic = "crashplan"
	if len(data) < len(magic)+12 || string(data[:len(magic)]) != magic {
		return 0, nil, errors.New("not a crash plan")
	}
	data = data[len(magic):]
	seed = binary.BigEndian.Uint64(data)
	n := binary.BigEndian.Uint32(data[8:])
	data = data[12:]
	for i := uint32(0); i < n; i++ {
		if len(data) < 4 || uint64(len(data)-4) < uint64(binary.BigEndian.Uint32(data)) {
			return 0, nil, fmt.Errorf("plan truncated at block %d", i)
		}
		l := binary.BigEndian.Uint32(data)
		b, err := types.DecodeBlock(data[4 : 4+l])
		if err != nil {
			return 0, nil, fmt.Errorf("plan block %d: %v", i, err)
		}
		blocks = append(blocks, b)
		data = data[4+l:]
	}
	return seed, blocks, nil
}
