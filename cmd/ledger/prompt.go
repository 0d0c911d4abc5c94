package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxSecretLine bounds a password or mnemonic line, from a file or stdin:
// anything longer is a mistake (a binary file, the wrong file).
const maxSecretLine = 4096

// isTerminal reports whether stdin is an interactive terminal, where
// secrets are read without echo.
func (a *app) isTerminal() bool {
	return a.stdin != nil && term.IsTerminal(int(a.stdin.Fd()))
}

// readLine reads one line from stdin (without its line ending), at most
// maxSecretLine bytes. End of input after some text ends the line; end of
// input before any is an error naming what was expected.
func (a *app) readLine(what string) (string, error) {
	var b []byte
	for {
		c, err := a.in.ReadByte()
		if err == io.EOF {
			if len(b) == 0 {
				return "", fmt.Errorf("no %s on standard input", what)
			}
			break
		}
		if err != nil {
			return "", fmt.Errorf("reading the %s: %w", what, err)
		}
		if c == '\n' {
			break
		}
		if len(b) >= maxSecretLine {
			return "", fmt.Errorf("the %s is longer than %d bytes", what, maxSecretLine)
		}
		b = append(b, c)
	}
	return strings.TrimSuffix(string(b), "\r"), nil
}

// askSecret shows prompt on stderr and reads a secret: without echo on a
// terminal, as one line otherwise.
func (a *app) askSecret(prompt, what string) (string, error) {
	if a.isTerminal() {
		fmt.Fprint(a.stderr, prompt)
		b, err := term.ReadPassword(int(a.stdin.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the %s: %w", what, err)
		}
		if len(b) > maxSecretLine {
			return "", fmt.Errorf("the %s is longer than %d bytes", what, maxSecretLine)
		}
		return string(b), nil
	}
	return a.readLine(what)
}

// readFirstLine reads the first line of a small regular file (a password
// or mnemonic file), without its line ending.
func readFirstLine(path, what string) (string, error) {
	data, err := readSmallFile(path, what, maxSecretLine+2)
	if err != nil {
		return "", err
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if len(line) > maxSecretLine {
		return "", fmt.Errorf("%s %s: first line longer than %d bytes", what, path, maxSecretLine)
	}
	return strings.TrimSuffix(string(line), "\r"), nil
}

// readSmallFile reads at most limit bytes of a regular file; a FIFO or
// device is refused before it is opened for reading (it could block or
// never end).
func readSmallFile(path, what string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s is not a regular file", what, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// password returns the password of an existing wallet: the first line of
// --password-file, or asked for.
func (a *app) password(walletName string) ([]byte, error) {
	if path := a.v.GetString("password-file"); path != "" {
		p, err := readFirstLine(path, "password file")
		return []byte(p), err
	}
	p, err := a.askSecret(fmt.Sprintf("Password of wallet %q: ", walletName), "password")
	return []byte(p), err
}

// newPassword returns the password for a new wallet: from
// --password-file, or asked for (twice on a terminal, so that a typing
// slip cannot lock the wallet). An empty password is refused.
func (a *app) newPassword(walletName string) ([]byte, error) {
	var p string
	var err error
	if path := a.v.GetString("password-file"); path != "" {
		p, err = readFirstLine(path, "password file")
	} else {
		p, err = a.askSecret(fmt.Sprintf("New password for wallet %q: ", walletName), "password")
		if err == nil && a.isTerminal() {
			var again string
			if again, err = a.askSecret("Repeat the password: ", "password"); err == nil && again != p {
				err = errors.New("the two passwords differ")
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, errors.New("a wallet needs a non-empty password")
	}
	return []byte(p), nil
}

// confirm asks a yes/no question on stderr and reads the answer from
// stdin; only "yes" agrees.
func (a *app) confirm(question string) error {
	fmt.Fprint(a.stderr, question+" Type yes to continue: ")
	ans, err := a.readLine("confirmation")
	if !a.isTerminal() {
		fmt.Fprintln(a.stderr)
	}
	if err != nil {
		return err
	}
	if strings.TrimSpace(ans) != "yes" {
		return errors.New("not confirmed; nothing was done")
	}
	return nil
}
