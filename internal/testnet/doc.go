// Package testnet makes and runs a private test network of ledgerd
// processes on one machine: the logic of `ledgerd testnet`.
//
// Layout of a testnet directory D (Prepare writes it; testnet.json last,
// so a directory with one is complete):
//
//	D/testnet.json            the manifest: paths, chain id, faucet, nodes (for scripts and restarts)
//	D/genesis.json            the network: new random chain id, prefix "ltest", the faucet's allocation
//	D/faucet/faucet.wallet    the faucet, an HD wallet whose first address holds the allocation
//	D/faucet/password         its random password (0600)
//	D/nodeN/ledgerd.toml      node N's config: datadir, genesis, mining, listen, bootnode, RPC address
//	D/nodeN/p2p.key           node N's identity, made here so every peer id is known before start
//	D/nodeN/ledgerd.log       node N's output (appended to at every start)
//	D/nodeN/rpc.cookie        node N's RPC token, written by the node while it runs
//
// Node i listens for peers on Host:BasePort+2i and serves JSON-RPC on
// 127.0.0.1:BasePort+2i+1; node 0 is every other node's bootnode, and the
// nodes find each other through the DHT from there. The initial
// difficulty comes from this machine's hash rate, measured for 200 ms
// with the miner's own kernel (InitialBits); ASERT's half-life is 20
// block times, so a mis-measured start settles quickly.
//
// Run starts each node as a separate ledgerd process in its own process
// group (so a terminal's Ctrl-C reaches only the supervisor, which stops
// each node once), waits for every node's /health, prints the summary,
// and on cancellation sends every node SIGTERM, waits up to 15 s and
// kills what is left. A node that exits on its own is reported and the
// others keep running.
//
// What it does not do: it does not mine, sync or talk to the network
// itself (the nodes do), and it never removes a testnet directory; nor
// does it reach other machines: another machine joins with the genesis
// file and a bootnode address, as the summary says.
//
// Concurrency: Prepare, Open and ParseManifest are called from one
// goroutine; a Network is read-only once returned. Run owns its
// supervisor: one goroutine (Run's) reads and writes every node's state;
// each process's wait goroutine only sends its exit on a channel.
//
// Errors: failures of this package are *Error values with an ErrorKind
// (ErrBadOptions, ErrConflict, ErrDirNotEmpty, ErrBadManifest,
// ErrBadLayout, ErrPortInUse, ErrNodeFailed), matched with errors.Is; operating-system
// errors are returned as they are or wrapped in an *Error as its cause.
// testnet.json is read back on a restart and treated as hostile:
// size-checked, strictly decoded and validated field by field.
package testnet
