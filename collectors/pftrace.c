/* pftrace.c - copy-on-write faults of running processes through perf */
#include "collectors/pftrace.h"
#include "collectors/perfring.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- the decoder (pure) ---- */

static int take(struct pftrace_loc *loc, const struct tracefs_format *f,
		const char *name, uint32_t size)
{
	const struct tracefs_field *fd = tracefs_format_field(f, name);
	if (!fd || fd->data_loc || fd->size != size)
		return -EINVAL;
	loc->off = fd->offset;
	loc->size = fd->size;
	return 0;
}

int pftrace_layout_init(struct pftrace_layout *l, const struct tracefs_format *f,
			  uint64_t regs_mask, uint32_t stack_size)
{
	memset(l, 0, sizeof(*l));
	if (!f || f->id <= 0 || stack_size % 8 || stack_size > 65528 ||
	    take(&l->common_type, f, "common_type", 2) < 0 ||
	    take(&l->address, f, "address", 8) < 0 ||
	    take(&l->ip, f, "ip", 8) < 0 ||
	    take(&l->error_code, f, "error_code", 8) < 0) {
		memset(l, 0, sizeof(*l));
		return -EINVAL;
	}
	l->id = f->id;
	l->regs_mask = regs_mask;
	l->stack_size = stack_size;
	return 0;
}

/* A bounds-checked cursor over a record. */
struct cur {
	const unsigned char *p;
	size_t len, at;
	bool bad;
};

static const unsigned char *take_bytes(struct cur *c, size_t n)
{
	if (c->bad || n > c->len - c->at) {
		c->bad = true;
		return NULL;
	}
	const unsigned char *p = c->p + c->at;
	c->at += n;
	return p;
}

static uint64_t take_u64(struct cur *c)
{
	uint64_t v = 0;
	const unsigned char *p = take_bytes(c, 8);
	if (p)
		memcpy(&v, p, 8);
	return v;
}

static uint32_t take_u32(struct cur *c)
{
	uint32_t v = 0;
	const unsigned char *p = take_bytes(c, 4);
	if (p)
		memcpy(&v, p, 4);
	return v;
}

static uint64_t raw_u64(const unsigned char *raw, uint32_t rawlen,
			const struct pftrace_loc *loc)
{
	uint64_t v = 0;
	if (loc->off <= rawlen && loc->size <= rawlen - loc->off) {
		if (loc->size == 8)
			memcpy(&v, raw + loc->off, 8);
		else if (loc->size == 2) {
			uint16_t s;
			memcpy(&s, raw + loc->off, 2);
			v = s;
		}
	}
	return v;
}

static int parse_sample(const struct pftrace_layout *l, struct cur *c,
			struct pftrace_record *out)
{
	if (l->ids)
		out->id = take_u64(c);
	out->pid = (int)take_u32(c);
	out->tid = (int)take_u32(c);
	out->t_ns = take_u64(c) + (uint64_t)l->time_offset_ns;
	uint32_t rawlen = take_u32(c);
	const unsigned char *raw = take_bytes(c, rawlen);
	if (c->bad)
		return -EINVAL;
	/* the raw part (u32 size + data) is padded to 8 bytes by the kernel,
	 * with the padding counted in size */
	if (l->id <= 0 || l->common_type.size == 0 ||
	    raw_u64(raw, rawlen, &l->common_type) != (uint64_t)l->id ||
	    l->error_code.off + 8 > rawlen)
		return l->id > 0 && rawlen >= 2 ? 0 : -EINVAL;
	out->kind = PFTRACE_SAMPLE;
	out->addr = raw_u64(raw, rawlen, &l->address);
	out->ip = raw_u64(raw, rawlen, &l->ip);
	out->error_code = raw_u64(raw, rawlen, &l->error_code);
	out->abi = take_u64(c);
	if (out->abi) {
		out->nregs = (size_t)__builtin_popcountll(l->regs_mask);
		out->regs = (const uint64_t *)(const void *)take_bytes(c, out->nregs * 8);
	}
	uint64_t size = take_u64(c);
	if (size) {
		if (size > c->len)
			return -EINVAL;
		out->stack = take_bytes(c, (size_t)size);
		uint64_t dyn = take_u64(c);
		out->stack_len = (size_t)(dyn < size ? dyn : size);
	}
	if (c->bad) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	out->period = 1;
	return 1;
}

