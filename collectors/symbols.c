/* symbols.c - ELF symbol cache: instruction address -> function, file:line */
#include "collectors/symbols.h"

#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"

/* The address range [lo, hi) of one DWARF compile unit, whose DIE is at
 * offset die of .debug_info. */
struct cu_range {
	uint64_t lo, hi;
	Dwarf_Off die;
};

/* One function symbol, in the ELF's own virtual addresses. */
struct sym {
	uint64_t start, end;   /* [start, end) */
	const char *name;      /* in the file's name pool */
};

/* A PT_LOAD segment: file bytes [offset, offset + filesz) are at vaddr. */
struct segment {
	uint64_t offset, filesz, vaddr;
	bool exec;
};

struct elf_file {
	struct elf_file *next;  /* hash chain */
	char *path;             /* key */
	uint64_t dev, ino;      /* key; 0, 0 for "the file at path now" */
	char *module;           /* the name frames show */
	int err;                /* 0, or the -errno of the load */
	struct segment *segs;
	size_t nsegs;
	struct sym *syms;
	size_t nsyms;
	char *names;
	/* kept open only when the file has DWARF, for line lookups */
	int fd;
	Elf *elf;
	Dwarf *dw;
	struct cu_range *cus;   /* built on the first line lookup */
	size_t ncus;
	bool cus_built;
};

struct symbols {
	struct elf_file **buckets;
	size_t nbuckets, nfiles;
	struct elf_file *vdso;  /* this process's vDSO, read on first need */
	char *debug_dir;        /* root of the .build-id/ debug files */
	bool vdso_tried;
};

/* ---- loading one ELF file ---- */

/* A symbol while the table is built: the name is an offset into the pool
 * (which moves as it grows), the end of a sizeless symbol is found later. */
struct raw_sym {
	uint64_t start, size, sec_end;
	size_t name_off;
	int rank;
};

struct sym_builder {
	struct raw_sym *v;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
};

/* Among aliases at one address, prefer global over weak over local, then
 * fewer leading underscores (malloc over __libc_malloc), then shorter. */
static int sym_rank(unsigned bind, const char *name)
{
	int r = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
	int underscores = 0;
	while (name[underscores] == '_' && underscores < 3)
		underscores++;
	return r * 4 + underscores;
}

static void builder_add(struct sym_builder *b, uint64_t start, uint64_t size,
			uint64_t sec_end, unsigned bind, const char *name)
{
	size_t len = strlen(name) + 1;
	util_grow((void **)&b->pool, &b->pool_cap, b->pool_len + len, 1);
	memcpy(b->pool + b->pool_len, name, len);
	util_grow((void **)&b->v, &b->cap, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = (struct raw_sym){ .start = start, .size = size,
		.sec_end = sec_end, .name_off = b->pool_len,
		.rank = sym_rank(bind, name) };
	b->pool_len += len;
}

/* The end address of section shndx, or 0 if there is none. */
static uint64_t section_end(Elf *elf, size_t shndx)
{
	Elf_Scn *scn = elf_getscn(elf, shndx);
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh))
		return 0;
	return sh.sh_addr + sh.sh_size < sh.sh_addr ? UINT64_MAX :
	       sh.sh_addr + sh.sh_size;
}

/* Add the defined function symbols of one symbol table section. */
static void add_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
		       struct sym_builder *b)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	if (!d || !entsize)
		return;
	size_t n = d->d_size / entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(d, (int)i, &sym))
			break;
		unsigned type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE ||
		    sym.st_value == 0)
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		builder_add(b, sym.st_value, sym.st_size,
			    section_end(elf, sym.st_shndx),
			    GELF_ST_BIND(sym.st_info), name);
	}
}

static int raw_sym_cmp(const void *pa, const void *pb)
{
	const struct raw_sym *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->rank - b->rank;
}

/* Sort, keep one symbol per address (the preferred alias, with the largest
 * size), give sizeless ones the room up to the next symbol or the end of
 * their section, and move the result into f. */
