package testproc

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// Build compiles the main packages pkgs (anything `go build` accepts,
// relative paths resolved from the current directory, which in a test is
// the package's) with one `go build -o dir/` and returns each binary's
// path by its name: the last element of the package path ("ledgerd" for
// ../cmd/ledgerd or .../cmd/ledgerd). It needs no *testing.T, so a
// TestMain can build once for every test of a package; the build cache
// makes a second build of unchanged code cheap.
func Build(dir string, pkgs ...string) (map[string]string, error) {
	if len(pkgs) == 0 {
		return nil, errorf(ErrBuild, "no package to build")
	}
	args := append([]string{"build", "-o", dir + string(os.PathSeparator)}, pkgs...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return nil, wrapf(ErrBuild, err, "go %s:\n%s", strings.Join(args, " "), out)
	}
	bins := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		name, err := binaryName(p)
		if err != nil {
			return nil, err
		}
		bin := filepath.Join(dir, name)
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		if st, err := os.Stat(bin); err != nil || !st.Mode().IsRegular() {
			return nil, wrapf(ErrBuild, err, "go build of %s made no binary %s", p, bin)
		}
		bins[name] = bin
	}
	return bins, nil
}

// majorVersion is a module path's /vN element, which go build skips when
// naming a binary.
var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// binaryName is the name go build gives the binary of package p.
func binaryName(p string) (string, error) {
	if p == "." || p == ".." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", wrapf(ErrBuild, err, "package %s", p)
		}
		return filepath.Base(abs), nil
	}
	p = strings.TrimSuffix(p, "/")
	name := path.Base(p)
	if majorVersion.MatchString(name) && strings.Count(p, "/") > 0 {
		name = path.Base(path.Dir(p))
	}
	return name, nil
}
