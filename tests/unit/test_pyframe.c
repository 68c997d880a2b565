/* test_pyframe.c - CPython 3.11 location tables, layout offsets, and frame
 * chains built in a fake address space read through a reader callback */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/pyframe.h"
#include "fixture.h"

/* ---- location tables captured from /usr/bin/python3 ------------------- */

struct lt_case {
	char name[128];
	int firstlineno, nunits;
	uint8_t *table;
	size_t len;
	int *lines;
};

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
}

/* Parse tests/fixtures/python/linetables.txt (see capture_linetables.py). */
static struct lt_case *load_cases(size_t *n)
{
	char *text = fixture_read("python/linetables.txt", NULL);
	struct lt_case *cs = NULL;
	size_t cap = 0;
	char *save = NULL;

	*n = 0;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "code ", 5)) {
			util_grow((void **)&cs, &cap, *n + 1, sizeof(*cs));
			struct lt_case *c = &cs[(*n)++];
			memset(c, 0, sizeof(*c));
			assert_int_equal(sscanf(line + 5, "%127s %d %d", c->name,
						&c->firstlineno, &c->nunits), 3);
		} else if (!strncmp(line, "table", 5)) {
			struct lt_case *c = &cs[*n - 1];
			const char *h = line[5] ? line + 6 : "";
			c->len = strlen(h) / 2;
			c->table = xmalloc(c->len);
			for (size_t i = 0; i < c->len; i++)
				c->table[i] = (uint8_t)(hexval(h[2 * i]) << 4 |
							hexval(h[2 * i + 1]));
		} else if (!strncmp(line, "lines", 5)) {
			struct lt_case *c = &cs[*n - 1];
			char *p = line + 5;
			c->lines = xcalloc((size_t)c->nunits + 1, sizeof(int));
			for (int i = 0; i < c->nunits; i++)
				c->lines[i] = (int)strtol(p, &p, 10);
		}
	}
	free(text);
	assert_true(*n >= 20);
	return cs;
}

static void free_cases(struct lt_case *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(cs[i].table);
		free(cs[i].lines);
	}
	free(cs);
}

static void test_line_from_table_matches_co_lines(void **state)
{
	(void)state;
	size_t n, checked = 0;
	struct lt_case *cs = load_cases(&n);
	for (size_t i = 0; i < n; i++) {
		const struct lt_case *c = &cs[i];
		for (int u = 0; u < c->nunits; u++, checked++) {
			int got = pyframe_line_from_table(c->table, c->len,
							  c->firstlineno, u);
			if (got != c->lines[u])
				fail_msg("%s unit %d: line %d, want %d", c->name,
					 u, got, c->lines[u]);
		}
		/* PyCode_Addr2Line: before the first instruction is the
		 * first line; past the table there is none */
		assert_int_equal(pyframe_line_from_table(c->table, c->len,
							 c->firstlineno, -1),
				 c->firstlineno);
		assert_int_equal(pyframe_line_from_table(c->table, c->len,
							 c->firstlineno,
							 c->nunits), -1);
	}
	assert_true(checked > 1000);
	free_cases(cs, n);
}

static void test_line_from_table_covers_every_entry_form(void **state)
{
	(void)state;
	size_t n;
	bool seen[16] = { false };
	struct lt_case *cs = load_cases(&n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < cs[i].len; j++)
			if (cs[i].table[j] & 0x80)
				seen[cs[i].table[j] >> 3 & 15] = true;
	for (int code = 0; code < 16; code++)
		if (!seen[code])
			fail_msg("no fixture table has an entry of code %d", code);
	free_cases(cs, n);
}

