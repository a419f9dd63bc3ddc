package gateway

import (
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/walrus-go/walrus/ids"
)

// AuthConfig is the publisher's JWT authentication (Walrus's --jwt-*
// flags). With it, every store needs "Authorization: Bearer <JWT>" whose
// claims carry a unique jti and an exp, and optionally limit the store.
type AuthConfig struct {
	// Secret verifies the signature: the HMAC key for HS* (text, or hex
	// with a 0x prefix), else a PEM public key. Empty: the signature is
	// not checked (a gateway in front already did), only the claims.
	Secret string `yaml:"jwt_decode_secret"`
	// Algorithm of the signature (default HS256): HS256, HS384, HS512,
	// ES256, ES384, RS256, RS384, RS512, PS256, PS384, PS512, EdDSA.
	Algorithm string `yaml:"jwt_algorithm"`
	// ExpiringSec, if > 0, requires iat and exp - iat == ExpiringSec.
	ExpiringSec int64 `yaml:"jwt_expiring_sec"`
	// VerifyUpload checks the store against the claims: epochs or
	// max_epochs, send_object_to, size or max_size.
	VerifyUpload bool `yaml:"jwt_verify_upload"`
	// ReplayCacheSize bounds the remembered jti values (default 10000);
	// a token is accepted once until it expires.
	ReplayCacheSize int `yaml:"jwt_cache_size"`
}

func (a AuthConfig) withDefaults() AuthConfig {
	if a.Algorithm == "" {
		a.Algorithm = "HS256"
	}
	if a.ReplayCacheSize == 0 {
		a.ReplayCacheSize = 10_000
	}
	return a
}

func (a *AuthConfig) validate() error {
	if _, err := a.key(); err != nil {
		return err
	}
	if a.ExpiringSec < 0 || a.ReplayCacheSize < 0 {
		return errors.New("gateway: jwt_expiring_sec and jwt_cache_size must not be negative")
	}
	return nil
}

// key returns the verification key for the algorithm (nil: no secret).
func (a *AuthConfig) key() (any, error) {
	m := jwt.GetSigningMethod(a.Algorithm)
	if m == nil || a.Algorithm == "none" {
		return nil, fmt.Errorf("gateway: unsupported JWT algorithm %q", a.Algorithm)
	}
	if a.Secret == "" {
		return nil, nil
	}
	pem := []byte(a.Secret)
	var k any
	var err error
	switch {
	case strings.HasPrefix(a.Algorithm, "HS"):
		if h, ok := strings.CutPrefix(a.Secret, "0x"); ok {
			k, err = hex.DecodeString(h)
		} else {
			k = []byte(a.Secret)
		}
	case strings.HasPrefix(a.Algorithm, "RS"), strings.HasPrefix(a.Algorithm, "PS"):
		k, err = jwt.ParseRSAPublicKeyFromPEM(pem)
	case strings.HasPrefix(a.Algorithm, "ES"):
		k, err = jwt.ParseECPublicKeyFromPEM(pem)
	case a.Algorithm == "EdDSA":
		var pk crypto.PublicKey
		pk, err = jwt.ParseEdPublicKeyFromPEM(pem)
		k = pk
	default:
		err = errors.New("unsupported")
	}
	if err != nil {
		return nil, fmt.Errorf("gateway: JWT key for %s: %w", a.Algorithm, err)
	}
	return k, nil
}

// Claims are the JWT claims the publisher reads (Walrus's Claim).
type Claims struct {
	IssuedAt     *int64       `json:"iat,omitempty"`
	Expiration   int64        `json:"exp"`
	ID           string       `json:"jti"`
	SendObjectTo *ids.Address `json:"send_object_to,omitempty"`
	Epochs       *uint32      `json:"epochs,omitempty"`
	MaxEpochs    *uint32      `json:"max_epochs,omitempty"`
	MaxSize      *uint64      `json:"max_size,omitempty"`
	Size         *uint64      `json:"size,omitempty"`
}

// The jwt.Claims methods, for the parser's time checks.

// GetExpirationTime implements jwt.Claims.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Expiration, 0)), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) {
	if c.IssuedAt == nil {
		return nil, nil
	}
	return jwt.NewNumericDate(time.Unix(*c.IssuedAt, 0)), nil
}

// GetNotBefore implements jwt.Claims.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *Claims) GetIssuer() (string, error) { return "", nil }

// GetSubject implements jwt.Claims.
func (c *Claims) GetSubject() (string, error) { return "", nil }

