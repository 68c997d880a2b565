/* sigtrace.c - signal:signal_generate and oom:mark_victim through perf */
#include "collectors/sigtrace.h"
#include "collectors/perfring.h"
#include "common/util.h"

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

static int take_loc(struct sigtrace_loc *loc, const struct tracefs_format *f,
		    const char *name, bool required)
{
	memset(loc, 0, sizeof(*loc));
	const struct tracefs_field *fd = f ? tracefs_format_field(f, name) : NULL;
	if (!fd)
		return required ? -EINVAL : 0;
	loc->off = fd->offset;
	loc->size = fd->size;
	loc->data_loc = fd->data_loc;
	return 0;
}

/* An integer field must be 1, 2, 4 or 8 bytes wide. */
static bool int_loc_ok(const struct sigtrace_loc *loc)
{
	return loc->size == 0 || loc->data_loc || loc->size == 1 || loc->size == 2 ||
	       loc->size == 4 || loc->size == 8;
}

/* Every tracepoint starts with the same common_type field. */
static int take_common_type(struct sigtrace_layout *l, const struct tracefs_format *f)
{
	struct sigtrace_loc ct;
	if (take_loc(&ct, f, "common_type", true) < 0 ||
	    (l->common_type.size && memcmp(&ct, &l->common_type, sizeof(ct))))
		return -EINVAL;
	l->common_type = ct;
	return 0;
}

