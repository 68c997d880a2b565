/* faultlog.c - move first-write events from the preload rings into a session */
#include "faults/faultlog.h"
#include "collectors/faultring.h"
#include "collectors/maps.h"
#include "collectors/procfs.h"
#include "collectors/symbols.h"
#include "common/util.h"
#include "faults/idmap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How far up the tree an exited process's addresses are looked for. */
#define MAX_ANCESTORS 8

struct ring {
	char *path;
	int pid;
	struct faultring *r;
	struct faultring_event ev;   /* read, not yet written */
	bool pending;
	uint64_t events;             /* written to the session */
	uint64_t written_events, written_dropped;  /* as last written */
	bool source_written;
};

/* A process's mappings, read when one of its addresses is first met. */
struct pmaps {
	int pid;
	struct maps_region *r;
	size_t n;
	double read_at;             /* seconds since the epoch */
};

/* Between the events' clock (perf's, or the preload library's) and ours. */
#define CLOCK_SLACK_S 0.01

struct faultlog {
	char *spool, *proc_root;
	struct ring *rings;
	size_t nrings, caprings;
	struct pmaps *maps;
	size_t nmaps, capmaps;
	struct symbols *sym;
	struct idmap *native, *python, *stacks;
	/* the last event's stacks: a burst repeats them, and looking their
	 * frames up again was most of the drain's time */
	struct {
		bool valid;
		int pid;
		size_t n;
		uint64_t ip[FAULTRING_MAX_NATIVE];
		int64_t frame[FAULTRING_MAX_NATIVE];
		int64_t id;
	} last_native;
	struct {
		bool valid;
		int pid;
		size_t n;
		struct pyframe py[FAULTRING_MAX_PY];
		int64_t id;
	} last_py;
	uint64_t events;
	uint64_t pages;             /* the events' weights summed */
};

struct faultlog *faultlog_new(const char *spool_dir, const char *proc_root)
{
	struct faultlog *fs = xcalloc(1, sizeof(*fs));
	fs->spool = spool_dir ? xstrdup(spool_dir) : NULL;
	fs->proc_root = xstrdup(proc_root ? proc_root : "/proc");
	fs->sym = symbols_new();
	fs->native = idmap_new();
	fs->python = idmap_new();
	fs->stacks = idmap_new();
	return fs;
}

void faultlog_free(struct faultlog *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->nrings; i++) {
		faultring_close(fs->rings[i].r);
		free(fs->rings[i].path);
	}
	for (size_t i = 0; i < fs->nmaps; i++)
		maps_free(fs->maps[i].r, fs->maps[i].n);
	free(fs->rings);
	free(fs->maps);
	symbols_free(fs->sym);
	idmap_free(fs->native);
	idmap_free(fs->python);
	idmap_free(fs->stacks);
	free(fs->spool);
	free(fs->proc_root);
	free(fs);
}

uint64_t faultlog_events(const struct faultlog *fs)
{
	return fs->events;
}

uint64_t faultlog_pages(const struct faultlog *fs)
{
	return fs->pages;
}

uint64_t faultlog_dropped(const struct faultlog *fs)
{
	uint64_t n = 0;
	for (size_t i = 0; i < fs->nrings; i++)
		n += fs->rings[i].written_dropped;
	return n;
}

/* ---- finding rings ---- */

static bool known_ring(const struct faultlog *fs, int pid)
{
	for (size_t i = 0; i < fs->nrings; i++)
		if (fs->rings[i].pid == pid)
			return true;
	return false;
}

/* Open the ring files that appeared since the last call: "faults.PID". */
static void scan_spool(struct faultlog *fs)
{
	DIR *dir = opendir(fs->spool);
	if (!dir)
		return;
	struct dirent *de;
	while ((de = readdir(dir))) {
		char *end;
		if (strncmp(de->d_name, "faults.", 7))
			continue;
		long pid = strtol(de->d_name + 7, &end, 10);
		if (*end || pid <= 0 || known_ring(fs, (int)pid))
			continue;
		char *path = NULL;
		path = xasprintf("%s/%s", fs->spool, de->d_name);
		struct faultring *r;
		if (faultring_open(path, &r) < 0) {
			free(path);  /* not ready yet, or not a ring: try again later */
			continue;
		}
		util_grow((void **)&fs->rings, &fs->caprings, fs->nrings + 1,
			  sizeof(*fs->rings));
		struct ring *rg = &fs->rings[fs->nrings++];
		memset(rg, 0, sizeof(*rg));
		rg->path = path;
		rg->pid = faultring_pid(r);
		rg->r = r;
	}
	closedir(dir);
}

