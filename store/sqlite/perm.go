package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// filePerm is the mode of a database file Open creates: owner read and write only. The file
// holds sealed secrets and consent records; other local users have no business reading it.
// SQLite creates the -wal and -shm files with the mode of the database file, so they are 0600
// too (https://www.sqlite.org/tempfiles.html; sqlite3's unix VFS, findCreateFileMode).
const filePerm fs.FileMode = 0o600

// createFile creates path empty with filePerm when it does not exist (SQLite treats an empty
// file as a new database); an existing file is left as it is, with its mode.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return f.Close()
}
