package bot

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUploadGoesOnlyToSlack: an upload URL that is neither https nor the
// Web API's host gets no bytes.
func TestUploadGoesOnlyToSlack(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "file_id": "F1", "upload_url": other.URL + "/upload/v1/x"})
	}))
	defer api.Close()
	sl, err := NewSlack(SlackOptions{AppToken: "xapp-1", BotToken: "xoxb-1", APIURL: api.URL + "/api/"})
	if err != nil {
		t.Fatal(err)
	}
	err = sl.uploadFile(testContext(t), "C1", "1.000001", file{Name: "a.png", Data: []byte("png")})
	if err == nil || !strings.Contains(err.Error(), "neither https nor the Web API's host") {
		t.Fatalf("err %v, want the upload refused", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests reached the other host", n)
	}
}
