/* fixture.h - read files under tests/fixtures/ from unit tests */
#ifndef COWPROF_TEST_FIXTURE_H
#define COWPROF_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"

/* The fixture folder: tests run from the project root (make check). */
#ifndef FIXTURE_DIR
#define FIXTURE_DIR "tests/fixtures"
#endif

/* Read FIXTURE_DIR/rel whole; aborts the test binary if it is missing, so a
 * missing fixture fails loudly instead of passing vacuously. */
static inline char *fixture_read(const char *rel, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, rel);
	char *buf;
	size_t n;
	if (util_read_file(path, &buf, &n) < 0) {
		fprintf(stderr, "missing fixture %s\n", path);
		abort();
	}
	if (len)
		*len = n;
	return buf;
}

#endif
