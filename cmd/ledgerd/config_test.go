package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPrecedence checks viper's order for every source: a flag wins
// over the environment, which wins over the config file, which wins over
// the default; TOML and YAML files read the same.
func TestConfigPrecedence(t *testing.T) {
	files := map[string]string{
		"node.toml": "datadir = \"/file/data\"\n\"rpc.addr\" = \"127.0.0.1:1111\"\n\"p2p.maxpeers\" = 11\n" +
			"\"log.level\" = \"warn\"\n[miner]\nthreads = 3\n",
		"node.yaml": "datadir: /file/data\nrpc.addr: \"127.0.0.1:1111\"\np2p.maxpeers: 11\nlog.level: warn\n" +
			"miner:\n  threads: 3\n",
	}
	for name, body := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			// rpc.addr: flag, env and file set it -> the flag.
			// p2p.maxpeers: env and file -> the environment.
			// datadir, log.level, miner.threads: file only -> the file.
			// mempool.maxcount: nowhere -> the default.
			t.Setenv("LEDGER_RPC_ADDR", "127.0.0.1:2222")
			t.Setenv("LEDGER_P2P_MAXPEERS", "22")
			cmd := newRootCmd()
			if err := cmd.ParseFlags([]string{"--config", path, "--rpc.addr", "127.0.0.1:3333"}); err != nil {
				t.Fatal(err)
			}
			v, err := settings(cmd)
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{
				"rpc.addr":         "127.0.0.1:3333",
				"p2p.maxpeers":     "22",
				"datadir":          "/file/data",
				"log.level":        "warn",
				"miner.threads":    "3",
				"mempool.maxcount": cmd.Flags().Lookup("mempool.maxcount").DefValue,
			} {
				if got := v.GetString(key); got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
			cfg, err := nodeConfig(v, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.RPC.Addr != "127.0.0.1:3333" || cfg.P2P.MaxPeers != 22 || cfg.MinerThreads != 3 || cfg.DataDir != "/file/data" {
				t.Errorf("node config %+v", cfg)
			}
		})
	}
}

// TestConfigFileRefused: a config file with an unknown setting, a bad
// value or bad syntax stops the start with a message naming the problem.
func TestConfigFileRefused(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"unknown.yaml", "rpc.adress: 127.0.0.1:1\n", "unknown settings rpc.adress"},
		{"syntax.toml", "datadir = \n", "config file"},
		{"threads.yaml", "miner.threads: 0\n", "miner.threads 0"},
		{"maxbatch.yaml", "rpc.maxbatch: 100000\n", "rpc.maxbatch 100000"},
		{"loglevel.yaml", "log.level: loud\n", "log.level \"loud\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name)
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := newRootCmd()
			if err := cmd.ParseFlags([]string{"--config", path}); err != nil {
				t.Fatal(err)
			}
			v, err := settings(cmd)
			if err == nil {
				if _, err = newLogger(v); err == nil {
					_, err = nodeConfig(v, quietLog())
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestAddressIndexSetting: the address index is on unless turned off.
func TestAddressIndexSetting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		off  bool
	}{
		{nil, "", false},
		{[]string{"--index.address=false"}, "", true},
		{nil, "false", true},
		{[]string{"--index.address=true"}, "false", false},
	} {
		if tc.env != "" {
			t.Setenv("LEDGER_INDEX_ADDRESS", tc.env)
		}
		cmd := newRootCmd()
		if err := cmd.ParseFlags(tc.args); err != nil {
			t.Fatal(err)
		}
		v, err := settings(cmd)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := nodeConfig(v, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.NoAddressIndex != tc.off {
			t.Errorf("args %v env %q: NoAddressIndex %v, want %v", tc.args, tc.env, cfg.NoAddressIndex, tc.off)
		}
	}
}