static void builder_finish(struct sym_builder *b, struct elf_file *f,
			   const char *pool_base)
{
	if (b->n)
		qsort(b->v, b->n, sizeof(*b->v), raw_sym_cmp);
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (k > 0 && b->v[k - 1].start == b->v[i].start) {
			if (b->v[i].size > b->v[k - 1].size)
				b->v[k - 1].size = b->v[i].size;
			continue;
		}
		b->v[k++] = b->v[i];
	}
	f->syms = xcalloc(k ? k : 1, sizeof(*f->syms));
	for (size_t i = 0; i < k; i++) {
		const struct raw_sym *r = &b->v[i];
		uint64_t end;
		if (r->size) {
			end = r->start + r->size < r->start ? UINT64_MAX :
			      r->start + r->size;
		} else {
			end = r->sec_end > r->start ? r->sec_end : r->start + 1;
			if (i + 1 < k && b->v[i + 1].start < end)
				end = b->v[i + 1].start;
		}
		f->syms[i] = (struct sym){ r->start, end, pool_base + r->name_off };
	}
	f->nsyms = k;
}

static int load_segments(Elf *elf, struct elf_file *f)
{
	size_t n;
	if (elf_getphdrnum(elf, &n) != 0)
		return -ENOEXEC;
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			return -ENOEXEC;
		if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
			continue;
		util_grow((void **)&f->segs, &cap, f->nsegs + 1, sizeof(*f->segs));
		f->segs[f->nsegs++] = (struct segment){ ph.p_offset, ph.p_filesz,
			ph.p_vaddr, (ph.p_flags & PF_X) != 0 };
	}
	return f->nsegs ? 0 : -ENOEXEC;
}

/* Whether a DWARF string section ends in a NUL. libdw 0.188 runs strlen
 * off the end of an unterminated .debug_line_str (found by fuzz_symbols), so
 * such a file gets no line numbers. Compressed sections are decompressed in
 * memory first, as libdw would. */
static bool strings_terminated(Elf_Scn *scn, const GElf_Shdr *sh)
{
	if ((sh->sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return false;
	Elf_Data *d = elf_getdata(scn, NULL);
	return d && (d->d_size == 0 ||
		     ((const char *)d->d_buf)[d->d_size - 1] == '\0');
}

/* Whether the file carries DWARF of its own (not a separate debug file)
 * that is safe to hand to libdw. */
static bool has_debug_info(Elf *elf)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	bool info = false;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strncmp(name, ".zdebug_", 8))
			return false;   /* old GNU compression: not worth it */
		if (!strcmp(name, ".debug_info"))
			info = true;
		if ((!strcmp(name, ".debug_str") ||
		     !strcmp(name, ".debug_line_str")) &&
		    !strings_terminated(scn, &sh))
			return false;
	}
	return info;
}

/* Add the function symbols of elf's .symtab and .dynsym to b. Returns
 * whether it has a .symtab (the full table, not only the exported). */
static bool add_symbols(Elf *elf, struct sym_builder *b)
{
	bool full = false;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		full |= sh.sh_type == SHT_SYMTAB;
		add_symtab(elf, scn, &sh, b);
	}
	return full;
}

/* Read the segments of elf into f and its symbols into b. Returns 0 or
 * -ENOEXEC; *full says whether it had a .symtab. */
static int load_elf(Elf *elf, struct elf_file *f, struct sym_builder *b,
		    bool *full)
{
	GElf_Ehdr eh;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return -ENOEXEC;
	int err = load_segments(elf, f);
	if (err)
		return err;
	*full = add_symbols(elf, b);
	return 0;
}

/* Move the symbols of b into f and free b. */
static void finish_symbols(struct elf_file *f, struct sym_builder *b)
{
	f->names = b->pool ? b->pool : xstrdup("");
	builder_finish(b, f, f->names);
	free(b->v);
}

/* Where the separate debug file of elf would be, by its GNU build-id:
 * ROOT/.build-id/ab/cdef....debug (what Debian's -dbgsym packages install).
 * NULL when it has no build-id. */
static char *debug_file_path(Elf *elf, const char *root)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off))) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + name_off, "GNU", 4) ||
			    nh.n_descsz < 2 || nh.n_descsz > 64)
				continue;
			const uint8_t *id = (const uint8_t *)d->d_buf + desc_off;
			char *p = xmalloc(strlen(root) + 2 * nh.n_descsz + 32);
			char *q = p + sprintf(p, "%s/.build-id/%02x/", root, id[0]);
			for (size_t i = 1; i < nh.n_descsz; i++)
				q += sprintf(q, "%02x", id[i]);
			strcpy(q, ".debug");
			return p;
		}
	}
	return NULL;
}

