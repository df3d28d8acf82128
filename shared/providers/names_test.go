package providers

import (
	"strings"
	"testing"
)

func TestIsDomainName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"example.com", true},
		{"Example.COM", true},
		{"a.b.c.example.co", true},
		{"xn--bcher-kva.example", true},
		{"1st.example", true},
		{strings.Repeat("a", 63) + ".com", true},
		{strings.Repeat("a.", 125) + "com", true}, // 253
		{"", false},
		{"localhost", false},
		{"example.c", false},
		{"example.1com", false},
		{"-example.com", false},
		{"example-.com", false},
		{"ex_ample.com", false},
		{"example..com", false},
		{".example.com", false},
		{"example.com.", false},
		{"example.com ", false},
		{"admin@example.com", false},
		{"https://example.com", false},
		{strings.Repeat("a", 64) + ".com", false},
		{strings.Repeat("a.", 126) + "co", false}, // 254
		{"exa\u0301mple.com", false},
	}
	for _, tt := range tests {
		if got := IsDomainName(tt.in); got != tt.want {
			t.Errorf("IsDomainName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestOnlyBytes(t *testing.T) {
	if !OnlyBytes("a-b.C9", "-.") || OnlyBytes("", "") || OnlyBytes("a b", "-") || OnlyBytes("é", "") {
		t.Fatal("OnlyBytes")
	}
	if !IsAlnum("Ab9") || IsAlnum("") || IsAlnum("a-b") {
		t.Fatal("IsAlnum")
	}
}
