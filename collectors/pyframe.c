/* pyframe.c - the Python frames of a CPython 3.11 thread, read from memory
 *
 * The structures followed (Include/internal/pycore_frame.h, pycore_runtime.h,
 * pycore_interp.h, cpython/pystate.h, cpython/code.h of CPython 3.11):
 *
 *   _PyRuntime.interpreters.head -> PyInterpreterState.threads.head
 *     -> PyThreadState (next, native_thread_id)
 *   PyThreadState.cframe -> _PyCFrame.current_frame -> _PyInterpreterFrame
 *     (f_code, previous, prev_instr, owner) -> PyCodeObject
 *
 * Everything after the layout search is async-signal-safe: fixed stack
 * buffers, no allocation, every loop bounded, every pointer read through the
 * caller's reader and checked before it is followed.
 */
#include "collectors/pyframe.h"
#include "collectors/maps.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define FRAME_OWNED_BY_GENERATOR 1   /* enum _frameowner */
#define CODEUNIT 2                   /* sizeof(_Py_CODEUNIT) */
#define MAX_INTERPS 256
#define MAX_TSTATES 4096
#define MAX_SKIPPED 64               /* incomplete frames tolerated in a walk */
#define MAX_TABLE (1u << 24)         /* no real location table is this long */
#define MAX_CODE_UNITS (1 << 26)

/* Bytes of the structures read in one go: enough for every field used. */
#define FRAME_READ 72
#define CODE_READ 192
#define STR_READ 80

void pyframe_layout_init_311(struct pyframe_layout *l)
{
	/* offsetof values of CPython 3.11 on x86_64, checked against the real
	 * headers by tests/tools/pyoffsets.c in the unit tests */
	*l = (struct pyframe_layout){
		.version_hex = 0x030b0000,
		.off_runtime_interp_head = 40,
		.off_interp_tstate_head = 16,
		.off_tstate_next = 8,
		.off_tstate_native_tid = 160,
		.off_tstate_cframe = 56,
		.off_cframe_current_frame = 8,
		.off_frame_code = 32,
		.off_frame_previous = 48,
		.off_frame_prev_instr = 56,
		.off_frame_owner = 69,
		.off_code_filename = 112,
		.off_code_name = 120,
		.off_code_qualname = 128,
		.off_code_linetable = 136,
		.off_code_firstlineno = 72,
		.off_code_code_adaptive = 184,
		.off_bytes_size = 16,
		.off_bytes_data = 32,
		.off_runtime_tstate_current = 576,
		.off_interp_next = 0,
		.off_tstate_interp = 16,
		.off_code_firsttraceable = 168,
		.off_object_type = 8,
		.off_unicode_length = 16,
		.off_unicode_state = 32,
		.off_unicode_ascii_data = 48,
		.off_unicode_compact_data = 72,
	};
}

/* ---- readers ---------------------------------------------------------- */

bool pyframe_read_self(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (!addr || addr + len < addr)
		return false;
	memcpy(buf, (const void *)(uintptr_t)addr, len);
	return true;
}