static void test_line_from_table_handcrafted(void **state)
{
	(void)state;
	/* long form, 2 units, line +70 (svarint 140: chunks 12|0x40, 2),
	 * end line, columns; then no-location, 1 unit; then one-line form
	 * +2, 3 units */
	const uint8_t t[] = { 0xf1, 0x4c, 0x02, 0x00, 0x01, 0x02,
			      0xf8, 0xe2, 0x05, 0x09 };
	assert_int_equal(pyframe_line_from_table(t, sizeof(t), 10, 0), 80);
	assert_int_equal(pyframe_line_from_table(t, sizeof(t), 10, 1), 80);
	assert_int_equal(pyframe_line_from_table(t, sizeof(t), 10, 2), -1);
	assert_int_equal(pyframe_line_from_table(t, sizeof(t), 10, 3), 82);
	assert_int_equal(pyframe_line_from_table(t, sizeof(t), 10, 5), 82);
	assert_int_equal(pyframe_line_from_table(t, sizeof(t), 10, 6), -1);
	/* malformed: no entry byte first, truncated varint, empty table */
	const uint8_t bad[] = { 0x12, 0xf0 };
	assert_int_equal(pyframe_line_from_table(bad, 1, 1, 0), -1);
	assert_int_equal(pyframe_line_from_table(bad + 1, 1, 1, 0), -1);
	assert_int_equal(pyframe_line_from_table(NULL, 0, 1, 0), -1);
	const uint8_t longvar[] = { 0xe8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f,
				    0x7f, 0x01 };
	assert_int_equal(pyframe_line_from_table(longvar, sizeof(longvar), 1,
						 0), -1);
}

/* ---- offsets against CPython's own headers ---------------------------- */

static const struct { const char *name; size_t off; } fields[] = {
#define F(f) { #f, offsetof(struct pyframe_layout, f) }
	F(off_runtime_interp_head), F(off_interp_tstate_head),
	F(off_tstate_next), F(off_tstate_native_tid), F(off_tstate_cframe),
	F(off_cframe_current_frame), F(off_frame_code), F(off_frame_previous),
	F(off_frame_prev_instr), F(off_frame_owner), F(off_code_filename),
	F(off_code_name), F(off_code_qualname), F(off_code_linetable),
	F(off_code_firstlineno), F(off_code_code_adaptive), F(off_bytes_size),
	F(off_bytes_data), F(off_runtime_tstate_current), F(off_interp_next),
	F(off_tstate_interp), F(off_code_firsttraceable), F(off_object_type),
	F(off_unicode_length), F(off_unicode_state),
	F(off_unicode_ascii_data), F(off_unicode_compact_data),
#undef F
};

static void test_layout_311_matches_python_headers(void **state)
{
	(void)state;
	char *text, *save = NULL;
	struct pyframe_layout l;
	int checked = 0;
	size_t len;

	if (util_read_file("build/pyoffsets.txt", &text, &len) < 0)
		fail_msg("build/pyoffsets.txt missing (make builds it)");
	if (text[0] == '#') {
		free(text);
		skip();
	}
	pyframe_layout_init_311(&l);
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		unsigned long v;
		assert_int_equal(sscanf(line, "%63s %lu", name, &v), 2);
		if (!strcmp(name, "version_hex")) {
			assert_int_equal(v >> 16, 0x030b);
			continue;
		}
		if (!strcmp(name, "unicode_state_kind4_compact_ready")) {
			assert_int_equal(v, 4 << 2 | 1 << 5 | 1 << 7);
			continue;
		}
		if (!strcmp(name, "unicode_state_kind1_ascii_compact_ready")) {
			assert_int_equal(v, 1 << 2 | 1 << 5 | 1 << 6 | 1 << 7);
			continue;
		}
		if (!strcmp(name, "frame_owned_by_generator") ||
		    !strcmp(name, "codeunit_size")) {
			assert_int_equal(v, !strcmp(name, "codeunit_size") ? 2 : 1);
			continue;
		}
		size_t i;
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (!strcmp(fields[i].name, name))
				break;
		if (i == sizeof(fields) / sizeof(fields[0]))
			fail_msg("unknown field %s", name);
		uint32_t mine;
		memcpy(&mine, (char *)&l + fields[i].off, sizeof(mine));
		if (mine != v)
			fail_msg("%s: %u here, %lu in the headers", name, mine, v);
		checked++;
	}
	assert_int_equal(checked, sizeof(fields) / sizeof(fields[0]) + 1);
	free(text);
}

/* ---- a fake address space --------------------------------------------- */

#define BASE 0x10000000ULL
#define SPACE (1 << 20)

struct space {
	uint8_t *mem;
	size_t used;
	unsigned reads;
};

static bool fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct space *s = ctx;
	s->reads++;
	if (addr < BASE || addr + len > BASE + SPACE || addr + len < addr)
		return false;
	memcpy(buf, s->mem + (addr - BASE), len);
	return true;
}