/* Complete f from the separate debug file of elf, if there is one: its
 * .symtab into b when want_syms, its DWARF (kept open in f) when
 * want_dwarf. */
static void load_debug_file(struct symbols *s, struct elf_file *f, Elf *elf,
			    struct sym_builder *b, bool want_syms,
			    bool want_dwarf)
{
	char *path = debug_file_path(elf, s->debug_dir);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
	free(path);
	struct stat st;
	if (fd < 0)
		return;
	Elf *d = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
		 elf_begin(fd, ELF_C_READ, NULL) : NULL;
	if (d && elf_kind(d) == ELF_K_ELF) {
		if (want_syms)
			add_symbols(d, b);
		if (want_dwarf && has_debug_info(d) &&
		    (f->dw = dwarf_begin_elf(d, DWARF_C_READ, NULL))) {
			f->elf = d;
			f->fd = fd;
			return;
		}
	}
	elf_end(d);
	close(fd);
}

/* Load the ELF file open at fd into f; takes the fd. Keeps an fd, Elf and
 * Dwarf (of the file or of its debug file) when there is DWARF. */
static int load_fd(struct symbols *s, struct elf_file *f, int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOEXEC;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	struct sym_builder b = { 0 };
	bool full = false;
	int err = elf ? load_elf(elf, f, &b, &full) : -ENOEXEC;
	if (err == 0) {
		bool dwarf = has_debug_info(elf);
		if (!full || !dwarf)
			load_debug_file(s, f, elf, &b, !full, !dwarf);
		if (dwarf && (f->dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL))) {
			f->fd = fd;
			f->elf = elf;
			fd = -1;
			elf = NULL;
		}
	}
	finish_symbols(f, &b);
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return err;
}

/* ---- the vDSO ---- */

/* Size of this process's vDSO image at base, from its own maps. */
static size_t vdso_size(uint64_t base)
{
	char *text;
	size_t len, n, size = 0;
	struct maps_region *maps;
	if (util_read_file("/proc/self/maps", &text, &len) < 0)
		return 0;
	if (maps_parse(text, len, &maps, &n) == 0) {
		const struct maps_region *r = symbols_find_mapping(maps, n, base);
		if (r && r->start == base)
			size = r->end - r->start;
		maps_free(maps, n);
	}
	free(text);
	return size;
}

/* Every x86_64 process of this kernel maps the same vDSO image: read ours. */
static struct elf_file *vdso_file(struct symbols *s)
{
	if (s->vdso_tried)
		return s->vdso;
	s->vdso_tried = true;
	uint64_t base = getauxval(AT_SYSINFO_EHDR);
	size_t size = base ? vdso_size(base) : 0;
	struct elf_file *f = xcalloc(1, sizeof(*f));
	f->fd = -1;
	f->module = xstrdup("[vdso]");
	f->err = -ENOENT;
	if (size) {
		char *copy = xmalloc(size);
		memcpy(copy, (const void *)(uintptr_t)base, size);
		Elf *elf = elf_memory(copy, size);
		struct sym_builder b = { 0 };
		bool full;
		f->err = elf ? load_elf(elf, f, &b, &full) : -ENOEXEC;
		finish_symbols(f, &b);
		elf_end(elf);
		free(copy);
	}
	s->vdso = f;
	return f;
}

/* ---- the cache ---- */

static uint64_t key_hash(const char *path, uint64_t dev, uint64_t ino)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h ^ (ino * 0x9e3779b97f4a7c15ULL) ^ dev;
}

static struct elf_file *cache_find(struct symbols *s, const char *path,
				   uint64_t dev, uint64_t ino)
{
	struct elf_file *f = s->buckets[key_hash(path, dev, ino) % s->nbuckets];
	for (; f; f = f->next)
		if (f->ino == ino && f->dev == dev && !strcmp(f->path, path))
			return f;
	return NULL;
}

