package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestLimitsAndAuth: 429 beyond the publisher's concurrency and buffer,
// and the JWT checks of an authenticated publisher.
func TestLimitsAndAuth(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	const secret = "s3cret"
	_, pub := startServer(t, net, gateway.Config{Publisher: true, PublisherConcurrency: 1, PublisherBuffer: 1, MetricsAddress: "off",
		Wallets: gateway.WalletsConfig{N: 1, Dir: t.TempDir()},
		Auth:    &gateway.AuthConfig{Secret: secret, VerifyUpload: true}})

	sign := func(claims jwt.MapClaims, key string) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	exp := time.Now().Add(time.Hour).Unix()
	put := func(query, token string, body []byte) (*http.Response, []byte) {
		h := map[string]string{}
		if token != "" {
			h["Authorization"] = "Bearer " + token
		}
		return call(t, "PUT", pub+"/v1/blobs"+query, bytes.NewReader(body), h)
	}

	t.Run("jwt", func(t *testing.T) {
		resp, b := put("", "", []byte("x"))
		wantError(t, "no token", resp, b, 401, gateway.ReasonMissingToken)
		resp, b = put("", sign(jwt.MapClaims{"exp": exp, "jti": "a"}, "wrong"), []byte("x"))
		wantError(t, "bad signature", resp, b, 401, gateway.ReasonInvalidSignature)
		resp, b = put("", sign(jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix(), "jti": "b"}, secret), []byte("x"))
		wantError(t, "expired", resp, b, 401, gateway.ReasonExpiredSignature)
		resp, b = put("", sign(jwt.MapClaims{"exp": exp}, secret), []byte("x"))
		wantError(t, "no jti", resp, b, 400, gateway.ReasonInvalidToken)
		resp, b = put("", "not.a.jwt", []byte("x"))
		wantError(t, "garbage", resp, b, 400, gateway.ReasonInvalidToken)
		resp, b = put("?epochs=3", sign(jwt.MapClaims{"exp": exp, "jti": "c", "epochs": 2}, secret), []byte("x"))
		wantError(t, "epochs", resp, b, 400, gateway.ReasonInvalidEpochs)
		resp, b = put("?epochs=3", sign(jwt.MapClaims{"exp": exp, "jti": "d", "max_epochs": 2}, secret), []byte("x"))
		wantError(t, "max_epochs", resp, b, 400, gateway.ReasonEpochsAboveMax)
		resp, b = put("", sign(jwt.MapClaims{"exp": exp, "jti": "e", "max_size": 3}, secret), []byte("four"))
		wantError(t, "max_size", resp, b, 400, gateway.ReasonMaxSizeExceeded)
		to := ids.Address{5}
		resp, b = put("", sign(jwt.MapClaims{"exp": exp, "jti": "f", "send_object_to": to.String()}, secret), []byte("x"))
		wantError(t, "send_object_to missing", resp, b, 400, gateway.ReasonMissingSendObjectTo)
		resp, b = put("?send_object_to="+(ids.Address{6}).String(), sign(jwt.MapClaims{"exp": exp, "jti": "g", "send_object_to": to.String()}, secret), []byte("x"))
		wantError(t, "send_object_to differs", resp, b, 400, gateway.ReasonInvalidSendObjectTo)

		good := sign(jwt.MapClaims{"exp": exp, "jti": "h", "epochs": 2, "size": 5, "send_object_to": to.String()}, secret)
		resp, b = put("?epochs=2&send_object_to="+to.String(), good, []byte("hello"))
		if resp.StatusCode != 200 {
			t.Fatalf("a valid token: %d %s", resp.StatusCode, b)
		}
		resp, b = put("?epochs=2&send_object_to="+to.String(), good, []byte("hello"))
		wantError(t, "replayed token", resp, b, 429, gateway.ReasonTokenAlreadyUsed)
		// A token refused before the store is not spent.
		once := sign(jwt.MapClaims{"exp": exp, "jti": "i", "size": 5}, secret)
		resp, b = put("?epochs=x", once, []byte("hello"))
		wantError(t, "bad query", resp, b, 400, gateway.ReasonInvalidParameter)
		resp, b = put("", once, []byte("hello"))
		if resp.StatusCode != 200 {
			t.Fatalf("a token after a refused request: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("429", func(t *testing.T) {
		// One request holds the only slot while its body trickles in,
		// a second waits in the buffer; a third is refused at once.
		tok := func(jti string) string { return "Bearer " + sign(jwt.MapClaims{"exp": exp, "jti": jti}, secret) }
		slow := func(jti string) (*io.PipeWriter, chan int) {
			pr, pw := io.Pipe()
			req, _ := http.NewRequest("PUT", pub+"/v1/blobs", pr)
			req.Header.Set("Authorization", tok(jti))
			done := make(chan int, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					done <- 0
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done <- resp.StatusCode
			}()
			return pw, done
		}
		w1, d1 := slow("s1")
		w1.Write([]byte("a"))
		time.Sleep(200 * time.Millisecond)
		w2, d2 := slow("s2")
		w2.Write([]byte("b"))
		time.Sleep(200 * time.Millisecond)
		req, _ := http.NewRequest("PUT", pub+"/v1/blobs", strings.NewReader("c"))
		req.Header.Set("Authorization", tok("s3"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantError(t, "over the limits", resp, b, 429, gateway.ReasonTooManyRequests)
		var e struct {
			Error struct{ Status string } `json:"error"`
		}
		if json.Unmarshal(b, &e); e.Error.Status != "RESOURCE_EXHAUSTED" {
			t.Fatalf("429 status %q", e.Error.Status)
		}
		w1.Close()
		w2.Close()
		if c1, c2 := <-d1, <-d2; c1 != 200 || c2 != 200 {
			t.Fatalf("the admitted requests: %d, %d", c1, c2)
		}
	})
}
