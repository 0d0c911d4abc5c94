package rpc

import (
	"context"
	"time"

	"github.com/creachadair/jrpc2"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/internal/reason"
)

// NodeInfo is node_info's result.
type NodeInfo struct {
	Version string `json:"version"`
	Network string `json:"network"`
	ChainID uint32 `json:"chainId"`
	// AddressPrefix is the bech32 prefix of the network's addresses.
	AddressPrefix string   `json:"addressPrefix"`
	GenesisHash   string   `json:"genesisHash"`
	PeerID        string   `json:"peerId"`
	ListenAddrs   []string `json:"listenAddrs"`
	Height        uint32   `json:"height"`
}

// Peer is one entry of node_peers.
type Peer struct {
	PeerID    string   `json:"peerId"`
	Addrs     []string `json:"addrs"`
	Direction string   `json:"direction"`
	Height    uint32   `json:"height"`
	LatencyMs float64  `json:"latencyMs"`
	Score     float64  `json:"score"`
}

// SyncStatus is node_syncStatus's result.
type SyncStatus struct {
	Syncing         bool    `json:"syncing"`
	Height          uint32  `json:"height"`
	BestKnownHeight uint32  `json:"bestKnownHeight"`
	Progress        float64 `json:"progress"`
}

// BanInfo is one entry of node_listBans.
type BanInfo struct {
	PeerID string `json:"peerId"`
	Until  int64  `json:"until"` // Unix seconds
	Reason string `json:"reason"`
}

// syncLag is how many blocks behind the best peer the node may be and
// still count as synced (one block is normal propagation delay).
const syncLag = 1

func (s *Server) registerNode() {
	s.methods["node_info"] = method(s.nodeInfo)
	s.methods["node_peers"] = method(s.nodePeers)
	s.methods["node_syncStatus"] = method(func(_ context.Context, r *jrpc2.Request) (any, error) {
		if err := noParams(r); err != nil {
			return nil, err
		}
		return s.syncStatus(), nil
	})
	s.methods["node_addPeer"] = method(s.nodeAddPeer)
	s.methods["node_banPeer"] = method(s.nodeBanPeer)
	s.methods["node_unbanPeer"] = method(s.nodeUnbanPeer)
	s.methods["node_listBans"] = method(s.nodeListBans)
}

func (s *Server) nodeInfo(_ context.Context, r *jrpc2.Request) (any, error) {
	if err := noParams(r); err != nil {
		return nil, err
	}
	p := s.cfg.Chain.Params()
	info := NodeInfo{
		Version:       s.cfg.Version,
		Network:       p.Name,
		ChainID:       p.ChainID,
		AddressPrefix: p.AddressPrefix,
		GenesisHash:   s.cfg.Chain.GenesisHash().String(),
		ListenAddrs:   []string{},
		Height:        s.cfg.Chain.Tip().Height,
	}
	if n := s.cfg.Network; n != nil {
		info.PeerID = n.ID().String()
		if a := n.Addrs(); a != nil {
			info.ListenAddrs = a
		}
	}
	return info, nil
}

func (s *Server) nodePeers(_ context.Context, r *jrpc2.Request) (any, error) {
	if err := noParams(r); err != nil {
		return nil, err
	}
	out := []Peer{}
	if s.cfg.Network == nil {
		return out, nil
	}
	for _, p := range s.cfg.Network.Peers() {
		addrs := p.Addrs
		if addrs == nil {
			addrs = []string{}
		}
		out = append(out, Peer{PeerID: p.ID.String(), Addrs: addrs, Direction: p.Direction,
			Height: p.Height, LatencyMs: p.LatencyMs, Score: p.Score})
	}
	return out, nil
}

// syncStatus compares the tip with the best height peers announced.
func (s *Server) syncStatus() SyncStatus {
	h := s.cfg.Chain.Tip().Height
	best := h
	if s.cfg.Network != nil {
		for _, p := range s.cfg.Network.Peers() {
			best = max(best, p.Height)
		}
	}
	st := SyncStatus{Height: h, BestKnownHeight: best, Syncing: best > h+syncLag, Progress: 1}
	if best > 0 && best > h {
		st.Progress = float64(h) / float64(best)
	}
	return st
}

func (s *Server) network() (Network, error) {
	if s.cfg.Network == nil {
		return nil, appError(CodeUnavailable, ReasonNoNetwork, "the node runs without the network")
	}
	return s.cfg.Network, nil
}

func parsePeer(name, id string) (peer.ID, error) {
	p, err := peer.Decode(id)
	if err != nil {
		return "", invalidParams("parameter %q: %v", name, err)
	}
	return p, nil
}

func (s *Server) nodeAddPeer(ctx context.Context, r *jrpc2.Request) (any, error) {
	var addr string
	if err := bind(r, req("multiaddr", &addr)); err != nil {
		return nil, err
	}
	n, err := s.network()
	if err != nil {
		return nil, err
	}
	// ctx carries the request's deadline (withDeadline), which bounds a
	// dial to an unreachable address.
	if err := n.Connect(ctx, addr); err != nil {
		return nil, appError(CodeRefused, reasonOr(err, "ErrConnect"), "connect %s: %v", addr, err)
	}
	return true, nil
}

func (s *Server) nodeBanPeer(_ context.Context, r *jrpc2.Request) (any, error) {
	var (
		id      string
		seconds int64
	)
	if err := bind(r, req("peerId", &id), req("seconds", &seconds)); err != nil {
		return nil, err
	}
	p, err := parsePeer("peerId", id)
	if err != nil {
		return nil, err
	}
	if seconds <= 0 || seconds > 10*365*86400 {
		return nil, invalidParams("parameter \"seconds\" must be between 1 and 10 years")
	}
	n, err := s.network()
	if err != nil {
		return nil, err
	}
	if err := n.BanPeer(p, time.Duration(seconds)*time.Second, "banned by the operator"); err != nil {
		return nil, appError(CodeRefused, reasonOr(err, "ErrBan"), "ban %s: %v", id, err)
	}
	return true, nil
}

func (s *Server) nodeUnbanPeer(_ context.Context, r *jrpc2.Request) (any, error) {
	var id string
	if err := bind(r, req("peerId", &id)); err != nil {
		return nil, err
	}
	p, err := parsePeer("peerId", id)
	if err != nil {
		return nil, err
	}
	n, err := s.network()
	if err != nil {
		return nil, err
	}
	ok, err := n.UnbanPeer(p)
	if err != nil {
		return nil, appError(CodeRefused, reasonOr(err, "ErrUnban"), "unban %s: %v", id, err)
	}
	return ok, nil
}

func (s *Server) nodeListBans(_ context.Context, r *jrpc2.Request) (any, error) {
	if err := noParams(r); err != nil {
		return nil, err
	}
	out := []BanInfo{}
	if s.cfg.Network == nil {
		return out, nil
	}
	for _, b := range s.cfg.Network.Bans() {
		out = append(out, BanInfo{PeerID: b.Peer.String(), Until: b.Until.Unix(), Reason: b.Reason})
	}
	return out, nil
}

// reasonOr is err's kind, or def when it has none.
func reasonOr(err error, def string) string {
	if k := reason.Of(err); k != "" {
		return k
	}
	return def
}