bool pyframe_read_pid(void *ctx, uint64_t addr, void *buf, size_t len)
{
	pid_t pid = *(const pid_t *)ctx;
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	if (!addr)
		return false;
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

void pyframe_cache_init(struct pyframe_cache *c, pid_t pid)
{
	c->pid = pid;
	pyframe_cache_reset(c);
}

void pyframe_cache_reset(struct pyframe_cache *c)
{
	c->used = c->next = 0;
}

/* The cached copy of the page at page address pa, read in on a miss
 * (replacing the oldest); NULL when the page cannot be read. */
static const uint8_t *cache_page(struct pyframe_cache *c, uint64_t pa)
{
	for (unsigned i = 0; i < c->used; i++)
		if (c->page[i] == pa)
			return c->data[i];
	unsigned slot = c->used < PYFRAME_CACHE_PAGES ? c->used++ : c->next++;
	c->next %= PYFRAME_CACHE_PAGES;
	if (!pyframe_read_pid(&c->pid, pa, c->data[slot], 4096)) {
		c->page[slot] = 0;   /* no page is at 0: never matches */
		return NULL;
	}
	c->page[slot] = pa;
	return c->data[slot];
}

bool pyframe_read_cached(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct pyframe_cache *c = ctx;
	uint8_t *out = buf;

	if (!addr || addr + len < addr)
		return false;
	while (len) {
		uint64_t pa = addr & ~4095ULL;
		size_t in = addr - pa, n = 4096 - in < len ? 4096 - in : len;
		const uint8_t *p = cache_page(c, pa);
		if (!p)
			return false;
		memcpy(out, p + in, n);
		out += n;
		addr += n;
		len -= n;
	}
	return true;
}

/* A pointer worth following: user space, non-null, 8-byte aligned. */
static bool plausible(uint64_t p)
{
	return p >= 4096 && p < (1ULL << 47) && !(p & 7);
}

static uint64_t get_u64(const uint8_t *b, uint32_t off)
{
	uint64_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *b, uint32_t off)
{
	uint32_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

static bool read_u64(pyframe_read_fn rd, void *ctx, uint64_t addr,
		     uint64_t *v)
{
	return rd(ctx, addr, v, sizeof(*v));
}

/* Read the start of object obj into buf and check its type when known. */
static bool read_object(pyframe_read_fn rd, void *ctx, uint64_t obj,
			uint8_t *buf, size_t len, uint32_t off_type,
			uint64_t type)
{
	if (!plausible(obj) || !rd(ctx, obj, buf, len))
		return false;
	return !type || get_u64(buf, off_type) == type;
}

/* ---- location table (Objects/locations.md, 3.11) ---------------------- */

/* The table's bytes, either in memory or fetched through a reader in
 * chunks: the decoder below works on both. */
struct lt_src {
	const uint8_t *mem;
	size_t len, pos;
	pyframe_read_fn rd;
	void *ctx;
	uint64_t addr;
	uint8_t buf[256];
	size_t buf_start, buf_len;
};

/* Refill the chunk buffer at s->pos: false at the end or on a failed read. */
static bool lt_refill(struct lt_src *s)
{
	size_t n = s->len - s->pos;
	if (n > sizeof(s->buf))
		n = sizeof(s->buf);
	if (!s->rd(s->ctx, s->addr + s->pos, s->buf, n))
		return false;
	s->buf_start = s->pos;
	s->buf_len = n;
	return true;
}

/* The next byte, or -1 at the end of the table or on a failed read. */
static inline int lt_next(struct lt_src *s)
{
	if (s->pos >= s->len)
		return -1;
	if (s->mem)
		return s->mem[s->pos++];
	if (s->pos >= s->buf_start + s->buf_len && !lt_refill(s))
		return -1;
	return s->buf[s->pos++ - s->buf_start];
}

/* A signed varint: 6-bit chunks, least significant first, 0x40 means more;
 * the lowest bit of the value is the sign. false when malformed. */
static bool lt_svarint(struct lt_src *s, int64_t *v)
{
	uint64_t u = 0;
	for (unsigned shift = 0;; shift += 6) {
		int b = lt_next(s);
		if (b < 0 || b & 0x80 || shift > 30)
			return false;
		u |= (uint64_t)(b & 63) << shift;
		if (!(b & 64))
			break;
	}
	*v = u & 1 ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
	return true;
}

/* Entry codes: 0-9 short form (same line), 10-12 one-line form (line delta
 * code - 10), 13 no columns and 14 long form (signed varint line delta
 * first), 15 no location. Each entry covers (first byte & 7) + 1 code
 * units and starts with a byte that has bit 7 set; no other byte has. */
static int lt_line(struct lt_src *s, int firstlineno, int lasti)
{
	int64_t line = firstlineno;
	int64_t end = 0;
	int b;

	if (lasti < 0)
		return firstlineno;
	b = lt_next(s);
	while (b >= 0) {
		int code = b >> 3 & 15;
		int64_t delta = 0;
		if (!(b & 0x80))
			return -1;
		if (code == 13 || code == 14) {
			if (!lt_svarint(s, &delta))
				return -1;
		} else if (code >= 10 && code <= 12) {
			delta = code - 10;
		}
		line += delta;
		if (line < -(1LL << 31) || line > (1LL << 31) - 1)
			return -1;
		end += (b & 7) + 1;
		if (lasti < end)
			return code == 15 ? -1 : (int)line;
		do
			b = lt_next(s);
		while (b >= 0 && !(b & 0x80));
	}
	return -1;
}

int pyframe_line_from_table(const uint8_t *table, size_t len,
			    int firstlineno, int lasti)
{
	struct lt_src s = { .mem = table, .len = table ? len : 0 };
	return lt_line(&s, firstlineno, lasti);
}

/* ---- thread states ---------------------------------------------------- */

static bool tstate_tid(const struct pyframe_layout *l, pyframe_read_fn rd,
		       void *ctx, uint64_t ts, uint64_t *tid)
{
	return plausible(ts) && read_u64(rd, ctx, ts + l->off_tstate_native_tid,
					  tid);
}

uint64_t pyframe_thread_state(const struct pyframe_layout *l,
			      pyframe_read_fn rd, void *ctx, pid_t tid)
{
	uint64_t ts, interp, t;
	int seen = 0;

	if (read_u64(rd, ctx, l->runtime_addr + l->off_runtime_tstate_current,
		     &ts) && tstate_tid(l, rd, ctx, ts, &t) &&
	    t == (uint64_t)tid)
		return ts;
	if (!read_u64(rd, ctx, l->runtime_addr + l->off_runtime_interp_head,
		      &interp))
		return 0;
	for (int i = 0; i < MAX_INTERPS && plausible(interp); i++) {
		if (!read_u64(rd, ctx, interp + l->off_interp_tstate_head, &ts))
			return 0;
		while (plausible(ts) && seen++ < MAX_TSTATES) {
			if (!tstate_tid(l, rd, ctx, ts, &t))
				return 0;
			if (t == (uint64_t)tid)
				return ts;
			if (!read_u64(rd, ctx, ts + l->off_tstate_next, &ts))
				return 0;
		}
		if (!read_u64(rd, ctx, interp + l->off_interp_next, &interp))
			return 0;
	}
	return 0;
}

/* ---- the frame chain -------------------------------------------------- */

int pyframe_code_read(const struct pyframe_layout *l, pyframe_read_fn rd,
		      void *ctx, uint64_t code, struct pyframe_code *out)
{
	uint8_t cb[CODE_READ], bb[64];

	if (!read_object(rd, ctx, code, cb, sizeof(cb), l->off_object_type,
			 l->type_code))
		return -1;
	out->units = (int64_t)get_u64(cb, l->off_bytes_size);
	if (out->units < 0 || out->units > MAX_CODE_UNITS)
		return -1;
	out->firsttraceable = (int32_t)get_u32(cb, l->off_code_firsttraceable);
	out->firstlineno = (int32_t)get_u32(cb, l->off_code_firstlineno);
	out->table = NULL;
	out->table_addr = 0;
	out->tlen = 0;
	out->memo_lasti = INT64_MIN;
	out->memo_line = -1;
	uint64_t table = get_u64(cb, l->off_code_linetable);
	if (l->off_bytes_data <= sizeof(bb) &&
	    read_object(rd, ctx, table, bb, l->off_bytes_data, l->off_object_type,
			l->type_bytes) &&
	    get_u64(bb, l->off_bytes_size) <= MAX_TABLE) {
		out->table_addr = table + l->off_bytes_data;
		out->tlen = get_u64(bb, l->off_bytes_size);
	}
	return 0;
}

/* The line of instruction lasti of code object c. */
static int code_line(pyframe_read_fn rd, void *ctx, struct pyframe_code *c,
		     int lasti)
{
	if (!c->table_addr)
		return -1;
	if (c->memo_lasti == lasti)
		return c->memo_line;
	struct lt_src s = { .mem = c->table, .len = c->tlen, .rd = rd, .ctx = ctx,
			    .addr = c->table_addr };
	/* in-process, the header read proves the object is there */
	if (!s.mem && rd == pyframe_read_self)
		s.mem = (const uint8_t *)(uintptr_t)s.addr;
	c->memo_line = lt_line(&s, c->firstlineno, lasti);
	c->memo_lasti = lasti;
	return c->memo_line;
}

/* Fill f from frame fb; returns 1 for a frame to report, 0 for one to skip
 * (incomplete), -1 when the code object is not one. */
static int frame_entry(const struct pyframe_layout *l, pyframe_read_fn rd,
		       void *ctx, pyframe_code_fn codes, void *codes_ctx,
		       const uint8_t *fb, struct pyframe *f)
{
	uint64_t code = get_u64(fb, l->off_frame_code);
	uint64_t prev = get_u64(fb, l->off_frame_prev_instr);
	uint64_t first_instr = code + l->off_code_code_adaptive;
	struct pyframe_code read;
	struct pyframe_code *c = &read;

	if (codes)
		c = plausible(code) ? codes(codes_ctx, code) : NULL;
	else if (pyframe_code_read(l, rd, ctx, code, &read) < 0)
		c = NULL;
	if (!c)
		return -1;
	/* _PyFrame_IsIncomplete */
	if (fb[l->off_frame_owner] != FRAME_OWNED_BY_GENERATOR &&
	    (int64_t)(prev - first_instr) < (int64_t)c->firsttraceable * CODEUNIT)
		return 0;
	f->code = code;
	int64_t lasti = (int64_t)(prev - first_instr) / CODEUNIT;
	f->line = lasti < c->units ? code_line(rd, ctx, c, (int)lasti) : -1;
	return 1;
}

int pyframe_walk(const struct pyframe_layout *l, pyframe_read_fn rd,
		 void *ctx, uint64_t tstate, struct pyframe *out, int max)
{
	uint64_t cframe, frame;

	if (!plausible(tstate) ||
	    !read_u64(rd, ctx, tstate + l->off_tstate_cframe, &cframe) ||
	    !plausible(cframe) ||
	    !read_u64(rd, ctx, cframe + l->off_cframe_current_frame, &frame))
		return -1;
	return pyframe_walk_from(l, rd, ctx, frame, out, max);
}

int pyframe_walk_from(const struct pyframe_layout *l, pyframe_read_fn rd,
		      void *ctx, uint64_t frame, struct pyframe *out, int max)
{
	return pyframe_walk_codes(l, rd, ctx, NULL, NULL, frame, out, max);
}

int pyframe_walk_codes(const struct pyframe_layout *l, pyframe_read_fn rd,
		       void *ctx, pyframe_code_fn codes, void *codes_ctx,
		       uint64_t frame, struct pyframe *out, int max)
{
	uint8_t fb[FRAME_READ];
	int n = 0;

	if (l->off_frame_owner >= sizeof(fb) ||
	    l->off_frame_prev_instr + 8 > sizeof(fb))
		return -1;
	for (int64_t visited = 0;
	     frame && n < max && visited < (int64_t)max + MAX_SKIPPED;
	     visited++) {
		if (!plausible(frame) || !rd(ctx, frame, fb, sizeof(fb)))
			return n ? n : -1;
		int r = frame_entry(l, rd, ctx, codes, codes_ctx, fb, &out[n]);
		if (r < 0)
			return n ? n : -1;
		n += r;
		frame = get_u64(fb, l->off_frame_previous);
	}
	return n;
}

/* ---- names ------------------------------------------------------------ */

/* Append code point c to out[*o] as UTF-8 if it fits before the NUL. */
static bool put_utf8(char *out, size_t outlen, size_t *o, uint32_t c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 63));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 63));
		u[2] = (char)(0x80 | (c & 63));
		n = 3;
	} else if (c < 0x110000) {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 63));
		u[2] = (char)(0x80 | (c >> 6 & 63));
		u[3] = (char)(0x80 | (c & 63));
		n = 4;
	} else {
		u[0] = '?';
		n = 1;
	}
	if (*o + n >= outlen)
		return false;
	memcpy(out + *o, u, n);
	*o += n;
	return true;
}