int pftrace_parse_record(const struct pftrace_layout *l, const void *rec,
			   size_t len, struct pftrace_record *out)
{
	struct perf_event_header h;
	memset(out, 0, sizeof(*out));
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, rec, sizeof(h));
	if (h.size < sizeof(h) || h.size > len)
		return -EINVAL;
	struct cur c = { rec, h.size, sizeof(h), false };
	switch (h.type) {
	case PERF_RECORD_SAMPLE:
		return parse_sample(l, &c, out);
	case PERF_RECORD_LOST:
		take_u64(&c);  /* id */
		out->lost = take_u64(&c);
		out->kind = PFTRACE_LOST;
		break;
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT:
		out->kind = h.type == PERF_RECORD_FORK ? PFTRACE_FORK : PFTRACE_EXIT;
		out->pid = (int)take_u32(&c);
		out->ppid = (int)take_u32(&c);
		out->tid = (int)take_u32(&c);
		out->ptid = (int)take_u32(&c);
		out->t_ns = take_u64(&c) + (uint64_t)l->time_offset_ns;
		break;
	default:
		return 0;
	}
	if (c.bad) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 1;
}

/* ---- the events ---- */

struct ring {
	int fd;                        /* the dummy event owning it */
	int cpu;
	struct perfring_map map;
	uint64_t batch_end;            /* pftrace_read's current batch */
};

/* The events opened for one attached process. */
struct attached {
	int pid;
	int *tids;                     /* threads attached */
	size_t ntids, captids;
	int *fds;                      /* every period-th fault */
	size_t nfds, capfds;
	int *bfds;                     /* their twins: every burst_period-th */
	size_t nbfds, capbfds;
	bool burst;                    /* the twins are the ones enabled */
};

/* Which attached process and which set an event id belongs to. */
struct event_id {
	uint64_t id;
	int pid;
	bool burst;
};

struct pftrace {
	struct pftrace_layout layout;
	struct pftrace_opts o;
	struct ring *rings;            /* per CPU; then, with a burst period,
					* the burst set's per CPU */
	size_t nrings, ncpus;
	int epfd;
	int clockid;
	uint64_t lost;                 /* from LOST records */
	bool fmt_lost;                 /* the fault events count their lost
					* samples (PERF_FORMAT_LOST, 6.0+) */
	uint64_t closed_lost;          /* lost samples of detached events */
	bool may_have_lost;            /* a ring was found nearly full */
	struct attached *procs;
	size_t nprocs, capprocs;
	struct event_id *ids;          /* sorted by id */
	size_t nids, capids;
	int *forked;                   /* pids seen in FORK records */
	size_t nforked, capforked;
	struct perfring_scratch scratch;  /* a record that wraps the ring end */
	void (*hook)(const void *, size_t, void *);
	void *hook_ctx;
	pftrace_fn peek;
	void *peek_ctx;
};

static void base_attr(struct perf_event_attr *a, int clockid)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	if (clockid >= 0) {
		a->use_clockid = 1;
		a->clockid = clockid;
	}
}

static void fault_attr(const struct pftrace *pf, struct perf_event_attr *a,
		       bool burst, bool on_now)
{
	base_attr(a, pf->clockid);
	a->type = PERF_TYPE_TRACEPOINT;
	a->config = (uint64_t)pf->layout.id;
	a->sample_period = burst ? pf->o.burst_period : pf->o.period;
	/* not PERF_SAMPLE_PERIOD: with it, the kernel samples every software
	 * event whatever the period (perf_swevent_event, measured on 6.18) */
	a->sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			 PERF_SAMPLE_RAW | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	a->sample_regs_user = pf->layout.regs_mask;
	a->sample_stack_user = pf->layout.stack_size;
	a->inherit = 1;
	a->task = 1;
	/* one set at a time; inherited events start as their parent is */
	a->disabled = !on_now;
	if (pf->fmt_lost)
		a->read_format = PERF_FORMAT_LOST;
}

