/* test_faultlog.c - preload rings drained into a session: events wait for
 * their process, native addresses are symbolized, Python frames named,
 * frames and stacks stored once, rings of exited processes removed */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "collectors/faultring.h"
#include "faults/faultlog.h"
#include "session_fixture.h"

__attribute__((noinline)) void faultlog_test_writer(void);
static volatile int sink;

/* Long enough that the address 4 bytes in is still inside it. */
__attribute__((noinline)) void faultlog_test_writer(void)
{
	for (int i = 0; i < 8; i++)
		sink += i;
}

int main(void);

struct fx {
	struct sfx x;
	char *spool;
	struct faultring_writer w;
	int64_t known_id;        /* what process_id answers for our pid */
	bool exited;
};

static int64_t lk_process_id(void *ctx, int pid)
{
	struct fx *f = ctx;
	return pid == getpid() ? f->known_id : 0;
}

static int64_t lk_region_id(void *ctx, int pid, uint64_t addr)
{
	(void)ctx;
	(void)pid;
	(void)addr;
	return 0;
}

static int lk_parent_pid(void *ctx, int pid)
{
	(void)ctx;
	(void)pid;
	return 0;
}

static bool lk_exited(void *ctx, int pid)
{
	struct fx *f = ctx;
	return pid == getpid() && f->exited;
}

/* A ring of this process with n events: a native stack of the writer
 * function (frame 0, the faulting instruction) called from main (a return
 * address), and one Python frame of a code object named in the ring. */
static void write_ring(struct fx *f, int n)
{
	assert_int_equal(faultring_writer_open(&f->w, f->spool, getpid(), 64, 16,
						 FAULTRING_F_NATIVE | FAULTRING_F_PYTHON,
						 ""), 0);
	struct faultring_code *c = faultring_writer_code_claim(&f->w, 0x1000);
	assert_non_null(c);
	snprintf(c->name, sizeof(c->name), "handler");
	snprintf(c->file, sizeof(c->file), "/srv/app.py");
	faultring_writer_code_done(c);
	for (int i = 0; i < n; i++) {
		uint64_t idx;
		struct faultring_slot *s = faultring_writer_reserve(&f->w, &idx);
		assert_non_null(s);
		s->t_ns = 1700000000ULL * 1000000000ULL + (uint64_t)i;
		s->addr = 0x7f0000000000ULL + 4096ULL * (uint64_t)i;
		s->tid = getpid();
		s->nnative = 2;
		s->native[0] = (uint64_t)(uintptr_t)faultlog_test_writer + 4;
		s->native[1] = (uint64_t)(uintptr_t)main + 10;
		s->npy = 1;
		s->py_code[0] = 0x1000;
		s->py_line[0] = 42;
		faultring_writer_commit(&f->w, s, idx);
	}
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	sfx_open(&f->x);
	sfx_proc(&f->x, 0, getpid(), 1, -1, 0, "test");
	if (asprintf(&f->spool, "%s/spool", f->x.dir) < 0 || mkdir(f->spool, 0700))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	faultring_writer_close(&f->w);
	char *ring = NULL;
	if (asprintf(&ring, "%s/faults.%d", f->spool, getpid()) >= 0)
		unlink(ring);
	free(ring);
	rmdir(f->spool);
	free(f->spool);
	if (f->x.s)
		sfx_close(&f->x);
	sfx_remove(&f->x);
	free(f);
	return 0;
}

static int drain(struct fx *f, struct faultlog *fs)
{
	struct faultlog_lookup l = { f, lk_process_id, lk_region_id,
				      lk_parent_pid, lk_exited, NULL };
	sfx_check(session_begin(f->x.s), "begin");
	int e = faultlog_drain(fs, &f->x.out, &l);
	sfx_check(session_end_sample(f->x.s), "commit");
	return e;
}

static void test_faultlog_events_wait_for_their_process(void **state)
{
	struct fx *f = *state;
	write_ring(f, 3);
	struct faultlog *fs = faultlog_new(f->spool, NULL);
	f->known_id = 0;                 /* the recorder has not seen it yet */
	assert_int_equal(drain(f, fs), 0);
	assert_int_equal(faultlog_events(fs), 0);
	f->known_id = f->x.proc_id[0];
	assert_int_equal(drain(f, fs), 0);
	assert_int_equal(faultlog_events(fs), 3);
	assert_int_equal(drain(f, fs), 0);  /* nothing new */
	assert_int_equal(faultlog_events(fs), 3);
	faultlog_free(fs);
	sfx_close(&f->x);
	struct session_data d;
	sfx_load(&f->x, &d);
	assert_int_equal(d.nfault_groups, 1);
	const struct session_fault_group *g = &d.fault_groups[0];
	assert_int_equal(g->pages, 3);
	assert_int_equal(d.procs[g->process].fault_events, 3);
	assert_string_equal(d.procs[g->process].fault_method, "preload");
	const struct session_stack *nat = &d.stacks[g->native_stack];
	assert_int_equal(nat->nframes, 2);
	const struct session_frame *w = &d.frames[nat->frames[0]];
	assert_string_equal(w->function, "faultlog_test_writer");
	assert_int_equal(w->offset, 4);      /* the faulting instruction itself */
	const struct session_frame *m = &d.frames[nat->frames[1]];
	assert_string_equal(m->function, "main");
	assert_int_equal(m->offset, 9);      /* the call before the return address */
	const struct session_frame *py = &d.frames[d.stacks[g->python_stack].frames[0]];
	assert_true(py->python);
	assert_string_equal(py->function, "handler");
	assert_string_equal(py->module, "/srv/app.py");
	assert_int_equal(py->line, 42);
	session_data_release(&d);
}