/* Allocate n zeroed bytes, 16-aligned, in the fake space. */
static uint64_t fake_alloc(struct space *s, size_t n)
{
	uint64_t a = BASE + s->used;
	s->used = (s->used + n + 15) & ~(size_t)15;
	assert_true(s->used <= SPACE);
	return a;
}

static void put64(struct space *s, uint64_t addr, uint64_t v)
{
	memcpy(s->mem + (addr - BASE), &v, 8);
}

static void put32(struct space *s, uint64_t addr, uint32_t v)
{
	memcpy(s->mem + (addr - BASE), &v, 4);
}

#define TYPE_CODE 0x7000
#define TYPE_BYTES 0x7100
#define TYPE_STR 0x7200

struct world {
	struct space s;
	struct pyframe_layout l;
};

static struct world *world_new(void)
{
	struct world *w = xcalloc(1, sizeof(*w));
	w->s.mem = xcalloc(1, SPACE);
	fake_alloc(&w->s, 64);   /* nothing at BASE itself */
	pyframe_layout_init_311(&w->l);
	w->l.type_code = TYPE_CODE;
	w->l.type_bytes = TYPE_BYTES;
	w->l.type_unicode = TYPE_STR;
	w->l.runtime_addr = fake_alloc(&w->s, 1024);
	return w;
}

static void world_free(struct world *w)
{
	free(w->s.mem);
	free(w);
}

/* A str object of code points cp[0..n) with the kind they need. */
static uint64_t fake_str(struct world *w, const uint32_t *cp, size_t n)
{
	uint32_t max = 0, kind;
	for (size_t i = 0; i < n; i++)
		max = cp[i] > max ? cp[i] : max;
	kind = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
	bool ascii = max < 0x80;
	size_t hdr = ascii ? 48 : 72;
	uint64_t o = fake_alloc(&w->s, hdr + (n + 1) * kind);
	put64(&w->s, o + 8, TYPE_STR);
	put64(&w->s, o + 16, n);
	put32(&w->s, o + 32, kind << 2 | 1 << 5 | (ascii ? 1 << 6 : 0) | 1 << 7);
	for (size_t i = 0; i < n; i++)
		memcpy(w->s.mem + (o + hdr + i * kind - BASE), &cp[i], kind);
	return o;
}

static uint64_t fake_ascii(struct world *w, const char *s)
{
	uint32_t cp[256];
	size_t n = strlen(s);
	assert_true(n < 256);
	for (size_t i = 0; i < n; i++)
		cp[i] = (uint8_t)s[i];
	return fake_str(w, cp, n);
}

static uint64_t fake_bytes(struct world *w, const uint8_t *b, size_t n)
{
	uint64_t o = fake_alloc(&w->s, 33 + n);
	put64(&w->s, o + 8, TYPE_BYTES);
	put64(&w->s, o + 16, n);
	memcpy(w->s.mem + (o + 32 - BASE), b, n);
	return o;
}

/* A code object of nunits code units whose first traceable unit is
 * firsttraceable. */
static uint64_t fake_code(struct world *w, uint64_t qualname, uint64_t file,
			  uint64_t table, int firstlineno, int nunits,
			  int firsttraceable)
{
	uint64_t c = fake_alloc(&w->s, 184 + 2 * (size_t)nunits + 2);
	put64(&w->s, c + 8, TYPE_CODE);
	put64(&w->s, c + 16, (uint64_t)nunits);
	put32(&w->s, c + 72, (uint32_t)firstlineno);
	put64(&w->s, c + 112, file);
	put64(&w->s, c + 120, qualname);
	put64(&w->s, c + 128, qualname);
	put64(&w->s, c + 136, table);
	put32(&w->s, c + 168, (uint32_t)firsttraceable);
	return c;
}

/* A frame running code at unit lasti, owned by owner, linked to previous. */
static uint64_t fake_frame(struct world *w, uint64_t code, int lasti,
			   uint64_t previous, int owner)
{
	uint64_t f = fake_alloc(&w->s, 80);
	put64(&w->s, f + 32, code);
	put64(&w->s, f + 48, previous);
	put64(&w->s, f + 56, code + 184 + (uint64_t)(2 * (int64_t)lasti));
	w->s.mem[f + 69 - BASE] = (uint8_t)owner;
	return f;
}

/* A thread state of tid whose current frame is frame, pushed on the list
 * of interpreter interp. */
