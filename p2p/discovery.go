package p2p

import (
	"context"
	"errors"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	msmux "github.com/multiformats/go-multistream"
)

const (
	// advertiseRetry is how soon a failed advertisement is retried; the
	// library's own helper waits two minutes, too long for a new network.
	advertiseRetry = 2 * time.Second
	dialTimeout    = 10 * time.Second
	findLimit      = 100
)

// startDiscovery starts the Kademlia DHT in server mode under the
// network's protocol prefix, dials the bootnodes, advertises the node under
// the network's rendezvous namespace and keeps looking for peers while
// below the low-water mark.
func (n *Node) startDiscovery() error {
	var boot []peer.AddrInfo
	for _, s := range n.cfg.Bootnodes {
		info, err := peer.AddrInfoFromString(s)
		if err != nil {
			return errors.Join(errors.New("bootnode "+s), err)
		}
		if info.ID != n.host.ID() {
			boot = append(boot, *info)
		}
	}
	// Server mode: on loopback and LANs AutoNAT never declares the node
	// public, and a client-mode DHT keeps an empty routing table.
	kad, err := dht.New(n.host,
		dht.Mode(dht.ModeServer),
		dht.ProtocolPrefix(n.names.dhtPrefix),
		dht.BootstrapPeers(boot...),
	)
	if err != nil {
		return err
	}
	n.dht = kad
	if err := kad.Bootstrap(n.ctx); err != nil {
		return err
	}
	rd := drouting.NewRoutingDiscovery(kad)
	n.goRun(func() { n.dialBootnodes(boot) })
	n.goRun(func() { n.advertiseLoop(rd) })
	n.goRun(func() { n.findLoop(rd, boot) })
	if n.cfg.MDNS {
		svc := mdns.NewMdnsService(n.host, n.names.rendezvous, mdnsNotifee{n})
		if err := svc.Start(); err != nil {
			return err
		}
		n.goRun(func() {
			<-n.ctx.Done()
			svc.Close()
		})
	}
	return nil
}

func (n *Node) dialBootnodes(boot []peer.AddrInfo) {
	for _, info := range boot {
		if n.host.Network().Connectedness(info.ID) == network.Connected || n.bans.isBanned(info.ID) {
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, dialTimeout)
		if err := n.host.Connect(ctx, info); err != nil && n.ctx.Err() == nil {
			n.log.Debug("bootnode unreachable", "peer", info.ID, "err", err)
		}
		cancel()
	}
}

// advertiseLoop announces the node under the rendezvous namespace once the
// routing table has a peer, and again before each advertisement expires.
func (n *Node) advertiseLoop(rd *drouting.RoutingDiscovery) {
	for n.ctx.Err() == nil {
		if n.dht.RoutingTable().Size() == 0 {
			if !n.sleep(200 * time.Millisecond) {
				return
			}
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
		ttl, err := rd.Advertise(ctx, n.names.rendezvous)
		cancel()
		wait := advertiseRetry
		if err == nil {
			wait = ttl * 7 / 10
		} else if n.ctx.Err() == nil {
			n.log.Debug("advertise failed", "err", err)
		}
		if !n.sleep(wait) {
			return
		}
	}
}

// findLoop looks for peers under the namespace and dials them while the
// node has fewer than LowPeers; with no peer at all it redials the
// bootnodes, since the DHT only does so every few minutes.
func (n *Node) findLoop(rd *drouting.RoutingDiscovery, boot []peer.AddrInfo) {
	interval := 500 * time.Millisecond
	for n.ctx.Err() == nil {
		connected := len(n.host.Network().Peers())
		if connected == 0 {
			n.dialBootnodes(boot)
		}
		if connected < n.cfg.LowPeers && n.dht.RoutingTable().Size() > 0 {
			n.findAndDial(rd)
		} else if connected >= n.cfg.LowPeers {
			interval = n.cfg.DiscoveryInterval
		}
		if !n.sleep(interval) {
			return
		}
		interval = min(interval*2, n.cfg.DiscoveryInterval)
	}
}

func (n *Node) findAndDial(rd *drouting.RoutingDiscovery) {
	ctx, cancel := context.WithTimeout(n.ctx, 20*time.Second)
	defer cancel()
	found, err := rd.FindPeers(ctx, n.names.rendezvous)
	if err != nil {
		return
	}
	for info := range found {
		if info.ID == n.host.ID() || len(info.Addrs) == 0 || n.bans.isBanned(info.ID) ||
			n.host.Network().Connectedness(info.ID) == network.Connected {
			continue
		}
		if len(n.host.Network().Peers()) >= n.cfg.MaxPeers {
			return
		}
		dctx, dcancel := context.WithTimeout(n.ctx, dialTimeout)
		if err := n.host.Connect(dctx, info); err != nil {
			n.log.Debug("dial failed", "peer", info.ID, "err", err)
		}
		dcancel()
	}
}

// sleep waits d or until Close; it reports whether to go on.
func (n *Node) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-n.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type mdnsNotifee struct{ n *Node }

// HandlePeerFound implements mdns.Notifee.
func (m mdnsNotifee) HandlePeerFound(info peer.AddrInfo) {
	n := m.n
	if info.ID == n.host.ID() || n.bans.isBanned(info.ID) {
		return
	}
	n.goRun(func() {
		ctx, cancel := context.WithTimeout(n.ctx, dialTimeout)
		defer cancel()
		_ = n.host.Connect(ctx, info)
	})
}

// isNotOurProtocol reports whether a stream failed because the peer does
// not speak the protocol: a node of another network (protocol ids carry the
// genesis hash) or not a ledger node at all.
func isNotOurProtocol(err error) bool {
	var ns msmux.ErrNotSupported[protocol.ID]
	return errors.As(err, &ns)
}
