/* unwind.c - unwind a thread's snapshot with libunwind's remote API */
#include "collectors/unwind.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <libunwind.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "collectors/symbols.h"
#include "common/util.h"

/* Not in libunwind's public headers, exported by libunwind-x86_64 and used
 * the same way by perf (tools/perf/util/unwind-libunwind-local.c). */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as,
		unw_word_t ip, unw_dyn_info_t *di, unw_proc_info_t *pi,
		int need_unwind_info, void *arg);
#define dwarf_search_unwind_table UNW_OBJ(dwarf_search_unwind_table)

/* DWARF pointer encodings of .eh_frame_hdr (LSB, "Exception Frame Header") */
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_datarel 0x30

struct uw_segment {
	uint64_t offset, filesz, vaddr;
};

/* One mapped ELF file: an fd to read its bytes, its PT_LOAD segments and
 * where its .eh_frame_hdr binary search table is. */
struct uw_file {
	uint64_t id;             /* its index in the unwinder */
	char *path;
	uint64_t dev, ino;
	int fd;                  /* -1 when it could not be opened */
	struct uw_segment *segs;
	size_t nsegs;
	bool has_table;
	uint64_t hdr_vaddr;      /* ELF vaddr of .eh_frame_hdr */
	uint64_t table_off;      /* of the table from the header */
	uint64_t fde_count;
};

/* Reads of mapped files go through a direct-mapped cache of 4 KiB blocks:
 * libunwind reads unwind tables one word at a time, and a pread per word
 * made a 11-frame python3 unwind take 1 ms. */
#define UW_BLOCK 4096
#define UW_NBLOCKS 256

struct uw_block {
	const struct uw_file *file;   /* NULL: empty */
	uint64_t index;               /* file offset / UW_BLOCK */
	size_t len;                   /* bytes read (short at the file's end) */
	uint8_t data[UW_BLOCK];
};

/* libunwind caches what it learnt about each ip (the parsed CIE/FDE and
 * register rules) in its address space: 7x faster on a python3 stack
 * (13.5 instead of 94 us). An ip means the same code only for the same file
 * mappings, so there is one address space per layout of file mappings (the
 * fingerprint below): the workers of a pre-fork server, which inherit their
 * master's layout, share one. The least recently used is dropped beyond
 * UW_NSPACES. */
#define UW_NSPACES 16

/* Unwinding is a function of the layout of file mappings, of the registers
 * libunwind reads and of the stack words it reads (mapped files read the
 * same for the same layout). A memo keeps, per (layout, ip, sp), those
 * reads and the result: a later snapshot whose reads give the same values
 * unwinds to the same frames, exactly, at the cost of comparing a few
 * dozen words. A burst of first writes is mostly such repeats (a loop
 * faulting at the same place), where a real unwind costs 10-15 us. */
#define UW_MEMO_SLOTS 2048
#define UW_MEMO_READS 40
#define UW_MEMO_IPS 64
#define UW_READ_REG (1ULL << 63)     /* at is a register number */
#define UW_READ_ABSENT (1ULL << 62)  /* at was past the stack copy */

struct uw_read {
	uint64_t at, val;
};

struct uw_memo {
	uint64_t fingerprint;
	int max, n;                   /* n == 0: empty */
	int nreads;
	struct uw_read reads[UW_MEMO_READS];
	uint64_t ips[UW_MEMO_IPS];
	uint8_t how[UW_MEMO_IPS];
};

struct uw_space {
	uint64_t fingerprint;
	unw_addr_space_t as;     /* NULL: free slot */
	uint64_t used;           /* snapshot counter at last use */
};

struct unwinder {
	struct uw_space spaces[UW_NSPACES];
	uint64_t nsnapshots;
	struct uw_block *blocks;      /* UW_NBLOCKS */
	struct uw_file **files;
	size_t nfiles, cap;
	struct uw_file *last;    /* the file of the last lookup */
	/* the snapshot being unwound */
	pid_t pid;
	const struct maps_region *maps;
	size_t nmaps;
	const uint64_t *regs;
	const uint8_t *stack;
	size_t stack_len;
	uint64_t sp;
	bool noinfo;             /* find_proc_info found no unwind info */
	/* the reads of the unwind under way, for the memo */
	struct uw_memo *memo;         /* UW_MEMO_SLOTS, allocated at first use */
	struct uw_read rec[UW_MEMO_READS];
	int nrec;
	bool rec_full;
	uint64_t memo_hits, memo_misses;
};

/* ---- files ---- */

/* Read the header of .eh_frame_hdr at file offset off: the table must be
 * the usual sorted (datarel sdata4, sdata4) pairs, as perf also requires. */
