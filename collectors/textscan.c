/* textscan.c - blanks, numbers and copies for the parsers of /proc text */
#include "collectors/textscan.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

const char *textscan_skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

int textscan_u64(const char **p, const char *end, int base, uint64_t *v)
{
	const char *s = textscan_skip_blank(*p, end);
	if (base == 16 && end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	uint64_t x = 0;
	const char *start = s;
	for (; s < end; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (x > (UINT64_MAX - (unsigned)d) / (unsigned)base)
			return -EINVAL;
		x = x * (unsigned)base + (unsigned)d;
	}
	if (s == start)
		return -EINVAL;
	*v = x;
	*p = s;
	return 0;
}

char *textscan_strndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