/* Copy the str object at obj into out as UTF-8. State bits of 3.11's
 * PyASCIIObject: interned 0-1, kind 2-4 (1, 2 or 4 bytes a character),
 * compact 5, ascii 6, ready 7. Compact ASCII data follows PyASCIIObject,
 * compact non-ASCII data follows PyCompactUnicodeObject, a legacy string
 * points to its data right after that. */
static int copy_str(const struct pyframe_layout *l, pyframe_read_fn rd,
		    void *ctx, uint64_t obj, char *out, size_t outlen)
{
	uint8_t hb[STR_READ], cb[256];
	uint64_t data, len;
	uint32_t state, kind;
	size_t o = 0;

	if (!out || !outlen)
		return 0;
	out[0] = 0;
	if (l->off_unicode_compact_data + 8 > sizeof(hb) ||
	    !read_object(rd, ctx, obj, hb, l->off_unicode_ascii_data,
			 l->off_object_type, l->type_unicode))
		return -1;
	len = get_u64(hb, l->off_unicode_length);
	state = get_u32(hb, l->off_unicode_state);
	kind = state >> 2 & 7;
	if (!(state >> 7 & 1) || (kind != 1 && kind != 2 && kind != 4) ||
	    len > (1u << 30))
		return -1;
	if (state >> 5 & 1)
		data = obj + (state >> 6 & 1 ? l->off_unicode_ascii_data
					     : l->off_unicode_compact_data);
	else if (!rd(ctx, obj + l->off_unicode_compact_data, &data, 8) ||
		 data < 4096 || data >= 1ULL << 47)
		return -1;
	if (len > outlen)
		len = outlen;   /* at least one byte a character */
	if (kind == 1 && state >> 6 & 1) {
		/* ASCII: the bytes are the UTF-8 */
		if (len >= outlen)
			len = outlen - 1;
		if (len && !rd(ctx, data, out, len))
			return -1;
		out[len] = 0;
		return 0;
	}
	for (uint64_t i = 0; i < len;) {
		uint64_t n = (len - i) * kind > sizeof(cb) ? sizeof(cb) / kind
							   : len - i;
		if (!rd(ctx, data + i * kind, cb, n * kind))
			return -1;
		for (uint64_t j = 0; j < n; j++) {
			uint32_t c = kind == 1 ? cb[j] : kind == 2
				? (uint32_t)cb[2 * j] | (uint32_t)cb[2 * j + 1] << 8
				: get_u32(cb, (uint32_t)(4 * j));
			if (!put_utf8(out, outlen, &o, c)) {
				out[o] = 0;
				return 0;
			}
		}
		i += n;
	}
	out[o] = 0;
	return 0;
}

