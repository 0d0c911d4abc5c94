package testnet

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// PrintSummary writes what a user needs to use the network: a table of
// the nodes (name, RPC URL, token file, peer id, p2p address, miner on or
// off), the faucet wallet, a `ledger send` command ready to paste (ledger
// is the CLI to show, "ledger" if empty), where the logs and testnet.json
// are, and how another machine joins.
func (n *Network) PrintSummary(w io.Writer, ledger string) {
	if ledger == "" {
		ledger = "ledger"
	}
	m := n.Manifest
	fmt.Fprintf(w, "%s\n\n", n)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tRPC\tTOKEN FILE\tPEER ID\tP2P ADDRESS\tMINER")
	for _, rec := range m.Nodes {
		miner := "off"
		if rec.Mining {
			miner = "on"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rec.Name, rec.RPC, rec.Cookie, rec.PeerID, rec.P2P[0], miner)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nFaucet wallet (%d coins at genesis):\n", FaucetCoins)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  address\t%s\n  wallet dir\t%s\n  wallet\t%s\n  password file\t%s\n",
		m.Faucet.Address, m.Faucet.WalletDir, m.Faucet.Wallet, m.Faucet.PasswordFile)
	tw.Flush()
	first := m.Nodes[0]
	fmt.Fprintf(w, "\nSend coins from the faucet (put the recipient's address for <address>):\n")
	fmt.Fprintf(w, "  %s --rpc %s --datadir %s --wallet.dir %s --password-file %s send --from %s --to <address> --amount 10 --wait 1\n",
		shellQuote(ledger), first.RPC, shellQuote(first.DataDir), shellQuote(m.Faucet.WalletDir),
		shellQuote(m.Faucet.PasswordFile), m.Faucet.Wallet)
	fmt.Fprintf(w, "\nNode logs: %s. For scripts: %s.\n",
		filepath.Join(n.Dir, "node<N>", LogFile), filepath.Join(n.Dir, ManifestFile))
	fmt.Fprintf(w, "Restart this network, with its chain: ledgerd testnet --dir %s\n", shellQuote(n.Dir))
	fmt.Fprintf(w, "\nAnother machine joins with the genesis file and a bootnode address:\n")
	fmt.Fprintf(w, "  ledgerd --genesis %s --p2p.bootnodes %s\n", shellQuote(m.Genesis), first.P2P[0])
	ip := net.ParseIP(m.Host)
	switch {
	case ip != nil && ip.IsUnspecified():
		fmt.Fprintf(w, "  (with this machine's address in place of %s: the nodes listen on every interface)\n", firstIP(first.P2P[0]))
	case ip != nil && ip.IsLoopback():
		fmt.Fprintf(w, "  (the nodes listen on %s only: start the testnet with --host <this machine's IP> for that)\n", m.Host)
	}
}

// firstIP is the address part of /ip4/A/... or /ip6/A/...
func firstIP(maddr string) string {
	parts := strings.Split(maddr, "/")
	if len(parts) > 2 {
		return parts[2]
	}
	return maddr
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		safe = safe && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:@%+=,-", c))
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LedgerCLI is the `ledger` binary next to the ledgerd executable exe, or
// "ledger" (found on PATH) when there is none.
func LedgerCLI(exe string) string {
	p := filepath.Join(filepath.Dir(exe), "ledger")
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p
	}
	return "ledger"
}
