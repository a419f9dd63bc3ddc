module github.com/walrus-go/walrus

go 1.26.0

require (
	github.com/supranational/blst v0.3.17
	golang.org/x/crypto v0.58.0
)

require golang.org/x/sys v0.49.0 // indirect
