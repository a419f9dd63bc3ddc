package httpx

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// WriteJSON answers code with v encoded as JSON, with its Content-Type
// and Content-Length. A value that does not encode is the caller's bug;
// the answer is then 500 INTERNAL (Internal), so that the client still
// reads an AIP-193 body rather than half a document.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(Internal()) // cannot fail: no metadata
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// WriteSuccess answers code with Walrus's JSON success envelope
// {"success":{"code":code,"data":data}}, which repeats the HTTP code in
// the body as Walrus's clients expect.
func WriteSuccess(w http.ResponseWriter, code int, data any) {
	var env struct {
		Success struct {
			Code int `json:"code"`
			Data any `json:"data"`
		} `json:"success"`
	}
	env.Success.Code, env.Success.Data = code, data
	WriteJSON(w, code, &env)
}

// WriteError sends an error answer: its Retry-After header if it has one,
// then its AIP-193 body with its code. Headers a package adds to every
// error answer (the gateway's Cache-Control: no-store) are set by the
// caller before.
func WriteError(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	WriteJSON(w, e.Code, e)
}