static void read_eh_frame_hdr(struct uw_file *f, uint64_t off)
{
	uint8_t h[4 + 8 + 8];
	if (pread(f->fd, h, sizeof(h), (off_t)off) != (ssize_t)sizeof(h) ||
	    h[0] != 1 || h[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4) ||
	    (h[2] != DW_EH_PE_udata4 && h[2] != DW_EH_PE_sdata4))
		return;
	size_t ptr_size;
	switch (h[1] & 0x0f) {
	case 0x02: case 0x0a: ptr_size = 2; break;
	case 0x03: case 0x0b: ptr_size = 4; break;
	case 0x00: case 0x04: case 0x0c: ptr_size = 8; break;
	default: return;
	}
	uint32_t count;
	memcpy(&count, h + 4 + ptr_size, 4);
	f->fde_count = count;
	f->table_off = 4 + ptr_size + 4;
	f->has_table = count > 0;
}

static void load_headers(struct uw_file *f)
{
	Elf *elf = elf_begin(f->fd, ELF_C_READ, NULL);
	size_t n, cap = 0;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n) != 0)
		goto out;
	uint64_t hdr_off = 0;
	bool hdr = false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			break;
		if (ph.p_type == PT_GNU_EH_FRAME) {
			hdr = true;
			hdr_off = ph.p_offset;
			f->hdr_vaddr = ph.p_vaddr;
		} else if (ph.p_type == PT_LOAD && ph.p_filesz) {
			util_grow((void **)&f->segs, &cap, f->nsegs + 1,
				  sizeof(*f->segs));
			f->segs[f->nsegs++] = (struct uw_segment){ ph.p_offset,
				ph.p_filesz, ph.p_vaddr };
		}
	}
	if (hdr)
		read_eh_frame_hdr(f, hdr_off);
out:
	elf_end(elf);
}

static struct uw_file *file_for(struct unwinder *u, const struct maps_region *r)
{
	uint64_t dev = makedev(r->dev_major, r->dev_minor);
	struct uw_file *f = u->last;
	if (f && f->ino == r->inode && f->dev == dev && !strcmp(f->path, r->path))
		return f;
	for (size_t i = 0; i < u->nfiles; i++) {
		f = u->files[i];
		if (f->ino == r->inode && f->dev == dev && !strcmp(f->path, r->path))
			return u->last = f;
	}
	f = xcalloc(1, sizeof(*f));
	f->id = u->nfiles;
	f->path = xstrdup(r->path);
	f->dev = dev;
	f->ino = r->inode;
	f->fd = symbols_open_mapped(u->pid, r);
	if (f->fd >= 0)
		load_headers(f);
	util_grow((void **)&u->files, &u->cap, u->nfiles + 1, sizeof(*u->files));
	u->files[u->nfiles++] = f;
	return u->last = f;
}

/* Read len bytes at file offset off of f through the block cache. */
static bool file_read(struct unwinder *u, const struct uw_file *f,
		      uint64_t off, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		uint64_t index = off / UW_BLOCK;
		size_t in = off % UW_BLOCK;
		struct uw_block *b = &u->blocks[(index * 0x9e3779b97f4a7c15ULL ^
			f->id) % UW_NBLOCKS];
		if (b->file != f || b->index != index) {
			ssize_t r = pread(f->fd, b->data, UW_BLOCK,
					  (off_t)(index * UW_BLOCK));
			b->file = r > 0 ? f : NULL;
			if (r <= 0)
				return false;
			b->index = index;
			b->len = (size_t)r;
		}
		if (in >= b->len)
			return false;
		size_t take = len < b->len - in ? len : b->len - in;
		memcpy(out, b->data + in, take);
		out += take;
		off += take;
		len -= take;
	}
	return true;
}

/* The mapping holding addr, if it maps an ELF-able file. */
static const struct maps_region *file_mapping(struct unwinder *u, uint64_t addr)
{
	const struct maps_region *r = symbols_find_mapping(u->maps, u->nmaps, addr);
	if (!r || r->path[0] != '/' || r->inode == 0)
		return NULL;
	return r;
}

/* ---- libunwind accessors ---- */