static int names_handler(void *ctx, int pid, uint64_t code, const char **name,
			 const char **file)
{
	(void)ctx;
	(void)pid;
	(void)code;
	*name = "handler";
	*file = "/srv/app.py";
	return 0;
}

/* An event like write_ring's of process pid at Python line line. */
static struct faultring_event event_at(int pid, int line)
{
	struct faultring_event ev = { .pid = pid, .tid = pid, .weight = 1,
				      .t = 1700000000.0, .addr = 0x7f0000000000ULL,
				      .nnative = 2, .npy = 1 };
	ev.native[0] = (uint64_t)(uintptr_t)faultlog_test_writer + 4;
	ev.native[1] = (uint64_t)(uintptr_t)main + 10;
	ev.py[0] = (struct pyframe){ 0x1000, line };
	return ev;
}

/* A burst repeats the previous event's stacks, which are then not looked
 * up again; an event of another process (or another line) is. */
static void test_faultlog_repeated_stacks(void **state)
{
	struct fx *f = *state;
	int other = getpid() + 1;
	sfx_proc(&f->x, 1, other, 1, -1, 0, "other");
	struct faultlog *fs = faultlog_new(NULL, NULL);
	struct faultlog_lookup l = { f, lk_process_id, lk_region_id,
				      lk_parent_pid, lk_exited, NULL };
	struct faultlog_names nm = { NULL, names_handler };
	const struct { int pid, line; } evs[] = {
		{ getpid(), 42 }, { getpid(), 42 }, { getpid(), 43 }, { getpid(), 42 },
		{ other, 42 }, { other, 42 }, { getpid(), 42 },
	};
	sfx_check(session_begin(f->x.s), "begin");
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		struct faultring_event ev = event_at(evs[i].pid, evs[i].line);
		int64_t id = f->x.proc_id[evs[i].pid == getpid() ? 0 : 1];
		assert_int_equal(faultlog_write_event(fs, &f->x.out, &ev, id, &nm, &l), 0);
	}
	/* one frame deeper: the outer frames are the previous event's */
	struct faultring_event deeper = event_at(getpid(), 44);
	deeper.nnative = 3;
	deeper.native[0] = (uint64_t)(uintptr_t)faultlog_test_writer + 6;
	deeper.native[1] = (uint64_t)(uintptr_t)faultlog_test_writer + 4;  /* a return address now */
	deeper.native[2] = (uint64_t)(uintptr_t)main + 10;
	assert_int_equal(faultlog_write_event(fs, &f->x.out, &deeper, f->x.proc_id[0], &nm,
					       &l), 0);
	sfx_check(session_end_sample(f->x.s), "commit");
	faultlog_free(fs);
	sfx_close(&f->x);
	struct session_data d;
	sfx_load(&f->x, &d);
	assert_int_equal(d.nfault_groups, 4);
	int frame0[3] = { -1, -1, -1 };  /* other's, line 42's, line 43's */
	for (size_t i = 0; i < d.nfault_groups; i++) {
		const struct session_fault_group *g = &d.fault_groups[i];
		const struct session_stack *nat = &d.stacks[g->native_stack];
		int w = nat->frames[0];
		const struct session_frame *py = &d.frames[d.stacks[g->python_stack].frames[0]];
		if (py->line == 44) {
			static const struct { const char *fn; uint64_t off; } want[] = {
				{ "faultlog_test_writer", 6 }, { "faultlog_test_writer", 3 },
				{ "main", 9 } };
			assert_int_equal(nat->nframes, 3);
			for (int k = 0; k < 3; k++) {
				assert_string_equal(d.frames[nat->frames[k]].function, want[k].fn);
				assert_int_equal(d.frames[nat->frames[k]].offset, want[k].off);
			}
			continue;
		}
		int k = d.procs[g->process].pid == other ? 0 : py->line == 42 ? 1 : 2;
		assert_int_equal(frame0[k], -1);
		frame0[k] = w;
		assert_int_equal(g->pages, k == 0 ? 2 : k == 1 ? 4 : 1);
		assert_int_equal(py->line, k == 2 ? 43 : 42);
		if (k)
			assert_string_equal(d.frames[w].function, "faultlog_test_writer");
	}
	/* frames are per process: the other's were looked up for it */
	assert_int_not_equal(frame0[0], frame0[1]);
	assert_int_equal(frame0[1], frame0[2]);
	session_data_release(&d);
}

