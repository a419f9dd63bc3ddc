package nodeapi

import _ "embed"

// openAPI is the OpenAPI 3.1 description of the API, served at /v1/api.
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI description of the API (YAML).
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }
