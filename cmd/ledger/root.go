package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/internal/cliconfig"
	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/rpc/client"
	"github.com/ledger-node/ledger/wallet"
)

// testKDF is the scrypt cost selected by the hidden --wallet.kdf=test
// (LEDGER_WALLET_KDF=test): 1 MiB and a few milliseconds instead of
// DefaultKDF's 256 MiB and a second. For tests only: a keystore written
// with it falls to a password guesser far sooner.
var testKDF = wallet.KDFParams{LogN: 10, R: 8, P: 1}

// app is one invocation's state: the resolved settings and the streams.
// Everything runs on the command's goroutine; nothing is shared.
type app struct {
	stdin  *os.File
	in     *bufio.Reader // the one reader of stdin, shared by every prompt
	stdout io.Writer
	stderr io.Writer
	v      *viper.Viper

	// now and sleep are the clock, replaced in tests.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	// pollInterval is how often send --wait asks the node.
	pollInterval time.Duration

	rpcClient *client.Client
}

func newApp(stdin *os.File, stdout, stderr io.Writer) *app {
	return &app{
		stdin: stdin, in: bufio.NewReader(stdin), stdout: stdout, stderr: stderr,
		now: time.Now, sleep: sleepCtx, pollInterval: time.Second,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".ledger"
	}
	return filepath.Join(home, ".ledger")
}

// defineGlobalFlags declares the settings every command shares. Each is
// also read from the environment (LEDGER_ + name in capitals, dots as
// underscores) and the config file; flags win over the environment, which
// wins over the file. Command-specific flags are flags only.
func defineGlobalFlags(f *pflag.FlagSet) {
	f.String("config", "", "config file (TOML or YAML) with these settings")
	f.String("rpc", "http://"+rpc.DefaultAddr, "URL of the node's JSON-RPC endpoint")
	f.String("rpc.token", "", "JSON-RPC bearer token (default: read from <datadir>/rpc.cookie)")
	f.String("datadir", defaultDataDir(), "the node's data directory (for rpc.cookie) and the default home of wallets")
	f.String("wallet.dir", "", "wallet directory (default <datadir>/wallets)")
	f.String("password-file", "", "read wallet passwords from the first line of this file instead of a prompt")
	f.String("genesis", "", "network definition for new and imported wallets (default: the embedded devnet)")
	f.Bool("json", false, "machine-readable output: one JSON object per command")
	f.String("wallet.kdf", "default", "keystore scrypt cost: default, or test (cheap; for tests only)")
	f.MarkHidden("wallet.kdf")
}

// loadSettings reads the global settings with viper's precedence and
// refuses a config file naming settings that do not exist.
func (a *app) loadSettings(root *cobra.Command) error {
	v, err := cliconfig.Load(root.PersistentFlags())
	if err != nil {
		return err
	}
	a.v = v
	return nil
}

func (a *app) jsonOut() bool { return a.v.GetBool("json") }

// walletDir is --wallet.dir or <datadir>/wallets.
func (a *app) walletDir() string {
	if d := a.v.GetString("wallet.dir"); d != "" {
		return d
	}
	return filepath.Join(a.v.GetString("datadir"), "wallets")
}

func (a *app) store() (*wallet.Store, error) {
	return wallet.NewStore(a.walletDir())
}

// walletExists reports whether the store holds a wallet named name,
// without creating the directory.
func (a *app) walletExists(name string) bool {
	if !wallet.ValidName(name) {
		return false
	}
	st, err := os.Stat(filepath.Join(a.walletDir(), name+wallet.KeystoreExt))
	return err == nil && st.Mode().IsRegular()
}

// pickWallet is name, or the only wallet in the store when name is empty.
func (a *app) pickWallet(s *wallet.Store, name string) (string, error) {
	if name != "" {
		return name, nil
	}
	names, err := s.List()
	if err != nil {
		return "", err
	}
	switch len(names) {
	case 0:
		return "", fmt.Errorf("no wallet in %s: create one with \"ledger wallet new\"", s.Dir())
	case 1:
		return names[0], nil
	}
	return "", usagef("%d wallets in %s (%s): say which with --name", len(names), s.Dir(), strings.Join(names, ", "))
}

func (a *app) kdf() (wallet.KDFParams, error) {
	switch k := a.v.GetString("wallet.kdf"); k {
	case "", "default":
		return wallet.DefaultKDF, nil
	case "test":
		return testKDF, nil
	default:
		return wallet.KDFParams{}, usagef("wallet.kdf %q: want default or test", k)
	}
}

// network is the network new and imported wallets are bound to:
// --genesis, or the embedded devnet.
func (a *app) network() (wallet.Network, string, error) {
	g := genesis.Default()
	if path := a.v.GetString("genesis"); path != "" {
		var err error
		if g, err = genesis.Load(path); err != nil {
			return wallet.Network{}, "", fmt.Errorf("genesis %s: %w", path, err)
		}
	}
	return wallet.NetworkFromParams(g.Params), g.Params.Name, nil
}

// client connects lazily: commands that need no node never read the
// cookie.
func (a *app) client() (*client.Client, error) {
	if a.rpcClient != nil {
		return a.rpcClient, nil
	}
	token := a.v.GetString("rpc.token")
	if token == "" {
		dir := a.v.GetString("datadir")
		var err error
		if token, err = rpc.ReadCookie(dir); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("no RPC token: give --rpc.token, or --datadir of a running node (no %s)", rpc.CookiePath(dir))
			}
			return nil, fmt.Errorf("no RPC token: %w", err)
		}
	}
	c, err := client.New(client.Config{URL: a.v.GetString("rpc"), Token: token})
	if err != nil {
		return nil, err
	}
	a.rpcClient = c
	return c, nil
}

// connect is the command's context and the node's client: the first step
// of every command that asks the node, taken after the command's own
// arguments are checked (a usage error comes before a missing token).
func (a *app) connect(cmd *cobra.Command) (context.Context, *client.Client, error) {
	c, err := a.client()
	if err != nil {
		return nil, nil, err
	}
	return ctxOf(cmd), c, nil
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "ledger",
		Short:         "ledger is the wallet and JSON-RPC client of a ledgerd node",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.loadSettings(cmd.Root())
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	defineGlobalFlags(root.PersistentFlags())
	root.AddCommand(
		newWalletCmd(a),
		newBalanceCmd(a),
		newSendCmd(a),
		newTxCmd(a),
		newHistoryCmd(a),
		newBlockCmd(a),
		newStatusCmd(a),
		newRPCCmd(a),
	)
	return root
}

// exactArgs is cobra.ExactArgs with a usage error and the names of the
// arguments in its message.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			if len(names) == 0 {
				return usagef("%s takes no arguments", cmd.CommandPath())
			}
			return usagef("%s needs %d argument(s): %s", cmd.CommandPath(), len(names), strings.Join(names, " "))
		}
		return nil
	}
}

// groupRun is the RunE of a command that only groups subcommands: help
// when called alone, a usage error for an unknown subcommand.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}

// ctx is the command's context, never nil.
func ctxOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