static void cache_insert(struct symbols *s, struct elf_file *f)
{
	if (s->nfiles >= s->nbuckets) {
		size_t nb = s->nbuckets * 2;
		struct elf_file **b = xcalloc(nb, sizeof(*b));
		for (size_t i = 0; i < s->nbuckets; i++) {
			struct elf_file *g = s->buckets[i], *next;
			for (; g; g = next) {
				next = g->next;
				size_t h = key_hash(g->path, g->dev, g->ino) % nb;
				g->next = b[h];
				b[h] = g;
			}
		}
		free(s->buckets);
		s->buckets = b;
		s->nbuckets = nb;
	}
	size_t h = key_hash(f->path, f->dev, f->ino) % s->nbuckets;
	f->next = s->buckets[h];
	s->buckets[h] = f;
	s->nfiles++;
}

static struct elf_file *file_new(const char *path, uint64_t dev, uint64_t ino,
				 bool deleted)
{
	struct elf_file *f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path);
	f->dev = dev;
	f->ino = ino;
	f->fd = -1;
	if (deleted) {
		f->module = xmalloc(strlen(path) + sizeof(" (deleted)"));
		strcpy(stpcpy(f->module, path), " (deleted)");
	} else {
		f->module = xstrdup(path);
	}
	return f;
}

static void file_free(struct elf_file *f)
{
	if (!f)
		return;
	if (f->dw)
		dwarf_end(f->dw);
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f->module);
	free(f->segs);
	free(f->syms);
	free(f->names);
	free(f->cus);
	free(f);
}

struct symbols *symbols_new(void)
{
	elf_version(EV_CURRENT);
	struct symbols *s = xcalloc(1, sizeof(*s));
	s->nbuckets = 64;
	s->buckets = xcalloc(s->nbuckets, sizeof(*s->buckets));
	s->debug_dir = xstrdup("/usr/lib/debug");
	return s;
}

void symbols_set_debug_dir(struct symbols *s, const char *dir)
{
	free(s->debug_dir);
	s->debug_dir = xstrdup(dir);
}

void symbols_free(struct symbols *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct elf_file *f = s->buckets[i], *next;
		for (; f; f = next) {
			next = f->next;
			file_free(f);
		}
	}
	free(s->buckets);
	free(s->debug_dir);
	file_free(s->vdso);
	free(s);
}

/* ---- lookups ---- */

/* The ELF virtual address of file offset off, preferring an executable
 * segment where two share a page. */
static bool file_vaddr(const struct elf_file *f, uint64_t off, uint64_t *va)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < f->nsegs; i++) {
			const struct segment *g = &f->segs[i];
			if ((pass == 0 && !g->exec) || off < g->offset ||
			    off - g->offset >= g->filesz)
				continue;
			*va = g->vaddr + (off - g->offset);
			return true;
		}
	return false;
}

/* The function symbol covering va: the last one starting at or before it,
 * or, when va is past its end, one of the few before that encloses it. */
static const struct sym *find_sym(const struct elf_file *f, uint64_t va)
{
	size_t lo = 0, hi = f->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->syms[mid].start <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < 8; i--, k++)
		if (va < f->syms[i - 1].end)
			return &f->syms[i - 1];
	return NULL;
}

static int cu_range_cmp(const void *pa, const void *pb)
{
	const struct cu_range *a = pa, *b = pb;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* The address ranges of every compile unit, sorted, built on the first
 * line lookup. .debug_aranges (dwarf_addrdie) may be missing (clang) or
 * leave out code (assembly), and walking the units per lookup cost 17 us
 * a lookup in libc with its debug file. */
static void build_cu_ranges(struct elf_file *f)
{
	size_t cap = 0;
	Dwarf_Off off = 0, next;
	size_t hsize;
	f->cus_built = true;
	while (dwarf_nextcu(f->dw, off, &next, &hsize, NULL, NULL, NULL) == 0 &&
	       next > off) {
		Dwarf_Die cu;
		if (dwarf_offdie(f->dw, off + hsize, &cu)) {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t o = 0;
			while ((o = dwarf_ranges(&cu, o, &base, &lo, &hi)) > 0) {
				if (hi <= lo)
					continue;
				util_grow((void **)&f->cus, &cap, f->ncus + 1,
					  sizeof(*f->cus));
				f->cus[f->ncus++] = (struct cu_range){ lo, hi,
					off + hsize };
			}
		}
		off = next;
	}
	if (f->ncus)
		qsort(f->cus, f->ncus, sizeof(*f->cus), cu_range_cmp);
}

/* The compile unit whose ranges hold va. */
static bool find_cu(struct elf_file *f, uint64_t va, Dwarf_Die *cu)
{
	if (!f->cus_built)
		build_cu_ranges(f);
	size_t lo = 0, hi = f->ncus;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->cus[mid].lo <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < 8; i--, k++)
		if (va < f->cus[i - 1].hi)
			return dwarf_offdie(f->dw, f->cus[i - 1].die, cu) != NULL;
	return false;
}