/* With burst_period the reader is woken about 16 samples (with 4 KiB
 * stacks) into a burst, to tell it. Not at every fault: there, measured
 * on gunicorn's first writes, the wake-ups cost the workers 18% more CPU
 * and the reader 50% more than at an eighth of a ring. */
#define WAKE_BYTES (64u << 10)
/* The burst set's rings fill burst_period times slower: a quarter of the
 * size holds a whole second of the fastest burst seen. */
#define BURST_RING_PAGES(pages) ((pages) >= 1024 ? (pages) / 4 : (pages))

static int open_ring(struct pftrace *pf, struct ring *r, int cpu, size_t pages,
		     uint32_t wake_bytes, char *err, size_t errlen)
{
	struct perf_event_attr a;
	base_attr(&a, pf->clockid);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_DUMMY;
	a.watermark = 1;  /* the ring's wakeup mark is its owner's */
	a.wakeup_watermark = (uint32_t)(pages * (size_t)sysconf(_SC_PAGESIZE) / 8);
	if (wake_bytes && a.wakeup_watermark > wake_bytes)
		a.wakeup_watermark = wake_bytes;
	r->cpu = cpu;
	r->fd = perfring_event_open(&a, -1, cpu, -1);
	if (r->fd < 0)
		return perfring_error(r->fd, err, errlen, "perf ring");
	int e = perfring_mmap(r->fd, pages, &r->map, err, errlen);
	if (e < 0)
		return e;
	return perfring_watch(pf->epfd, r->fd, (uint64_t)(r - pf->rings), err, errlen);
}

/* Can the tracepoint be stamped with clockid? (CLOCK_REALTIME is refused
 * for the tracepoint PMU on 6.18: it may sample in NMI context.) */
static bool clock_accepted(int id, int clockid)
{
	struct perf_event_attr a;
	base_attr(&a, clockid);
	a.type = PERF_TYPE_TRACEPOINT;
	a.config = (uint64_t)id;
	a.disabled = 1;
	int fd = perfring_event_open(&a, 0, -1, -1);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int open_rings(struct pftrace *pf, char *err, size_t errlen)
{
	size_t pages = pf->o.ring_pages;
	if (pages & (pages - 1)) {
		snprintf(err, errlen, "ring_pages %zu is not a power of 2", pages);
		return -EINVAL;
	}
	pf->clockid = CLOCK_REALTIME;
	if (!clock_accepted(pf->layout.id, CLOCK_REALTIME)) {
		pf->clockid = clock_accepted(pf->layout.id, CLOCK_MONOTONIC)
			      ? CLOCK_MONOTONIC : -1;
		pf->layout.time_offset_ns = util_realtime_offset_ns();
	}
	int *cpus;
	int n = perfring_online_cpus(&cpus);
	int sets = pf->o.burst_period ? 2 : 1;
	pf->ncpus = (size_t)n;
	pf->rings = xcalloc((size_t)(n * sets), sizeof(*pf->rings));
	int e = 0;
	for (int i = 0; i < n * sets && e == 0; i++) {
		pf->rings[i].fd = -1;
		/* with a burst set, the reader is woken ~16 samples into a
		 * burst, then by its own 10 ms polls, not every 16 samples
		 * all through it */
		bool burst_ring = i >= n;
		e = open_ring(pf, &pf->rings[i], cpus[i % n],
			      burst_ring ? BURST_RING_PAGES(pages) : pages,
			      sets == 2 && !burst_ring ? WAKE_BYTES : 0, err, errlen);
		pf->nrings = (size_t)i + 1;
	}
	free(cpus);
	return e;
}

/* 32 MiB per CPU (about 7,800 samples with 4 KiB stacks: the first writes
 * of a worker's burst while the reader catches up), within 64 MiB for all
 * CPUs, at least 1 MiB each: the rings are locked memory. */
static unsigned default_ring_pages(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), page = sysconf(_SC_PAGESIZE);
	unsigned long per = (64ul << 20) / (unsigned long)(ncpu > 0 ? ncpu : 1) /
			    (unsigned long)(page > 0 ? page : 4096);
	unsigned pages = 8192;
	while (pages > 256 && pages > per)
		pages /= 2;
	return pages;
}

