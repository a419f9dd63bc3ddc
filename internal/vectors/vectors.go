// Package vectors gives tests the Walrus test vectors of
// shared/spec/vectors, of which data/ holds a committed copy (checked against
// the shared original whenever that is present beside the project).
package vectors

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Dir is the directory of the committed copy.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "data")
}

// SharedDir is ../shared/spec/vectors relative to the project root, or "" if absent.
func SharedDir() string {
	root := filepath.Join(Dir(), "..", "..", "..")
	d := filepath.Join(root, "..", "shared", "spec", "vectors")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// Read returns the contents of a vector file.
func Read(name string) ([]byte, error) { return os.ReadFile(filepath.Join(Dir(), name)) }

// TSV returns the data rows of a tab-separated vector file: comment lines
// (#) and the header row are skipped.
func TSV(name string) ([][]string, error) {
	b, err := Read(name)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	header := true
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if header {
			header = false
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows, sc.Err()
}