int pyframe_code_names(const struct pyframe_layout *l, pyframe_read_fn rd,
		       void *ctx, uint64_t code, char *name, size_t namelen,
		       char *file, size_t filelen)
{
	uint8_t cb[CODE_READ];

	if (name && namelen)
		name[0] = 0;
	if (file && filelen)
		file[0] = 0;
	if (!read_object(rd, ctx, code, cb, sizeof(cb), l->off_object_type,
			 l->type_code))
		return -1;
	if (copy_str(l, rd, ctx, get_u64(cb, l->off_code_qualname), name,
		     namelen) < 0)
		return -1;
	return copy_str(l, rd, ctx, get_u64(cb, l->off_code_filename), file,
			filelen);
}

/* ---- finding the layout (not async-signal-safe) ------------------------ */

static void say(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* What the symbols of one ELF file say about the interpreter in it. */
struct py_syms {
	uint64_t runtime, code_type, bytes_type, unicode_type;
	bool has_runtime, has_version;
	uint64_t version;          /* Py_Version, read from the file */
	uint64_t first_load_vaddr; /* p_vaddr of the PT_LOAD at offset 0 */
};

/* The 8 bytes at virtual address addr of the file, from its section hdr. */
static bool section_u64(Elf *e, size_t shndx, uint64_t addr, uint64_t *v)
{
	Elf_Scn *scn = elf_getscn(e, shndx);
	GElf_Shdr sh;
	Elf_Data *d;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
	    addr < sh.sh_addr || addr + 8 > sh.sh_addr + sh.sh_size)
		return false;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || addr - sh.sh_addr + 8 > d->d_size)
		return false;
	memcpy(v, (const char *)d->d_buf + (addr - sh.sh_addr), 8);
	return true;
}