static uint64_t fake_tstate(struct world *w, uint64_t interp, uint64_t tid,
			    uint64_t frame)
{
	uint64_t ts = fake_alloc(&w->s, 200), cf = fake_alloc(&w->s, 32);
	uint64_t head;
	memcpy(&head, w->s.mem + (interp + 16 - BASE), 8);
	put64(&w->s, ts + 8, head);
	put64(&w->s, ts + 16, interp);
	put64(&w->s, ts + 160, tid);
	put64(&w->s, ts + 56, cf);
	put64(&w->s, cf + 8, frame);
	put64(&w->s, interp + 16, ts);
	return ts;
}

static uint64_t fake_interp(struct world *w)
{
	uint64_t i = fake_alloc(&w->s, 64);
	put64(&w->s, w->l.runtime_addr + 40, i);
	return i;
}

/* One-line-form entries of one code unit each: line firstlineno + i for
 * unit i (delta 1 each after the first, which is delta 0). */
static uint64_t fake_table_one_per_line(struct world *w, int nunits)
{
	uint8_t t[512];
	assert_true(nunits * 3 <= (int)sizeof(t));
	for (int i = 0; i < nunits; i++) {
		t[3 * i] = (uint8_t)(0x80 | (i ? 11 : 10) << 3);
		t[3 * i + 1] = 0;
		t[3 * i + 2] = 1;
	}
	return fake_bytes(w, t, 3 * (size_t)nunits);
}

static void test_walk_reads_frames_innermost_first(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint64_t table = fake_table_one_per_line(w, 20);
	uint64_t file = fake_ascii(w, "/srv/app.py");
	uint64_t cf = fake_code(w, fake_ascii(w, "f"), file, table, 10, 20, 0);
	uint64_t cg = fake_code(w, fake_ascii(w, "Klass.g"), file, table, 30,
				20, 0);
	uint64_t ch = fake_code(w, fake_ascii(w, "h"), file, table, 50, 20, 2);
	uint64_t f = fake_frame(w, cf, 4, 0, 0);
	uint64_t g = fake_frame(w, cg, 7, f, 1);
	uint64_t h = fake_frame(w, ch, 12, g, 0);
	/* a frame pushed but not yet at its RESUME: skipped */
	uint64_t inc = fake_frame(w, ch, 1, h, 0);
	uint64_t interp = fake_interp(w);
	uint64_t ts = fake_tstate(w, interp, 4242, inc);
	struct pyframe out[8];
	char name[64], path[64];

	assert_int_equal(pyframe_thread_state(&w->l, fake_read, &w->s, 4242), ts);
	assert_int_equal(pyframe_thread_state(&w->l, fake_read, &w->s, 4243), 0);
	int n = pyframe_walk(&w->l, fake_read, &w->s, ts, out, 8);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].code, ch);
	assert_int_equal(out[0].line, 62);
	assert_int_equal(out[1].code, cg);
	assert_int_equal(out[1].line, 37);
	assert_int_equal(out[2].code, cf);
	assert_int_equal(out[2].line, 14);
	assert_int_equal(pyframe_code_names(&w->l, fake_read, &w->s, cg, name,
					    sizeof(name), path, sizeof(path)), 0);
	assert_string_equal(name, "Klass.g");
	assert_string_equal(path, "/srv/app.py");
	/* max cuts the walk */
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 2), 2);
	assert_int_equal(out[1].code, cg);
	/* a thread with no Python frame */
	uint64_t idle = fake_tstate(w, interp, 4243, 0);
	assert_int_equal(pyframe_thread_state(&w->l, fake_read, &w->s, 4243),
			 idle);
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, idle, out, 8), 0);
	world_free(w);
}

/* A caller's copies of code objects, read once each through the space. */
struct code_copies {
	struct world *w;
	uint64_t code[8];
	struct pyframe_code c[8];
	uint8_t table[8][512];
	int n, misses;
};

