/* faultring_dump.c - print a fault ring file as JSON lines (for tests)
 *
 *   faultring_dump FILE
 *
 * First line: {"pid":..,"python_status":..,"armed_pages":..}; then one line
 * per committed event: {"t":..,"tid":..,"addr":..,"native":[ip,...],
 * "py":[{"code":..,"line":..,"name":..,"file":..},...]}; last line:
 * {"events":N,"dropped":..,"self_faults":..,"kernel_writes":..}.
 * Numbers are decimal. Consumes the events (advances the ring's tail).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/faultring.h"

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: faultring_dump FILE\n");
		return 2;
	}
	struct faultring *r;
	int rc = faultring_open(argv[1], &r);
	if (rc < 0) {
		fprintf(stderr, "faultring_dump: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	printf("{\"pid\":%d,\"python_status\":", (int)faultring_pid(r));
	json_str(faultring_python_status(r));
	printf(",\"armed_pages\":%" PRIu64 ",\"arm_error\":%d}\n",
	       faultring_armed_pages(r), faultring_arm_error(r));
	struct faultring_event *ev = malloc(sizeof(*ev));
	if (!ev)
		return 1;
	uint64_t n = 0;
	while ((rc = faultring_next(r, ev)) == 1) {
		n++;
		printf("{\"t\":%.6f,\"tid\":%d,\"addr\":%" PRIu64 ",\"native\":[",
		       ev->t, (int)ev->tid, ev->addr);
		for (uint32_t i = 0; i < ev->nnative; i++)
			printf("%s%" PRIu64, i ? "," : "", ev->native[i]);
		printf("],\"py\":[");
		for (uint32_t i = 0; i < ev->npy; i++) {
			const char *name = "", *file = "";
			faultring_code_names(r, ev->py[i].code, &name, &file);
			printf("%s{\"code\":%" PRIu64 ",\"line\":%d,\"name\":",
			       i ? "," : "", ev->py[i].code, (int)ev->py[i].line);
			json_str(name);
			printf(",\"file\":");
			json_str(file);
			putchar('}');
		}
		printf("]}\n");
	}
	printf("{\"events\":%" PRIu64 ",\"dropped\":%" PRIu64
	       ",\"self_faults\":%" PRIu64 ",\"kernel_writes\":%" PRIu64 "}\n",
	       n, faultring_dropped(r), faultring_self_faults(r),
	       faultring_kernel_writes(r));
	free(ev);
	faultring_close(r);
	return rc < 0 ? 1 : 0;
}
