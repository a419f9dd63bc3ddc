// Command walrus-node is the Walrus storage node: setup, register, run.
package main

import (
	"os"

	"github.com/walrus-go/walrus/cmd/walrus-node/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
