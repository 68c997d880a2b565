/* test_faultring.c - the fault ring: writers, reader, drops, half-written
 * records, the code-name table, and files that are not rings */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/faultring.h"

struct fixture {
	char dir[64];
	char path[128];
	struct faultring_writer w;
	struct faultring *r;
};

static struct fixture *make(uint32_t nslots, uint32_t ncodes)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/cowprof-test-ring-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(faultring_writer_open(&f->w, f->dir, 4242, nslots, ncodes,
						 FAULTRING_F_NATIVE, "no CPython"), 0);
	snprintf(f->path, sizeof(f->path), "%s/faults.4242", f->dir);
	assert_int_equal(faultring_open(f->path, &f->r), 0);
	return f;
}

static void destroy(struct fixture *f)
{
	faultring_close(f->r);
	faultring_writer_close(&f->w);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
}

/* Write one event with tid, addr and n native frames (addr + i). */
static bool put(struct faultring_writer *w, int tid, uint64_t addr, int n)
{
	uint64_t idx;
	struct faultring_slot *s = faultring_writer_reserve(w, &idx);
	if (!s)
		return false;
	s->t_ns = 1763810000ull * 1000000000ull + 250000000ull;
	s->tid = tid;
	s->addr = addr;
	s->nnative = (uint8_t)n;
	s->npy = 0;
	for (int i = 0; i < n; i++)
		s->native[i] = addr + (uint64_t)i;
	faultring_writer_commit(w, s, idx);
	return true;
}

static void test_single_writer_events_come_back_in_order(void **state)
{
	(void)state;
	struct fixture *f = make(64, 16);
	struct faultring_event ev;
	assert_int_equal(faultring_next(f->r, &ev), 0);
	for (int i = 0; i < 10; i++)
		assert_true(put(&f->w, 77, 0x1000u * (unsigned)i, i));
	for (int i = 0; i < 10; i++) {
		assert_int_equal(faultring_next(f->r, &ev), 1);
		assert_int_equal(ev.pid, 4242);
		assert_int_equal(ev.tid, 77);
		assert_int_equal(ev.addr, 0x1000u * (unsigned)i);
		assert_int_equal(ev.nnative, i);
		assert_int_equal(ev.npy, 0);
		for (int k = 0; k < i; k++)
			assert_int_equal(ev.native[k], 0x1000u * (unsigned)i + (unsigned)k);
		assert_true(ev.t > 1763810000.24 && ev.t < 1763810000.26);
	}
	assert_int_equal(faultring_next(f->r, &ev), 0);
	assert_int_equal(faultring_dropped(f->r), 0);
	assert_int_equal(faultring_pid(f->r), 4242);
	assert_string_equal(faultring_python_status(f->r), "no CPython");
	destroy(f);
}

static void test_full_ring_counts_drops_and_wraps_after_reading(void **state)
{
	(void)state;
	struct fixture *f = make(8, 0);
	struct faultring_event ev;
	for (int i = 0; i < 8; i++)
		assert_true(put(&f->w, 1, (uint64_t)i, 1));
	assert_false(put(&f->w, 1, 100, 1));
	assert_false(put(&f->w, 1, 101, 1));
	assert_int_equal(faultring_dropped(f->r), 2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(faultring_next(f->r, &ev), 1);
		assert_int_equal(ev.addr, i);
	}
	/* three slots free again: the writer wraps around */
	for (int i = 0; i < 3; i++)
		assert_true(put(&f->w, 1, 200 + (uint64_t)i, 1));
	assert_false(put(&f->w, 1, 300, 1));
	uint64_t want[] = { 3, 4, 5, 6, 7, 200, 201, 202 };
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(faultring_next(f->r, &ev), 1);
		assert_int_equal(ev.addr, want[i]);
	}
	assert_int_equal(faultring_next(f->r, &ev), 0);
	assert_int_equal(faultring_dropped(f->r), 3);
	destroy(f);
}

static void test_half_written_record_waits_then_is_skipped(void **state)
{
	(void)state;
	struct fixture *f = make(16, 0);
	struct faultring_event ev;
	assert_true(put(&f->w, 5, 1, 1));
	uint64_t idx;
	struct faultring_slot *s = faultring_writer_reserve(&f->w, &idx);
	assert_non_null(s);
	s->tid = 5;
	s->addr = 2;   /* the writer "dies" here: never committed */
	assert_true(put(&f->w, 5, 3, 1));
	assert_int_equal(faultring_next(f->r, &ev), 1);
	assert_int_equal(ev.addr, 1);
	assert_int_equal(faultring_next(f->r, &ev), 0);
	assert_int_equal(faultring_next(f->r, &ev), 0);
	assert_int_equal(faultring_skip_stalled(f->r), 1);
	assert_int_equal(faultring_next(f->r, &ev), 1);
	assert_int_equal(ev.addr, 3);
	assert_int_equal(faultring_dropped(f->r), 1);
	assert_int_equal(faultring_skip_stalled(f->r), 0);
	destroy(f);
}