static struct pyframe_code *copy_of(void *ctx, uint64_t code)
{
	struct code_copies *k = ctx;
	for (int i = 0; i < k->n; i++)
		if (k->code[i] == code)
			return &k->c[i];
	k->misses++;
	struct pyframe_code *c = &k->c[k->n];
	if (k->n == 8 || pyframe_code_read(&k->w->l, fake_read, &k->w->s, code, c) < 0)
		return NULL;
	assert_null(c->table);
	assert_true(c->tlen <= sizeof(k->table[0]));
	assert_true(!c->table_addr ||
		    fake_read(&k->w->s, c->table_addr, k->table[k->n], c->tlen));
	c->table = k->table[k->n];
	k->code[k->n] = code;
	return &k->c[k->n++];
}

static void assert_same_frames(const struct pyframe *a, const struct pyframe *b, int n)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(a[i].code, b[i].code);
		assert_int_equal(a[i].line, b[i].line);
	}
}

static void test_walk_with_kept_code_objects(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint64_t table = fake_table_one_per_line(w, 20);
	uint64_t file = fake_ascii(w, "/srv/app.py");
	uint64_t cf = fake_code(w, fake_ascii(w, "f"), file, table, 10, 20, 0);
	uint64_t ch = fake_code(w, fake_ascii(w, "h"), file, table, 50, 20, 2);
	uint64_t f = fake_frame(w, cf, 4, 0, 0);
	uint64_t h = fake_frame(w, ch, 12, f, 0);
	uint64_t h2 = fake_frame(w, ch, 3, h, 0);
	uint64_t inc = fake_frame(w, ch, 1, h2, 0);  /* incomplete: skipped */
	struct code_copies k = { .w = w };
	struct pyframe plain[8], kept[8];

	int n = pyframe_walk_from(&w->l, fake_read, &w->s, inc, plain, 8);
	assert_int_equal(n, 3);
	assert_int_equal(pyframe_walk_codes(&w->l, fake_read, &w->s, copy_of, &k, inc,
					    kept, 8), 3);
	assert_same_frames(kept, plain, 3);
	assert_int_equal(kept[0].line, 53);
	assert_int_equal(kept[2].line, 14);
	assert_int_equal(k.misses, 2);
	/* again: only the four frames are read, no code object, no table */
	w->s.reads = 0;
	assert_int_equal(pyframe_walk_codes(&w->l, fake_read, &w->s, copy_of, &k, inc,
					    kept, 8), 3);
	assert_same_frames(kept, plain, 3);
	assert_int_equal(k.misses, 2);
	assert_int_equal(w->s.reads, 4);
	/* a frame whose code is not a code object ends the walk there */
	uint64_t bad = fake_frame(w, table, 0, h, 0);
	assert_int_equal(pyframe_walk_codes(&w->l, fake_read, &w->s, copy_of, &k, bad,
					    kept, 8), -1);
	/* a code object whose table is not bytes: lines unknown, frame kept */
	uint64_t cx = fake_code(w, fake_ascii(w, "x"), file, cf, 70, 20, 0);
	struct pyframe_code c;
	assert_int_equal(pyframe_code_read(&w->l, fake_read, &w->s, cx, &c), 0);
	assert_int_equal(c.table_addr, 0);
	assert_int_equal(c.units, 20);
	assert_int_equal(c.firstlineno, 70);
	uint64_t x = fake_frame(w, cx, 5, f, 0);
	assert_int_equal(pyframe_walk_codes(&w->l, fake_read, &w->s, copy_of, &k, x,
					    kept, 8), 2);
	assert_int_equal(kept[0].line, -1);
	assert_int_equal(kept[1].line, 14);
	/* a generator's frame before its first instruction: any lasti below
	 * 0 is the first line, the memo's empty mark included */
	uint64_t cgen = fake_code(w, fake_ascii(w, "gen"), file, table, 80, 20, 0);
	uint64_t gen = fake_frame(w, cgen, INT32_MIN, 0, 1);
	assert_int_equal(pyframe_walk_codes(&w->l, fake_read, &w->s, copy_of, &k, gen,
					    kept, 8), 1);
	assert_int_equal(kept[0].line, 80);
	world_free(w);
}

