package cliconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// testFlags is a small flag set of the shapes the commands use: a
// config flag, dotted names, a dashed name and a default.
func testFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	f := pflag.NewFlagSet("test", pflag.ContinueOnError)
	f.String(ConfigFlag, "", "config file")
	f.String("rpc.addr", "127.0.0.1:1", "address")
	f.Int("miner.threads", 1, "threads")
	f.String("password-file", "", "password file")
	f.String("datadir", "/default", "data directory")
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadPrecedence: flag over environment over file over default, for
// TOML and YAML, nested tables and dashed names alike.
func TestLoadPrecedence(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"c.toml", "\"rpc.addr\" = \"127.0.0.1:3\"\n\"password-file\" = \"/file/pw\"\n[miner]\nthreads = 3\n"},
		{"c.yaml", "rpc.addr: \"127.0.0.1:3\"\npassword-file: /file/pw\nminer:\n  threads: 3\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.name, tc.body)
			t.Setenv("LEDGER_RPC_ADDR", "127.0.0.1:2")
			t.Setenv("LEDGER_MINER_THREADS", "2")
			t.Setenv("LEDGER_PASSWORD_FILE", "/env/pw")
			v, err := Load(testFlags(t, "--config", path, "--rpc.addr", "127.0.0.1:1"))
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{
				"rpc.addr":      "127.0.0.1:1", // flag, env and file: the flag
				"miner.threads": "2",           // env and file: the environment
				"password-file": "/env/pw",     // dashed name, from the environment
				"datadir":       "/default",    // nowhere: the default
			} {
				if got := v.GetString(key); got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
		})
	}
}

// TestLoadFileOverDefault: with nothing in the environment the file's
// values win over the defaults; the config path itself may come from the
// environment.
func TestLoadFileOverDefault(t *testing.T) {
	path := writeFile(t, "c.yaml", "datadir: /file/data\nminer.threads: 4\n")
	t.Setenv("LEDGER_CONFIG", path)
	v, err := Load(testFlags(t))
	if err != nil {
		t.Fatal(err)
	}
	if v.GetString("datadir") != "/file/data" || v.GetInt("miner.threads") != 4 || v.GetString("rpc.addr") != "127.0.0.1:1" {
		t.Fatalf("datadir %q threads %d rpc.addr %q", v.GetString("datadir"), v.GetInt("miner.threads"), v.GetString("rpc.addr"))
	}
}

// TestLoadRefusesFile: unknown keys (all of them, sorted), bad syntax and
// a missing file are typed errors naming the file.
func TestLoadRefusesFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		kind       ErrorKind
		want       string
	}{
		{"unknown.yaml", "rpc.adress: x\nzeta: 1\nminer:\n  thread: 2\n", ErrUnknownSetting, "unknown settings miner.thread, rpc.adress, zeta"},
		{"syntax.toml", "datadir = \n", ErrReadFile, "config file "},
		{"kind.ini2", "datadir = x\n", ErrReadFile, "config file "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.name, tc.body)
			_, err := Load(testFlags(t, "--config", path))
			if !errors.Is(err, tc.kind) || !strings.HasPrefix(err.Error(), "config file "+path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %s containing %q", err, tc.kind, tc.want)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		// Valid TOML, but one byte over the bound: refused unparsed.
		path := writeFile(t, "large.toml", "datadir = \"x\"\n"+strings.Repeat("#", MaxFileSize))
		_, err := Load(testFlags(t, "--config", path))
		if !errors.Is(err, ErrReadFile) || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("error %v, want ErrReadFile: larger than", err)
		}
		at := writeFile(t, "limit.toml", "datadir = \"x\"\n#"+strings.Repeat("#", MaxFileSize-len("datadir = \"x\"\n#")))
		if v, err := Load(testFlags(t, "--config", at)); err != nil || v.GetString("datadir") != "x" {
			t.Fatalf("a file of exactly MaxFileSize bytes: %v", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := Load(testFlags(t, "--config", filepath.Join(dir, "none.toml")))
		if !errors.Is(err, ErrReadFile) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("error %v, want ErrReadFile wrapping fs.ErrNotExist", err)
		}
	})
}

// TestLoadWithoutFile: no config setting, no file read, no refusal.
func TestLoadWithoutFile(t *testing.T) {
	v, err := Load(testFlags(t, "--miner.threads", "5"))
	if err != nil {
		t.Fatal(err)
	}
	if v.GetInt("miner.threads") != 5 {
		t.Fatalf("miner.threads %d", v.GetInt("miner.threads"))
	}
}