/* ---- native frames ---- */

static const struct pmaps *maps_of(struct faultlog *fs, int pid, bool reload)
{
	struct pmaps *m = NULL;
	for (size_t i = 0; i < fs->nmaps && !m; i++)
		if (fs->maps[i].pid == pid)
			m = &fs->maps[i];
	if (m && !reload)
		return m;
	char *text;
	size_t len;
	if (procfs_read(fs->proc_root, pid, "maps", &text, &len) < 0)
		return m;  /* gone: keep what was read before, if anything */
	if (!m) {
		util_grow((void **)&fs->maps, &fs->capmaps, fs->nmaps + 1,
			  sizeof(*fs->maps));
		m = &fs->maps[fs->nmaps++];
		*m = (struct pmaps){ .pid = pid };
	}
	maps_free(m->r, m->n);
	m->r = NULL;
	m->n = 0;
	if (maps_parse(text, len, &m->r, &m->n) < 0)
		m->n = 0;
	free(text);
	m->read_at = util_clock_s(CLOCK_REALTIME);
	return m;
}

void faultlog_preload(struct faultlog *fs, int pid)
{
	const struct pmaps *m = maps_of(fs, pid, false);
	for (size_t i = 0; m && i < m->n; i++) {
		const struct maps_region *g = &m->r[i];
		struct symbols_frame sf;
		if (g->exec && g->path[0] == '/')
			(void)symbols_resolve(fs->sym, g->path, g->offset, &sf);
	}
}

static const struct maps_region *region_at(const struct pmaps *m, uint64_t ip)
{
	return m ? symbols_find_mapping(m->r, m->n, ip) : NULL;
}

/* The mapping of pid that held ip at time t, else its ancestors' (an
 * exited process inherited theirs). */
static const struct maps_region *find_mapping(struct faultlog *fs, int pid,
					      uint64_t ip, double t,
					      const struct faultlog_lookup *l)
{
	const struct pmaps *m = maps_of(fs, pid, false);
	const struct maps_region *g = region_at(m, ip);
	/* maps read after the fault hold every mapping that was there then
	 * and still is: read them again only when they may be older (an ip
	 * in no mapping, e.g. a frame-pointer unwind's garbage, would
	 * otherwise read them for each new one) */
	if (!g && (!m || m->read_at <= t + CLOCK_SLACK_S))
		g = region_at(maps_of(fs, pid, true), ip);
	for (int up = 0; !g && up < MAX_ANCESTORS; up++) {
		pid = l->parent_pid(l->ctx, pid);
		if (pid <= 0)
			break;
		g = region_at(maps_of(fs, pid, false), ip);
	}
	return g;
}

static int native_frame(struct faultlog *fs, const struct sink *s, int pid,
			uint64_t ip, double t, const struct faultlog_lookup *l,
			int64_t *id)
{
	struct { int32_t pid; uint64_t ip; } __attribute__((packed)) key = { pid, ip };
	if (idmap_get(fs->native, &key, sizeof(key), id))
		return 0;
	const struct maps_region *g = find_mapping(fs, pid, ip, t, l);
	struct sink_frame f = { .module = "[unknown]", .offset = ip };
	struct symbols_frame sf;
	if (g && *g->path) {
		uint64_t off = ip - g->start + g->offset;
		f.module = g->path;
		f.offset = off;
		if (symbols_resolve(fs->sym, g->path, off, &sf) == 0 && sf.function) {
			f.function = sf.function;
			f.offset = sf.func_offset;
			f.source = sf.source_file;
			f.line = sf.line;
		}
	} else if (g) {
		f.module = "[anon]";
	}
	int e = sink_add_frame(s, &f, id);
	if (e == 0)
		idmap_put(fs->native, &key, sizeof(key), *id);
	return e;
}