static void scan_symtab(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
			struct py_syms *s)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; d && i < n; i++) {
		GElf_Sym sym;
		const char *name;
		if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
		    !(name = elf_strptr(e, sh->sh_link, sym.st_name)))
			continue;
		if (!strcmp(name, "_PyRuntime")) {
			s->runtime = sym.st_value;
			s->has_runtime = true;
		} else if (!strcmp(name, "Py_Version")) {
			s->has_version = section_u64(e, sym.st_shndx,
						     sym.st_value, &s->version);
		} else if (!strcmp(name, "PyCode_Type")) {
			s->code_type = sym.st_value;
		} else if (!strcmp(name, "PyBytes_Type")) {
			s->bytes_type = sym.st_value;
		} else if (!strcmp(name, "PyUnicode_Type")) {
			s->unicode_type = sym.st_value;
		}
	}
}

/* Read the interpreter symbols of the ELF file at path (.dynsym, then
 * .symtab for what .dynsym lacks). Returns 0 or -errno. */
static int read_syms(const char *path, struct py_syms *s)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e = NULL;
	int ret = -EINVAL;
	size_t nph;

	memset(s, 0, sizeof(*s));
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			if (gelf_getshdr(scn, &sh) &&
			    sh.sh_type == (pass ? SHT_SYMTAB : SHT_DYNSYM))
				scan_symtab(e, scn, &sh, s);
		}
		if (s->has_runtime && s->has_version && s->code_type)
			break;
	}
	if (elf_getphdrnum(e, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    ph.p_offset == 0) {
				s->first_load_vaddr = ph.p_vaddr & ~0xfffULL;
				break;
			}
		}
	}
	ret = 0;