int sigtrace_layout_init(struct sigtrace_layout *l, const struct tracefs_format *sig,
			 const struct tracefs_format *oom,
			 const struct tracefs_format *exit)
{
	memset(l, 0, sizeof(*l));
	if (sig && sig->id > 0) {
		l->signal_id = sig->id;
		if (take_common_type(l, sig) < 0 ||
		    take_loc(&l->sig, sig, "sig", true) < 0 ||
		    take_loc(&l->err, sig, "errno", false) < 0 ||
		    take_loc(&l->code, sig, "code", false) < 0 ||
		    take_loc(&l->comm, sig, "comm", false) < 0 ||
		    take_loc(&l->pid, sig, "pid", true) < 0 ||
		    take_loc(&l->group, sig, "group", false) < 0 ||
		    take_loc(&l->result, sig, "result", true) < 0)
			goto bad;
	}
	if (oom && oom->id > 0) {
		l->oom_id = oom->id;
		if (take_common_type(l, oom) < 0 ||
		    take_loc(&l->v_pid, oom, "pid", true) < 0 ||
		    take_loc(&l->v_comm, oom, "comm", false) < 0 ||
		    take_loc(&l->total_vm, oom, "total_vm", false) < 0 ||
		    take_loc(&l->anon_rss, oom, "anon_rss", false) < 0 ||
		    take_loc(&l->file_rss, oom, "file_rss", false) < 0 ||
		    take_loc(&l->shmem_rss, oom, "shmem_rss", false) < 0 ||
		    take_loc(&l->uid, oom, "uid", false) < 0 ||
		    take_loc(&l->pgtables, oom, "pgtables", false) < 0 ||
		    take_loc(&l->oom_score_adj, oom, "oom_score_adj", false) < 0)
			goto bad;
	}
	if (exit && exit->id > 0) {
		l->exit_id = exit->id;
		if (take_common_type(l, exit) < 0 ||
		    take_loc(&l->x_comm, exit, "comm", false) < 0 ||
		    take_loc(&l->x_pid, exit, "pid", true) < 0 ||
		    take_loc(&l->x_group_dead, exit, "group_dead", false) < 0)
			goto bad;
	}
	const struct sigtrace_loc *ints[] = {
		&l->common_type, &l->sig, &l->err, &l->code, &l->pid, &l->group,
		&l->result, &l->v_pid, &l->total_vm, &l->anon_rss, &l->file_rss,
		&l->shmem_rss, &l->uid, &l->pgtables, &l->oom_score_adj,
		&l->x_pid, &l->x_group_dead,
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (!int_loc_ok(ints[i]) || ints[i]->data_loc)
			goto bad;
	if (l->common_type.size == 0 && (l->signal_id || l->oom_id || l->exit_id))
		goto bad;
	return 0;
bad:
	memset(l, 0, sizeof(*l));
	return -EINVAL;
}

struct raw {
	const unsigned char *p;
	uint32_t len;
};

/* The integer at loc, or def if the field is absent or out of the record. */
static int64_t get_int(struct raw r, const struct sigtrace_loc *loc, bool is_signed,
		       int64_t def)
{
	if (loc->size == 0 || loc->off > r.len || loc->size > r.len - loc->off)
		return def;
	const unsigned char *p = r.p + loc->off;
	switch (loc->size) {
	case 1: { uint8_t v = p[0]; return is_signed ? (int8_t)v : v; }
	case 2: { uint16_t v; memcpy(&v, p, 2); return is_signed ? (int16_t)v : v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return is_signed ? (int32_t)v : (int64_t)v; }
	case 8: { uint64_t v; memcpy(&v, p, 8); return (int64_t)v; }
	}
	return def;
}

/* Copy the string at loc (a char array, or a __data_loc string) into out,
 * cut to outlen - 1 bytes and NUL-terminated. */
static void get_str(struct raw r, const struct sigtrace_loc *loc, char *out, size_t outlen)
{
	out[0] = '\0';
	if (loc->size == 0 || loc->off > r.len || loc->size > r.len - loc->off)
		return;
	uint32_t off = loc->off, n = loc->size;
	if (loc->data_loc) {
		uint32_t d;
		memcpy(&d, r.p + loc->off, 4);
		off = d & 0xffff;
		n = d >> 16;
		if (off > r.len || n > r.len - off)
			return;
	}
	size_t k = 0;
	while (k < n && k + 1 < outlen && r.p[off + k])
		k++;
	memcpy(out, r.p + off, k);
	out[k] = '\0';
}

struct sample_head {
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu, res;
	uint32_t raw_size;
};

static void decode_signal(const struct sigtrace_layout *l, struct raw r,
			  struct sigtrace_signal *s)
{
	s->sig = (int)get_int(r, &l->sig, true, 0);
	s->err = (int)get_int(r, &l->err, true, 0);
	s->code = (int)get_int(r, &l->code, true, 0);
	s->target_tid = (int)get_int(r, &l->pid, true, 0);
	s->group = get_int(r, &l->group, true, 0) != 0;
	s->result = (int)get_int(r, &l->result, true, -1);
	get_str(r, &l->comm, s->target_comm, sizeof(s->target_comm));
}

static void decode_oom(const struct sigtrace_layout *l, struct raw r, struct sigtrace_oom *o)
{
	o->victim_pid = (int)get_int(r, &l->v_pid, true, 0);
	get_str(r, &l->v_comm, o->victim_comm, sizeof(o->victim_comm));
	o->total_vm_kb = get_int(r, &l->total_vm, false, -1);
	o->anon_rss_kb = get_int(r, &l->anon_rss, false, -1);
	o->file_rss_kb = get_int(r, &l->file_rss, false, -1);
	o->shmem_rss_kb = get_int(r, &l->shmem_rss, false, -1);
	o->pgtables_kb = get_int(r, &l->pgtables, false, -1);
	o->uid = get_int(r, &l->uid, false, -1);
	o->has_oom_score_adj = l->oom_score_adj.size != 0 &&
			       l->oom_score_adj.off + l->oom_score_adj.size <= r.len;
	o->oom_score_adj = (int)get_int(r, &l->oom_score_adj, true, 0);
}

static int parse_sample(const struct sigtrace_layout *l, const unsigned char *p,
			size_t len, struct sigtrace_event *out)
{
	struct sample_head h;
	const size_t hsz = 4 + 4 + 8 + 4 + 4 + 4;
	if (len < sizeof(struct perf_event_header) + hsz)
		return -EINVAL;
	p += sizeof(struct perf_event_header);
	len -= sizeof(struct perf_event_header);
	memcpy(&h.pid, p, 4);
	memcpy(&h.tid, p + 4, 4);
	memcpy(&h.time, p + 8, 8);
	memcpy(&h.cpu, p + 16, 4);
	memcpy(&h.raw_size, p + 24, 4);
	if (h.raw_size > len - hsz)
		return -EINVAL;
	struct raw r = { p + hsz, h.raw_size };
	if (l->common_type.size == 0)
		return 0;
	int64_t type = get_int(r, &l->common_type, false, -1);
	uint64_t t = h.time + (uint64_t)l->time_offset_ns;
	if (type == l->signal_id && l->signal_id > 0) {
		out->kind = SIGTRACE_SIGNAL;
		struct sigtrace_signal *s = &out->signal;
		s->t_ns = t;
		s->sender_pid = (int)h.pid;
		s->sender_tid = (int)h.tid;
		s->cpu = (int)h.cpu;
		decode_signal(l, r, s);
		return 1;
	}
	if (type == l->oom_id && l->oom_id > 0) {
		out->kind = SIGTRACE_OOM;
		struct sigtrace_oom *o = &out->oom;
		o->t_ns = t;
		o->trigger_pid = (int)h.pid;
		o->trigger_tid = (int)h.tid;
		o->cpu = (int)h.cpu;
		decode_oom(l, r, o);
		return 1;
	}
	if (type == l->exit_id && l->exit_id > 0) {
		out->kind = SIGTRACE_EXIT;
		struct sigtrace_exit *x = &out->exit;
		x->t_ns = t;
		x->pid = (int)h.pid;
		x->tid = (int)get_int(r, &l->x_pid, true, h.tid);
		x->cpu = (int)h.cpu;
		x->group_dead = get_int(r, &l->x_group_dead, false, 0) != 0;
		get_str(r, &l->x_comm, x->comm, sizeof(x->comm));
		return 1;
	}
	return 0;
}

int sigtrace_parse_record(const struct sigtrace_layout *l, const void *rec,
			  size_t len, struct sigtrace_event *out)
{
	struct perf_event_header h;
	memset(out, 0, sizeof(*out));
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, rec, sizeof(h));
	if (h.size < sizeof(h) || h.size > len)
		return -EINVAL;
	len = h.size;
	if (h.type == PERF_RECORD_SAMPLE)
		return parse_sample(l, rec, len, out);
	if (h.type == PERF_RECORD_LOST) {
		if (len < sizeof(h) + 16)
			return -EINVAL;
		out->kind = SIGTRACE_LOST;
		memcpy(&out->lost, (const char *)rec + sizeof(h) + 8, 8);
		return 1;
	}
	return 0;
}