static void test_thread_state_prefers_gil_holder(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint64_t interp = fake_interp(w);
	uint64_t a = fake_tstate(w, interp, 100, 0);
	uint64_t b = fake_tstate(w, interp, 101, 0);
	put64(&w->s, w->l.runtime_addr + 576, a);
	w->s.reads = 0;
	assert_int_equal(pyframe_thread_state(&w->l, fake_read, &w->s, 100), a);
	assert_int_equal(w->s.reads, 2);
	assert_int_equal(pyframe_thread_state(&w->l, fake_read, &w->s, 101), b);
	/* a second interpreter's threads are found too */
	uint64_t i2 = fake_alloc(&w->s, 64);
	put64(&w->s, interp + 0, i2);
	uint64_t c = fake_alloc(&w->s, 200);
	put64(&w->s, i2 + 16, c);
	put64(&w->s, c + 160, 102);
	assert_int_equal(pyframe_thread_state(&w->l, fake_read, &w->s, 102), c);
	world_free(w);
}

static void test_walk_stops_on_loops(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint64_t table = fake_table_one_per_line(w, 4);
	uint64_t name = fake_ascii(w, "loop");
	uint64_t code = fake_code(w, name, name, table, 1, 4, 0);
	uint64_t a = fake_frame(w, code, 1, 0, 0);
	uint64_t b = fake_frame(w, code, 2, a, 0);
	put64(&w->s, a + 48, b);   /* a <-> b */
	uint64_t interp = fake_interp(w);
	uint64_t ts = fake_tstate(w, interp, 7, b);
	struct pyframe out[100];
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 100),
			 100);
	/* a loop of incomplete frames only: bounded, nothing reported */
	uint64_t inc_code = fake_code(w, name, name, table, 1, 4, 3);
	uint64_t c = fake_frame(w, inc_code, 0, 0, 0);
	put64(&w->s, c + 48, c);
	uint64_t ts2 = fake_tstate(w, interp, 8, c);
	w->s.reads = 0;
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts2, out, 100),
			 0);
	assert_true(w->s.reads < 1000);
	/* a loop in the thread list: a tid not there is not found, bounded */
	uint64_t head;
	memcpy(&head, w->s.mem + (interp + 16 - BASE), 8);
	put64(&w->s, head + 8, head);
	assert_int_equal(pyframe_thread_state(&w->l, fake_read, &w->s, 999), 0);
	world_free(w);
}

static void test_walk_stops_on_garbage(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint64_t table = fake_table_one_per_line(w, 4);
	uint64_t name = fake_ascii(w, "ok");
	uint64_t code = fake_code(w, name, name, table, 1, 4, 0);
	uint64_t outer = fake_frame(w, code, 1, 0xdeadbeef000ULL, 0);
	uint64_t inner = fake_frame(w, code, 2, outer, 0);
	uint64_t interp = fake_interp(w);
	uint64_t ts = fake_tstate(w, interp, 7, inner);
	struct pyframe out[8];

	/* unreadable previous: the frames read so far */
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 8), 2);
	/* misaligned previous */
	put64(&w->s, outer + 48, inner + 3);
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 8), 2);
	/* a code object of another type ends the walk there */
	uint64_t notcode = fake_alloc(&w->s, 200);
	put64(&w->s, notcode + 8, TYPE_STR);
	put64(&w->s, outer + 32, notcode);
	put64(&w->s, outer + 48, 0);
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 8), 1);
	put64(&w->s, inner + 32, notcode);
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 8), -1);
	/* a prev_instr far outside the code: no line */
	put64(&w->s, inner + 32, code);
	put64(&w->s, outer + 32, code);
	put64(&w->s, inner + 56, code + 184 + 2 * 1000000);
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 8), 2);
	assert_int_equal(out[0].line, -1);
	/* a line table whose size is absurd: no line */
	put64(&w->s, inner + 56, code + 184 + 2);
	put64(&w->s, table + 16, 1ULL << 40);
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 8), 2);
	assert_int_equal(out[0].line, -1);
	/* unreadable thread state or cframe */
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, 0x42, out, 8), -1);
	put64(&w->s, ts + 56, 0);
	assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s, ts, out, 8), -1);
	/* runtime not readable */
	w->l.runtime_addr = 0x10;
	assert_int_equal(pyframe_thread_state(&w->l, fake_read, &w->s, 7), 0);
	world_free(w);
}

