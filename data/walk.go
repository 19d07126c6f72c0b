package data

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// walkFiles calls fn for every file under root (root itself when it is a
// file), in lexical order, with its path relative to root ("." for root)
// and its information with symlinks followed: a symlinked file is its
// target, a symlinked folder is entered, so a dataset laid out with links
// loads every image and its cache fingerprint changes when a target does.
// A link back to a folder being walked (a loop) is not entered again; a
// broken link is an error naming it, never a silently missing image.
func walkFiles(root string, fn func(rel string, fi fs.FileInfo) error) error {
	fi, err := os.Stat(root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fn(".", fi)
	}
	return walkDir(root, "", []fs.FileInfo{fi}, fn)
}

func walkDir(dir, rel string, ancestors []fs.FileInfo, fn func(string, fs.FileInfo) error) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p, r := filepath.Join(dir, e.Name()), filepath.Join(rel, e.Name())
		fi, err := os.Stat(p)
		if err != nil {
			if e.Type()&fs.ModeSymlink != 0 {
				return fmt.Errorf("%s is a broken symbolic link (%w): fix or remove it", p, err)
			}
			return err
		}
		if !fi.IsDir() {
			if err := fn(r, fi); err != nil {
				return err
			}
			continue
		}
		loop := false
		for _, a := range ancestors {
			loop = loop || os.SameFile(a, fi)
		}
		if loop {
			continue
		}
		if err := walkDir(p, r, append(ancestors[:len(ancestors):len(ancestors)], fi), fn); err != nil {
			return err
		}
	}
	return nil
}