/* ---- the reader ---- */

#define SIGTRACE_EXIT_MEMORY 1024

struct ring {
	int sig_fd;              /* owns the ring */
	int oom_fd;              /* write into sig_fd's ring; -1 if none */
	int exit_fd;
	struct perfring_map map;
};

struct sigtrace {
	struct sigtrace_layout layout;
	struct ring *rings;
	size_t nrings;
	int epfd;
	int clockid;             /* of the samples; -1: perf's default */
	uint64_t lost;
	struct perfring_scratch scratch;  /* a record that wraps the ring end */
	void (*hook)(const void *, size_t, void *);
	void *hook_ctx;
	/* the latest thread exits, to name senders that are gone */
	struct sigtrace_exit exits[SIGTRACE_EXIT_MEMORY];
	size_t nexits;           /* ever seen; the slot is nexits % MEMORY */
};

static void fill_attr(struct perf_event_attr *a, int id, unsigned wakeup_bytes,
		      int clockid)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_TRACEPOINT;
	a->config = (uint64_t)id;
	a->sample_period = 1;
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU |
			 PERF_SAMPLE_RAW;
	if (wakeup_bytes > 1) {
		a->watermark = 1;
		a->wakeup_watermark = wakeup_bytes;
	} else {
		a->wakeup_events = 1;
	}
	if (clockid >= 0) {
		a->use_clockid = 1;
		a->clockid = clockid;
	}
}

static void close_ring(struct ring *r)
{
	perfring_munmap(&r->map);
	if (r->oom_fd >= 0)
		close(r->oom_fd);
	if (r->exit_fd >= 0)
		close(r->exit_fd);
	if (r->sig_fd >= 0)
		close(r->sig_fd);
}

void sigtrace_close(struct sigtrace *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nrings; i++)
		close_ring(&st->rings[i]);
	if (st->epfd >= 0)
		close(st->epfd);
	free(st->rings);
	free(st->scratch.buf);
	free(st);
}

/* Open tracepoint id on cpu writing into r's ring; returns the fd or -errno. */
static int open_follower(struct sigtrace *st, struct ring *r, int id, int cpu,
			 unsigned wakeup, const char *what, char *err, size_t errlen)
{
	struct perf_event_attr a;
	fill_attr(&a, id, wakeup, st->clockid);
	int fd = perfring_event_open(&a, -1, cpu, -1);
	if (fd < 0)
		return perfring_error(fd, err, errlen, what);
	if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, r->sig_fd) < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "%s: perf SET_OUTPUT: %s", what, strerror(e));
		return -e;
	}
	return fd;
}