static void test_walk_survives_random_memory(void **state)
{
	(void)state;
	struct world *w = world_new();
	struct pyframe out[16];
	char name[32], file[32];
	unsigned seed = 12345;

	/* random words, a third of them pointers into the space */
	for (size_t i = 0; i < SPACE / 8; i++) {
		uint64_t v;
		seed = seed * 1103515245 + 12345;
		v = seed % 3 == 0 ? BASE + (seed >> 4) % SPACE : seed;
		memcpy(w->s.mem + 8 * i, &v, 8);
	}
	for (int i = 0; i < 2000; i++) {
		seed = seed * 1103515245 + 12345;
		uint64_t p = BASE + (seed >> 4) % SPACE;
		int n = pyframe_walk(&w->l, fake_read, &w->s, p & ~7ULL, out, 16);
		assert_true(n >= -1 && n <= 16);
		pyframe_code_names(&w->l, fake_read, &w->s, p, name,
				   sizeof(name), file, sizeof(file));
		assert_true(strlen(name) < sizeof(name));
		w->l.type_code = w->l.type_bytes = w->l.type_unicode = 0;
		pyframe_thread_state(&w->l, fake_read, &w->s, 1);
	}
	world_free(w);
}

static void test_code_names_encode_utf8_and_cut(void **state)
{
	(void)state;
	struct world *w = world_new();
	/* "Ünï.函数𠀀": latin-1, UCS-2 and UCS-4 kinds */
	const uint32_t latin[] = { 0xdc, 'n', 0xef, '.', 'f' };
	const uint32_t ucs2[] = { 0xdc, 'n', 0xef, '.', 0x51fd, 0x6570 };
	const uint32_t ucs4[] = { 'x', '.', 0x51fd, 0x20000 };
	uint64_t table = fake_table_one_per_line(w, 2);
	uint64_t file = fake_str(w, latin, 5);
	char name[64], path[64], tiny[6];

	uint64_t c2 = fake_code(w, fake_str(w, ucs2, 6), file, table, 1, 2, 0);
	assert_int_equal(pyframe_code_names(&w->l, fake_read, &w->s, c2, name,
					    sizeof(name), path, sizeof(path)), 0);
	assert_string_equal(name, "\xc3\x9cn\xc3\xaf.\xe5\x87\xbd\xe6\x95\xb0");
	assert_string_equal(path, "\xc3\x9cn\xc3\xaf.f");
	uint64_t c4 = fake_code(w, fake_str(w, ucs4, 4), file, table, 1, 2, 0);
	assert_int_equal(pyframe_code_names(&w->l, fake_read, &w->s, c4, name,
					    sizeof(name), NULL, 0), 0);
	assert_string_equal(name, "x.\xe5\x87\xbd\xf0\xa0\x80\x80");
	/* cut at a character boundary: "x." + 3 bytes fit in 6, not 4 more */
	assert_int_equal(pyframe_code_names(&w->l, fake_read, &w->s, c4, tiny,
					    sizeof(tiny), NULL, 0), 0);
	assert_string_equal(tiny, "x.\xe5\x87\xbd");
	assert_int_equal(pyframe_code_names(&w->l, fake_read, &w->s, c4, tiny,
					    4, NULL, 0), 0);
	assert_string_equal(tiny, "x.");
	/* a long ASCII name read in several chunks, cut to the buffer */
	char longname[600];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	uint32_t cps[599];
	for (int i = 0; i < 599; i++)
		cps[i] = 'a' + i % 26;
	uint64_t cl = fake_code(w, fake_str(w, cps, 599), file, table, 1, 2, 0);
	assert_int_equal(pyframe_code_names(&w->l, fake_read, &w->s, cl,
					    longname, sizeof(longname), NULL,
					    0), 0);
	assert_int_equal(strlen(longname), 599);
	assert_int_equal(longname[598], 'a' + 598 % 26);
	/* a str whose kind is not 1, 2 or 4 */
	uint64_t bad = fake_ascii(w, "bad");
	put32(&w->s, bad + 32, 3 << 2 | 1 << 5 | 1 << 7);
	uint64_t cb = fake_code(w, bad, file, table, 1, 2, 0);
	assert_int_equal(pyframe_code_names(&w->l, fake_read, &w->s, cb, name,
					    sizeof(name), path, sizeof(path)),
			 -1);
	assert_string_equal(name, "");
	world_free(w);
}

/* Every captured table, decoded through the reader in 256-byte chunks as
 * a frame's line, gives the same lines as the in-memory decoder. */