/* ---- stacks ---- */

static int add_stack(struct faultlog *fs, const struct sink *s, char kind,
		     const int64_t *ids, size_t n, int64_t *id)
{
	*id = 0;
	if (n == 0)
		return 0;
	size_t len = 1 + n * sizeof(*ids);
	char *key = xmalloc(len);
	key[0] = kind;
	memcpy(key + 1, ids, n * sizeof(*ids));
	int e = 0;
	if (!idmap_get(fs->stacks, key, len, id)) {
		e = sink_add_stack(s, ids, n, id);
		if (e == 0)
			idmap_put(fs->stacks, key, len, *id);
	}
	free(key);
	return e;
}

static int native_stack(struct faultlog *fs, const struct sink *s,
			const struct faultring_event *ev,
			const struct faultlog_lookup *l, int64_t *id)
{
	/* frame 0 is the faulting instruction (the preload library unwinds
	 * from the signal's context, the perf path from the sampled
	 * registers): no handler frames to skip */
	typeof(fs->last_native) *last = &fs->last_native;
	size_t nn = ev->nnative < FAULTRING_MAX_NATIVE ? ev->nnative : FAULTRING_MAX_NATIVE;
	bool same_pid = last->valid && last->pid == ev->pid;
	if (same_pid && last->n == nn &&
	    !memcmp(last->ip, ev->native, nn * sizeof(*ev->native))) {
		*id = last->id;
		return 0;
	}
	int64_t ids[FAULTRING_MAX_NATIVE];
	int e = 0;
	for (size_t i = 0; e == 0 && i < nn; i++) {
		/* callers' addresses are return addresses: look up the call */
		uint64_t ip = ev->native[i] - (i > 0);
		/* the previous stack's frame as far from the outermost: a burst
		 * shares its outer frames */
		size_t j = i + last->n - nn;
		if (same_pid && j < last->n && (j > 0) == (i > 0) &&
		    last->ip[j] == ev->native[i])
			ids[i] = last->frame[j];
		else
			e = native_frame(fs, s, ev->pid, ip, ev->t, l, &ids[i]);
	}
	if (e == 0)
		e = add_stack(fs, s, 'n', ids, nn, id);
	last->valid = e == 0;
	last->pid = ev->pid;
	last->n = nn;
	memcpy(last->ip, ev->native, nn * sizeof(*ev->native));
	memcpy(last->frame, ids, nn * sizeof(*ids));
	last->id = *id;
	return e;
}

static bool same_python(const struct pyframe *a, const struct pyframe *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].code != b[i].code || a[i].line != b[i].line)
			return false;
	return true;
}

static int python_frame(struct faultlog *fs, const struct sink *s, int pid,
			const struct pyframe *p, const struct faultlog_names *nm,
			int64_t *id)
{
	struct { int32_t pid; uint64_t code; int32_t line; } __attribute__((packed))
		key = { pid, p->code, p->line };
	if (idmap_get(fs->python, &key, sizeof(key), id))
		return 0;
	const char *name = "?", *file = "?";
	if (nm->name(nm->ctx, pid, p->code, &name, &file) < 0)
		name = file = "?";
	struct sink_frame f = { .python = true, .function = name,
					.module = file, .line = p->line };
	int e = sink_add_frame(s, &f, id);
	if (e == 0)
		idmap_put(fs->python, &key, sizeof(key), *id);
	return e;
}