int pftrace_open(const struct pftrace_opts *o, struct pftrace **out,
		   char *err, size_t errlen)
{
	static const char *const events[] = { "exceptions/page_fault_user" };
	struct tracefs_format f;
	*out = NULL;
	int e = tracefs_read_formats(events, 1, &f, err, errlen);
	if (e < 0)
		return e;
	struct pftrace *pf = xcalloc(1, sizeof(*pf));
	pf->epfd = -1;
	pf->fmt_lost = true;
	if (o)
		pf->o = *o;
	if (!pf->o.ring_pages)
		pf->o.ring_pages = default_ring_pages();
	if (!pf->o.stack_size)
		pf->o.stack_size = 4096;
	if (!pf->o.period)
		pf->o.period = 1;
	if (f.id <= 0) {
		snprintf(err, errlen, "no tracepoint exceptions:page_fault_user in this kernel");
		e = -ENOENT;
	} else if (pftrace_layout_init(&pf->layout, &f, pf->o.regs_mask,
					 pf->o.stack_size) < 0) {
		snprintf(err, errlen, "exceptions:page_fault_user: unexpected format");
		e = -EINVAL;
	}
	tracefs_format_release(&f);
	pf->layout.ids = true;
	if (e == 0) {
		pf->epfd = epoll_create1(EPOLL_CLOEXEC);
		e = pf->epfd < 0 ? -errno : open_rings(pf, err, errlen);
	}
	if (e < 0) {
		pftrace_close(pf);
		return e;
	}
	*out = pf;
	return 0;
}

static void release_attached(struct attached *a)
{
	for (size_t i = 0; i < a->nfds; i++)
		close(a->fds[i]);
	for (size_t i = 0; i < a->nbfds; i++)
		close(a->bfds[i]);
	free(a->fds);
	free(a->bfds);
	free(a->tids);
}

void pftrace_close(struct pftrace *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->nprocs; i++)
		release_attached(&pf->procs[i]);
	for (size_t i = 0; i < pf->nrings; i++) {
		perfring_munmap(&pf->rings[i].map);
		if (pf->rings[i].fd >= 0)
			close(pf->rings[i].fd);
	}
	if (pf->epfd >= 0)
		close(pf->epfd);
	free(pf->rings);
	free(pf->procs);
	free(pf->ids);
	free(pf->forked);
	free(pf->scratch.buf);
	free(pf);
}

static struct attached *find_attached(const struct pftrace *pf, int pid)
{
	for (size_t i = 0; i < pf->nprocs; i++)
		if (pf->procs[i].pid == pid)
			return &pf->procs[i];
	return NULL;
}

static bool has_tid(const struct attached *a, int tid)
{
	for (size_t i = 0; i < a->ntids; i++)
		if (a->tids[i] == tid)
			return true;
	return false;
}

static void add_id(struct pftrace *pf, uint64_t id, int pid, bool burst)
{
	util_grow((void **)&pf->ids, &pf->capids, pf->nids + 1, sizeof(*pf->ids));
	size_t i = pf->nids++;
	for (; i > 0 && pf->ids[i - 1].id > id; i--)
		pf->ids[i] = pf->ids[i - 1];
	pf->ids[i] = (struct event_id){ id, pid, burst };
}

static int cmp_id(const void *key, const void *elem)
{
	uint64_t a = *(const uint64_t *)key, b = ((const struct event_id *)elem)->id;
	return (a > b) - (a < b);
}

