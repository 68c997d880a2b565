/* faultring.c - the per-process ring of first-write fault events
 *
 * The writer half runs in a signal handler of the target process: system
 * calls and atomics only. The reader half runs in cowprof and trusts nothing
 * in the file beyond what it checked.
 */
#include "collectors/faultring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CODE_PROBES 64
#define MAX_SLOTS (1u << 22)
#define MAX_CODES (1u << 20)

static uint32_t code_hash(uint64_t code, uint32_t n)
{
	return (uint32_t)(((code >> 4) * 0x9E3779B97F4A7C15ull) >> 32) % n;
}

static size_t layout_size(uint32_t nslots, uint32_t ncodes)
{
	return FAULTRING_HEADER_SIZE + (size_t)nslots * FAULTRING_SLOT_SIZE +
	       (size_t)ncodes * FAULTRING_CODE_SIZE;
}

/* ---- writer ---- */

/* Append decimal v to p; returns the end. */
static char *put_uint(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s, const char *end)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

int faultring_writer_open(struct faultring_writer *w, const char *dir,
			    pid_t pid, uint32_t nslots, uint32_t ncodes,
			    uint32_t flags, const char *python_status)
{
	char path[4096], tmp[4096];
	w->h = NULL;
	w->size = 0;
	if (nslots == 0 || nslots > MAX_SLOTS || ncodes > MAX_CODES)
		return -EINVAL;
	if (strlen(dir) > sizeof(path) - 64)
		return -ENAMETOOLONG;
	char *e = put_str(path, dir, path + sizeof(path) - 64);
	e = put_str(e, "/faults.", e + 8);
	e = put_uint(e, (uint64_t)pid);
	*e = '\0';
	memcpy(tmp, path, (size_t)(e - path));
	char *te = put_str(tmp + (e - path), ".new", tmp + sizeof(tmp) - 1);
	*te = '\0';

	size_t size = layout_size(nslots, ncodes);
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int err = 0;
	if (ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		goto fail;
	}
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	struct faultring_file_header *h = m;
	memcpy(h->magic, FAULTRING_MAGIC, 8);
	h->version = FAULTRING_VERSION;
	h->header_size = FAULTRING_HEADER_SIZE;
	h->slot_size = FAULTRING_SLOT_SIZE;
	h->nslots = nslots;
	h->code_size = FAULTRING_CODE_SIZE;
	h->ncodes = ncodes;
	h->slots_off = FAULTRING_HEADER_SIZE;
	h->codes_off = FAULTRING_HEADER_SIZE + (uint64_t)nslots * FAULTRING_SLOT_SIZE;
	h->file_size = size;
	h->pid = pid;
	h->flags = flags;
	if (python_status) {
		char *s = put_str(h->python_status, python_status,
				  h->python_status + FAULTRING_STATUS_MAX - 1);
		*s = '\0';
	}
	if (rename(tmp, path) < 0) {
		err = -errno;
		munmap(m, size);
		goto fail;
	}
	close(fd);
	w->h = h;
	w->size = size;
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return err;
}

