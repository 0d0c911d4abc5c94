package p2p

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/ledger-node/ledger/internal/atomicfile"
)

// maxBanFile bounds the ban list read from disk.
const maxBanFile = 4 << 20

// Ban is one banned peer.
type Ban struct {
	Peer   peer.ID   `json:"peer"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// banList holds bans and persists them, so a banned peer stays refused
// across restarts until its ban expires. It is also the host's connection
// gater: banned peers are neither dialled nor accepted.
type banList struct {
	path  string
	clock func() time.Time
	log   *slog.Logger

	// max bounds the list (maxBans; smaller in tests).
	max int

	mu sync.Mutex
	// bans is guarded by mu.
	bans map[peer.ID]Ban
	// saveMu serialises save, so that a save never overwrites the file
	// with an older snapshot than the one a concurrent save wrote.
	saveMu sync.Mutex
}

// loadBanList reads path. A missing file is an empty list; an unreadable
// one is moved aside with a warning rather than keeping the node down.
func loadBanList(path string, clock func() time.Time, log *slog.Logger) (*banList, error) {
	b := &banList{path: path, clock: clock, log: log, bans: map[peer.ID]Ban{}, max: maxBans}
	data, err := readBounded(path, maxBanFile)
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ban list %s: %w", path, err)
	}
	var list []Ban
	if len(data) > maxBanFile {
		err = fmt.Errorf("file larger than %d bytes", maxBanFile)
	} else {
		err = json.Unmarshal(data, &list)
	}
	if err != nil {
		bad := path + ".bad"
		log.Warn("ban list unreadable, starting with no bans", "file", path, "moved_to", bad, "err", err)
		if err := os.Rename(path, bad); err != nil {
			return nil, fmt.Errorf("ban list %s: %w", path, err)
		}
		return b, nil
	}
	now := clock()
	for _, ban := range list {
		if ban.Peer.Validate() == nil && ban.Until.After(now) {
			b.bans[ban.Peer] = ban
		}
	}
	return b, nil
}

// maxBans bounds the ban list: peer ids cost nothing to make, so a flood
// of misbehaving identities must not grow it (and every save) for ever.
// When full, the ban closest to expiry makes room.
const maxBans = 10_000

// ban adds or extends a ban and persists the list.
func (b *banList) ban(p peer.ID, d time.Duration, reason string) error {
	b.mu.Lock()
	until := b.clock().Add(d)
	if old, ok := b.bans[p]; ok && old.Until.After(until) {
		until = old.Until
	}
	if _, ok := b.bans[p]; !ok && len(b.bans) >= b.max {
		delete(b.bans, earliestKey(b.bans, func(ban Ban) time.Time { return ban.Until }))
	}
	b.bans[p] = Ban{Peer: p, Until: until, Reason: reason}
	b.mu.Unlock()
	return b.save()
}

// unban lifts a ban; it reports whether there was one.
func (b *banList) unban(p peer.ID) (bool, error) {
	b.mu.Lock()
	_, ok := b.bans[p]
	delete(b.bans, p)
	b.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, b.save()
}

func (b *banList) isBanned(p peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	ban, ok := b.bans[p]
	if !ok {
		return false
	}
	if !ban.Until.After(b.clock()) {
		delete(b.bans, p)
		return false
	}
	return true
}

// list returns the bans in force, soonest expiry first.
func (b *banList) list() []Ban {
	b.mu.Lock()
	now := b.clock()
	out := make([]Ban, 0, len(b.bans))
	for p, ban := range b.bans {
		if ban.Until.After(now) {
			out = append(out, ban)
		} else {
			delete(b.bans, p)
		}
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Until.Before(out[j].Until) })
	return out
}

func (b *banList) save() error {
	b.saveMu.Lock()
	defer b.saveMu.Unlock()
	data, err := json.MarshalIndent(b.list(), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(b.path, data, 0o600)
}

// InterceptPeerDial implements connmgr.ConnectionGater.
func (b *banList) InterceptPeerDial(p peer.ID) bool { return !b.isBanned(p) }

// InterceptAddrDial implements connmgr.ConnectionGater.
func (b *banList) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return !b.isBanned(p) }

// InterceptAccept implements connmgr.ConnectionGater: the peer is not
// known before the security handshake, so InterceptSecured decides.
func (b *banList) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured implements connmgr.ConnectionGater.
func (b *banList) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !b.isBanned(p)
}

// InterceptUpgraded implements connmgr.ConnectionGater.
func (b *banList) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
