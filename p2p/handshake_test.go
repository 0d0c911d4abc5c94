package p2p

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// clearBackoff forgets a failed dial to p, so the next round may dial it.
func clearBackoff(tn *testNode, p peer.ID) {
	if sw, ok := tn.node.host.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(p)
	}
}

// TestSimultaneousDialsHandshake: two nodes dial each other at the same
// moment, round after round. Whatever connections libp2p keeps (one or
// two), each node ends up with the other's status, which sync and scoring
// need, and neither is charged for a repeated handshake. Before the fix,
// a node skipped the handshake on an outbound connection when the
// inbound one was already there, so with both sides skipping no status
// was ever exchanged; and when both did start one, the second was refused
// as "repeated" and the honest peer charged ScoreProtocol.
func TestSimultaneousDialsHandshake(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	// Discovery's own dials are rare (an hour apart once settled): the
	// test does the dialling.
	quiet := func(c *Config) { c.DiscoveryInterval = time.Hour }
	a := newTestNode(t, g, nodeOpts{lowPeers: 1, mod: quiet})
	b := newTestNode(t, g, nodeOpts{lowPeers: 1, mod: quiet})
	idA, idB := a.node.ID(), b.node.ID()
	infoA := peer.AddrInfo{ID: idA, Addrs: a.node.host.Addrs()}
	infoB := peer.AddrInfo{ID: idB, Addrs: b.node.host.Addrs()}
	const rounds, attempts = 20, 60
	round := 0
	for attempt := 0; attempt < attempts && round < rounds; attempt++ {
		clearBackoff(a, idB)
		clearBackoff(b, idA)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i, d := range []struct {
			from *testNode
			to   peer.AddrInfo
		}{{a, infoB}, {b, infoA}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				errs[i] = d.from.node.host.Connect(ctx, d.to)
			}()
		}
		close(start)
		wg.Wait()
		if errs[0] != nil && errs[1] != nil {
			// Both dials met in one TCP simultaneous open (the listen port
			// is reused for dialling) and failed the security handshake,
			// both being clients: no connection to judge. Try again.
			t.Logf("attempt %d: both dials failed: %v", attempt, errors.Join(errs...))
			continue
		}
		round++
		conns := len(a.node.host.Network().ConnsToPeer(idB))
		waitFor(t, 3*time.Second, "both statuses after a simultaneous dial", func() bool {
			_, sa := a.node.peers.status(idB)
			_, sb := b.node.peers.status(idA)
			return sa && sb
		})
		if sa, sb := a.node.peers.score(idB), b.node.peers.score(idA); sa != 0 || sb != 0 {
			t.Fatalf("round %d (%d connections): honest peers charged %.0f and %.0f", round, conns, sa, sb)
		}
		waitFor(t, 3*time.Second, "sync to know both peers", func() bool {
			return syncKnows(a, idB) && syncKnows(b, idA)
		})
		// Disconnect, and check the statuses go with the connections.
		// Discovery may redial meanwhile: then close again.
		waitFor(t, 5*time.Second, "the statuses forgotten after the disconnect", func() bool {
			if a.connectedTo(idB) || b.connectedTo(idA) {
				a.node.host.Network().ClosePeer(idB)
				b.node.host.Network().ClosePeer(idA)
				return false
			}
			_, sa := a.node.peers.status(idB)
			_, sb := b.node.peers.status(idA)
			return !sa && !sb
		})
	}
	if round < rounds {
		t.Fatalf("only %d of %d attempts connected", round, attempts)
	}
}

// syncKnows asks tn's sync manager whether it holds p's status.
func syncKnows(tn *testNode, p peer.ID) bool {
	known := make(chan bool, 1)
	tn.node.sync.post(func() {
		sp := tn.node.sync.peers[p]
		known <- sp != nil && sp.hasStatus
	})
	select {
	case k := <-known:
		return k
	case <-time.After(2 * time.Second):
		return false
	}
}

// initiateStatus runs the status handshake as the initiator from raw host
// h to the node over a new stream (on whichever connection h picks).
func initiateStatus(h host.Host, to peer.ID, names networkNames, st PeerStatus) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, to, names.status)
	if err != nil {
		return err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(5 * time.Second))
	if err := writeFrame(s, st.encode()); err != nil {
		return err
	}
	_, err = readFrame(s, statusSize)
	return err
}

