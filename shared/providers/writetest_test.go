package providers

import "testing"

// The bodies embed the subject and note as written-out JSON: they must be
// what encoding/json makes of them.
func TestTestItemJSON(t *testing.T) {
	if TestItemSubjectJSON != JSONString(TestItemSubject) || TestItemNoteJSON != JSONString(TestItemNote) {
		t.Errorf("%s, %s", TestItemSubjectJSON, TestItemNoteJSON)
	}
	if got := JSONString(`a"b<c>` + "\n"); got != `"a\"b\u003cc\u003e\n"` {
		t.Errorf("JSONString = %s", got)
	}
	if got := HeaderSafe("a@b.example\r\nBcc: x@y.example"); got != "" || HeaderSafe("a@b.example") != "a@b.example" {
		t.Errorf("HeaderSafe = %q", got)
	}
}
