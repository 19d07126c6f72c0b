//go:build cgo

// Package jpegturbo decodes JPEG images with libjpeg-turbo's TurboJPEG
// library, opened at run time (no headers needed to build): about four
// times the speed of Go's image/jpeg, and the decoder PIL and torchvision
// use, so pixels match what PyTorch pipelines read.
package jpegturbo

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef void *tjhandle;

typedef struct {
	tjhandle (*init)(void);
	int (*header)(tjhandle, const unsigned char *, unsigned long, int *, int *, int *, int *);
	int (*decompress)(tjhandle, const unsigned char *, unsigned long, unsigned char *, int, int, int, int, int);
	int (*destroy)(tjhandle);
	char *(*error)(tjhandle);
} vaelab_tj;

static int vaelab_tj_open(const char *name, vaelab_tj *lib) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return 0;
	lib->init = (tjhandle (*)(void))dlsym(h, "tjInitDecompress");
	lib->header = (int (*)(tjhandle, const unsigned char *, unsigned long, int *, int *, int *, int *))dlsym(h, "tjDecompressHeader3");
	lib->decompress = (int (*)(tjhandle, const unsigned char *, unsigned long, unsigned char *, int, int, int, int, int))dlsym(h, "tjDecompress2");
	lib->destroy = (int (*)(tjhandle))dlsym(h, "tjDestroy");
	lib->error = (char *(*)(tjhandle))dlsym(h, "tjGetErrorStr2");
	if (!lib->init || !lib->header || !lib->decompress || !lib->destroy || !lib->error) {
		dlclose(h);
		return 0;
	}
	return 1;
}

// vaelab_tj_end copies the library's message into msg when rc is an
// error, frees the decompressor and returns rc.
static int vaelab_tj_end(const vaelab_tj *lib, tjhandle t, int rc, char *msg, int msglen) {
	if (rc != 0) {
		const char *e = lib->error(t);
		int i = 0;
		for (; e && e[i] && i < msglen - 1; i++) msg[i] = e[i];
		msg[i] = 0;
	}
	lib->destroy(t);
	return rc;
}

// vaelab_tj_header reads the size and colour space; 0 on success, else -1
// with the library's message copied into msg.
static int vaelab_tj_header(const vaelab_tj *lib, const unsigned char *buf, unsigned long n, int *w, int *h, int *cs, char *msg, int msglen) {
	tjhandle t = lib->init();
	if (t == NULL) return -2;
	int sub;
	int rc = lib->header(t, buf, n, w, h, &sub, cs);
	return vaelab_tj_end(lib, t, rc, msg, msglen);
}

// vaelab_tj_decode decodes into dst (w×h pixels of the format); flags ask
// for the accurate integer IDCT.
static int vaelab_tj_decode(const vaelab_tj *lib, const unsigned char *buf, unsigned long n, unsigned char *dst, int w, int h, int format, char *msg, int msglen) {
	tjhandle t = lib->init();
	if (t == NULL) return -2;
	int rc = lib->decompress(t, buf, n, dst, w, 0, h, format, 4096);
	return vaelab_tj_end(lib, t, rc, msg, msglen);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// names are the library's names on Debian/Ubuntu (package libturbojpeg0)
// and elsewhere.
func names() []string {
	return []string{"libturbojpeg.so.0", "libturbojpeg.so", "libturbojpeg.0.dylib"}
}

// Lib is an opened TurboJPEG library; safe for concurrent use (each call
// has its own decompressor).
type Lib struct {
	c    C.vaelab_tj
	name string
}

// ErrMissing is returned by Open when no TurboJPEG library is installed.
var ErrMissing = errors.New("libturbojpeg not found (Debian/Ubuntu: apt-get install libturbojpeg0)")

// Open opens the first TurboJPEG library found.
func Open() (*Lib, error) {
	for _, n := range names() {
		l := &Lib{name: n}
		cs := C.CString(n)
		ok := C.vaelab_tj_open(cs, &l.c) == 1
		C.free(unsafe.Pointer(cs))
		if ok {
			return l, nil
		}
	}
	return nil, ErrMissing
}

// Name is the library's file name, for provenance.
func (l *Lib) Name() string { return "libjpeg-turbo (" + l.name + ")" }

const tjGray = 2 // TJCS_GRAY

// Header returns a JPEG's size and whether it is greyscale, reading only
// its header.
func (l *Lib) Header(b []byte) (w, h int, grey bool, err error) {
	if len(b) == 0 {
		return 0, 0, false, fmt.Errorf("empty JPEG")
	}
	var cw, ch, cs C.int
	var msg [200]C.char
	if C.vaelab_tj_header(&l.c, (*C.uchar)(unsafe.Pointer(&b[0])), C.ulong(len(b)), &cw, &ch, &cs, &msg[0], C.int(len(msg))) != 0 {
		return 0, 0, false, fmt.Errorf("JPEG header: %s", C.GoString(&msg[0]))
	}
	return int(cw), int(ch), cs == tjGray, nil
}

// Decode decodes a JPEG of size w×h (from Header) into 8-bit pixels, row
// major: one channel when grey, else RGB.
func (l *Lib) Decode(b []byte, w, h int, grey bool) ([]byte, error) {
	return l.DecodeInto(nil, b, w, h, grey)
}

// DecodeInto is Decode into dst's storage when it holds the pixels.
func (l *Lib) DecodeInto(dst, b []byte, w, h int, grey bool) ([]byte, error) {
	if len(b) == 0 || w <= 0 || h <= 0 {
		return nil, fmt.Errorf("empty JPEG")
	}
	c, format := 3, C.int(0) // TJPF_RGB
	if grey {
		c, format = 1, 6 // TJPF_GRAY
	}
	if cap(dst) < w*h*c {
		dst = make([]byte, w*h*c)
	}
	dst = dst[:w*h*c]
	var msg [200]C.char
	if C.vaelab_tj_decode(&l.c, (*C.uchar)(unsafe.Pointer(&b[0])), C.ulong(len(b)), (*C.uchar)(unsafe.Pointer(&dst[0])), C.int(w), C.int(h), format, &msg[0], C.int(len(msg))) != 0 {
		return nil, fmt.Errorf("JPEG: %s", C.GoString(&msg[0]))
	}
	return dst, nil
}