static void find_line(struct elf_file *f, uint64_t va, struct symbols_frame *out)
{
	Dwarf_Die cu;
	if (!find_cu(f, va, &cu))
		return;
	Dwarf_Line *l = dwarf_getsrc_die(&cu, va);
	int line;
	const char *src = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
	if (!src || dwarf_lineno(l, &line) != 0)
		return;
	out->source_file = src;
	out->line = line;
}

static void frame_clear(struct symbols_frame *out)
{
	*out = (struct symbols_frame){ 0 };
}

static void resolve_in(struct elf_file *f, uint64_t off,
		       struct symbols_frame *out)
{
	out->module = f->module;
	out->module_offset = off;
	uint64_t va;
	if (f->err || !file_vaddr(f, off, &va))
		return;
	const struct sym *sym = find_sym(f, va);
	if (sym) {
		out->function = sym->name;
		out->func_offset = va - sym->start;
	}
	if (f->dw)
		find_line(f, va, out);
}

static int open_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

int symbols_resolve(struct symbols *s, const char *path, uint64_t file_offset,
		    struct symbols_frame *out)
{
	frame_clear(out);
	struct elf_file *f = cache_find(s, path, 0, 0);
	if (!f) {
		f = file_new(path, 0, 0, false);
		int fd = open_file(path);
		f->err = fd < 0 ? fd : load_fd(s, f, fd);
		cache_insert(s, f);
	}
	resolve_in(f, file_offset, out);
	return f->err;
}

int symbols_open_mapped(pid_t pid, const struct maps_region *r)
{
	uint64_t dev = makedev(r->dev_major, r->dev_minor);
	if (!r->deleted) {
		int fd = open_file(r->path);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev &&
		    st.st_ino == r->inode)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	if (pid <= 0)
		return -ESTALE;
	char mf[96];
	snprintf(mf, sizeof(mf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 (int)pid, r->start, r->end);
	return open_file(mf);
}

const struct maps_region *symbols_find_mapping(const struct maps_region *maps,
					       size_t nmaps, uint64_t addr)
{
	size_t lo = 0, hi = nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (maps[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= maps[lo - 1].end)
		return NULL;
	return &maps[lo - 1];
}

int symbols_resolve_ip(struct symbols *s, pid_t pid,
		       const struct maps_region *maps, size_t nmaps,
		       uint64_t ip, struct symbols_frame *out)
{
	frame_clear(out);
	const struct maps_region *r = symbols_find_mapping(maps, nmaps, ip);
	if (!r)
		return -ENOENT;
	uint64_t in_map = ip - r->start;
	if (r->kind == MAPS_VDSO) {
		resolve_in(vdso_file(s), in_map, out);
		return 0;
	}
	if (r->path[0] != '/' || r->inode == 0) {
		out->module = r->path[0] ? r->path : "[anon]";
		out->module_offset = in_map;
		/* intern the caller's string so it outlives maps (key inode 1
		 * with device 0: no file has it, none is opened) */
		if (r->path[0]) {
			struct elf_file *f = cache_find(s, r->path, 0, 1);
			if (!f) {
				f = file_new(r->path, 0, 1, false);
				f->err = -ENOEXEC;
				cache_insert(s, f);
			}
			out->module = f->module;
		}
		return 0;
	}
	uint64_t dev = makedev(r->dev_major, r->dev_minor);
	struct elf_file *f = cache_find(s, r->path, dev, r->inode);
	if (!f) {
		f = file_new(r->path, dev, r->inode, r->deleted);
		int fd = symbols_open_mapped(pid, r);
		f->err = fd < 0 ? fd : load_fd(s, f, fd);
		cache_insert(s, f);
	}
	resolve_in(f, r->offset + in_map, out);
	return 0;
}
