package p2p

import (
	"context"
	"encoding/binary"
	"math/big"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/types"
)

// PeerStatus is what a peer says of itself in the status handshake.
type PeerStatus struct {
	Genesis   types.Hash
	Best      types.Hash
	Height    uint32
	TotalWork *big.Int
}

// statusSize is the encoded size: genesis, best, height, work (32 bytes).
const statusSize = 32 + 32 + 4 + 32

func (s PeerStatus) encode() []byte {
	b := make([]byte, statusSize)
	copy(b, s.Genesis[:])
	copy(b[32:], s.Best[:])
	binary.BigEndian.PutUint32(b[64:], s.Height)
	if s.TotalWork != nil && s.TotalWork.Sign() > 0 && s.TotalWork.BitLen() <= 256 {
		s.TotalWork.FillBytes(b[68:])
	}
	return b
}

func decodeStatus(b []byte) (PeerStatus, error) {
	var s PeerStatus
	if len(b) != statusSize {
		return s, protocolError(ErrMalformed, "status of %d bytes, want %d", len(b), statusSize)
	}
	copy(s.Genesis[:], b)
	copy(s.Best[:], b[32:])
	s.Height = binary.BigEndian.Uint32(b[64:])
	s.TotalWork = new(big.Int).SetBytes(b[68:])
	return s, nil
}

func (n *Node) localStatus() PeerStatus {
	tip := n.cfg.Chain.Tip()
	return PeerStatus{Genesis: n.cfg.Chain.GenesisHash(), Best: tip.Hash, Height: tip.Height, TotalWork: tip.TotalWork}
}

// handleStatus answers a peer's handshake: read theirs, send ours.
func (n *Node) handleStatus(s network.Stream) {
	defer s.Close()
	setDeadline(s, streamDeadline)
	// One handshake per connection started by the peer: a peer that
	// keeps re-announcing itself (say, ever more work, to stay the sync
	// source while serving nothing) pays for each extra one. A handshake
	// on another connection is not one of those: both sides dialling at
	// once, or a redial while the old connection closes, bring a second
	// connection and, honestly, a second handshake.
	if !n.peers.firstHandshakeOn(s.Conn().RemotePeer(), s.Conn()) {
		n.Misbehaving(s.Conn().RemotePeer(), ScoreProtocol, "repeated status handshake on one connection")
		s.Reset()
		return
	}
	raw, err := readFrame(s, statusSize)
	if err != nil {
		n.protocolFailure(s.Conn().RemotePeer(), err)
		s.Reset()
		return
	}
	st, err := decodeStatus(raw)
	if err != nil {
		n.protocolFailure(s.Conn().RemotePeer(), err)
		s.Reset()
		return
	}
	if err := writeFrame(s, n.localStatus().encode()); err != nil {
		s.Reset()
		return
	}
	n.gotStatus(s.Conn().RemotePeer(), st, s.Conn())
}

// exchangeStatus runs the handshake as the initiator; it returns the
// connection the stream ran on (nil if none was opened).
func (n *Node) exchangeStatus(ctx context.Context, p peer.ID) (network.Conn, error) {
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "status"), p, n.names.status)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	setDeadline(s, streamDeadline)
	if err := writeFrame(s, n.localStatus().encode()); err != nil {
		s.Reset()
		return s.Conn(), err
	}
	raw, err := readFrame(s, statusSize)
	if err != nil {
		s.Reset()
		n.protocolFailure(p, err)
		return s.Conn(), err
	}
	st, err := decodeStatus(raw)
	if err != nil {
		s.Reset()
		n.protocolFailure(p, err)
		return s.Conn(), err
	}
	n.gotStatus(p, st, s.Conn())
	return s.Conn(), nil
}

// gotStatus records a peer's status. A peer on another network is
// disconnected and banned for the ban duration, so it is not redialled;
// otherwise the status listeners (sync) hear of it.
func (n *Node) gotStatus(p peer.ID, st PeerStatus, c network.Conn) {
	if st.Genesis != n.cfg.Chain.GenesisHash() {
		n.log.Info("peer is on another network; disconnecting", "peer", p, "genesis", st.Genesis)
		n.banPeer(p, n.cfg.BanDuration, "on another network (genesis "+st.Genesis.String()+")")
		return
	}
	n.peers.setStatus(p, st, c)
	n.mu.Lock()
	listeners := append([]func(peer.ID, PeerStatus){}, n.statusListeners...)
	n.mu.Unlock()
	for _, fn := range listeners {
		fn(p, st)
	}
}

// onStatus registers fn to hear every peer status received.
func (n *Node) onStatus(fn func(peer.ID, PeerStatus)) {
	n.mu.Lock()
	n.statusListeners = append(n.statusListeners, fn)
	n.mu.Unlock()
}