static int open_ring(struct sigtrace *st, struct ring *r, int cpu, size_t pages,
		     unsigned wakeup, const char *filter, char *err, size_t errlen)
{
	struct perf_event_attr a;
	r->sig_fd = r->oom_fd = r->exit_fd = -1;
	fill_attr(&a, st->layout.signal_id, wakeup, st->clockid);
	int fd = perfring_event_open(&a, -1, cpu, -1);
	if (fd < 0)
		return perfring_error(fd, err, errlen, "signal:signal_generate");
	r->sig_fd = fd;
	if (filter && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter) < 0) {
		int e = errno;
		snprintf(err, errlen, "signal_generate filter \"%s\": %s", filter, strerror(e));
		return -e;
	}
	int e = perfring_mmap(fd, pages, &r->map, err, errlen);
	if (e < 0)
		return e;
	if (st->layout.oom_id > 0) {
		r->oom_fd = open_follower(st, r, st->layout.oom_id, cpu, wakeup,
					  "oom:mark_victim", err, errlen);
		if (r->oom_fd < 0)
			return r->oom_fd;
	}
	if (st->layout.exit_id > 0) {
		r->exit_fd = open_follower(st, r, st->layout.exit_id, cpu, wakeup,
					   "sched:sched_process_exit", err, errlen);
		if (r->exit_fd < 0)
			return r->exit_fd;
	}
	return perfring_watch(st->epfd, r->sig_fd, (uint64_t)(r - st->rings), err,
			      errlen);
}

/* Can this kernel stamp tracepoint samples with clockid? CLOCK_REALTIME is
 * refused (EINVAL) for PMUs that may sample in NMI context, the tracepoint
 * PMU included on 6.18. */
