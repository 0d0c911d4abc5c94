// Command ledger is the command-line wallet and JSON-RPC client of a
// ledgerd node: it creates and restores wallets (encrypted keystores from
// package wallet), shows balances and history, builds, signs and submits
// transfers and follows them to confirmation, and queries the node.
//
// Settings come from flags, the environment (LEDGER_ plus the flag name
// in capitals, dots as underscores) and a config file (--config, TOML or
// YAML), in that order of precedence. Passwords come from a hidden prompt
// or --password-file, never from a flag value. Output is for humans unless
// --json asks for one JSON object per command on stdout. Any error is one
// line on stderr, "ledger: <message>", with exit code 1, or 2 for a usage
// error (unknown command or flag, missing or malformed argument).
//
// Concurrency: one command runs per process, on the main goroutine; the
// wallet store itself serialises writers across processes.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	cmd := newRootCmd(newApp(stdin, stdout, stderr))
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "ledger: "+oneLine(err.Error()))
	var u usageError
	if errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command") ||
		strings.HasPrefix(err.Error(), "unknown flag") || strings.HasPrefix(err.Error(), "unknown shorthand flag") {
		return 2
	}
	return 1
}

// usageError marks a mistake in the command line (exit code 2).
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// oneLine folds a multi-line message into one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}