struct faultring_slot *faultring_writer_reserve(struct faultring_writer *w,
						uint64_t *idx)
{
	struct faultring_file_header *h = w->h;
	if (!h)
		return NULL;
	uint64_t head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
	for (;;) {
		uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
		if (head - tail >= h->nslots) {
			__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		if (__atomic_compare_exchange_n(&h->head, &head, head + 1, true,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	*idx = head;
	return (struct faultring_slot *)((char *)h + h->slots_off +
					 (head % h->nslots) * FAULTRING_SLOT_SIZE);
}

void faultring_writer_commit(struct faultring_writer *w,
			     struct faultring_slot *s, uint64_t idx)
{
	(void)w;
	__atomic_store_n(&s->seq, idx + 1, __ATOMIC_RELEASE);
}

struct faultring_code *faultring_writer_code_claim(struct faultring_writer *w,
						   uint64_t code)
{
	struct faultring_file_header *h = w->h;
	if (!h || !h->ncodes || !code)
		return NULL;
	struct faultring_code *tab =
		(struct faultring_code *)((char *)h + h->codes_off);
	uint32_t i = code_hash(code, h->ncodes);
	for (int p = 0; p < CODE_PROBES; p++, i = (i + 1) % h->ncodes) {
		uint64_t c = __atomic_load_n(&tab[i].code, __ATOMIC_ACQUIRE);
		if (c == 0) {
			if (__atomic_compare_exchange_n(&tab[i].code, &c, code, false,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return &tab[i];
		}
		if (c == code)
			return NULL;
	}
	return NULL;
}

void faultring_writer_code_done(struct faultring_code *c)
{
	__atomic_store_n(&c->state, 2, __ATOMIC_RELEASE);
}

void faultring_writer_count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

void faultring_writer_close(struct faultring_writer *w)
{
	if (w->h)
		munmap(w->h, w->size);
	w->h = NULL;
	w->size = 0;
}

/* ---- reader ---- */

struct rcode {
	uint64_t code;
	char name[FAULTRING_NAME_MAX];
	char file[FAULTRING_FILE_MAX];
};

struct faultring {
	unsigned char *base;
	size_t map_size;
	struct faultring_file_header *h;
	/* copies of the checked header fields: never re-read */
	uint32_t nslots, ncodes;
	uint64_t slots_off, codes_off;
	pid_t pid;
	uint64_t tail;
	uint64_t discarded;
	char status[FAULTRING_STATUS_MAX];
	struct rcode **codes;  /* ncodes slots, each copied on first lookup */
};

static bool header_ok(const struct faultring_file_header *h, size_t st_size)
{
	if (memcmp(h->magic, FAULTRING_MAGIC, 8) || h->version != FAULTRING_VERSION)
		return false;
	if (h->header_size != FAULTRING_HEADER_SIZE ||
	    h->slot_size != FAULTRING_SLOT_SIZE ||
	    h->code_size != FAULTRING_CODE_SIZE)
		return false;
	if (h->nslots == 0 || h->nslots > MAX_SLOTS || h->ncodes > MAX_CODES)
		return false;
	if (h->slots_off != FAULTRING_HEADER_SIZE ||
	    h->codes_off != FAULTRING_HEADER_SIZE +
				    (uint64_t)h->nslots * FAULTRING_SLOT_SIZE)
		return false;
	size_t need = layout_size(h->nslots, h->ncodes);
	return h->file_size == need && need <= st_size && h->pid > 0;
}

int faultring_open(const char *path, struct faultring **out)
{
	*out = NULL;
	bool rw = true;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EROFS)) {
		rw = false;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < FAULTRING_HEADER_SIZE) {
		err = -EINVAL;
		goto out;
	}
	struct faultring_file_header hdr;
	if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		err = -EINVAL;
		goto out;
	}
	if (!header_ok(&hdr, (size_t)st.st_size)) {
		err = -EINVAL;
		goto out;
	}
	size_t size = hdr.file_size;
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       rw ? MAP_SHARED : MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	struct faultring *r = calloc(1, sizeof(*r));
	if (!r) {
		munmap(m, size);
		err = -ENOMEM;
		goto out;
	}
	r->base = m;
	r->map_size = size;
	r->h = m;
	r->nslots = hdr.nslots;
	r->ncodes = hdr.ncodes;
	r->slots_off = hdr.slots_off;
	r->codes_off = hdr.codes_off;
	r->pid = hdr.pid;
	r->tail = __atomic_load_n(&r->h->tail, __ATOMIC_ACQUIRE);
	memcpy(r->status, hdr.python_status, sizeof(r->status));
	r->status[sizeof(r->status) - 1] = '\0';
	*out = r;
out:
	close(fd);
	return err;
}

static struct faultring_slot *slot_at(struct faultring *r, uint64_t i)
{
	return (struct faultring_slot *)(r->base + r->slots_off +
					 (i % r->nslots) * FAULTRING_SLOT_SIZE);
}

static void advance(struct faultring *r)
{
	r->tail++;
	__atomic_store_n(&r->h->tail, r->tail, __ATOMIC_RELEASE);
}

int faultring_next(struct faultring *r, struct faultring_event *ev)
{
	for (;;) {
		uint64_t head = __atomic_load_n(&r->h->head, __ATOMIC_ACQUIRE);
		if (head <= r->tail)
			return 0;
		if (head - r->tail > r->nslots) {
			/* impossible for an honest writer: skip what cannot be
			 * in the ring any more */
			r->discarded += head - r->tail - r->nslots;
			r->tail = head - r->nslots;
			__atomic_store_n(&r->h->tail, r->tail, __ATOMIC_RELEASE);
		}
		struct faultring_slot *s = slot_at(r, r->tail);
		if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != r->tail + 1)
			return 0;
		struct faultring_slot c;
		memcpy(&c, s, sizeof(c));
		if (c.nnative > FAULTRING_MAX_NATIVE || c.npy > FAULTRING_MAX_PY ||
		    c.tid <= 0) {
			r->discarded++;
			advance(r);
			continue;
		}
		ev->t = (double)(c.t_ns / 1000000000ull) +
			(double)(c.t_ns % 1000000000ull) / 1e9;
		ev->pid = r->pid;
		ev->tid = c.tid;
		ev->addr = c.addr;
		ev->nnative = c.nnative;
		ev->npy = c.npy;
		memcpy(ev->native, c.native, c.nnative * sizeof(uint64_t));
		for (uint32_t i = 0; i < c.npy; i++) {
			ev->py[i].code = c.py_code[i];
			ev->py[i].line = c.py_line[i];
		}
		advance(r);
		return 1;
	}
}

uint64_t faultring_skip_stalled(struct faultring *r)
{
	uint64_t head = __atomic_load_n(&r->h->head, __ATOMIC_ACQUIRE);
	uint64_t n = 0;
	if (head > r->tail && head - r->tail > r->nslots)
		return 0;  /* faultring_next repairs this first */
	while (r->tail < head &&
	       __atomic_load_n(&slot_at(r, r->tail)->seq, __ATOMIC_ACQUIRE) !=
		       r->tail + 1) {
		advance(r);
		n++;
	}
	r->discarded += n;
	return n;
}

int faultring_code_names(struct faultring *r, uint64_t code, const char **name,
			 const char **file)
{
	if (!code || !r->ncodes)
		return -ENOENT;
	if (!r->codes) {
		r->codes = calloc(r->ncodes, sizeof(*r->codes));
		if (!r->codes)
			return -ENOMEM;
	}
	const struct faultring_code *tab =
		(const struct faultring_code *)(r->base + r->codes_off);
	uint32_t i = code_hash(code, r->ncodes);
	for (int p = 0; p < CODE_PROBES; p++, i = (i + 1) % r->ncodes) {
		struct rcode *rc = r->codes[i];
		if (rc && rc->code == code)
			goto found;
		if (rc)
			continue;
		uint64_t c = __atomic_load_n(&tab[i].code, __ATOMIC_ACQUIRE);
		if (c == 0)
			return -ENOENT;
		if (c != code)
			continue;
		if (__atomic_load_n(&tab[i].state, __ATOMIC_ACQUIRE) != 2)
			return -ENOENT;
		rc = r->codes[i] = malloc(sizeof(*rc));
		if (!rc)
			return -ENOMEM;
		memcpy(rc->name, tab[i].name, sizeof(rc->name));
		memcpy(rc->file, tab[i].file, sizeof(rc->file));
		rc->name[sizeof(rc->name) - 1] = '\0';
		rc->file[sizeof(rc->file) - 1] = '\0';
		rc->code = code;
found:
		*name = rc->name;
		*file = rc->file;
		return 0;
	}
	return -ENOENT;
}

uint64_t faultring_dropped(const struct faultring *r)
{
	return __atomic_load_n(&r->h->dropped, __ATOMIC_RELAXED) + r->discarded;
}

const char *faultring_python_status(const struct faultring *r)
{
	return r->status;
}

pid_t faultring_pid(const struct faultring *r)
{
	return r->pid;
}

uint64_t faultring_armed_pages(const struct faultring *r)
{
	return __atomic_load_n(&r->h->armed_pages, __ATOMIC_RELAXED);
}

int faultring_arm_error(const struct faultring *r)
{
	int e = __atomic_load_n(&r->h->arm_error, __ATOMIC_RELAXED);
	return e > 0 && e < 4096 ? e : 0;
}

uint64_t faultring_self_faults(const struct faultring *r)
{
	return __atomic_load_n(&r->h->self_faults, __ATOMIC_RELAXED);
}

uint64_t faultring_kernel_writes(const struct faultring *r)
{
	return __atomic_load_n(&r->h->kernel_writes, __ATOMIC_RELAXED);
}

void faultring_close(struct faultring *r)
{
	if (!r)
		return;
	munmap(r->base, r->map_size);
	for (uint32_t i = 0; r->codes && i < r->ncodes; i++)
		free(r->codes[i]);
	free(r->codes);
	free(r);
}