static void write_maps(const char *root, int pid, const char *text)
{
	char *dir, *path;
	assert_true(asprintf(&dir, "%s/%d", root, pid) > 0);
	assert_true(asprintf(&path, "%s/maps", dir) > 0);
	mkdir(root, 0700);
	mkdir(dir, 0700);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(dir);
	free(path);
}

/* The module of the innermost frame of an event at ip, time t. */
static const char *module_at(struct fx *f, struct faultlog *fs, uint64_t ip, double t,
			     struct session_data *d)
{
	struct faultlog_lookup l = { f, lk_process_id, lk_region_id,
				      lk_parent_pid, lk_exited, NULL };
	struct faultlog_names nm = { NULL, names_handler };
	struct faultring_event ev = event_at(getpid(), 42);
	ev.t = t;
	ev.nnative = 1;
	ev.native[0] = ip;
	sfx_check(session_begin(f->x.s), "begin");
	assert_int_equal(faultlog_write_event(fs, &f->x.out, &ev, f->x.proc_id[0], &nm, &l), 0);
	sfx_check(session_end_sample(f->x.s), "commit");
	session_data_release(d);
	sfx_load(&f->x, d);
	for (size_t i = 0; i < d->nfault_groups; i++)
		if (d->fault_groups[i].first_t == t)
			return d->frames[d->stacks[d->fault_groups[i].native_stack].frames[0]].module;
	fail_msg("no fault at %f", t);
	return NULL;
}

/* An address in no mapping reads the maps again only when they were read
 * before its fault: read after it, they hold every mapping it could be in. */
static void test_faultlog_maps_read_again_only_if_older_than_the_fault(void **state)
{
	struct fx *f = *state;
	char *root;
	assert_true(asprintf(&root, "%s/proc", f->x.dir) > 0);
	write_maps(root, getpid(), "00400000-00401000 r-xp 00000000 08:01 1 /srv/a.so\n");
	struct faultlog *fs = faultlog_new(NULL, root);
	struct session_data d = { 0 };
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double t = (double)now.tv_sec;
	/* read now: nothing at 0x500010 */
	assert_string_equal(module_at(f, fs, 0x500010, t - 10, &d), "[unknown]");
	write_maps(root, getpid(), "00400000-00401000 r-xp 00000000 08:01 1 /srv/a.so\n"
		   "00500000-00501000 r-xp 00001000 08:01 2 /srv/b.so\n");
	/* a fault before that read: b.so was not there (or is gone) */
	assert_string_equal(module_at(f, fs, 0x500020, t - 5, &d), "[unknown]");
	/* a fault after it: b.so may be new */
	assert_string_equal(module_at(f, fs, 0x500030, t + 5, &d), "/srv/b.so");
	session_data_release(&d);
	faultlog_free(fs);
	char *cmd;
	assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(root);
}

/* Once the process has exited and its ring is read to the end, the ring
 * file is removed. */
static void test_faultlog_removes_rings_of_exited_processes(void **state)
{
	struct fx *f = *state;
	write_ring(f, 2);
	struct faultlog *fs = faultlog_new(f->spool, NULL);
	f->known_id = f->x.proc_id[0];
	char *ring = NULL;
	assert_true(asprintf(&ring, "%s/faults.%d", f->spool, getpid()) > 0);
	assert_int_equal(drain(f, fs), 0);
	assert_int_equal(access(ring, F_OK), 0);
	f->exited = true;
	assert_int_equal(drain(f, fs), 0);
	assert_int_equal(access(ring, F_OK), -1);
	assert_int_equal(faultlog_events(fs), 2);
	assert_int_equal(faultlog_dropped(fs), 0);
	free(ring);
	faultlog_free(fs);
}

/* A full ring drops events; the drop count reaches the session. */
static void test_faultlog_counts_drops(void **state)
{
	struct fx *f = *state;
	write_ring(f, 64);
	uint64_t idx;
	assert_null(faultring_writer_reserve(&f->w, &idx));  /* full: dropped */
	struct faultlog *fs = faultlog_new(f->spool, NULL);
	f->known_id = f->x.proc_id[0];
	assert_int_equal(drain(f, fs), 0);
	assert_int_equal(faultlog_events(fs), 64);
	assert_int_equal(faultlog_dropped(fs), 1);
	faultlog_free(fs);
	sfx_close(&f->x);
	struct session_data d;
	sfx_load(&f->x, &d);
	assert_int_equal(d.procs[0].fault_dropped, 1);
	assert_int_equal(d.procs[0].fault_events, 64);
	session_data_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_faultlog_events_wait_for_their_process,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_faultlog_removes_rings_of_exited_processes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_faultlog_counts_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faultlog_repeated_stacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faultlog_maps_read_again_only_if_older_than_the_fault,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
