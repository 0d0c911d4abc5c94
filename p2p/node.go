package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"
)

// Node is the node's presence on the network: a libp2p host with its
// identity, bans and connection limits; discovery through the DHT; the
// status handshake; gossip of transactions and blocks; and block sync.
type Node struct {
	cfg   Config
	names networkNames
	log   *slog.Logger

	host   host.Host
	bans   *banList
	peers  *peerSet
	dht    *dht.IpfsDHT
	gossip *gossip
	sync   *syncer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// listen holds the addresses Start listens on.
	listen []ma.Multiaddr

	mu sync.Mutex
	// statusListeners hear every peer status; guarded by mu.
	statusListeners []func(peer.ID, PeerStatus)
	// started is set by Start, closing by Close; guarded by mu, which
	// also orders goRun's wg.Add before Close's wg.Wait.
	started bool
	closing bool
}

// New creates the host (listening at once) without starting any service.
func New(cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	key, err := LoadOrCreateIdentity(filepath.Join(cfg.DataDir, "p2p.key"))
	if err != nil {
		return nil, err
	}
	bans, err := loadBanList(filepath.Join(cfg.DataDir, "bans.json"), cfg.Clock, cfg.Logger)
	if err != nil {
		return nil, err
	}
	low := max(cfg.MaxPeers*2/3, 1)
	cm, err := connmgr.NewConnManager(low, cfg.MaxPeers, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, err
	}
	listen := make([]ma.Multiaddr, 0, len(cfg.Listen))
	for _, a := range cfg.Listen {
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			return nil, fmt.Errorf("p2p listen address %q: %w", a, err)
		}
		listen = append(listen, m)
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		// Listening starts in Start, once the protocol handlers are set:
		// a peer that dialled earlier would find no status protocol and
		// take this node for one of another network.
		libp2p.NoListenAddrs,
		libp2p.ConnectionManager(cm),
		libp2p.ConnectionGater(bans),
		libp2p.UserAgent("ledgerd"),
		libp2p.Ping(true),
	}
	if cfg.NAT {
		opts = append(opts, libp2p.NATPortMap(), libp2p.EnableHolePunching(), libp2p.EnableNATService())
	} else {
		opts = append(opts, libp2p.DisableRelay())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p host: %w", err)
	}
	n := &Node{
		cfg:    cfg,
		names:  namesFor(cfg.Chain.GenesisHash()),
		log:    cfg.Logger,
		host:   h,
		bans:   bans,
		peers:  newPeerSet(cfg.Clock),
		listen: listen,
	}
	return n, nil
}

// Start registers the protocols and starts discovery, gossip and sync.
// The node runs until Close.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.started {
		n.mu.Unlock()
		return errors.New("p2p: already started")
	}
	n.started = true
	n.mu.Unlock()
	n.ctx, n.cancel = context.WithCancel(ctx)
	n.host.SetStreamHandler(n.names.status, n.handleStatus)
	n.host.Network().Notify(&network.NotifyBundle{
		ConnectedF:    func(_ network.Network, c network.Conn) { n.connected(c) },
		DisconnectedF: func(nw network.Network, c network.Conn) { n.disconnected(nw, c) },
	})
	var err error
	if n.sync, err = n.startSync(); err != nil {
		return err
	}
	if n.gossip, err = n.startGossip(); err != nil {
		return err
	}
	if err := n.host.Network().Listen(n.listen...); err != nil {
		return fmt.Errorf("p2p listen: %w", err)
	}
	if err := n.startDiscovery(); err != nil {
		return err
	}
	n.every(latencyTagInterval, func() {
		n.tagByLatency()
		n.peers.prune()
	})
	return nil
}

// Close stops every service and the host.
func (n *Node) Close() error {
	n.mu.Lock()
	n.closing = true
	n.mu.Unlock()
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	var errs []error
	if n.gossip != nil {
		errs = append(errs, n.gossip.close())
	}
	if n.dht != nil {
		errs = append(errs, n.dht.Close())
	}
	errs = append(errs, n.host.Close())
	return errors.Join(errs...)
}

