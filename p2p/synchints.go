package p2p

// This file holds the sync manager's orphan-ancestor hints: gossip asks
// for an orphan's missing ancestors from the peer that relayed it, and a
// relayer whose hint fetched nothing has its hints dropped for a while.
// Everything here runs on the manager goroutine, which owns syncer.hints
// and syncer.hintCool.

import (
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/types"
)

// ancestorHint is an orphan's first missing ancestor, which the peer that
// relayed the orphan should have, and when gossip asked for it.
type ancestorHint struct {
	missing types.Hash
	at      time.Time
}

// gotAncestorHint queues an orphan's missing ancestor, asked for at at;
// maybeStart serves the queue when no session runs (the one running may
// bring it anyway). A peer's newer hint replaces its older one; a peer
// cooling down (see coolOrphanRelayer) is not heard.
func (s *syncer) gotAncestorHint(p peer.ID, missing types.Hash, at time.Time) {
	if s.n.host.Network().Connectedness(p) != network.Connected || s.n.bans.isBanned(p) {
		return
	}
	if at.Before(s.hintCool[p]) {
		return
	}
	if _, ok := s.hints[p]; ok || len(s.hints) < maxAncestorHints {
		s.hints[p] = ancestorHint{missing: missing, at: at}
	}
}

// nextAncestorHint takes a hint worth a session: its peer usable and the
// block still unknown. Hints whose block arrived meanwhile, or older than
// maxHintAge, are dropped; a hint waits while its peer has no status yet
// or is cooling down after a stall.
func (s *syncer) nextAncestorHint(now time.Time) (peer.ID, types.Hash, bool) {
	for p, h := range s.hints {
		if now.Sub(h.at) > maxHintAge {
			delete(s.hints, p)
			continue
		}
		if _, err := s.chain.HeaderByHash(h.missing); err == nil {
			delete(s.hints, p)
			continue
		}
		if sp := s.peers[p]; sp != nil && s.usable(sp, now) {
			delete(s.hints, p)
			return p, h.missing, true
		}
	}
	return "", types.Hash{}, false
}

// coolOrphanRelayer handles an ancestors session that connected nothing
// while the missing block is still unknown: the relayer's hints are
// dropped for ancestorCooldown, which is what keeps a peer gossiping
// cheap orphans from buying a headers request and a session with each.
//
// It costs the relayer no ban points: honest relayers end here in routine
// cases (its hint waited behind another session while its block lost a
// race, and it now answers no headers; its branch was no longer heavier
// when fetched; the headers request failed, already charged as a stall;
// the session idled out). A relayer that served headers and then missed
// their blocks pays ScoreMissedBlocks for that. The cooldown is kept by
// peer id, so reconnecting does not lift it.
func (s *syncer) coolOrphanRelayer(sess *syncSession, now time.Time) {
	if _, err := s.chain.HeaderByHash(sess.stop); err == nil || s.n.ctx.Err() != nil {
		return
	}
	p := sess.origin
	if _, ok := s.hintCool[p]; !ok && len(s.hintCool) >= maxHintCooldowns {
		s.pruneHints(now)
		if len(s.hintCool) >= maxHintCooldowns {
			// The cooldown that ends first makes room.
			delete(s.hintCool, earliestKey(s.hintCool, timeItself))
		}
	}
	s.hintCool[p] = now.Add(ancestorCooldown)
}

// pruneHints drops hints older than maxHintAge (so stale ones do not
// hold the places of new ones while a session runs) and cooldowns that
// have ended; the manager's tick calls it.
func (s *syncer) pruneHints(now time.Time) {
	for p, h := range s.hints {
		if now.Sub(h.at) > maxHintAge {
			delete(s.hints, p)
		}
	}
	for p, until := range s.hintCool {
		if !now.Before(until) {
			delete(s.hintCool, p)
		}
	}
}