static int find_proc_info(unw_addr_space_t as, unw_word_t ip,
			  unw_proc_info_t *pi, int need_unwind_info, void *arg)
{
	struct unwinder *u = arg;
	const struct maps_region *r = file_mapping(u, ip);
	struct uw_file *f = r ? file_for(u, r) : NULL;
	if (!f || !f->has_table) {
		u->noinfo = true;
		return -UNW_ENOINFO;
	}
	/* the load bias: where the mapping is minus where the ELF puts its
	 * file offset */
	const struct uw_segment *seg = NULL;
	for (size_t i = 0; i < f->nsegs && !seg; i++) {
		const struct uw_segment *g = &f->segs[i];
		if ((g->offset & ~0xfffULL) <= r->offset &&
		    r->offset < g->offset + g->filesz)
			seg = g;
	}
	if (!seg) {
		u->noinfo = true;
		return -UNW_ENOINFO;
	}
	uint64_t bias = r->start - (seg->vaddr - (seg->offset - r->offset));
	unw_dyn_info_t di = { 0 };
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = r->start;
	di.end_ip = r->end;
	di.u.rti.segbase = bias + f->hdr_vaddr;
	di.u.rti.table_data = bias + f->hdr_vaddr + f->table_off;
	di.u.rti.table_len = f->fde_count * 8 / sizeof(unw_word_t);
	int ret = dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info,
					    arg);
	if (ret == -UNW_ENOINFO)
		u->noinfo = true;
	return ret;
}

/* libunwind frees the table-format unwind info it allocated itself. */
static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi,
			    void *arg)
{
	(void)as; (void)pi; (void)arg;
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil,
				  void *arg)
{
	(void)as; (void)dil; (void)arg;
	return -UNW_ENOINFO;
}

static bool in_copy(uint64_t addr, uint64_t sp, size_t stack_len)
{
	return addr >= sp && stack_len >= 8 && addr - sp <= stack_len - 8;
}

/* Record a read; at is a register (UW_READ_REG | index) or a user-space
 * address (with UW_READ_ABSENT when past the copy). */
static void record(struct unwinder *u, uint64_t at, uint64_t val)
{
	if (u->nrec == UW_MEMO_READS)
		u->rec_full = true;
	else
		u->rec[u->nrec++] = (struct uw_read){ at, val };
}

/* A word from the stack copy, else from the mapped file (text, unwind
 * tables, read-only data). Anything else is unknown. */
static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *valp,
		      int write, void *arg)
{
	(void)as;
	struct unwinder *u = arg;
	if (write)
		return -UNW_EINVAL;
	if (addr >> 62) {
		/* not user space, and its bits would read as the record's
		 * flags: no memo of this unwind */
		u->rec_full = true;
	} else if (in_copy(addr, u->sp, u->stack_len)) {
		memcpy(valp, u->stack + (addr - u->sp), sizeof(*valp));
		record(u, addr, *valp);
		return 0;
	} else if (addr >= u->sp) {  /* a longer copy from the same sp would hold it */
		record(u, addr | UW_READ_ABSENT, 0);
	}
	const struct maps_region *r = file_mapping(u, addr);
	struct uw_file *f = r ? file_for(u, r) : NULL;
	if (!f || f->fd < 0 ||
	    !file_read(u, f, addr - r->start + r->offset, valp, sizeof(*valp)))
		return -UNW_EINVAL;
	return 0;
}

/* libunwind's x86_64 register numbers to perf's. */
static const uint8_t unw_to_perf[] = {
	[UNW_X86_64_RAX] = UNWIND_REG_AX, [UNW_X86_64_RDX] = UNWIND_REG_DX,
	[UNW_X86_64_RCX] = UNWIND_REG_CX, [UNW_X86_64_RBX] = UNWIND_REG_BX,
	[UNW_X86_64_RSI] = UNWIND_REG_SI, [UNW_X86_64_RDI] = UNWIND_REG_DI,
	[UNW_X86_64_RBP] = UNWIND_REG_BP, [UNW_X86_64_RSP] = UNWIND_REG_SP,
	[UNW_X86_64_R8] = UNWIND_REG_R8, [UNW_X86_64_R9] = UNWIND_REG_R9,
	[UNW_X86_64_R10] = UNWIND_REG_R10, [UNW_X86_64_R11] = UNWIND_REG_R11,
	[UNW_X86_64_R12] = UNWIND_REG_R12, [UNW_X86_64_R13] = UNWIND_REG_R13,
	[UNW_X86_64_R14] = UNWIND_REG_R14, [UNW_X86_64_R15] = UNWIND_REG_R15,
	[UNW_X86_64_RIP] = UNWIND_REG_IP,
};

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *valp,
		      int write, void *arg)
{
	(void)as;
	struct unwinder *u = arg;
	if (write)
		return -UNW_EREADONLYREG;
	if (reg < 0 || (size_t)reg >= sizeof(unw_to_perf))
		return -UNW_EBADREG;
	*valp = u->regs[unw_to_perf[reg]];
	record(u, UW_READ_REG | unw_to_perf[reg], *valp);
	return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg,
			unw_fpreg_t *val, int write, void *arg)
{
	(void)as; (void)reg; (void)val; (void)write; (void)arg;
	return -UNW_EINVAL;
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as; (void)c; (void)arg;
	return -UNW_EINVAL;
}

