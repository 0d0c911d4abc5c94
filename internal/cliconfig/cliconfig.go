package cliconfig

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix starts the name of every environment variable a setting is
// read from: LEDGER_MINER_THREADS for miner.threads.
const EnvPrefix = "LEDGER"

// ConfigFlag is the setting naming the config file. It is read from the
// flags and the environment only, before the file is.
const ConfigFlag = "config"

// envKeys turns a setting's name into the rest of its environment
// variable's name. Dashes are replaced too: a variable name with one
// cannot be set from most shells.
var envKeys = strings.NewReplacer(".", "_", "-", "_")

// Load binds every flag of flags to its environment variable and, when the
// config setting names one, to the config file, and returns the result.
// Call it after the flags are parsed.
func Load(flags *pflag.FlagSet) (*viper.Viper, error) {
	v := viper.New()
	if err := v.BindPFlags(flags); err != nil {
		return nil, err
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(envKeys)
	v.AutomaticEnv()
	path := v.GetString(ConfigFlag)
	if path == "" {
		return v, nil
	}
	// viper's ReadInConfig would read the whole file, however large:
	// read it here, bounded, and let viper parse it (its type from the
	// extension SetConfigFile records).
	v.SetConfigFile(path)
	data, err := readFile(path)
	if err != nil {
		return nil, &Error{Kind: ErrReadFile, Path: path, Description: err.Error(), Cause: err}
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, &Error{Kind: ErrReadFile, Path: path, Description: err.Error(), Cause: err}
	}
	if unknown := unknownKeys(v.AllKeys(), flags); len(unknown) > 0 {
		return nil, &Error{Kind: ErrUnknownSetting, Path: path, Description: "unknown settings " + strings.Join(unknown, ", ")}
	}
	return v, nil
}

// MaxFileSize bounds a config file: far more than any real one needs (a
// few dozen settings), so that a path to a huge or endless file
// (/dev/zero) is refused without being read into memory.
const MaxFileSize = 1 << 20

// readFile reads path, refusing it past MaxFileSize.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	return data, nil
}

// unknownKeys are the keys, sorted, that name no flag of flags. viper
// lower-cases keys; flag names are lower case by convention here.
func unknownKeys(keys []string, flags *pflag.FlagSet) []string {
	var unknown []string
	for _, k := range keys {
		if flags.Lookup(k) == nil {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return unknown
}

// ErrorKind identifies a failure of Load. It implements error so that
// errors.Is(err, cliconfig.ErrUnknownSetting) matches an *Error of that
// kind.
type ErrorKind string

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

const (
	// ErrReadFile: the config file could not be read or parsed (missing,
	// unreadable, bad syntax, an extension viper does not know).
	ErrReadFile = ErrorKind("ErrReadFile")
	// ErrUnknownSetting: the config file names settings that are not
	// flags of the command.
	ErrUnknownSetting = ErrorKind("ErrUnknownSetting")
)

// Error is a refused config file.
type Error struct {
	Kind        ErrorKind
	Path        string
	Description string
	Cause       error
}

// Error is "config file <path>: <description>".
func (e *Error) Error() string { return fmt.Sprintf("config file %s: %s", e.Path, e.Description) }

// Unwrap gives errors.Is the kind and, when there is one, the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}
