/* fuzz_faultring.c - libFuzzer target for the fault ring reader: the input
 * is the whole ring file
 * seeds: find:tests/fixtures/faultring:*.bin
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collectors/faultring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-ring", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct faultring *r;
	if (faultring_open(path, &r) == 0) {
		struct faultring_event *ev = malloc(sizeof(*ev));
		int n = 0, rc;
		for (int pass = 0; pass < 2; pass++) {
			while (n < 100000 && (rc = faultring_next(r, ev)) == 1) {
				n++;
				if (ev->nnative > FAULTRING_MAX_NATIVE ||
				    ev->npy > FAULTRING_MAX_PY)
					__builtin_trap();
				for (uint32_t i = 0; i < ev->npy; i++) {
					const char *name, *file;
					if (faultring_code_names(r, ev->py[i].code,
								 &name, &file) == 0 &&
					    (strlen(name) >= FAULTRING_NAME_MAX ||
					     strlen(file) >= FAULTRING_FILE_MAX))
						__builtin_trap();
				}
			}
			faultring_skip_stalled(r);
		}
		(void)faultring_dropped(r);
		if (strlen(faultring_python_status(r)) >= FAULTRING_STATUS_MAX)
			__builtin_trap();
		free(ev);
		faultring_close(r);
	}
	close(fd);
	return 0;
}