// TestHandshakePerConnection: one peer identity behind two connections
// (two hosts sharing a key). A handshake on the second connection is
// answered, not charged; a second handshake on one connection is charged;
// the status holds while either connection is open and is forgotten when
// the last one closes.
func TestHandshakePerConnection(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	v := newTestNode(t, g, nodeOpts{})
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	var hosts [2]host.Host
	for i := range hosts {
		h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		hosts[i] = h
	}
	p := hosts[0].ID()
	names := namesFor(g.Genesis.Hash)
	st := PeerStatus{Genesis: g.Genesis.Hash, Best: types.Hash{7}, Height: 3, TotalWork: big.NewInt(1)}
	info := peer.AddrInfo{ID: v.node.ID(), Addrs: v.node.host.Addrs()}
	for i, h := range hosts {
		if err := h.Connect(context.Background(), info); err != nil {
			t.Fatal(err)
		}
		if err := initiateStatus(h, v.node.ID(), names, st); err != nil {
			t.Fatalf("handshake on connection %d: %v", i+1, err)
		}
	}
	if n := len(v.node.host.Network().ConnsToPeer(p)); n != 2 {
		t.Fatalf("%d connections from the peer, want 2", n)
	}
	if s := v.node.peers.score(p); s != 0 {
		t.Fatalf("a handshake on a second connection cost %.0f", s)
	}
	// Again on the first connection: that one is a repeat.
	if err := initiateStatus(hosts[0], v.node.ID(), names, st); err == nil {
		t.Fatal("a second handshake on one connection was answered")
	}
	if s := v.node.peers.score(p); s < ScoreProtocol*0.9 {
		t.Fatalf("a repeated handshake on one connection cost %.1f, want %d", s, ScoreProtocol)
	}
	// The status outlives the first connection, not the last.
	hosts[0].Close()
	waitFor(t, 5*time.Second, "the first connection gone", func() bool {
		return len(v.node.host.Network().ConnsToPeer(p)) == 1
	})
	time.Sleep(100 * time.Millisecond) // let the disconnect notifications run
	if _, ok := v.node.peers.status(p); !ok {
		t.Fatal("status forgotten while a connection remains")
	}
	if !syncKnows(v, p) {
		t.Fatal("sync forgot the peer while a connection remains")
	}
	hosts[1].Close()
	waitFor(t, 5*time.Second, "the status forgotten with the last connection", func() bool {
		_, ok := v.node.peers.status(p)
		return !ok
	})
}

// stubConn is a connection whose only answers are its id and whether it
// is closed: what peerSet asks of the connection a status came over.
type stubConn struct {
	network.Conn
	id     string
	closed bool
}

func (c *stubConn) ID() string     { return c.id }
func (c *stubConn) IsClosed() bool { return c.closed }

// TestBeginHandshakeStatusConn: the initiator's handshake is skipped only
// while the peer's status came over a connection still open, or another
// handshake with it runs. A status whose connection closed but whose
// disconnect is not notified yet does not count: before, a new connection
// arriving in that window never handshook.
func TestBeginHandshakeStatusConn(t *testing.T) {
	p := peer.ID("peer")
	st := PeerStatus{Height: 1, TotalWork: big.NewInt(1)}
	tests := []struct {
		name        string
		statusConn  *stubConn // nil: no status recorded
		handshaking bool
		want        bool
	}{
		{"no status", nil, false, true},
		{"status over an open connection", &stubConn{id: "a"}, false, false},
		{"status over a closed connection, disconnect not notified", &stubConn{id: "a", closed: true}, false, true},
		{"handshake running", nil, true, false},
		{"handshake running, status over a closed connection", &stubConn{id: "a", closed: true}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := newPeerSet(time.Now)
			if tt.statusConn != nil {
				ps.setStatus(p, st, tt.statusConn)
			}
			if tt.handshaking && !ps.beginHandshake(p) {
				t.Fatal("the first handshake was refused")
			}
			if got := ps.beginHandshake(p); got != tt.want {
				t.Fatalf("beginHandshake = %v, want %v", got, tt.want)
			}
			if live := ps.hasLiveStatus(p); live != (tt.statusConn != nil && !tt.statusConn.closed) {
				t.Fatalf("hasLiveStatus = %v", live)
			}
		})
	}
}
