package testproc

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary act as a child process with the
// behaviour named by its value (see runChild).
const childEnv = "TESTPROC_CHILD"

func TestMain(m *testing.M) {
	if b := os.Getenv(childEnv); b != "" {
		os.Exit(runChild(b))
	}
	os.Exit(m.Run())
}

// runChild: "serve" prints ten lines (stdout and stderr), "ready", then
// waits for SIGTERM and exits 0 after printing "stopping"; "deaf" does
// the same but ignores SIGTERM; "fail" prints one line and exits 3.
func runChild(behaviour string) int {
	switch behaviour {
	case "fail":
		fmt.Println("failing now")
		return 3
	case "serve", "deaf":
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		for i := 1; i <= 10; i++ {
			fmt.Fprintf(os.Stderr, "line %d\n", i)
		}
		fmt.Println("ready")
		for range term {
			if behaviour == "serve" {
				fmt.Println("stopping")
				return 0
			}
			fmt.Println("ignoring SIGTERM")
		}
	}
	return 2
}

func startChild(t *testing.T, behaviour string, logFile string, graceful time.Duration) *Proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(t, Spec{Path: exe, Env: append(os.Environ(), childEnv+"="+behaviour), LogFile: logFile,
		Name: "child-" + behaviour, GracefulStop: graceful})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProcLifecycle: output reaches the buffer and the log file, WaitLog
// finds lines with submatches, Tail gives the last lines, SIGTERM stops a
// process that handles it with exit 0.
func TestProcLifecycle(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "child.log")
	os.WriteFile(logFile, []byte("earlier run\n"), 0o600)
	p := startChild(t, "serve", logFile, 0)
	m, err := p.WaitLog(regexp.MustCompile(`line (\d)0`), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m[0] != "line 10" || m[1] != "1" {
		t.Fatalf("match %q, want line 10 and submatch 1", m)
	}
	if _, err := p.WaitLog(regexp.MustCompile(`(?m)^ready$`), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := p.Tail(2); got != "line 10\nready\n" {
		t.Fatalf("Tail(2) = %q", got)
	}
	off := p.Output().Len()
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, p)
	}
	if _, err := p.WaitLogFrom(off, regexp.MustCompile(`stopping`), time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitLogFrom(off, regexp.MustCompile(`line 1\b`), 100*time.Millisecond); !errors.Is(err, ErrExited) {
		t.Fatalf("WaitLogFrom past the line: %v, want ErrExited", err)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "earlier run\nline 1\n") || !strings.HasSuffix(string(data), "ready\nstopping\n") {
		t.Fatalf("log file was not appended to with the output:\n%s", data)
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("signal after exit: %v", err)
	}
}

// TestProcKillAndExitStatus: Kill9 ends a process that ignores SIGTERM,
// Stop reports the timeout and kills, a non-zero exit is reported as an
// *exec.ExitError, and WaitLog fails fast once the process has exited.
func TestProcKillAndExitStatus(t *testing.T) {
	deaf := startChild(t, "deaf", "", 0)
	if _, err := deaf.WaitLog(regexp.MustCompile(`ready`), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := deaf.Wait(50 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait on a running process: %v, want ErrTimeout", err)
	}
	if err := deaf.Stop(300 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Stop of a process ignoring SIGTERM: %v, want ErrTimeout", err)
	}
	if !deaf.Exited() {
		t.Fatal("Stop returned with the process still running")
	}
	var ee *exec.ExitError
	if err := deaf.ExitErr(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("exit of a killed process: %v", err)
	}

	fail := startChild(t, "fail", "", 0)
	start := time.Now()
	_, err := fail.WaitLog(regexp.MustCompile(`never printed`), 30*time.Second)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "failing now") {
		t.Fatalf("WaitLog on an exiting process: %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("WaitLog waited for its timeout although the process had exited")
	}
	if err := fail.Wait(time.Second); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit: %v, want status 3", err)
	}

	serve := startChild(t, "serve", "", 0)
	if err := serve.Kill9(); err != nil {
		t.Fatal(err)
	}
	if !serve.Exited() {
		t.Fatal("Kill9 returned before the process was reaped")
	}
}

