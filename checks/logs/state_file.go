package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// FileState is a StateStore in a JSON file, for the terminal (opsbot
// checklist --state FILE): an object with one state per environment. A
// save writes a temporary file next to it and renames it over, so that the
// file is always whole. Two runs saving at once keep the last one's.
//
// The file is megabytes at thousands of containers, so a FileState keeps
// what it last read or wrote: a run reads the file once (when it is
// opened) unless another process has replaced it since, which a save
// notices by the file's identity, size and modification time.
type FileState struct {
	path string

	mu     sync.Mutex
	docs   map[string]json.RawMessage // the file's content as last read or written; nil: none
	seen   os.FileInfo                // the file then; nil when it did not exist
	cached bool
}

// OpenFileState returns the FileState of path, which need not exist yet;
// if it does, it must hold a state written by FileState.
func OpenFileState(path string) (*FileState, error) {
	f := &FileState{path: path}
	if _, err := f.read(); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("state file %s: %s is not a directory", path, dir)
	}
	return f, nil
}

// read returns the file's states by environment (none if it does not
// exist): what f read or wrote last if the file is still the one it saw,
// else the file as it is now. The map is f's own: callers must not modify
// it.
func (f *FileState) read() (map[string]json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("state file: %w", err)
	}
	if f.cached && sameFile(f.seen, st) {
		return f.docs, nil
	}
	docs := map[string]json.RawMessage{}
	if st != nil {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("state file: %w", err)
		}
		docs = nil
		if err := json.Unmarshal(data, &docs); err != nil || docs == nil {
			return nil, fmt.Errorf("state file %s: not a logs state (a JSON object by environment)", f.path)
		}
	}
	f.docs, f.seen, f.cached = docs, st, true
	return docs, nil
}

// sameFile says whether a and b (either nil for a file that did not exist)
// are the same version of a file.
func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// LoadLogState implements StateStore.
func (f *FileState) LoadLogState(ctx context.Context, env string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	docs, err := f.read()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(docs[env]), nil
}

// SaveLogState implements StateStore.
func (f *FileState) SaveLogState(ctx context.Context, env string, state []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !json.Valid(state) {
		return errors.New("state file: the state is not JSON")
	}
	docs, err := f.read()
	if err != nil {
		return err
	}
	docs = maps.Clone(docs)
	docs[env] = bytes.Clone(state)
	data := join(docs)
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".*")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // after the rename, nothing to remove
	// written is the file as written: after the rename, the file at f.path
	// unless another process replaced it since.
	var written os.FileInfo
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		written, err = tmp.Stat()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs, f.seen, f.cached = docs, written, true
	return nil
}

// join writes docs as one JSON object, the environments in order. It is
// json.Marshal without its second pass over each document (to check and
// compact it): every document is valid JSON already, checked by
// SaveLogState or parsed from the file by read, and at thousands of
// containers a state is megabytes.
func join(docs map[string]json.RawMessage) []byte {
	envs := make([]string, 0, len(docs))
	n := 2
	for env, doc := range docs {
		envs = append(envs, env)
		n += len(env) + len(doc) + 8
	}
	sort.Strings(envs)
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i, env := range envs {
		if i > 0 {
			out = append(out, ',')
		}
		key, _ := json.Marshal(env) // a string always marshals
		out = append(out, key...)
		out = append(out, ':')
		out = append(out, docs[env]...)
	}
	return append(out, '}')
}
