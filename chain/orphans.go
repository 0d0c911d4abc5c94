package chain

import (
	"container/list"
	"sync"
	"time"

	"github.com/ledger-node/ledger/chain/types"
)

// OrphanLimits bound the pool of blocks whose parent is unknown. Zero
// fields take the defaults.
type OrphanLimits struct {
	MaxCount int           // default 256
	MaxBytes int           // default 64 MiB
	MaxAge   time.Duration // default 20 minutes
}

func (l OrphanLimits) withDefaults() OrphanLimits {
	if l.MaxCount <= 0 {
		l.MaxCount = 256
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	if l.MaxAge <= 0 {
		l.MaxAge = 20 * time.Minute
	}
	return l
}

type orphan struct {
	blk   *types.Block
	hash  types.Hash
	size  int
	added time.Time
	elem  *list.Element
}

// orphanPool holds blocks waiting for their parent, oldest evicted first
// when a limit is reached. It has its own lock so that readers (HaveBlock,
// notification subscribers) never wait for a block being validated.
type orphanPool struct {
	limits OrphanLimits

	mu sync.Mutex
	// byHash, byParent, age and bytes are guarded by mu.
	byHash   map[types.Hash]*orphan
	byParent map[types.Hash][]*orphan
	age      *list.List // of *orphan, oldest first
	bytes    int
}

func newOrphanPool(l OrphanLimits) *orphanPool {
	return &orphanPool{
		limits:   l,
		byHash:   make(map[types.Hash]*orphan),
		byParent: make(map[types.Hash][]*orphan),
		age:      list.New(),
	}
}

func (p *orphanPool) has(h types.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.byHash[h]
	return ok
}

func (p *orphanPool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byHash)
}

// add stores blk, first expiring old orphans and evicting the oldest until
// the new one fits. A block larger than the byte limit is not kept: add
// reports whether it was.
func (p *orphanPool) add(blk *types.Block, hash types.Hash, now time.Time) bool {
	size := blk.EncodedSize()
	if size > p.limits.MaxBytes {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for e := p.age.Front(); e != nil; e = p.age.Front() {
		o := e.Value.(*orphan)
		if now.Sub(o.added) <= p.limits.MaxAge && len(p.byHash) < p.limits.MaxCount && p.bytes+size <= p.limits.MaxBytes {
			break
		}
		p.remove(o)
	}
	o := &orphan{blk: blk, hash: hash, size: size, added: now}
	o.elem = p.age.PushBack(o)
	p.byHash[hash] = o
	parent := blk.Header.PrevBlock
	p.byParent[parent] = append(p.byParent[parent], o)
	p.bytes += size
	return true
}

// remove drops o; called with mu held.
func (p *orphanPool) remove(o *orphan) {
	delete(p.byHash, o.hash)
	p.age.Remove(o.elem)
	p.bytes -= o.size
	parent := o.blk.Header.PrevBlock
	siblings := p.byParent[parent]
	for i, s := range siblings {
		if s == o {
			siblings = append(siblings[:i], siblings[i+1:]...)
			break
		}
	}
	if len(siblings) == 0 {
		delete(p.byParent, parent)
	} else {
		p.byParent[parent] = siblings
	}
}

// takeChildren removes and returns the orphans whose parent is h.
func (p *orphanPool) takeChildren(h types.Hash) []*orphan {
	p.mu.Lock()
	defer p.mu.Unlock()
	children := append([]*orphan(nil), p.byParent[h]...)
	for _, o := range children {
		p.remove(o)
	}
	return children
}

// missingAncestor walks from an orphan to the first ancestor the pool does
// not hold: the block to ask a peer for.
func (p *orphanPool) missingAncestor(h types.Hash) types.Hash {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i <= len(p.byHash); i++ {
		o, ok := p.byHash[h]
		if !ok {
			return h
		}
		h = o.blk.Header.PrevBlock
	}
	return h
}