static void test_slot_with_bad_counts_is_discarded(void **state)
{
	(void)state;
	struct fixture *f = make(16, 0);
	struct faultring_event ev;
	uint64_t idx;
	struct faultring_slot *s = faultring_writer_reserve(&f->w, &idx);
	s->tid = 9;
	s->nnative = 200;
	faultring_writer_commit(&f->w, s, idx);
	assert_true(put(&f->w, 9, 42, 2));
	assert_int_equal(faultring_next(f->r, &ev), 1);
	assert_int_equal(ev.addr, 42);
	assert_int_equal(faultring_dropped(f->r), 1);
	destroy(f);
}

static void test_code_names_are_interned_once(void **state)
{
	(void)state;
	struct fixture *f = make(16, 8);
	const char *name, *file;
	assert_int_equal(faultring_code_names(f->r, 0x7f0010, &name, &file), -ENOENT);
	struct faultring_code *c = faultring_writer_code_claim(&f->w, 0x7f0010);
	assert_non_null(c);
	strcpy(c->name, "Worker.handle");
	strcpy(c->file, "/srv/app.py");
	/* claimed, not yet published */
	assert_int_equal(faultring_code_names(f->r, 0x7f0010, &name, &file), -ENOENT);
	faultring_writer_code_done(c);
	assert_null(faultring_writer_code_claim(&f->w, 0x7f0010));
	assert_int_equal(faultring_code_names(f->r, 0x7f0010, &name, &file), 0);
	assert_string_equal(name, "Worker.handle");
	assert_string_equal(file, "/srv/app.py");
	/* a full table: claims fail, nothing breaks */
	int claimed = 0;
	for (uint64_t k = 1; k <= 20; k++) {
		struct faultring_code *e = faultring_writer_code_claim(&f->w, k << 12);
		if (e) {
			memset(e->name, 'x', sizeof(e->name));  /* no NUL */
			e->file[0] = '\0';
			faultring_writer_code_done(e);
			claimed++;
		}
	}
	assert_int_equal(claimed, 7);
	int found = 0;
	for (uint64_t k = 1; k <= 20; k++)
		if (faultring_code_names(f->r, k << 12, &name, &file) == 0) {
			assert_int_equal(strlen(name), FAULTRING_NAME_MAX - 1);
			found++;
		}
	assert_int_equal(found, 7);
	destroy(f);
}

struct writer_arg {
	struct faultring_writer *w;
	int tid;
	int n;
	int written;
};

static int finished;

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	for (int i = 0; i < a->n; i++)
		a->written += put(a->w, a->tid, (uint64_t)i, i % 5);
	__atomic_fetch_add(&finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_concurrent_writers_lose_nothing_but_counted_drops(void **state)
{
	(void)state;
	enum { THREADS = 4, EACH = 20000 };
	struct fixture *f = make(256, 0);
	pthread_t t[THREADS];
	struct writer_arg a[THREADS];
	for (int i = 0; i < THREADS; i++) {
		a[i] = (struct writer_arg){ &f->w, 100 + i, EACH, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, writer_thread, &a[i]), 0);
	}
	long next[THREADS] = { 0 };
	uint64_t got = 0;
	struct faultring_event ev;
	for (;;) {
		bool all_done = __atomic_load_n(&finished, __ATOMIC_ACQUIRE) == THREADS;
		int rc = faultring_next(f->r, &ev);
		assert_true(rc >= 0);
		if (rc == 0) {
			if (all_done)
				break;  /* nothing left after every writer ended */
			continue;
		}
		int k = ev.tid - 100;
		assert_true(k >= 0 && k < THREADS);
		/* per writer, addresses only go up (drops leave gaps) */
		assert_true((long)ev.addr >= next[k]);
		next[k] = (long)ev.addr + 1;
		assert_int_equal(ev.nnative, ev.addr % 5);
		got++;
	}
	uint64_t written = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		written += (uint64_t)a[i].written;
	}
	assert_int_equal(got, written);
	assert_int_equal(got + faultring_dropped(f->r), (uint64_t)THREADS * EACH);
	destroy(f);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void test_files_that_are_not_rings_are_rejected(void **state)
{
	(void)state;
	struct fixture *f = make(4, 2);
	struct faultring *r;
	char other[160];
	snprintf(other, sizeof(other), "%s/other", f->dir);
	write_file(other, "hello", 5);
	assert_int_equal(faultring_open(other, &r), -EINVAL);
	/* a real header, cut short */
	write_file(other, f->w.h, 4096 + 1024);
	assert_int_equal(faultring_open(other, &r), -EINVAL);
	/* a header lying about its slot count */
	unsigned char *copy = malloc(f->w.size);
	memcpy(copy, f->w.h, f->w.size);
	((struct faultring_file_header *)copy)->nslots = 5;
	write_file(other, copy, f->w.size);
	assert_int_equal(faultring_open(other, &r), -EINVAL);
	free(copy);
	assert_int_equal(faultring_open("/nonexistent/faults.1", &r), -ENOENT);
	unlink(other);
	destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_writer_events_come_back_in_order),
		cmocka_unit_test(test_full_ring_counts_drops_and_wraps_after_reading),
		cmocka_unit_test(test_half_written_record_waits_then_is_skipped),
		cmocka_unit_test(test_slot_with_bad_counts_is_discarded),
		cmocka_unit_test(test_code_names_are_interned_once),
		cmocka_unit_test(test_concurrent_writers_lose_nothing_but_counted_drops),
		cmocka_unit_test(test_files_that_are_not_rings_are_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
