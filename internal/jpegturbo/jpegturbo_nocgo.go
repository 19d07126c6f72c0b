//go:build !cgo

// Package jpegturbo decodes JPEG images with libjpeg-turbo's TurboJPEG
// library; without cgo it cannot be called, and Open says so.
package jpegturbo

import "errors"

// ErrMissing is returned by Open when no TurboJPEG library can be used.
var ErrMissing = errors.New("libturbojpeg cannot be used without cgo")

// Lib is an opened TurboJPEG library.
type Lib struct{}

// Open reports that the library cannot be used.
func Open() (*Lib, error) { return nil, ErrMissing }

func (l *Lib) Name() string { return "" }

func (l *Lib) Header(b []byte) (w, h int, grey bool, err error) { return 0, 0, false, ErrMissing }

func (l *Lib) Decode(b []byte, w, h int, grey bool) ([]byte, error) { return nil, ErrMissing }

func (l *Lib) DecodeInto(dst, b []byte, w, h int, grey bool) ([]byte, error) { return nil, ErrMissing }