// TestCleanupStopsProcess: the cleanup Start registers stops the process
// (gracefully when asked) even if the test never does.
func TestCleanupStopsProcess(t *testing.T) {
	var graceful, killed *Proc
	t.Run("inner", func(t *testing.T) {
		graceful = startChild(t, "serve", "", 10*time.Second)
		killed = startChild(t, "deaf", "", 0)
		for _, p := range []*Proc{graceful, killed} {
			if _, err := p.WaitLog(regexp.MustCompile(`ready`), 10*time.Second); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !graceful.Exited() || !killed.Exited() {
		t.Fatal("a process outlived its test")
	}
	if err := graceful.ExitErr(); err != nil || !strings.Contains(graceful.String(), "stopping") {
		t.Fatalf("graceful cleanup: exit %v, output:\n%s", err, graceful)
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\n", 5, "a\nb\n"},
		{"a\nb\n", 0, ""},
		{"one line", 1, "one line"},
	} {
		if got := TailLines(tc.in, tc.n); got != tc.want {
			t.Errorf("TailLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestBinaryName(t *testing.T) {
	for _, tc := range []struct{ pkg, want string }{
		{"github.com/ledger-node/ledger/cmd/ledgerd", "ledgerd"},
		{"example.com/tool/v2", "tool"},
		{"./testdata/hello", "hello"},
		{"../testproc", "testproc"},
	} {
		if got, err := binaryName(tc.pkg); err != nil || got != tc.want {
			t.Errorf("binaryName(%q) = %q, %v; want %q", tc.pkg, got, err, tc.want)
		}
	}
}

// TestBuild compiles a small main package and runs it; a package that
// does not build is an ErrBuild error with the compiler's output.
func TestBuild(t *testing.T) {
	dir := t.TempDir()
	bins, err := Build(dir, "./testdata/hello")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bins["hello"]).Output()
	if err != nil || string(out) != "hello from a built binary\n" {
		t.Fatalf("built binary: %q, %v", out, err)
	}
	if _, err := Build(dir, "./testdata/does-not-exist"); !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), "does-not-exist") {
		t.Fatalf("building a missing package: %v", err)
	}
}

func TestFreePortsAndEnv(t *testing.T) {
	base, err := FreePorts(6)
	if err != nil {
		t.Fatal(err)
	}
	if base%2 != 0 || base < portLow || base+6 > portHigh {
		t.Fatalf("base %d", base)
	}
	if _, err := FreePorts(0); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("FreePorts(0): %v", err)
	}
	t.Setenv("TESTPROC_DROP_ME", "1")
	t.Setenv("TESTPROC_KEEP", "1")
	env := strings.Join(EnvWithout("TESTPROC_DROP"), "\n")
	if strings.Contains(env, "TESTPROC_DROP_ME") || !strings.Contains(env, "TESTPROC_KEEP=1") {
		t.Fatal("EnvWithout kept a dropped variable or dropped a kept one")
	}
}

// TestBufferWaitMatch: a match written later is found, with submatches;
// none by the timeout is ErrTimeout.
func TestBufferWaitMatch(t *testing.T) {
	var b Buffer
	go func() {
		time.Sleep(50 * time.Millisecond)
		b.Write([]byte("starting\nlisten=/ip4/127.0.0.1/tcp/"))
		time.Sleep(50 * time.Millisecond)
		b.Write([]byte("7400 ok\n"))
	}()
	m, err := b.WaitMatch(regexp.MustCompile(`listen=(\S+) ok`), 10*time.Second)
	if err != nil || m[1] != "/ip4/127.0.0.1/tcp/7400" {
		t.Fatalf("WaitMatch: %q, %v", m, err)
	}
	if _, err := b.WaitMatch(regexp.MustCompile(`never`), 100*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("WaitMatch without a match: %v, want ErrTimeout", err)
	}
}

// TestOnlyTestsImportThisPackage: no non-test file of the module imports
// testproc (it kills processes and probes ports: test support only).
func TestOnlyTestsImportThisPackage(t *testing.T) {
	const self = `"github.com/ledger-node/ledger/internal/testproc"`
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", root, err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return nil // a file mid-edit elsewhere is not this test's business
		}
		checked++
		for _, imp := range f.Imports {
			if imp.Path.Value == self {
				t.Errorf("%s imports testproc; only _test.go files may", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no Go file checked")
	}
}