// ID is the node's peer id.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Host exposes the libp2p host (for tests and operator tools).
func (n *Node) Host() host.Host { return n.host }

// Addrs lists the node's listen addresses with its /p2p/ id appended, ready
// to give to another node as a bootnode.
func (n *Node) Addrs() []string {
	var out []string
	for _, a := range n.host.Addrs() {
		out = append(out, a.Encapsulate(ma.StringCast("/p2p/"+n.host.ID().String())).String())
	}
	return out
}

// Connect dials a peer given as a multiaddr with a /p2p/ id.
func (n *Node) Connect(ctx context.Context, addr string) error {
	info, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return fmt.Errorf("peer address %q: %w", addr, err)
	}
	if n.bans.isBanned(info.ID) {
		return fmt.Errorf("peer %s is banned", info.ID)
	}
	return n.host.Connect(ctx, *info)
}

// BanPeer bans a peer for d and disconnects it.
func (n *Node) BanPeer(p peer.ID, d time.Duration, reason string) error {
	return n.banPeer(p, d, reason)
}

func (n *Node) banPeer(p peer.ID, d time.Duration, reason string) error {
	err := n.bans.ban(p, d, reason)
	if err != nil {
		n.log.Warn("could not save the ban list", "err", err)
	}
	_ = n.host.Network().ClosePeer(p)
	n.peers.remove(p)
	return err
}

// UnbanPeer lifts a ban; it reports whether there was one.
func (n *Node) UnbanPeer(p peer.ID) (bool, error) { return n.bans.unban(p) }

// Bans lists the bans in force.
func (n *Node) Bans() []Ban { return n.bans.list() }

// connected starts the status handshake on a connection this node
// dialled, unless the peer's status is known or a handshake with it runs
// already: the dialling side starts it, the other answers. When both sides
// dial at once, each has an outbound connection and both start one; each
// side answers the other's (one per connection, see handleStatus), so
// neither is charged, and neither waits for the other to go first.
func (n *Node) connected(c network.Conn) {
	if c.Stat().Direction != network.DirOutbound {
		return
	}
	p := c.RemotePeer()
	n.goRun(func() {
		if !n.peers.beginHandshake(p) {
			return
		}
		defer n.peers.endHandshake(p)
		ctx, cancel := context.WithTimeout(n.ctx, streamDeadline)
		defer cancel()
		for attempt := 0; ; attempt++ {
			conn, err := n.exchangeStatus(ctx, p)
			if err == nil || n.ctx.Err() != nil {
				return
			}
			if isNotOurProtocol(err) {
				n.log.Info("peer does not speak this network's protocols; disconnecting", "peer", p)
				n.banPeer(p, time.Hour, "does not speak this network's protocols")
				return
			}
			if n.peers.hasLiveStatus(p) {
				return // the peer's own handshake got through meanwhile
			}
			// The connection the stream ran on closed under it while
			// another remains (a simultaneous dial whose duplicate was
			// dropped): once more, on a connection still open.
			if attempt == 0 && (conn == nil || conn.IsClosed()) &&
				n.host.Network().Connectedness(p) == network.Connected {
				continue
			}
			n.log.Debug("status handshake failed", "peer", p, "err", err)
			_ = n.host.Network().ClosePeer(p)
			return
		}
	})
}

// disconnected forgets a gone peer's status once no connection to it
// remains, but not its misbehaviour score, which decays: disconnecting
// must not wipe a peer's record.
func (n *Node) disconnected(nw network.Network, c network.Conn) {
	p := c.RemotePeer()
	n.peers.connClosed(p, c, nw.Connectedness(p) == network.Connected)
}

// goRun runs fn on a goroutine Close waits for.
func (n *Node) goRun(fn func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing || n.ctx == nil || n.ctx.Err() != nil {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		fn()
	}()
}

// every runs fn every d until Close.
func (n *Node) every(d time.Duration, fn func()) {
	n.goRun(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	})
}

func isKind(err error, kind ErrorKind) bool { return errors.Is(err, kind) }
