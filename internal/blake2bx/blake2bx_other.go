//go:build !amd64 || purego

package blake2bx

const impl = "generic"

func sum256Prefixed(out [][32]byte, prefix byte, data []byte, size int) {
	sumGeneric(out, prefix, data, size)
}
