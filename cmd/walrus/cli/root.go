// Package cli implements the walrus command line: one file per command,
// data on stdout, talk and errors on stderr, and a stable --json form of
// every command that prints results.
package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// env is what commands print to.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool
}

// printJSON writes v as indented JSON on stdout.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Run executes the command line args and returns the process exit code.
// Errors are printed as one line on stderr.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(stderr, "walrus: %s\n", msg)
		return 1
	}
	return 0
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "walrus",
		Short:         "Walrus in Go: decentralized storage for large blobs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVar(&e.json, "json", false, "print results as JSON")
	root.AddCommand(
		newBlobIDCmd(e),
		newConvertBlobIDCmd(e),
		newBenchCmd(e),
	)
	return root
}