static bool clock_accepted(int id, int clockid)
{
	struct perf_event_attr a;
	fill_attr(&a, id, 0, clockid);
	a.disabled = 1;
	int fd = perfring_event_open(&a, -1, 0, -1);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int open_all(struct sigtrace *st, const struct sigtrace_opts *o,
		    char *err, size_t errlen)
{
	size_t pages = o->ring_pages ? o->ring_pages : 64;
	if (pages & (pages - 1)) {
		snprintf(err, errlen, "ring_pages %zu is not a power of 2", pages);
		return -EINVAL;
	}
	size_t bytes = pages * (size_t)sysconf(_SC_PAGESIZE);
	unsigned wakeup = o->wakeup_bytes ? o->wakeup_bytes : (unsigned)(bytes / 4);
	/* Without CLOCK_REALTIME, stamp with CLOCK_MONOTONIC (not perf's
	 * default local_clock, which drifts from it) and shift by the offset
	 * between the two clocks now. */
	st->clockid = CLOCK_REALTIME;
	if (!clock_accepted(st->layout.signal_id, CLOCK_REALTIME)) {
		st->clockid = clock_accepted(st->layout.signal_id, CLOCK_MONOTONIC)
			      ? CLOCK_MONOTONIC : -1;
		st->layout.time_offset_ns = util_realtime_offset_ns();
	}
	int *cpus;
	int n = perfring_online_cpus(&cpus);
	st->rings = xcalloc((size_t)n, sizeof(*st->rings));
	int r = 0;
	for (int i = 0; i < n && r == 0; i++) {
		r = open_ring(st, &st->rings[i], cpus[i], pages, wakeup, o->signal_filter,
			      err, errlen);
		st->nrings = (size_t)i + 1;
	}
	free(cpus);
	return r;
}

int sigtrace_open(const struct sigtrace_opts *o, struct sigtrace **out,
		  char *err, size_t errlen)
{
	static const struct sigtrace_opts defaults;
	static const char *const events[] = { "signal/signal_generate", "oom/mark_victim",
					      "sched/sched_process_exit" };
	struct tracefs_format f[3];
	*out = NULL;
	if (!o)
		o = &defaults;
	int r = tracefs_read_formats(events, 3, f, err, errlen);
	if (r < 0)
		return r;
	struct sigtrace *st = xcalloc(1, sizeof(*st));
	st->epfd = -1;
	if (f[0].id <= 0) {
		snprintf(err, errlen, "no tracepoint signal:signal_generate in this kernel");
		r = -ENOENT;
	} else if (sigtrace_layout_init(&st->layout, &f[0], o->no_oom ? NULL : &f[1],
					o->no_exit ? NULL : &f[2]) < 0) {
		snprintf(err, errlen, "signal_generate/mark_victim/sched_process_exit: "
			 "unexpected format");
		r = -EINVAL;
	}
	for (int i = 0; i < 3; i++)
		tracefs_format_release(&f[i]);
	if (r == 0) {
		st->epfd = epoll_create1(EPOLL_CLOEXEC);
		r = st->epfd < 0 ? -errno : open_all(st, o, err, errlen);
	}
	if (r < 0) {
		sigtrace_close(st);
		return r;
	}
	*out = st;
	return 0;
}

int sigtrace_fd(const struct sigtrace *st)
{
	return st->epfd;
}

bool sigtrace_has_oom(const struct sigtrace *st)
{
	return st->layout.oom_id > 0;
}

bool sigtrace_realtime(const struct sigtrace *st)
{
	return st->clockid == CLOCK_REALTIME;
}

uint64_t sigtrace_lost(const struct sigtrace *st)
{
	return st->lost;
}

const struct sigtrace_layout *sigtrace_layout(const struct sigtrace *st)
{
	return &st->layout;
}

void sigtrace_set_raw_hook(struct sigtrace *st,
			   void (*hook)(const void *rec, size_t len, void *ctx),
			   void *ctx)
{
	st->hook = hook;
	st->hook_ctx = ctx;
}

static void remember_exit(struct sigtrace *st, const struct sigtrace_exit *x)
{
	st->exits[st->nexits++ % SIGTRACE_EXIT_MEMORY] = *x;
}

/* The sender's comm: from its exit record if it has exited (before or
 * after sending), else from /proc. */
static void sender_comm(struct sigtrace *st, struct sigtrace_signal *s)
{
	size_t have = st->nexits < SIGTRACE_EXIT_MEMORY ? st->nexits : SIGTRACE_EXIT_MEMORY;
	for (size_t i = 0; i < have; i++) {
		const struct sigtrace_exit *x = &st->exits[(st->nexits - 1 - i) %
							   SIGTRACE_EXIT_MEMORY];
		/* a sender may signal after its exit tracepoint (SIGCHLD to
		 * its parent from exit_notify): allow a second before */
		if (x->tid == s->sender_tid && x->t_ns + 1000000000ULL >= s->t_ns) {
			memcpy(s->sender_comm, x->comm, sizeof(s->sender_comm));
			s->sender_exited = true;
			return;
		}
	}
	char path[64], *text;
	size_t len;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", s->sender_pid, s->sender_tid);
	if (util_read_file(path, &text, &len) < 0)
		return;
	while (len && text[len - 1] == '\n')
		len--;
	if (len >= sizeof(s->sender_comm))
		len = sizeof(s->sender_comm) - 1;
	memcpy(s->sender_comm, text, len);
	s->sender_comm[len] = '\0';
	free(text);
}

/* Parse the records of ring r into out (at most max), keeping those want
 * wants, and hand their space back to the kernel. */
static size_t drain_ring(struct sigtrace *st, struct ring *r, struct sigtrace_event *out,
			 size_t max, sigtrace_want_fn want, void *ctx)
{
	uint64_t head = __atomic_load_n(&r->map.meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = r->map.meta->data_tail;
	size_t n = 0, size;
	const unsigned char *rec;
	while (n < max && (rec = perfring_next(r->map.data, r->map.data_size, &tail, head,
					       &st->scratch, &size))) {
		if (st->hook)
			st->hook(rec, size, st->hook_ctx);
		if (sigtrace_parse_record(&st->layout, rec, size, &out[n]) != 1)
			continue;
		if (out[n].kind == SIGTRACE_LOST)
			st->lost += out[n].lost;
		else if (out[n].kind == SIGTRACE_EXIT)
			remember_exit(st, &out[n].exit);
		if (out[n].kind != SIGTRACE_LOST && want && !want(&out[n], ctx))
			continue;
		n++;
	}
	__atomic_store_n(&r->map.meta->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

int sigtrace_read(struct sigtrace *st, struct sigtrace_event *out, size_t max,
		  sigtrace_want_fn want, void *ctx)
{
	/* consume the epoll readiness: the next wakeup is then seen afresh */
	struct epoll_event evs[8];
	while (epoll_wait(st->epfd, evs, 8, 0) == 8)
		;
	size_t n = 0;
	for (size_t i = 0; i < st->nrings && n < max; i++)
		n += drain_ring(st, &st->rings[i], out + n, max - n, want, ctx);
	/* after every ring: a sender's exit may sit in another CPU's ring */
	for (size_t i = 0; i < n; i++)
		if (out[i].kind == SIGTRACE_SIGNAL)
			sender_comm(st, &out[i].signal);
	return (int)n;
}
