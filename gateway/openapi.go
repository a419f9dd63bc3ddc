package gateway

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPI is the OpenAPI 3.1 description of the API, served at /v1/api.
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI description of the daemon's API (YAML).
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// getAPI serves the OpenAPI description.
func (s *Server) getAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPI)))
	_, _ = w.Write(openAPI)
	return nil
}