out:
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

/* The version in a file name like libpython3.10.so.1.0 or python2.7. */
static bool version_from_name(const char *path, int *major, int *minor)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (!strncmp(b, "lib", 3))
		b += 3;
	return sscanf(b, "python%d.%d", major, minor) == 2;
}

static bool looks_like_python(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return !strncmp(b, "python", 6) || !strncmp(b, "libpython", 9);
}

/* Open path as the process sees it: through /proc/PID/root first. */
static int syms_of(const char *proc_root, pid_t pid, const char *path,
		   struct py_syms *s)
{
	char *full = NULL;
	int r;

	if (asprintf(&full, "%s/%d/root%s", proc_root, (int)pid, path) < 0)
		return -ENOMEM;
	r = read_syms(full, s);
	free(full);
	if (r < 0)
		r = read_syms(path, s);
	return r;
}

static bool task_exists(const char *proc_root, pid_t pid, uint64_t tid)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%d/task/%llu", proc_root, (int)pid,
		 (unsigned long long)tid);
	return stat(path, &st) == 0;
}

/* Check the layout against the live interpreter: an interpreter, thread
 * states that point back to it, at least one of whose native ids is a
 * thread of the process, and the code objects of their frames typed as
 * code. */
static int check_live(const char *proc_root, pid_t pid,
		      const struct pyframe_layout *l, char *why, size_t whylen)
{
	uint64_t interp, ts, back, tid;
	int nts = 0, matched = 0, walked = 0, broken = 0;
	pid_t p = pid;

	if (!read_u64(pyframe_read_pid, &p, l->runtime_addr +
		      l->off_runtime_interp_head, &interp)) {
		say(why, whylen, "cannot read _PyRuntime at 0x%llx: %s",
		    (unsigned long long)l->runtime_addr, strerror(errno));
		return errno == ESRCH ? -ESRCH : -ENOTSUP;
	}
	if (!interp) {
		say(why, whylen, "the interpreter is not initialised yet");
		return -EAGAIN;
	}
	if (!plausible(interp) ||
	    !read_u64(pyframe_read_pid, &p, interp + l->off_interp_tstate_head,
		      &ts)) {
		say(why, whylen, "interpreter head 0x%llx is not readable",
		    (unsigned long long)interp);
		return -ENOTSUP;
	}
	for (; ts && nts < MAX_TSTATES; nts++) {
		struct pyframe f[4];
		if (!plausible(ts) ||
		    !read_u64(pyframe_read_pid, &p, ts + l->off_tstate_interp,
			      &back) || back != interp ||
		    !read_u64(pyframe_read_pid, &p, ts + l->off_tstate_native_tid,
			      &tid)) {
			say(why, whylen, "thread state 0x%llx does not point "
			    "back to its interpreter: not the 3.11 layout",
			    (unsigned long long)ts);
			return -ENOTSUP;
		}
		matched += task_exists(proc_root, pid, tid);
		int n = pyframe_walk(l, pyframe_read_pid, &p, ts, f, 4);
		walked += n > 0;
		broken += n < 0;
		if (!read_u64(pyframe_read_pid, &p, ts + l->off_tstate_next, &ts))
			return -ENOTSUP;
	}
	if (!nts) {
		say(why, whylen, "the interpreter has no thread state yet");
		return -EAGAIN;
	}
	if (!matched) {
		say(why, whylen, "no thread state's native id is a thread of "
		    "pid %d: not the 3.11 layout", (int)pid);
		return -ENOTSUP;
	}
	/* a thread that runs may free a frame under a remote read: only a
	 * chain that never reads right condemns the layout */
	if (broken && !walked) {
		say(why, whylen, "no thread's frame chain leads to a code "
		    "object: not the 3.11 layout");
		return -ENOTSUP;
	}
	return 0;
}

