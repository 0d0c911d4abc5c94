// Package p2p is the node's presence on the network, built on libp2p: a
// host with a persistent Ed25519 identity, connection limits and a
// persisted ban list; peer discovery through a Kademlia DHT private to the
// network; a status handshake on every connection; gossip of transactions
// and blocks over gossipsub with validators that run the real checks; and
// headers-first block sync from several peers.
//
// Networks are kept apart by construction: every protocol id, gossip topic,
// DHT prefix and discovery namespace carries the genesis hash, so nodes of
// different networks never share a routing table or a message, and a peer
// that does not speak this network's status protocol, or announces another
// genesis, is disconnected and banned for a while.
//
// Misbehaviour (invalid blocks or transactions, malformed or oversized
// messages, unrequested data, stalls, blocks it should have served and
// did not) raises a peer's decaying ban score; past the threshold the peer
// is disconnected and banned, and the ban is saved so it holds across
// restarts. A gossiped orphan asks its relayer for the missing ancestors;
// one whose ancestors never connect costs the relayer no points (honest
// relayers hit that in routine races) but stops its orphans fetching
// anything for a while, even across reconnects.
//
// Operators: while a sync session runs, a "sync progress" line every 5 s
// gives height, target, percent, blocks/s (smoothed over the session),
// the remaining time at that rate and the peers delivering; "sync
// complete" ends it. PeerCount and BestKnownHeight (the highest height a
// connected peer announced, node_syncStatus's source) feed the metrics.
//
// What it does not do: it validates nothing itself (the chain store and the
// pool do, through the Chain and Mempool interfaces), mines nothing, and
// serves no RPC.
//
// Concurrency: Node's methods are safe for concurrent use. Each service
// runs on goroutines started by Start and stopped by Close; shared state
// has its owner named at its declaration (peerSet.mu, banList.mu, Node.mu).
//
// Errors: protocol failures by peers are *ProtocolError values with an
// ErrorKind (ErrFrameTooLarge, ErrMalformed, ErrWrongNetwork, ErrProtocol,
// ErrTimeout), matched with errors.Is; they are scored against the peer,
// not returned to callers. ErrStreamClosed (a stream ended inside a frame)
// costs nothing: peers disconnect for honest reasons. Chain and pool errors
// pass through unchanged.
package p2p
