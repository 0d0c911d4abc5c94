// Package e2e holds the end-to-end tests: real ledgerd and ledger
// processes, built once per run (TestMain), on a private testnet written
// by internal/testnet in a temporary directory, talking only to
// 127.0.0.1. The package has no code but this comment; everything is in
// _test.go files.
//
// What the tests cover: a network of several mining nodes run as
// separate processes; wallets made, funded and used with the ledger CLI;
// every node agreeing on the tip, its state commitment and the balances,
// which add up to the issued supply; a node killed with SIGKILL and
// restarted, keeping what it had reported confirmed; a late node told one
// bootnode finding the others through the DHT and syncing (scenarios 1 to
// 3, scenario_network_test.go), and the scenarios built on the same
// harness in their own files.
//
// The harness (harness_test.go): newNetwork writes a network with
// testnet.Prepare (without the `ledgerd testnet` supervisor, which has its
// own tests) and starts, stops, kills and restarts single nodes as
// `ledgerd --config <dir>/nodeI/ledgerd.toml [flags]` processes, their
// output appended to <dir>/nodeI/ledgerd.log; it gives an RPC client per
// node (re-made at every start: the node writes a new cookie each time),
// runs the CLI with --json, waits with deadlines (height, same tip and
// state root) and reads balances.
//
// What it does not do: nothing here runs in -short mode (every test
// skips, since CI's full pass runs them), nothing asserts performance,
// and nothing reaches another machine.
//
// Time bounds and clean-up: each scenario runs under one overall deadline
// (networkOptions.Timeout; the network's context) and every wait has its
// own, so a stuck network fails with a message saying what was awaited and
// what was last seen rather than hanging. Every process is killed in the
// test's cleanup, failed or not (and by the kernel if the test binary
// dies first, see internal/testproc); on failure the tail of each node's
// log is printed.
//
// Concurrency: a network's node table (processes, clients) is guarded by
// testNetwork.mu; the query and wait methods and cli may be called from
// several goroutines, start/stop/kill only from the test's goroutine.
package e2e
