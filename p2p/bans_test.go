package p2p

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/internal/chaingen"
)

// TestBanListBounded: past its bound the list drops the ban closest to
// expiry, so a flood of fresh identities cannot grow it; the list survives
// a reload.
func TestBanListBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "bans.json")
	b, err := loadBanList(path, clock, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	b.max = 5
	ids := make([]peer.ID, 8)
	for i := range ids {
		_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if ids[i], err = peer.IDFromPublicKey(pub); err != nil {
			t.Fatal(err)
		}
		// Later peers are banned for longer: the first ones expire soonest.
		if err := b.ban(ids[i], time.Duration(i+1)*time.Hour, fmt.Sprint("test ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(b.list()); n != 5 {
		t.Fatalf("%d bans kept, bound 5", n)
	}
	if b.isBanned(ids[0]) || !b.isBanned(ids[7]) {
		t.Fatal("the ban closest to expiry should have made room")
	}
	again, err := loadBanList(path, clock, testLogger())
	if err != nil || len(again.list()) != 5 {
		t.Fatalf("reloaded list: %v, %d bans", err, len(again.list()))
	}
}

// TestRepeatedStatusCosts: a peer that runs the status handshake again on
// the same connection pays for it.
func TestRepeatedStatusCosts(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	tn := newTestNode(t, g, nodeOpts{})
	r := newRawPeer(t, g, 0)
	r.connect(t, tn)
	st := PeerStatus{Genesis: g.Genesis.Hash, Best: g.Genesis.Hash, TotalWork: big.NewInt(1)}
	handshake := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := r.h.NewStream(ctx, tn.node.ID(), r.names.status)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_ = writeFrame(s, st.encode())
		_, _ = readFrame(s, statusSize)
	}
	handshake()
	waitFor(t, 5*time.Second, "the first status to be recorded", func() bool {
		_, ok := tn.node.peers.status(r.h.ID())
		return ok
	})
	if s := tn.node.peers.score(r.h.ID()); s != 0 {
		t.Fatalf("score %v after one handshake", s)
	}
	handshake()
	waitFor(t, 5*time.Second, "the repeated handshake to cost", func() bool {
		return tn.node.peers.score(r.h.ID()) >= ScoreProtocol-1
	})
}