static const struct event_id *find_id(const struct pftrace *pf, uint64_t id)
{
	return pf->nids ? bsearch(&id, pf->ids, pf->nids, sizeof(*pf->ids), cmp_id) : NULL;
}

static int filter_event(const struct pftrace *pf, int fd, char *err, size_t errlen)
{
	char filter[128];
	if (pf->o.skip_pid > 0)
		snprintf(filter, sizeof(filter), "%s && common_pid != %d",
			 PFTRACE_FILTER, pf->o.skip_pid);
	else
		snprintf(filter, sizeof(filter), "%s", PFTRACE_FILTER);
	if (ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter) < 0) {
		int e = errno;
		snprintf(err, errlen, "page_fault_user filter \"%s\": %s",
			 filter, strerror(e));
		return -e;
	}
	return 0;
}

/* Open thread tid's event of one set on ring r's CPU into a, filtered,
 * writing into r. -ESRCH: gone. */
static int open_event(struct pftrace *pf, struct attached *a, int tid,
		      const struct ring *r, bool burst, char *err, size_t errlen)
{
	struct perf_event_attr at;
	fault_attr(pf, &at, burst, burst == a->burst);
	int fd = perfring_event_open(&at, tid, r->cpu, -1);
	if (fd == -EINVAL && pf->fmt_lost) {  /* a kernel before 6.0 */
		pf->fmt_lost = false;
		fault_attr(pf, &at, burst, burst == a->burst);
		fd = perfring_event_open(&at, tid, r->cpu, -1);
	}
	if (fd < 0)
		return fd == -ESRCH ? fd : perfring_error(fd, err, errlen, "exceptions:page_fault_user");
	int **fds = burst ? &a->bfds : &a->fds;
	size_t *n = burst ? &a->nbfds : &a->nfds;
	util_grow((void **)fds, burst ? &a->capbfds : &a->capfds, *n + 1, sizeof(int));
	(*fds)[(*n)++] = fd;
	uint64_t id;
	int e = filter_event(pf, fd, err, errlen);
	if (e == 0 && ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, r->fd) < 0) {
		e = -errno;
		snprintf(err, errlen, "perf SET_OUTPUT: %s", strerror(-e));
	}
	if (e == 0 && ioctl(fd, PERF_EVENT_IOC_ID, &id) < 0) {
		e = -errno;
		snprintf(err, errlen, "perf ID: %s", strerror(-e));
	}
	if (e == 0)
		add_id(pf, id, a->pid, burst);
	return e;
}

/* Open the events of thread tid on every CPU into a. -ESRCH: gone. */
static int attach_thread(struct pftrace *pf, struct attached *a, int tid,
			 char *err, size_t errlen)
{
	int n = 0;
	for (size_t i = 0; i < pf->ncpus; i++)
		for (int burst = 0; burst <= (pf->o.burst_period > 0); burst++) {
			int e = open_event(pf, a, tid, &pf->rings[i + (size_t)burst * pf->ncpus],
					   burst, err, errlen);
			if (e < 0)
				return e;
			n++;
		}
	util_grow((void **)&a->tids, &a->captids, a->ntids + 1, sizeof(int));
	a->tids[a->ntids++] = tid;
	return n;
}

int pftrace_attach(struct pftrace *pf, const char *proc_root, int pid,
		     char *err, size_t errlen)
{
	char *path;
	path = xasprintf("%s/%d/task", proc_root ? proc_root : "/proc", pid);
	DIR *d = opendir(path);
	free(path);
	if (!d)
		return 0;  /* vanished */
	struct attached *a = find_attached(pf, pid);
	if (!a) {
		util_grow((void **)&pf->procs, &pf->capprocs, pf->nprocs + 1,
			  sizeof(*pf->procs));
		a = &pf->procs[pf->nprocs++];
		memset(a, 0, sizeof(*a));
		a->pid = pid;
	}
	struct dirent *de;
	int n = 0, e = 0;
	while (e >= 0 && (de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0 || has_tid(a, (int)tid))
			continue;
		e = attach_thread(pf, a, (int)tid, err, errlen);
		if (e == -ESRCH)
			e = 0;  /* the thread ended meanwhile */
		else if (e > 0)
			n += e;
	}
	closedir(d);
	return e < 0 ? e : n;
}

