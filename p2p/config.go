package p2p

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ledger-node/ledger/chain/types"
)

// Config holds the network layer's settings and dependencies.
type Config struct {
	// DataDir holds the node identity (p2p.key) and the ban list
	// (bans.json).
	DataDir string
	// Listen lists multiaddrs to listen on, TCP and QUIC.
	Listen []string
	// Bootnodes are multiaddrs with a /p2p/ peer id, dialled at start and
	// whenever the node has no peers.
	Bootnodes []string
	// MaxPeers is the connection manager's high-water mark; it trims down
	// to about two thirds of it. LowPeers is the mark below which the node
	// looks for and dials more peers.
	MaxPeers int
	LowPeers int
	// NAT turns on UPnP/NAT-PMP port mapping, hole punching and AutoNAT,
	// for nodes on different machines. Off for loopback networks.
	NAT bool
	// MDNS turns on LAN discovery.
	MDNS bool
	// BanThreshold is the misbehaviour score at which a peer is
	// disconnected and banned for BanDuration.
	BanThreshold int
	BanDuration  time.Duration
	// DiscoveryInterval is how often the node looks for peers when below
	// LowPeers.
	DiscoveryInterval time.Duration
	// GossipHeartbeat is gossipsub's heartbeat; 1 s by default, shorter in
	// tests so meshes form quickly.
	GossipHeartbeat time.Duration

	Chain   Chain
	Mempool Mempool
	// Clock is local time; time.Now if nil.
	Clock  func() time.Time
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Chain == nil || c.Mempool == nil {
		return c, fmt.Errorf("p2p: Config.Chain and Config.Mempool are required")
	}
	if c.DataDir == "" {
		return c, fmt.Errorf("p2p: Config.DataDir is required")
	}
	if len(c.Listen) == 0 {
		c.Listen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}
	}
	if c.MaxPeers <= 0 {
		c.MaxPeers = 50
	}
	if c.LowPeers <= 0 {
		c.LowPeers = min(8, c.MaxPeers)
	}
	if c.BanThreshold <= 0 {
		c.BanThreshold = 100
	}
	if c.BanDuration <= 0 {
		c.BanDuration = 24 * time.Hour
	}
	if c.DiscoveryInterval <= 0 {
		c.DiscoveryInterval = 10 * time.Second
	}
	if c.GossipHeartbeat <= 0 {
		c.GossipHeartbeat = time.Second
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Network names derived from the genesis hash. Every protocol id, topic and
// DHT prefix carries it, so separate networks never exchange a message,
// share a routing table or join the public IPFS DHT, whatever the
// configuration says.
type networkNames struct {
	dhtPrefix  protocol.ID // kad-dht protocol prefix: "/ledger/<first 8 bytes of genesis, hex>"
	status     protocol.ID
	headers    protocol.ID
	blocks     protocol.ID
	txTopic    string
	blockTopic string
	rendezvous string // discovery namespace
}

func namesFor(genesis types.Hash) networkNames {
	short := hex.EncodeToString(genesis[:8])
	p := "/ledger/" + short
	return networkNames{
		dhtPrefix:  protocol.ID(p),
		status:     protocol.ID(p + "/status/1"),
		headers:    protocol.ID(p + "/headers/1"),
		blocks:     protocol.ID(p + "/blocks/1"),
		txTopic:    p + "/tx/1",
		blockTopic: p + "/block/1",
		rendezvous: "ledger/" + genesis.String(),
	}
}