/* The file that defines the interpreter among the process's mappings and
 * its load bias. Returns 0, -ENOENT, or -errno. */
static int find_interp_file(const char *proc_root, pid_t pid,
			    struct py_syms *s, char **file, uint64_t *bias,
			    char *why, size_t whylen)
{
	char path[64];
	char *text = NULL;
	size_t len, n = 0;
	struct maps_region *m = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/%d/maps", proc_root, (int)pid);
	r = util_read_file(path, &text, &len);
	if (r < 0) {
		say(why, whylen, "cannot read %s: %s", path, strerror(-r));
		return r == -ENOENT ? -ESRCH : r;
	}
	r = maps_parse(text, len, &m, &n);
	free(text);
	if (r < 0) {
		say(why, whylen, "cannot parse %s", path);
		return r;
	}
	r = -ENOENT;
	for (size_t i = 0; i < n && r != 0; i++) {
		int major, minor;
		if (m[i].offset != 0 || m[i].path[0] != '/' ||
		    !looks_like_python(m[i].path) ||
		    (i > 0 && !strcmp(m[i].path, m[i - 1].path)))
			continue;
		if (syms_of(proc_root, pid, m[i].path, s) == 0 &&
		    (s->has_runtime || s->has_version)) {
			*file = xstrdup(m[i].path);
			*bias = m[i].start - s->first_load_vaddr;
			r = 0;
		} else if (r == -ENOENT &&
			   version_from_name(m[i].path, &major, &minor)) {
			/* kept unless a later mapping defines the symbols: an
			 * interpreter older than _PyRuntime (3.7) */
			say(why, whylen, "%s is Python %d.%d: not 3.11",
			    m[i].path, major, minor);
			r = -ENOTSUP;
		}
	}
	maps_free(m, n);
	if (r == -ENOENT)
		say(why, whylen, "no CPython in pid %d (no python or libpython "
		    "mapping defining _PyRuntime)", (int)pid);
	return r;
}

int pyframe_layout_find(const char *proc_root, pid_t pid,
			struct pyframe_layout *l, char *why, size_t whylen)
{
	struct py_syms s;
	char *file = NULL;
	uint64_t bias = 0;
	int major, minor, r;

	if (!proc_root)
		proc_root = "/proc";
	if (!pid)
		pid = getpid();
	say(why, whylen, "ok");
	r = find_interp_file(proc_root, pid, &s, &file, &bias, why, whylen);
	if (r < 0)
		return r;
	r = -ENOTSUP;
	if (!s.has_version) {
		if (version_from_name(file, &major, &minor))
			say(why, whylen, "%s is Python %d.%d (no Py_Version): "
			    "not 3.11", file, major, minor);
		else
			say(why, whylen, "%s has no Py_Version: not 3.11", file);
		goto out;
	}
	if ((s.version >> 16) != 0x030b) {
		say(why, whylen, "%s is Python %d.%d.%d: not 3.11", file,
		    (int)(s.version >> 24 & 255), (int)(s.version >> 16 & 255),
		    (int)(s.version >> 8 & 255));
		goto out;
	}
	if (!s.has_runtime) {
		say(why, whylen, "%s has no _PyRuntime symbol", file);
		goto out;
	}
	pyframe_layout_init_311(l);
	l->version_hex = (uint32_t)s.version;
	l->runtime_addr = bias + s.runtime;
	l->type_code = s.code_type ? bias + s.code_type : 0;
	l->type_bytes = s.bytes_type ? bias + s.bytes_type : 0;
	l->type_unicode = s.unicode_type ? bias + s.unicode_type : 0;
	r = check_live(proc_root, pid, l, why, whylen);
out:
	free(file);
	return r;
}