/* The samples the kernel could not write for the events of a (and the
 * events inherited from them: the kernel counts those on the parent). */
static uint64_t lost_of(const struct pftrace *pf, const struct attached *a)
{
	uint64_t n = 0;
	for (size_t i = 0; pf->fmt_lost && i < a->nfds + a->nbfds; i++) {
		uint64_t v[2];  /* value, lost */
		int fd = i < a->nfds ? a->fds[i] : a->bfds[i - a->nfds];
		if (read(fd, v, sizeof(v)) == (ssize_t)sizeof(v))
			n += v[1];
	}
	return n;
}

void pftrace_detach(struct pftrace *pf, int pid)
{
	struct attached *a = find_attached(pf, pid);
	if (!a)
		return;
	pf->closed_lost += lost_of(pf, a);
	/* its ids stay known (the kernel never reuses one): samples still in
	 * the rings keep their weight */
	release_attached(a);
	*a = pf->procs[--pf->nprocs];
}

bool pftrace_follows(const struct pftrace *pf, int pid)
{
	if (find_attached(pf, pid))
		return true;
	for (size_t i = 0; i < pf->nforked; i++)
		if (pf->forked[i] == pid)
			return true;
	return false;
}

int pftrace_fd(const struct pftrace *pf)
{
	return pf->epfd;
}

uint64_t pftrace_lost(const struct pftrace *pf)
{
	if (!pf->fmt_lost)
		return pf->lost;
	uint64_t n = pf->closed_lost;
	for (size_t i = 0; i < pf->nprocs; i++)
		n += lost_of(pf, &pf->procs[i]);
	return n > pf->lost ? n : pf->lost;
}

bool pftrace_may_have_lost(struct pftrace *pf)
{
	bool was = pf->may_have_lost;
	pf->may_have_lost = false;
	return was;
}

size_t pftrace_nevents(const struct pftrace *pf)
{
	size_t n = 0;
	for (size_t i = 0; i < pf->nprocs; i++)
		n += pf->procs[i].nfds + pf->procs[i].nbfds;
	return n;
}

const struct pftrace_layout *pftrace_layout(const struct pftrace *pf)
{
	return &pf->layout;
}

void pftrace_set_peek(struct pftrace *pf, pftrace_fn peek, void *ctx)
{
	pf->peek = peek;
	pf->peek_ctx = ctx;
}

void pftrace_set_raw_hook(struct pftrace *pf,
			    void (*hook)(const void *rec, size_t len, void *ctx),
			    void *ctx)
{
	pf->hook = hook;
	pf->hook_ctx = ctx;
}

/* A new process (not a thread) forked by a followed task. */
static void note_fork(struct pftrace *pf, const struct pftrace_record *r)
{
	if (r->pid == r->ppid || pftrace_follows(pf, r->pid))
		return;
	util_grow((void **)&pf->forked, &pf->capforked, pf->nforked + 1, sizeof(int));
	pf->forked[pf->nforked++] = r->pid;
}

/* A sample's family and the faults it stands for, from its event's id. */
static void weigh(const struct pftrace *pf, struct pftrace_record *r)
{
	const struct event_id *e = r->id ? find_id(pf, r->id) : NULL;
	r->family = e ? e->pid : 0;
	r->period = e && e->burst ? pf->o.burst_period : pf->o.period;
}