// GetAudience implements jwt.Claims.
func (c *Claims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

// UnmarshalJSON requires exp and jti (as Walrus's serde does).
func (c *Claims) UnmarshalJSON(b []byte) error {
	type plain Claims
	var raw struct {
		plain
		Exp *int64  `json:"exp"`
		JTI *string `json:"jti"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw.Exp == nil || raw.JTI == nil {
		return errors.New("the claims need exp and jti")
	}
	*c = Claims(raw.plain)
	c.Expiration, c.ID = *raw.Exp, *raw.JTI
	return nil
}

// authenticator checks tokens and remembers their jti.
type authenticator struct {
	cfg    AuthConfig
	key    any
	parser *jwt.Parser
	now    func() time.Time

	mu struct {
		sync.Mutex
		used map[string]int64 // jti → exp
	}
}

func newAuthenticator(cfg AuthConfig, now func() time.Time) (*authenticator, error) {
	k, err := cfg.key()
	if err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{cfg.Algorithm}), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(now), jwt.WithJSONNumber()}
	if cfg.ExpiringSec > 0 {
		opts = append(opts, jwt.WithIssuedAt())
	}
	a := &authenticator{cfg: cfg, key: k, parser: jwt.NewParser(opts...), now: now}
	a.mu.used = map[string]int64{}
	return a, nil
}

func authError(code int, reason, format string, args ...any) *apiError {
	e := errf(code, reason, format, args...)
	e.Domain = DomainAuth
	return e
}

// parse checks a token's signature (if a secret is set), its expiry and
// the shape of its claims.
func (a *authenticator) parse(token string) (*Claims, *apiError) {
	var c Claims
	var err error
	if a.key == nil {
		// No secret: the claims are read and their times checked, the
		// signature is not (Walrus's behaviour without --jwt-decode-secret).
		_, _, err = a.parser.ParseUnverified(token, &c)
		if err == nil {
			err = jwt.NewValidator(jwt.WithExpirationRequired(), jwt.WithTimeFunc(a.now)).Validate(&c)
		}
	} else {
		_, err = a.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.key, nil })
	}
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, authError(http.StatusUnauthorized, ReasonExpiredSignature, "the signature on the token has expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenNotValidYet),
		errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, authError(http.StatusUnauthorized, ReasonInvalidSignature, "the signature on the token is invalid")
	default:
		return nil, authError(http.StatusBadRequest, ReasonInvalidToken, "the JWT token is invalid: %v", err)
	}
	if a.cfg.ExpiringSec > 0 && (c.IssuedAt == nil || c.Expiration-*c.IssuedAt != a.cfg.ExpiringSec) {
		return nil, authError(http.StatusBadRequest, ReasonInvalidExpiration, "exp - iat must be %d seconds", a.cfg.ExpiringSec)
	}
	if c.MaxSize != nil && c.Size != nil {
		return nil, authError(http.StatusBadRequest, ReasonInvalidSizes, "the token limits the size with both size and max_size")
	}
	return &c, nil
}

// uploadRequest is what a store asks for, checked against the claims.
type uploadRequest struct {
	epochs        uint32
	sendObjectTo  *ids.Address
	contentLength int64 // -1: unknown
}

// checkUpload applies the claims to a store (with VerifyUpload).
func (a *authenticator) checkUpload(c *Claims, r uploadRequest) *apiError {
	if !a.cfg.VerifyUpload {
		return nil
	}
	if r.contentLength >= 0 {
		if c.MaxSize != nil && uint64(r.contentLength) > *c.MaxSize {
			return authError(http.StatusBadRequest, ReasonMaxSizeExceeded, "the size of the body is above the maximum allowed")
		}
		if c.Size != nil && uint64(r.contentLength) != *c.Size {
			return authError(http.StatusBadRequest, ReasonSizeIncorrect, "the size of the body is incorrect")
		}
	}
	switch {
	case c.Epochs != nil && c.MaxEpochs != nil:
		return authError(http.StatusBadRequest, ReasonInvalidEpochs, "the token sets both epochs and max_epochs")
	case c.Epochs != nil && r.epochs != *c.Epochs:
		return authError(http.StatusBadRequest, ReasonInvalidEpochs, "the epochs field in the query does not match the token")
	case c.MaxEpochs != nil && r.epochs > *c.MaxEpochs:
		return authError(http.StatusBadRequest, ReasonEpochsAboveMax, "the epochs field in the query is above the maximum allowed")
	}
	if c.SendObjectTo != nil {
		if r.sendObjectTo == nil {
			return authError(http.StatusBadRequest, ReasonMissingSendObjectTo, "the send_object_to field is missing from the query, but it is required")
		}
		if *r.sendObjectTo != *c.SendObjectTo {
			return authError(http.StatusBadRequest, ReasonInvalidSendObjectTo, "the send_object_to field in the query does not match the token")
		}
	}
	return nil
}

// checkBody applies the size claims to the body actually read.
func (a *authenticator) checkBody(c *Claims, n int) *apiError {
	if c.MaxSize != nil && uint64(n) > *c.MaxSize {
		return authError(http.StatusBadRequest, ReasonMaxSizeExceeded, "the size of the body is above the maximum allowed")
	}
	if c.Size != nil && uint64(n) != *c.Size {
		return authError(http.StatusBadRequest, ReasonSizeIncorrect, "the size of the body is incorrect")
	}
	return nil
}

// use marks the token's jti as used until it expires; a second use is
// refused. forget undoes it (the request failed before storing).
func (a *authenticator) use(c *Claims) *apiError {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now().Unix()
	if exp, ok := a.mu.used[c.ID]; ok && exp >= now {
		return authError(http.StatusTooManyRequests, ReasonTokenAlreadyUsed, "the JWT token was already used")
	}
	if len(a.mu.used) >= a.cfg.ReplayCacheSize {
		for id, exp := range a.mu.used {
			if exp < now {
				delete(a.mu.used, id)
			}
		}
		if len(a.mu.used) >= a.cfg.ReplayCacheSize {
			return unavailable("too many tokens in use; retry later")
		}
	}
	a.mu.used[c.ID] = c.Expiration
	return nil
}

func (a *authenticator) forget(c *Claims) {
	a.mu.Lock()
	delete(a.mu.used, c.ID)
	a.mu.Unlock()
}

// bearer extracts the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}