static void test_walk_lines_match_co_lines_through_reader(void **state)
{
	(void)state;
	size_t n, checked = 0;
	struct lt_case *cs = load_cases(&n);
	for (size_t i = 0; i < n; i++) {
		struct world *w = world_new();
		const struct lt_case *c = &cs[i];
		uint64_t name = fake_ascii(w, "x");
		uint64_t code = fake_code(w, name, name,
					  fake_bytes(w, c->table, c->len),
					  c->firstlineno, c->nunits, 0);
		uint64_t frame = fake_frame(w, code, 0, 0, 0);
		uint64_t ts = fake_tstate(w, fake_interp(w), 1, frame);
		for (int u = 0; u < c->nunits; u++, checked++) {
			struct pyframe f;
			put64(&w->s, frame + 56, code + 184 + 2 * (uint64_t)u);
			assert_int_equal(pyframe_walk(&w->l, fake_read, &w->s,
						      ts, &f, 1), 1);
			if (f.line != c->lines[u])
				fail_msg("%s unit %d: line %d, want %d",
					 c->name, u, f.line, c->lines[u]);
		}
		world_free(w);
	}
	assert_true(checked > 1000);
	free_cases(cs, n);
}

static void test_layout_find_refuses_a_process_without_python(void **state)
{
	(void)state;
	struct pyframe_layout l;
	char why[256];
	assert_int_equal(pyframe_layout_find(NULL, 0, &l, why, sizeof(why)),
			 -ENOENT);
	assert_non_null(strstr(why, "no CPython"));
	assert_int_equal(pyframe_layout_find("tests/fixtures/proc/vanished",
					     424242, &l, why, sizeof(why)),
			 -ESRCH);
}

/* The page-cache reader on this process: reads across pages, more pages
 * than it keeps, and an unmapped address. */
static void test_read_cached_reads_pages_of_a_process(void **state)
{
	(void)state;
	size_t len = (PYFRAME_CACHE_PAGES + 8) * 4096;
	uint8_t *mem = xmalloc(len), buf[9000];
	struct pyframe_cache *c = xmalloc(sizeof(*c));
	for (size_t i = 0; i < len; i++)
		mem[i] = (uint8_t)(i * 7 + i / 4096);
	pyframe_cache_init(c, getpid());
	for (int round = 0; round < 2; round++) {
		for (size_t off = 100; off + sizeof(buf) <= len; off += 3000) {
			assert_true(pyframe_read_cached(c, (uintptr_t)mem + off,
							buf, sizeof(buf)));
			assert_memory_equal(buf, mem + off, sizeof(buf));
		}
	}
	assert_true(c->used == PYFRAME_CACHE_PAGES);
	assert_false(pyframe_read_cached(c, 8, buf, 8));
	void *gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	assert_true(gone != MAP_FAILED);
	munmap(gone, 4096);
	assert_false(pyframe_read_cached(c, (uintptr_t)gone, buf, 8));
	/* a snapshot until reset */
	mem[5000] ^= 0xff;
	assert_true(pyframe_read_cached(c, (uintptr_t)mem + 5000, buf, 1));
	pyframe_cache_reset(c);
	assert_true(pyframe_read_cached(c, (uintptr_t)mem + 5000, buf + 1, 1));
	assert_int_equal(buf[1], mem[5000]);
	pid_t self = getpid();
	assert_true(pyframe_read_pid(&self, (uintptr_t)mem + 123, buf, 100));
	assert_memory_equal(buf, mem + 123, 100);
	free(c);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_from_table_matches_co_lines),
		cmocka_unit_test(test_line_from_table_covers_every_entry_form),
		cmocka_unit_test(test_line_from_table_handcrafted),
		cmocka_unit_test(test_layout_311_matches_python_headers),
		cmocka_unit_test(test_walk_reads_frames_innermost_first),
		cmocka_unit_test(test_walk_with_kept_code_objects),
		cmocka_unit_test(test_thread_state_prefers_gil_holder),
		cmocka_unit_test(test_walk_stops_on_loops),
		cmocka_unit_test(test_walk_stops_on_garbage),
		cmocka_unit_test(test_walk_survives_random_memory),
		cmocka_unit_test(test_code_names_encode_utf8_and_cut),
		cmocka_unit_test(test_walk_lines_match_co_lines_through_reader),
		cmocka_unit_test(test_layout_find_refuses_a_process_without_python),
		cmocka_unit_test(test_read_cached_reads_pages_of_a_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