static int get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
			 size_t len, unw_word_t *off, void *arg)
{
	(void)as; (void)addr; (void)buf; (void)len; (void)off; (void)arg;
	return -UNW_EINVAL;
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = get_proc_name,
};

/* ---- public ---- */

struct unwinder *unwind_new(void)
{
	elf_version(EV_CURRENT);
	struct unwinder *u = xcalloc(1, sizeof(*u));
	/* fail now rather than at the first snapshot */
	u->spaces[0].as = unw_create_addr_space(&accessors, 0);
	if (!u->spaces[0].as) {
		free(u);
		return NULL;
	}
	unw_set_caching_policy(u->spaces[0].as, UNW_CACHE_GLOBAL);
	u->spaces[0].fingerprint = UINT64_MAX;   /* matches no layout */
	u->blocks = xcalloc(UW_NBLOCKS, sizeof(*u->blocks));
	return u;
}

void unwind_free(struct unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nfiles; i++) {
		struct uw_file *f = u->files[i];
		if (f->fd >= 0)
			close(f->fd);
		free(f->path);
		free(f->segs);
		free(f);
	}
	free(u->files);
	free(u->blocks);
	free(u->memo);
	for (int i = 0; i < UW_NSPACES; i++)
		if (u->spaces[i].as)
			unw_destroy_addr_space(u->spaces[i].as);
	free(u);
}

void unwind_regs_from_perf(const uint64_t *sample, uint64_t mask,
			   uint64_t regs[UNWIND_NREGS])
{
	size_t k = 0;
	for (int i = 0; i < UNWIND_NREGS; i++)
		regs[i] = mask >> i & 1 ? sample[k++] : 0;
}

/* Identifies the layout of the file mappings (what code is where):
 * anonymous memory (heap, stack) growing does not change it. */
uint64_t unwind_layout(const struct maps_region *maps, size_t nmaps)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < nmaps; i++) {
		const struct maps_region *r = &maps[i];
		if (r->inode == 0 && r->kind != MAPS_VDSO)
			continue;
		uint64_t v[5] = { r->start, r->end, r->offset, r->inode,
				  (uint64_t)r->dev_major << 32 | r->dev_minor };
		for (int k = 0; k < 5; k++)
			h = (h ^ v[k]) * 1099511628211ULL;
	}
	return h == UINT64_MAX ? 0 : h;
}

/* The address space (and its cache) of this layout: found, or made in a
 * free slot, or in place of the least recently used. NULL if libunwind
 * cannot make one. */
static unw_addr_space_t space_for(struct unwinder *u, uint64_t fingerprint)
{
	struct uw_space *lru = &u->spaces[0];
	u->nsnapshots++;
	for (int i = 0; i < UW_NSPACES; i++) {
		struct uw_space *sp = &u->spaces[i];
		if (sp->as && sp->fingerprint == fingerprint) {
			sp->used = u->nsnapshots;
			return sp->as;
		}
		if (!sp->as || (lru->as && sp->used < lru->used))
			lru = sp;
	}
	if (lru->as) {
		unw_flush_cache(lru->as, 0, 0);
	} else {
		lru->as = unw_create_addr_space(&accessors, 0);
		if (!lru->as)
			return NULL;
		unw_set_caching_policy(lru->as, UNW_CACHE_GLOBAL);
	}
	lru->fingerprint = fingerprint;
	lru->used = u->nsnapshots;
	return lru->as;
}

static struct uw_memo *memo_slot(struct unwinder *u, uint64_t fingerprint,
				  const uint64_t regs[UNWIND_NREGS])
{
	if (!u->memo)
		u->memo = xcalloc(UW_MEMO_SLOTS, sizeof(*u->memo));
	uint64_t h = (fingerprint ^ regs[UNWIND_REG_IP] * 0x9e3779b97f4a7c15ULL) ^
		     (regs[UNWIND_REG_SP] >> 3) * 0xff51afd7ed558ccdULL;
	return &u->memo[(h ^ h >> 29) % UW_MEMO_SLOTS];
}

