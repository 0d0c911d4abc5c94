package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	lpnet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-msgio"

	"github.com/ledger-node/ledger/chain/types"
)

// The attacker is a libp2p host in the test process that speaks the
// node's wire protocols as an outsider would, from their published
// formats (p2p/status.go, p2p/syncwire.go, p2p/gossip.go), and breaks them
// on purpose. It never imports package p2p: what it knows of the wire is
// written down here, so a change of format that breaks compatibility
// breaks this test too.
//
// It listens on 127.0.0.1 only and dials only the addresses it is given,
// which are the nodes' loopback addresses.

// wireNames are a network's protocol ids and gossip topics: every one
// carries the first 8 bytes of the genesis hash.
type wireNames struct {
	status, headers, blocks protocol.ID
	txTopic, blockTopic     string
}

func wireNamesFor(genesis types.Hash) wireNames {
	p := "/ledger/" + hex.EncodeToString(genesis[:8])
	return wireNames{
		status:     protocol.ID(p + "/status/1"),
		headers:    protocol.ID(p + "/headers/1"),
		blocks:     protocol.ID(p + "/blocks/1"),
		txTopic:    p + "/tx/1",
		blockTopic: p + "/block/1",
	}
}

// gossipProtocols are the gossipsub versions a node's router accepts
// streams for; the attacker opens raw streams on them.
var gossipProtocols = []protocol.ID{pubsub.GossipSubID_v13, pubsub.GossipSubID_v12, pubsub.GossipSubID_v11, pubsub.GossipSubID_v10}

// statusWireSize is the status message: genesis, best hash, height (u32)
// and total work (32 bytes), big-endian.
const statusWireSize = 32 + 32 + 4 + 32

func encodeStatusWire(genesis, best types.Hash, height uint32, work *big.Int) []byte {
	b := make([]byte, statusWireSize)
	copy(b, genesis[:])
	copy(b[32:], best[:])
	binary.BigEndian.PutUint32(b[64:], height)
	if work != nil && work.Sign() > 0 {
		work.FillBytes(b[68:])
	}
	return b
}

// attacker is one misbehaving peer. Each attack uses a fresh one, so a
// ban earned by one attack does not hide the next.
type attacker struct {
	t     testing.TB
	name  string
	h     host.Host
	names wireNames
	// genesis is the network the attacker pretends to be on.
	genesis types.Hash

	ps              *pubsub.PubSub
	txTopic, blkTop *pubsub.Topic
}

// newAttacker starts a host with a new identity listening on 127.0.0.1
// only (TCP, no relay, no NAT service), closed when the test ends.
func newAttacker(t testing.TB, name string, genesis types.Hash) *attacker {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(),
		libp2p.UserAgent("e2e-attacker"),
	)
	if err != nil {
		t.Fatalf("attacker %s: libp2p host: %v", name, err)
	}
	a := &attacker{t: t, name: name, h: h, names: wireNamesFor(genesis), genesis: genesis}
	t.Cleanup(func() { h.Close() })
	return a
}

func (a *attacker) id() peer.ID { return a.h.ID() }

// connect dials a node given as a multiaddr with /p2p/.
func (a *attacker) connect(ctx context.Context, addr string) (peer.ID, error) {
	info, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return "", err
	}
	for _, m := range info.Addrs {
		if !strings.HasPrefix(m.String(), "/ip4/127.0.0.1/") {
			return "", fmt.Errorf("attacker %s: refusing to dial %s: tests use 127.0.0.1 only", a.name, m)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return info.ID, a.h.Connect(cctx, *info)
}

// connected reports whether the attacker still has a connection to p.
func (a *attacker) connected(p peer.ID) bool {
	return a.h.Network().Connectedness(p) == lpnet.Connected
}

// handshake runs the status handshake as the dialler, announcing genesis
// (the attacker's own network unless told otherwise) with no work, and
// returns the node's answer, or the error that ended the stream.
func (a *attacker) handshake(ctx context.Context, p peer.ID, genesis types.Hash) ([]byte, error) {
	return a.exchange(ctx, p, a.names.status, encodeStatusWire(genesis, genesis, 0, nil), statusWireSize)
}

// exchange opens a stream on proto, writes one varint-length-prefixed
// frame and reads one frame of at most max bytes back. A node that
// refuses the request resets the stream: the read fails.
func (a *attacker) exchange(ctx context.Context, p peer.ID, proto protocol.ID, payload []byte, max int) ([]byte, error) {
	s, err := a.h.NewStream(ctx, p, proto)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	if err := msgio.NewVarintWriter(s).WriteMsg(payload); err != nil {
		s.Reset()
		return nil, err
	}
	_ = s.CloseWrite()
	msg, err := msgio.NewVarintReaderSize(s, max).ReadMsg()
	if err != nil {
		s.Reset()
		return nil, err
	}
	return msg, nil
}

// sendRaw opens a stream on one of protos, writes raw bytes as they are
// (no framing of ours) and reads until the node ends the stream. It
// returns what the node sent and how the stream ended: nil for a clean
// close, the reset or connection error otherwise.
func (a *attacker) sendRaw(ctx context.Context, p peer.ID, raw []byte, protos ...protocol.ID) ([]byte, error) {
	s, err := a.h.NewStream(ctx, p, protos...)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.Write(raw); err != nil {
		// The node may reset before it has read everything.
		return nil, err
	}
	got, err := io.ReadAll(io.LimitReader(s, 1<<20))
	if err != nil {
		s.Reset()
	}
	return got, err
}

// oversizedFrame is the start of a frame announcing n bytes, with a few
// bytes of its body: a node must refuse it on the length alone.
func oversizedFrame(n uint64) []byte {
	b := binary.AppendUvarint(nil, n)
	return append(b, "only the start of the body"...)
}

// joinGossip starts a gossipsub router on the attacker's host configured
// as the node's (unsigned, authorless messages identified by content) and
// joins the transaction and block topics. It then waits until the router
// sees peer p subscribed to both, so that a publish reaches it.
func (a *attacker) joinGossip(ctx context.Context, p peer.ID) {
	a.t.Helper()
	ps, err := pubsub.NewGossipSub(ctx, a.h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pb.Message) string {
			sum := sha256.Sum256(m.GetData())
			return string(sum[:20])
		}),
		pubsub.WithFloodPublish(true),
	)
	if err != nil {
		a.t.Fatalf("attacker %s: gossipsub: %v", a.name, err)
	}
	a.ps = ps
	if a.txTopic, err = ps.Join(a.names.txTopic); err != nil {
		a.t.Fatalf("attacker %s: join %s: %v", a.name, a.names.txTopic, err)
	}
	if a.blkTop, err = ps.Join(a.names.blockTopic); err != nil {
		a.t.Fatalf("attacker %s: join %s: %v", a.name, a.names.blockTopic, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !hasPeer(a.txTopic.ListPeers(), p) || !hasPeer(a.blkTop.ListPeers(), p) {
		if time.Now().After(deadline) {
			a.t.Fatalf("attacker %s: node %s never appeared subscribed to the gossip topics", a.name, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasPeer(ps []peer.ID, p peer.ID) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// publishTx and publishBlock put data on the gossip topics as they are.
func (a *attacker) publishTx(ctx context.Context, data []byte) error {
	return a.txTopic.Publish(ctx, data)
}

func (a *attacker) publishBlock(ctx context.Context, data []byte) error {
	return a.blkTop.Publish(ctx, data)
}
