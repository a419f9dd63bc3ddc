// Command walrus is the Walrus client: blob IDs, and (as the project grows)
// storing and reading blobs, the HTTP gateways and the devnet.
package main

import (
	"os"

	"github.com/walrus-go/walrus/cmd/walrus/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