/* Would this snapshot read what m's did, value for value? */
static bool memo_matches(const struct uw_memo *m, uint64_t fingerprint, int max,
			 const uint64_t regs[UNWIND_NREGS], const uint8_t *stack,
			 size_t stack_len)
{
	if (!m->n || m->fingerprint != fingerprint || m->max != max)
		return false;
	uint64_t sp = regs[UNWIND_REG_SP];
	for (int i = 0; i < m->nreads; i++) {
		const struct uw_read *r = &m->reads[i];
		uint64_t v;
		if (r->at & UW_READ_REG) {
			if (regs[r->at & 0xff] != r->val)
				return false;
		} else if (r->at & UW_READ_ABSENT) {
			if (in_copy(r->at & ~UW_READ_ABSENT, sp, stack_len))
				return false;
		} else {
			if (!in_copy(r->at, sp, stack_len))
				return false;
			memcpy(&v, stack + (r->at - sp), 8);
			if (v != r->val)
				return false;
		}
	}
	return true;
}

static void memo_store(struct unwinder *u, struct uw_memo *m, uint64_t fingerprint,
		       int max, const uint64_t *ips, const enum unwind_method *how, int n)
{
	if (u->rec_full || n > UW_MEMO_IPS) {
		m->n = 0;
		return;
	}
	m->fingerprint = fingerprint;
	m->max = max;
	m->n = n;
	m->nreads = u->nrec;
	memcpy(m->reads, u->rec, (size_t)u->nrec * sizeof(*u->rec));
	memcpy(m->ips, ips, (size_t)n * sizeof(*ips));
	for (int i = 0; i < n; i++)
		m->how[i] = (uint8_t)how[i];
}

/* libunwind's own walk, recording what it reads. */
static int unwind_walk(struct unwinder *u, uint64_t fingerprint, uint64_t *ips,
		       enum unwind_method *how, int max)
{
	int n = 0;
	ips[n] = u->regs[UNWIND_REG_IP];
	if (how)
		how[n] = UNWIND_FIRST;
	n++;
	unw_addr_space_t as = space_for(u, fingerprint);
	unw_cursor_t c;
	if (!as || unw_init_remote(&c, as, u) < 0)
		return n;
	while (n < max) {
		u->noinfo = false;
		unw_word_t ip;
		if (unw_step(&c) <= 0 || unw_get_reg(&c, UNW_REG_IP, &ip) < 0 ||
		    ip == 0)
			break;
		ips[n] = ip;
		if (how)
			how[n] = u->noinfo ? UNWIND_FP : UNWIND_DWARF;
		n++;
	}
	return n;
}

int unwind_snapshot(struct unwinder *u, pid_t pid,
		    const struct maps_region *maps, size_t nmaps,
		    const uint64_t regs[UNWIND_NREGS],
		    const uint8_t *stack, size_t stack_len,
		    uint64_t *ips, enum unwind_method *how, int max)
{
	return unwind_snapshot_in(u, unwind_layout(maps, nmaps), pid, maps, nmaps, regs,
				  stack, stack_len, ips, how, max);
}

int unwind_snapshot_in(struct unwinder *u, uint64_t fingerprint, pid_t pid,
		       const struct maps_region *maps, size_t nmaps,
		       const uint64_t regs[UNWIND_NREGS],
		       const uint8_t *stack, size_t stack_len,
		       uint64_t *ips, enum unwind_method *how, int max)
{
	if (max <= 0)
		return 0;
	enum unwind_method scratch[UW_MEMO_IPS];
	bool memo = max <= UW_MEMO_IPS;
	struct uw_memo *m = memo ? memo_slot(u, fingerprint, regs) : NULL;
	if (m && memo_matches(m, fingerprint, max, regs, stack, stack_len)) {
		u->memo_hits++;
		memcpy(ips, m->ips, (size_t)m->n * sizeof(*ips));
		for (int i = 0; how && i < m->n; i++)
			how[i] = (enum unwind_method)m->how[i];
		return m->n;
	}
	u->memo_misses++;
	u->pid = pid;
	u->maps = maps;
	u->nmaps = nmaps;
	u->regs = regs;
	u->stack = stack;
	u->stack_len = stack_len;
	u->sp = regs[UNWIND_REG_SP];
	u->nrec = 0;
	u->rec_full = false;
	enum unwind_method *h = how ? how : memo ? scratch : NULL;
	int n = unwind_walk(u, fingerprint, ips, h, max);
	if (m)
		memo_store(u, m, fingerprint, max, ips, h, n);
	u->maps = NULL;
	u->regs = NULL;
	u->stack = NULL;
	return n;
}

void unwind_memo_stats(const struct unwinder *u, uint64_t *hits, uint64_t *misses)
{
	*hits = u->memo_hits;
	*misses = u->memo_misses;
}
