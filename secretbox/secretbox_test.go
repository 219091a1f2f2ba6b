package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpenRoundTripAndBinding(t *testing.T) {
	key, err := ParseKey(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	box, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal([]byte("sk-secret-1234"), []byte("ws-1"))
	if bytes.Contains(sealed, []byte("sk-secret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := box.Open(sealed, []byte("ws-1"))
	if err != nil || string(got) != "sk-secret-1234" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed, []byte("ws-2")); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened under another workspace: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := box.Open(sealed, []byte("ws-1")); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered value opened: %v", err)
	}
	if _, err := box.Open([]byte{1, 2}, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("short value opened: %v", err)
	}
}

func TestParseKeyRejectsBadKeys(t *testing.T) {
	for _, bad := range []string{"", "not base64!!", "c2hvcnQ="} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}
