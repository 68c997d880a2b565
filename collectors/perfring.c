/* perfring.c - records out of a perf_event mmap ring */
#include "collectors/perfring.h"
#include "common/util.h"

#include <linux/perf_event.h>
#include <string.h>

/* Copy len bytes at ring offset at (wrapping) into out. */
static void copy_out(const unsigned char *data, uint64_t data_size, uint64_t at,
		     void *out, size_t len)
{
	size_t first = (size_t)(data_size - at);
	if (len <= first) {
		memcpy(out, data + at, len);
		return;
	}
	memcpy(out, data + at, first);
	memcpy((unsigned char *)out + first, data, len - first);
}

const unsigned char *perfring_next(const unsigned char *data, uint64_t data_size,
				   uint64_t *tail, uint64_t head,
				   struct perfring_scratch *sc, size_t *size)
{
	struct perf_event_header h;
	if (*tail >= head)
		return NULL;
	uint64_t at = *tail & (data_size - 1);
	if (head - *tail >= sizeof(h))
		copy_out(data, data_size, at, &h, sizeof(h));
	if (head - *tail < sizeof(h) || h.size < sizeof(h) || h.size > head - *tail) {
		*tail = head;  /* cannot happen with a sane kernel: resync */
		return NULL;
	}
	*tail += h.size;
	*size = h.size;
	if (at + h.size <= data_size)
		return data + at;
	util_grow((void **)&sc->buf, &sc->cap, h.size, 1);
	copy_out(data, data_size, at, sc->buf, h.size);
	return sc->buf;
}