static int python_stack(struct faultlog *fs, const struct sink *s,
			const struct faultring_event *ev,
			const struct faultlog_names *nm, int64_t *id)
{
	size_t np = ev->npy < FAULTRING_MAX_PY ? ev->npy : FAULTRING_MAX_PY;
	if (fs->last_py.valid && fs->last_py.pid == ev->pid && fs->last_py.n == np &&
	    same_python(fs->last_py.py, ev->py, np)) {
		*id = fs->last_py.id;
		return 0;
	}
	int64_t ids[FAULTRING_MAX_PY];
	size_t n = 0;
	int e = 0;
	for (size_t i = 0; e == 0 && i < np; i++)
		e = python_frame(fs, s, ev->pid, &ev->py[i], nm, &ids[n++]);
	if (e == 0)
		e = add_stack(fs, s, 'p', ids, n, id);
	fs->last_py.valid = e == 0;
	fs->last_py.pid = ev->pid;
	fs->last_py.n = np;
	memcpy(fs->last_py.py, ev->py, np * sizeof(*ev->py));
	fs->last_py.id = *id;
	return e;
}

int faultlog_write_event(struct faultlog *fs, const struct sink *s,
			  const struct faultring_event *ev, int64_t process_id,
			  const struct faultlog_names *nm,
			  const struct faultlog_lookup *l)
{
	int64_t nat = 0, py = 0;
	int e = native_stack(fs, s, ev, l, &nat);
	if (e == 0)
		e = python_stack(fs, s, ev, nm, &py);
	if (e == 0)
		e = sink_add_fault(s, process_id, ev->t, ev->tid, ev->addr,
				      l->region_id(l->ctx, ev->pid, ev->addr), nat, py,
				      ev->weight);
	if (e == 0) {
		fs->events++;
		fs->pages += ev->weight ? ev->weight : 1;
	}
	return e;
}

/* ---- draining ---- */

static int ring_names(void *ctx, int pid, uint64_t code, const char **name,
		      const char **file)
{
	(void)pid;
	return faultring_code_names(ctx, code, name, file);
}

static int write_event(struct faultlog *fs, const struct sink *s, struct ring *rg,
		       int64_t process_id, const struct faultlog_lookup *l)
{
	struct faultlog_names nm = { rg->r, ring_names };
	int e = faultlog_write_event(fs, s, &rg->ev, process_id, &nm, l);
	if (e == 0)
		rg->events++;
	return e;
}

/* Write what ring rg holds; returns 0 or -errno, and whether it is empty
 * now (as opposed to waiting for the recorder to know its process). */
static int drain_ring(struct faultlog *fs, const struct sink *s, struct ring *rg,
		      const struct faultlog_lookup *l, bool *empty)
{
	int64_t id = l->process_id(l->ctx, rg->pid);
	int e = 0;
	*empty = false;
	while (e == 0) {
		if (!rg->pending) {
			int got = faultring_next(rg->r, &rg->ev);
			if (got <= 0) {
				*empty = true;
				break;
			}
			rg->pending = true;
		}
		if (!id)
			break;
		e = write_event(fs, s, rg, id, l);
		rg->pending = false;
	}
	uint64_t dropped = faultring_dropped(rg->r);
	bool changed = !rg->source_written || dropped != rg->written_dropped ||
		       rg->events != rg->written_events;
	if (e == 0 && id && changed) {
		e = sink_set_fault_source(s, id, "preload", rg->events, dropped,
					     faultring_python_status(rg->r));
		rg->source_written = true;
		rg->written_events = rg->events;
		rg->written_dropped = dropped;
	}
	return e;
}

static void close_ring(struct faultlog *fs, size_t i)
{
	struct ring *rg = &fs->rings[i];
	faultring_close(rg->r);
	rg->r = NULL;
	unlink(rg->path);
	/* keep the entry: a pid's ring is read once (its events counted) */
}

int faultlog_drain(struct faultlog *fs, const struct sink *s,
		    const struct faultlog_lookup *l)
{
	if (fs->spool)
		scan_spool(fs);
	int e = 0;
	for (size_t i = 0; e == 0 && i < fs->nrings; i++) {
		struct ring *rg = &fs->rings[i];
		if (!rg->r)
			continue;
		bool exited = l->exited(l->ctx, rg->pid), empty;
		if (exited)  /* a record its writer never finished: skip it */
			faultring_skip_stalled(rg->r);
		e = drain_ring(fs, s, rg, l, &empty);
		if (e == 0 && exited && empty)
			close_ring(fs, i);
	}
	return e;
}
