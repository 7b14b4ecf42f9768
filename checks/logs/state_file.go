package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// FileState is a StateStore in a JSON file, for the terminal (opsbot
// checklist --state FILE): an object with one state per environment. A
// save writes a temporary file next to it and renames it over, so that the
// file is always whole. Two runs saving at once keep the last one's.
type FileState struct {
	path string
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
// exist).
func (f *FileState) read() (map[string]json.RawMessage, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	var docs map[string]json.RawMessage
	if err := json.Unmarshal(data, &docs); err != nil || docs == nil {
		return nil, fmt.Errorf("state file %s: not a logs state (a JSON object by environment)", f.path)
	}
	return docs, nil
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
	return docs[env], nil
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
	docs[env] = state
	data := join(docs)
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".*")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // after the rename, nothing to remove
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
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