int pftrace_set_burst(struct pftrace *pf, int pid, bool on)
{
	struct attached *a = find_attached(pf, pid);
	if (!a || !pf->o.burst_period)
		return -ENOENT;
	if (a->burst == on)
		return 0;
	/* the new set first: never blind, at worst a fault sampled twice */
	int e = 0;
	for (int pass = 0; pass < 2; pass++) {
		bool burst_set = pass == 0 ? on : !on;
		int *fds = burst_set ? a->bfds : a->fds;
		size_t n = burst_set ? a->nbfds : a->nfds;
		unsigned long req = pass == 0 ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE;
		for (size_t i = 0; i < n; i++)
			if (ioctl(fds[i], req, 0) < 0 && e == 0)
				e = -errno;
	}
	a->burst = on;
	return e;
}

/* The next record of the batch to hand out, decoded; false at its end. */
static bool next_record(struct pftrace *pf, struct ring *r, uint64_t *tail,
			uint64_t head, size_t *seen, size_t batch,
			struct pftrace_record *pr, bool peek)
{
	size_t size;
	const unsigned char *rec;
	while ((*seen)++ < batch && (rec = perfring_next(r->map.data, r->map.data_size, tail, head,
							 &pf->scratch, &size))) {
		if (pf->hook && !peek)
			pf->hook(rec, size, pf->hook_ctx);
		int got = pftrace_parse_record(&pf->layout, rec, size, pr);
		if (got != 1 || (pr->kind == PFTRACE_SAMPLE && !pftrace_is_cow(pr)))
			continue;
		if (pr->kind == PFTRACE_SAMPLE)
			weigh(pf, pr);
		return true;
	}
	return false;
}

/* Where the next batch of ring r ends (up to batch records), its samples
 * shown to the peek hook; without one, the records are only stepped over
 * (decoded once, by drain_ring). */
static uint64_t batch_end(struct pftrace *pf, struct ring *r, size_t batch)
{
	uint64_t head = __atomic_load_n(&r->map.meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t at = r->map.meta->data_tail;
	size_t seen = 0, size;
	/* a record is at most 64 KiB (its size is 16 bits) */
	if (head - at + 65536 > r->map.data_size)
		pf->may_have_lost = true;
	struct pftrace_record pr;
	if (!pf->peek)
		while (seen++ < batch &&
		       perfring_next(r->map.data, r->map.data_size, &at, head, &pf->scratch, &size))
			;
	else
		while (next_record(pf, r, &at, head, &seen, batch, &pr, true))
			if (pr.kind == PFTRACE_SAMPLE)
				pf->peek(&pr, pf->peek_ctx);
	return at;
}

/* The records of ring r up to end; returns how many went to fn. */
static size_t drain_ring(struct pftrace *pf, struct ring *r, uint64_t end,
			 pftrace_fn fn, void *ctx)
{
	uint64_t tail = r->map.meta->data_tail;
	size_t n = 0, seen = 0;
	struct pftrace_record pr;
	while (next_record(pf, r, &tail, end, &seen, SIZE_MAX, &pr, false)) {
		if (pr.kind == PFTRACE_LOST)
			pf->lost += pr.lost;
		else if (pr.kind == PFTRACE_FORK)
			note_fork(pf, &pr);
		fn(&pr, ctx);
		n++;
	}
	/* give the kernel room */
	__atomic_store_n(&r->map.meta->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

/* 64 records of each ring in turn, every ring's batch peeked before any is
 * handed out: a burst on one CPU must not keep the reader from another's
 * first samples. */
size_t pftrace_read(struct pftrace *pf, pftrace_fn fn, void *ctx)
{
	struct epoll_event evs[8];
	while (epoll_wait(pf->epfd, evs, 8, 0) == 8)
		;
	size_t n = 0;
	bool more = true;
	while (more) {
		more = false;
		for (size_t i = 0; i < pf->nrings; i++)
			pf->rings[i].batch_end = batch_end(pf, &pf->rings[i], 64);
		for (size_t i = 0; i < pf->nrings; i++) {
			struct ring *r = &pf->rings[i];
			n += drain_ring(pf, r, r->batch_end, fn, ctx);
			more |= __atomic_load_n(&r->map.meta->data_head, __ATOMIC_ACQUIRE) !=
				r->map.meta->data_tail;
		}
	}
	return n;
}
