package p2p

// This file holds the in-order connection of synced blocks (the verifier
// and connector goroutines and what feeds and answers them) and the
// manager's tick: stall detection and the progress line.

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

type connectItem struct {
	sess  *syncSession
	entry *hdrEntry
	blk   *types.Block
	txids []types.Hash
}

// verifier checks the signatures of queued blocks into the signature
// cache, then passes them on to the connector in the same order.
func (s *syncer) verifier() {
	workers := runtime.GOMAXPROCS(0)
	for {
		select {
		case <-s.n.ctx.Done():
			return
		case it := <-s.toVerify:
			if s.sigs != nil && !it.sess.aborted.Load() {
				// A failure is ProcessBlock's to find and report.
				_ = consensus.VerifySignatures(it.blk.Txs, it.txids, s.params, s.sigs, workers)
			}
			select {
			case s.toConnect <- it:
			case <-s.n.ctx.Done():
				return
			}
		}
	}
}

// connector hands blocks to the chain in the order it receives them.
func (s *syncer) connector() {
	for {
		select {
		case <-s.n.ctx.Done():
			return
		case it := <-s.toConnect:
			if it.sess.aborted.Load() || s.n.ctx.Err() != nil {
				s.post(func() { s.connected(it, chain.ProcessResult{}, errSessionAborted) })
				continue
			}
			res, err := s.chain.ProcessRequestedBlock(it.blk)
			s.post(func() { s.connected(it, res, err) })
		}
	}
}

var errSessionAborted = errors.New("sync session aborted")

// feedConnector hands buffered blocks to the verifier and connector in
// chain order. The channels hold connectQueue items, more than are ever
// queued, so the sends do not block.
func (s *syncer) feedConnector() {
	sess := s.sess
	for sess.sendIdx < len(sess.entries) && s.queued < connectQueue {
		e := sess.entries[sess.sendIdx]
		if e.state == stDone {
			sess.sendIdx++
			continue
		}
		if e.state != stHave || (s.queued > 0 && s.queuedTxs+len(e.blk.Txs) > verifyAheadTxs) {
			break
		}
		e.state = stQueued
		s.queued++
		s.queuedTxs += len(e.blk.Txs)
		sess.sendIdx++
		s.toVerify <- connectItem{sess: sess, entry: e, blk: e.blk, txids: e.txids}
	}
}

func (s *syncer) connected(it connectItem, res chain.ProcessResult, err error) {
	s.queued--
	s.queuedTxs -= len(it.blk.Txs)
	sess, e := it.sess, it.entry
	if sess != s.sess {
		return
	}
	sess.bufBytes -= e.size
	e.blk, e.txids = nil, nil
	sess.lastEvent = time.Now()
	switch {
	case err == nil && res.Orphan:
		s.abort("a synced block was taken for an orphan", "block", e.hash, "height", e.header.Height)
		return
	case err == nil, errors.Is(err, chain.ErrDuplicateBlock):
	case errors.Is(err, errSessionAborted):
		return
	case errors.Is(err, consensus.ErrTimeTooNew):
		// Valid later, perhaps: nobody's fault.
		s.abort("block from the future", "block", e.hash, "height", e.header.Height)
		return
	case consensus.IsBodyMismatch(err):
		// checkBody compared the root on arrival; only the sender can
		// be at fault.
		s.n.Misbehaving(e.from, ScoreInvalidBlock, fmt.Sprintf("sent block %s with other transactions", e.hash))
		s.abort("block body does not match its header", "block", e.hash)
		return
	default:
		var re *consensus.RuleError
		if errors.As(err, &re) || errors.Is(err, chain.ErrKnownInvalid) {
			s.n.Misbehaving(e.from, ScoreInvalidBlock, fmt.Sprintf("sent invalid block %s: %v", e.hash, err))
			if sess.source != e.from {
				s.n.Misbehaving(sess.source, ScoreInvalidHeader, fmt.Sprintf("sent the header of invalid block %s", e.hash))
			}
			s.abort("invalid block", "block", e.hash, "height", e.header.Height, "err", err)
		} else {
			s.n.log.Warn("sync: the chain store failed", "block", e.hash, "err", err)
			s.abort("store failure", "err", err)
		}
		return
	}
	e.state = stDone
	sess.connected++
	s.syncedBlocks.Add(1)
	s.popDone(sess)
}

// popDone drops the connected entries at the front.
func (s *syncer) popDone(sess *syncSession) {
	k := 0
	for k < len(sess.entries) && k < sess.sendIdx && sess.entries[k].state == stDone {
		k++
	}
	for k == sess.sendIdx && k < len(sess.entries) && sess.entries[k].state == stDone {
		k++
		sess.sendIdx++
	}
	if k > 0 {
		clear(sess.entries[:k])
		sess.entries = sess.entries[k:]
		sess.sendIdx -= k
	}
}

func (s *syncer) onTick(now time.Time) {
	s.pruneServeLimits(now)
	s.pruneHints(now)
	for p, sp := range s.peers {
		if s.n.host.Network().Connectedness(p) != network.Connected {
			s.dropPeer(p)
			continue
		}
		if st, ok := s.n.peers.status(p); ok {
			sp.height = max(sp.height, st.Height)
		}
	}
	sess := s.sess
	if sess == nil {
		return
	}
	if sess.inflight == 0 && !sess.hdrInflight && s.queued == 0 && now.Sub(sess.lastEvent) > sessionIdleTimeout {
		s.n.log.Warn("sync stalled: no peer serves the blocks needed; starting over", "height", s.chain.Tip().Height)
		s.endSession(false)
		return
	}
	if now.Sub(s.lastProgress) >= progressInterval {
		s.logProgress(now)
	}
}

// logProgress writes a "sync progress" line: height, target, percent,
// blocks/s smoothed over the session (the windows before its first block,
// spent on headers, do not count), the time left at that rate, and the
// peers that delivered blocks since the last line.
func (s *syncer) logProgress(now time.Time) {
	sess := s.sess
	count := s.syncedBlocks.Load()
	if s.rated || count > s.lastCount {
		s.rate = smoothRate(s.rate, !s.rated, count-s.lastCount, now.Sub(s.lastProgress))
		s.rated = true
	}
	s.lastProgress, s.lastCount = now, count
	tip := s.chain.Tip()
	target := tip.Height
	if sess.tail != nil {
		target = max(target, sess.tail.height)
	}
	if sp := s.peers[sess.source]; sp != nil {
		target = max(target, sp.height)
	}
	s.n.log.Info("sync progress", "height", tip.Height, "target", target,
		"percent", progressPercent(tip.Height, target), "blocks_per_s", fmt.Sprintf("%.1f", s.rate),
		"remaining", remainingTime(tip.Height, target, s.rate), "peers", len(s.deliverers),
		"buffered_mib", fmt.Sprintf("%.1f", float64(sess.bufBytes)/(1<<20)))
	clear(s.deliverers)
}
