// Package cliconfig reads the settings of a command (ledgerd, ledger) from
// its flags, the environment and a config file, in that order of
// precedence, with viper: a flag given on the command line wins over the
// environment variable LEDGER_<NAME> (the flag's name in capitals, dots
// and dashes as underscores), which wins over the config file named by
// the "config" setting (TOML or YAML, by its extension), which wins over
// the flag's default.
//
// A config file may only name settings that are flags of the set it is
// read for: a misspelt or foreign key would otherwise be ignored in
// silence, so Load refuses the file and names every such key. Unknown
// LEDGER_ variables cannot be told from other programs' and are ignored.
//
// What it does not do: it does not define the flags (each command owns
// its own), check values (the commands turn settings into their typed
// configurations and check them there), or watch the file for changes.
//
// Concurrency: Load has no shared state and may be called from any
// goroutine; the *viper.Viper it returns is the caller's alone (viper is
// not safe for concurrent writes).
//
// Errors: a config file that cannot be read or parsed is an *Error of
// kind ErrReadFile wrapping the cause; one naming settings that do not
// exist is an *Error of kind ErrUnknownSetting. Both messages start with
// "config file <path>: ". Match them with errors.Is.
package cliconfig
